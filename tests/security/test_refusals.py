"""Bad scenarios and bad imports are refused whole, with a message naming the field, and
leave nothing behind."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from clients.bots import default_bots
from clients.sdk import Refused, RelayAPI
from relay.core import commands as cmd
from relay.frames import FrameRefused, frame_command, parse_frame
from relay.journal import JournalFormatError, to_entry, write_journal
from relay.live import check_import
from relay.rng import seeded_streams
from relay.settings import Settings
from relay.sim import simulate
from schemas.scenario import load_scenario, parse_scenario, sample_scenario_path
from schemas.translate import exercise_config
from tests.conftest import quick_scenario
from tests.live.servers import serving

ADMIN = "an-admin-token-to-list-with"


@pytest.fixture
async def operator(tmp_path: Path) -> AsyncIterator[RelayAPI]:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'r.db'}", admin_token=ADMIN)
    async with serving(settings) as url, RelayAPI(url, admin_token=ADMIN) as api:
        yield api


@pytest.mark.parametrize(
    "change, field",
    [
        ({"latency": {"travel": {"dist": "uniform", "low": 5, "high": 1}}}, "latency.travel"),
        ({"parties": []}, "parties"),
        ({"deadline": "soon"}, "deadline"),
        (
            {"latency": {"reading": {"dist": "constant", "value": 1, "jitter": 1.79e308}}},
            "latency.reading.constant.jitter",
        ),
    ],
)
async def test_a_bad_scenario_is_refused_naming_the_field(
    operator: RelayAPI, change: dict, field: str
) -> None:
    with pytest.raises(Refused) as refused:
        await operator.create(quick_scenario(**change))
    assert refused.value.code == "http_422" and field in refused.value.message
    assert await operator.list_exercises() == []


async def test_a_bad_import_is_refused_whole(operator: RelayAPI) -> None:
    created = await operator.create(quick_scenario(), seed=1)
    token = created["seats"]["facilitator"]
    await operator.control(created["id"], "start", token)
    await operator.control(created["id"], "end", token)
    text = await operator.export(created["id"], token)
    lines = text.splitlines()
    entry = json.loads(lines[2])
    entry["dedupe_key"] = "iran:forged"  # only note.submitted may carry a key
    forged = "\n".join([*lines[:2], json.dumps(entry), *lines[3:]])
    for bad, names in (
        (forged, "dedupe_key"),
        (text.replace('"seq":2', '"seq":7', 1), "seq"),
        ("not a journal", "import:1"),
    ):
        with pytest.raises(Refused) as refused:
            await operator.import_journal(bad)
        assert refused.value.code == "http_422" and names in refused.value.message, bad[:80]
    assert [e["id"] for e in await operator.list_exercises()] == [created["id"]]


async def test_numbers_and_text_the_journal_cannot_hold_are_refused(operator: RelayAPI) -> None:
    """Python's JSON reader takes NaN and lone surrogates; the relay does not."""
    scenario = json.dumps(quick_scenario())
    for body, field in (
        ('{"scenario": ' + scenario + ', "title": "\\ud800"}', "title"),
        ('{"scenario": ' + scenario + ', "speed": NaN}', "speed"),
        (
            scenario.replace('"value": 2.0', '"value": Infinity', 1).join(['{"scenario": ', "}"]),
            "scenario",
        ),
    ):
        answer = await operator._http.post(
            "/exercises",
            content=body,
            headers={"Authorization": f"Bearer {ADMIN}", "Content-Type": "application/json"},
        )
        assert answer.status_code == 422 and field in answer.text, (body[-60:], answer.text)
    assert await operator.list_exercises() == []


def _simulated_journal() -> list[str]:
    """A finished exercise's journal file, as lines: header, exercise.created, ..."""
    scenario = parse_scenario(quick_scenario())
    events = simulate(scenario, 11, default_bots(scenario, seeded_streams(11))).events
    buffer = io.StringIO()
    write_journal(buffer, [to_entry(e) for e in events], {"title": "t", "speed": None})
    return buffer.getvalue().splitlines()


