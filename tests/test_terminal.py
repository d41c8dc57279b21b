"""The terminal seat: its command loop never waits on the relay, and refusals read well."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path
from typing import Any

import httpx
import pytest

from clients import terminal
from clients.rest import _refusal
from clients.sdk import Refused, RelayAPI, SeatClient
from relay.settings import Settings
from schemas import wire
from tests.conftest import quick_scenario
from tests.live.servers import serving


class FakeSeat:
    """A seat whose answers come only when the test lets them."""

    seat = "iran"
    last_seq = 7
    resumes: list[Any] = []
    welcome = wire.Welcome(
        exercise="ex-1",
        seat="iran",
        role="party",
        phase="running",
        last_seq=7,
        resumed_after=0,
        resume_complete=True,
        bundle=True,
        scenario={"agenda": [{"id": "cap"}, {"id": "relief"}, {"id": "missiles"}]},
    )

    def __init__(self, connected: bool) -> None:
        self.connected = connected
        self.answer = asyncio.Event()
        self.two_sent = asyncio.Event()
        self.submitted: list[dict[str, Any]] = []

    async def submit(self, **args: Any) -> dict[str, Any]:
        self.submitted.append(args)
        if len(self.submitted) == 2:
            self.two_sent.set()
        await self.answer.wait()
        return {"type": "ack", "note": len(self.submitted)}


def typed(*lines: str) -> asyncio.Queue[str]:
    queue: asyncio.Queue[str] = asyncio.Queue()
    for line in lines:
        queue.put_nowait(line + "\n" if line else "")
    return queue


async def test_quit_answers_at_once_while_reconnecting_and_names_what_is_unsent(
    capsys: pytest.CaptureFixture[str],
) -> None:
    seat = FakeSeat(connected=False)
    lines = typed("propose Cap at 3.67 | enrichment_cap=3.67", "status", "quit")

    await asyncio.wait_for(terminal._read_commands(seat, lines), 1)  # type: ignore[arg-type]

    out = capsys.readouterr().out
    assert "queued: the relay is out of reach" in out
    assert "seat iran, last event seen #7; reconnecting" in out
    assert (
        "Left with 1 command(s) the relay has not acknowledged (they may not be recorded): "
        "propose Cap at 3.67 | enrichment_cap=3.67" in out
    )


async def test_end_of_input_waits_for_the_answers_of_a_connected_seat(
    capsys: pytest.CaptureFixture[str],
) -> None:
    seat = FakeSeat(connected=True)
    reader = asyncio.create_task(
        terminal._read_commands(seat, typed("say hello", "say again", ""))  # type: ignore[arg-type]
    )
    await asyncio.wait_for(seat.two_sent.wait(), 1)
    assert not reader.done()  # both sent, both unanswered: the loop waits for them
    seat.answer.set()
    await asyncio.wait_for(reader, 1)

    out = capsys.readouterr().out
    assert out.count("ok: note #2 recorded") == 2
    assert "queued" not in out and "not acknowledged" not in out


def test_a_refusal_reads_as_fields_and_messages_and_a_stranger_as_its_status() -> None:
    request = httpx.Request("POST", "http://127.0.0.1:9/exercises")
    invalid = httpx.Response(
        422,
        request=request,
        json={
            "detail": [
                {"loc": ["body", "seed"], "msg": "Input should be greater than or equal to 0"},
                {"loc": ["body"], "msg": "Field required"},
            ]
        },
    )
    assert (
        _refusal(invalid)
        == "seed: Input should be greater than or equal to 0; request: Field required"
    )
    pattern = {"loc": ["path", "exercise_id"], "msg": "String should match pattern"}
    repeated = httpx.Response(422, request=request, json={"detail": [pattern] * 3})
    assert _refusal(repeated) == "exercise_id: String should match pattern"  # said once
    page = httpx.Response(404, request=request, text="<html>Not here</html>")
    assert _refusal(page) == (
        "HTTP 404 Not Found from http://127.0.0.1:9/exercises (is it a Shuttle relay's base URL?)"
    )


class RefusingSeat(FakeSeat):
    """Refuses the first note, takes the rest."""

    def __init__(self) -> None:
        super().__init__(connected=True)
        self.refused = asyncio.Event()

    async def submit(self, **args: Any) -> dict[str, Any]:
        self.submitted.append(args)
        if len(self.submitted) == 1:
            # set before raising: the sender's task handles the refusal before the test wakes
            self.refused.set()
            raise Refused("invalid_note", "term 'cap'=95 is outside [0, 90]")
        return {"type": "ack", "note": 1}


async def test_a_refused_note_gives_its_tags_to_the_next_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    seat = RefusingSeat()
    lines = typed("tag missiles", "ask About missiles? | cap=95")
    reader = asyncio.create_task(terminal._read_commands(seat, lines))  # type: ignore[arg-type]
    await asyncio.wait_for(seat.refused.wait(), 1)
    for line in ("ask About missiles?", "ask Anything else?", ""):
        lines.put_nowait(line + "\n" if line else "")
    await asyncio.wait_for(reader, 1)

    assert [args["tags"] for args in seat.submitted] == [["missiles"], ["missiles"], []]
    assert "next note tagged ['missiles'] (kept from the refused one)" in capsys.readouterr().out


async def test_a_tag_that_is_not_on_the_agenda_is_refused_as_it_is_typed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    seat = FakeSeat(connected=True)
    seat.answer.set()
    lines = typed("tag cap,bogus", "say hello", "tag relief", "say again", "")
    await asyncio.wait_for(terminal._read_commands(seat, lines), 1)  # type: ignore[arg-type]

    out = capsys.readouterr().out
    assert "? not on the agenda: bogus (its items: cap, relief, missiles)" in out
    assert [args["tags"] for args in seat.submitted] == [[], ["relief"]]


async def test_input_that_ends_at_once_still_shows_the_talks_so_far(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``shuttle join ... </dev/null`` prints the history before it leaves."""
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'r.db'}")
    async with serving(settings) as url, RelayAPI(url) as api:
        created = await api.create(quick_scenario(), seed=1)
        exercise, seats = created["id"], created["seats"]
        await api.control(exercise, "start", seats["facilitator"])
        async with await SeatClient.connect(url, exercise, seats["iran"]) as iran:
            await iran.submit(client_id="a", kind="statement", text="Our first note")
        monkeypatch.setattr(terminal, "_stdin_lines", lambda: typed(""))

        await asyncio.wait_for(terminal.play(url, exercise, seats["iran"]), 10)

    out = capsys.readouterr().out
    assert "Exercise started by the facilitator" in out
    assert "“Our first note”" in out


@pytest.mark.parametrize(
    "line, message",
    [
        ("say x | cap=1e999", "terms are name=number, got 'cap=1e999'"),
        ("propose x | cap=nan", "terms are name=number, got 'cap=nan'"),
        ("propose x | cap=-inf", "terms are name=number, got 'cap=-inf'"),
        ("propose x | cap=3 cap=4", "cap is given twice"),
        ("hold 2 nan", "UNTIL is exercise seconds, got 'nan'"),
    ],
)
def test_a_number_json_cannot_hold_or_a_term_twice_is_refused_as_typed(
    line: str, message: str
) -> None:
    with pytest.raises(terminal.LineError, match=message):
        terminal.parse_line(line, [])


async def test_the_sdk_refuses_to_send_a_number_json_cannot_hold() -> None:
    seat = SeatClient("http://127.0.0.1:9", "ex-0000000000", "t")
    with pytest.raises(ValueError, match="JSON"):
        await asyncio.wait_for(seat.request({"type": "hold", "note": 1, "until": math.nan}), 5)