def _edited(line: int, change: Callable[[dict[str, Any]], None]) -> Callable[[list[str]], str]:
    def edit(lines: list[str]) -> str:
        obj = json.loads(lines[line])
        change(obj)
        return "\n".join([*lines[:line], json.dumps(obj), *lines[line + 1 :]])

    return edit


def _submitted(lines: list[str]) -> int:
    return next(i for i, line in enumerate(lines) if '"note.submitted"' in line and "terms" in line)


@pytest.mark.parametrize(
    ("forge", "said"),
    [
        (_edited(1, lambda o: o["data"].update(seed=2**63)), "import:2: seed: 9223372036854775808"),
        (
            _edited(1, lambda o: o["data"].update(seed="x")),
            "import:2: exercise.created: seed: Input should be a valid integer",
        ),
        (
            _edited(1, lambda o: o["data"].update(seed=1.5)),
            "seed: Input should be a valid integer, got a number with a fractional",
        ),
        (_edited(0, lambda o: o.update(exercise="s")), "import:1: exercise: not an object"),
        (_edited(0, lambda o: o["exercise"].update(title="t" * 201)), "title: String should"),
        (_edited(0, lambda o: o["exercise"].update(title=5)), "header: title: Input should"),
        (_edited(0, lambda o: o["exercise"].update(speed=1e308)), "speed: Input should be less"),
        (_edited(0, lambda o: o["exercise"].update(created_wall=10**400)), "created_wall"),
        (_edited(2, lambda o: o.update(at=10**400)), "import:3: malformed entry: int too large"),
        (
            lambda ls: "\n".join([*ls[:2], ls[2].replace('"at":', '"at":1e400,"x":', 1), *ls[3:]]),
            "import:3: not JSON: 1e400 is beyond the range of a number",
        ),
        (
            lambda ls: "\n".join([ls[0], "[" * 100_000 + "]" * 100_000, *ls[1:]]),
            "import:2: not JSON: nested too deeply",
        ),
        (
            lambda ls: "\n".join(ls).replace('"title":"t"', '"title":"\\udfff"', 1),
            "import:1: not JSON: exercise.title: text holds a lone surrogate",
        ),
        (
            lambda ls: _edited(_submitted(ls), lambda o: o["data"].update(terms="x"))(ls),
            "note.submitted: terms: Input should be a valid dictionary",
        ),
    ],
)
def test_a_forged_journal_is_refused_in_words_before_anything_is_stored(
    forge: Callable[[list[str]], str], said: str
) -> None:
    """Each of these once got past the checks and failed in the core or the store (500)."""
    lines = _simulated_journal()
    check_import("\n".join(lines), "import", wall=lambda: 1_000.0)  # the original imports
    with pytest.raises(JournalFormatError) as refused:
        check_import(forge(lines), "import", wall=lambda: 1_000.0)
    assert said in str(refused.value)


async def test_an_import_that_is_not_utf8_is_refused(operator: RelayAPI) -> None:
    answer = await operator._http.post(
        "/exercises/import",
        content=b'{"format":"shuttle-journal/1","exercise":{"title":"\xff"}}\n',
        headers={"Authorization": f"Bearer {ADMIN}", "Content-Type": "application/x-ndjson"},
    )
    assert answer.status_code == 422 and "not UTF-8 text: invalid start byte" in answer.text
    assert await operator.list_exercises() == []


@pytest.mark.parametrize(
    "frame, field",
    [
        (
            {
                "type": "submit",
                "client_id": "c",
                "kind": "proposal",
                "text": "t",
                "terms": {"cap": "3"},
            },
            "terms.cap",
        ),
        (
            {"type": "submit", "client_id": "c", "kind": "reply", "text": "t", "in_reply_to": True},
            "in_reply_to",
        ),
        ({"type": "submit", "client_id": 7, "kind": "statement", "text": "t"}, "client_id"),
        ({"type": "hello", "token": "t", "bundle": "yes"}, "bundle"),
        ({"type": "hello", "token": "t", "last_seq": "12"}, "last_seq"),
        ({"type": "hold", "note": 1.0}, "note"),
        ({"type": "hold", "note": 1, "until": "30"}, "until"),
    ],
)
def test_a_frame_value_of_the_wrong_json_type_is_refused_not_coerced(
    frame: dict[str, Any], field: str
) -> None:
    with pytest.raises(FrameRefused) as refused:
        parse_frame(json.dumps(frame))
    error = json.loads(refused.value.frame)
    assert error["code"] == "invalid_frame", error
    assert error["message"].startswith(f"{frame['type']}.{field}: "), error


def test_a_whole_number_is_still_a_number() -> None:
    frame, _ = parse_frame(
        json.dumps(
            {
                "type": "submit",
                "client_id": "c",
                "kind": "proposal",
                "text": "t",
                "terms": {"cap": 20},
            }
        )
    )
    assert frame.terms == {"cap": 20.0}


@pytest.mark.parametrize(
    "raw, message",
    [
        ("{not json", "not JSON: Expecting property name enclosed in double quotes"),
        ('{"type": "ping", "id": NaN}', "not JSON: NaN is not a JSON number"),
        ('{"type": "hold", "note": 1, "until": 1e400}', "not JSON: 1e400 is beyond the range"),
        (
            '{"type": "travel", "destination": "\\ud800"}',
            "not JSON: destination: text holds a lone surrogate",
        ),
        ("[" * 5000 + "]" * 5000, "not JSON: nested too deeply"),
    ],
)
def test_a_frame_that_is_not_json_is_refused_naming_the_fault(raw: str, message: str) -> None:
    with pytest.raises(FrameRefused) as refused:
        parse_frame(raw)
    error = json.loads(refused.value.frame)
    assert error["code"] == "bad_json", error
    assert error["message"].startswith(message), error


def test_an_integer_beyond_64_bits_is_refused_by_its_field() -> None:
    with pytest.raises(FrameRefused) as refused:
        parse_frame('{"type": "release", "id": "r", "note": 123456789012345678901234567890}')
    error = json.loads(refused.value.frame)
    assert (error["code"], error["id"]) == ("invalid_frame", "r"), error
    assert error["message"].startswith("release.note: "), error


def test_a_frame_becomes_the_command_it_names() -> None:
    raw = json.dumps(
        {
            "type": "submit",
            "id": "s",
            "client_id": "c",
            "kind": "proposal",
            "text": "t",
            "tags": ["cap"],
            "terms": {"cap": 20},
            "to": "usa",
        }
    )
    frame, frame_id = parse_frame(raw)
    assert frame_id == "s"
    config = exercise_config(load_scenario(sample_scenario_path()))
    assert frame_command("iran", frame, config) == cmd.Submit(
        by="iran",
        client_id="c",
        kind="proposal",
        text="t",
        tags=["cap"],
        terms={"cap": 20.0},
        to="usa",
    )


async def test_a_create_body_value_of_the_wrong_json_type_is_refused(operator: RelayAPI) -> None:
    for extra, field in (({"seed": "3"}, "seed"), ({"observers": True}, "observers")):
        answer = await operator._http.post(
            "/exercises",
            json={"scenario": quick_scenario(), **extra},
            headers={"Authorization": f"Bearer {ADMIN}"},
        )
        assert answer.status_code == 422 and field in answer.text, answer.text
    assert await operator.list_exercises() == []


async def test_a_malformed_exercise_id_is_refused_once_in_words(operator: RelayAPI) -> None:
    answer = await operator._http.get(
        "/exercises/ex-12/journal", headers={"Authorization": "Bearer some-seat-token"}
    )
    assert answer.status_code == 422
    assert answer.json()["detail"] == [
        {
            "loc": ["path", "exercise_id"],
            "msg": "not an exercise id: ex- and ten hex digits, like ex-5979b09543",
            "type": "string_pattern_mismatch",
        }
    ]


async def test_a_body_that_is_not_json_is_a_400_and_creates_nothing(operator: RelayAPI) -> None:
    answer = await operator._http.post(
        "/exercises",
        content=b'{"scenario": {',
        headers={"Authorization": f"Bearer {ADMIN}", "Content-Type": "application/json"},
    )
    assert answer.status_code == 400
    assert answer.json() == {"detail": "the body is not JSON (at character 14)"}
    assert await operator.list_exercises() == []
