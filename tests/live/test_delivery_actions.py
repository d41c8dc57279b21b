"""Delivery-rule actions over the real relay: a human mediator's batch and conditional hold,
and the facilitator changing the rules in flight, over websockets, REST and the SDK."""

from __future__ import annotations

from typing import Any

import pytest

from clients.sdk import Refused, RelayAPI, SeatClient
from clients.terminal import LineError, parse_line
from tests.live.test_relay import next_event, started

HUMAN = {"mediator": {"name": "Oman", "mode": "human", "start_room": "iran"}}


@pytest.mark.asyncio
async def test_a_human_mediator_batches_and_holds_on_a_condition(
    api: RelayAPI, relay_url: str
) -> None:
    created = await started(api, **HUMAN)
    exercise, seats = created["id"], created["seats"]
    async with (
        await SeatClient.connect(relay_url, exercise, seats["iran"]) as iran,
        await SeatClient.connect(relay_url, exercise, seats["usa"]) as usa,
        await SeatClient.connect(relay_url, exercise, seats["mediator"]) as mediator,
    ):
        first = await iran.submit(client_id="a", kind="proposal", text="Cap", terms={})
        second = await iran.submit(client_id="b", kind="statement", text="And relief")
        third = await iran.submit(client_id="c", kind="statement", text="Later")
        await next_event(mediator, "note.handed_over", note=third["note"])
        held = await mediator.hold(third["note"], condition=f"delivered:{first['note']}")
        assert held["type"] == "ack"
        with pytest.raises(Refused) as refused:
            await mediator.hold(second["note"], condition="answered:999")
        assert refused.value.code == "invalid_command"
        await mediator.batch([first["note"], second["note"]])
        for note in (first["note"], second["note"]):
            await next_event(usa, "note.delivered", note=note)
        released = await next_event(mediator, "note.released", note=third["note"])
        assert released["data"]["by"] == "core"


@pytest.mark.asyncio
async def test_the_facilitator_changes_the_rules_in_flight(api: RelayAPI, relay_url: str) -> None:
    created = await started(api)
    exercise, seats = created["id"], created["seats"]
    async with (
        await SeatClient.connect(relay_url, exercise, seats["facilitator"]) as facilitator,
        await SeatClient.connect(relay_url, exercise, seats["mediator"]) as mediator,
        await SeatClient.connect(relay_url, exercise, seats["iran"]) as iran,
    ):
        assert "delivery" in mediator.welcome["scenario"]
        assert "delivery" not in iran.welcome["scenario"]
        with pytest.raises(Refused) as refused:
            await iran.change_rules({"preset": "direct"})
        assert refused.value.code == "forbidden"
        with pytest.raises(Refused) as refused:
            await facilitator.change_rules({"preset": "pigeon"})
        assert refused.value.code == "invalid_command" and "pigeon" in refused.value.message
        await facilitator.change_rules({"preset": "phone-line"})
        changed = await next_event(mediator, "rules.changed")
        assert changed["data"]["delivery"] == {"preset": "phone-line"}
        summary = await api.change_rules(
            exercise, {"outbound": {"pouch": {"capacity": 2}}}, seats["facilitator"]
        )
        assert summary["phase"] == "running"
    journal = await api.journal(exercise, seats["iran"])
    assert not [e for e in journal if e["type"] == "rules.changed"]  # parties are not told
    everything = await api.journal(exercise, seats["facilitator"])
    deliveries: list[Any] = [
        e["data"]["delivery"] for e in everything if e["type"] == "rules.changed"
    ]
    assert deliveries == [{"preset": "phone-line"}, {"outbound": {"pouch": {"capacity": 2}}}]


@pytest.mark.asyncio
async def test_rules_over_rest_are_for_the_facilitator_and_checked(api: RelayAPI) -> None:
    created = await started(api)
    exercise, seats = created["id"], created["seats"]
    with pytest.raises(Refused) as refused:
        await api.change_rules(exercise, {"preset": "direct"}, seats["usa"])
    assert refused.value.code == "http_403"
    with pytest.raises(Refused) as refused:
        travel = {"dist": "constant", "value": 5}
        await api.change_rules(exercise, {"inbound": {"travel": travel}}, seats["facilitator"])
    assert refused.value.code == "http_422" and "inbound: travel" in refused.value.message


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("hold 3", ("hold", {"note": 3})),
        ("hold #3 120", ("hold", {"note": 3, "until": 120.0})),
        ("hold 3 delivered:2", ("hold", {"note": 3, "condition": "delivered:2"})),
        ("hold 3 answered:#1", ("hold", {"note": 3, "condition": "answered:1"})),
        ("batch", ("batch", {"notes": []})),
        ("batch 1 #4", ("batch", {"notes": [1, 4]})),
    ],
)
def test_the_terminal_reads_mediator_lines(line: str, expected: tuple[str, Any]) -> None:
    assert parse_line(line, []) == expected


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("hold", "hold N"),
        ("hold 3 soon", "UNTIL is exercise seconds"),
        ("hold 3 heard:2", "unknown condition 'heard'"),
        ("batch one", "expected a note number"),
    ],
)
def test_the_terminal_explains_a_bad_mediator_line(line: str, says: str) -> None:
    with pytest.raises(LineError, match=says):
        parse_line(line, [])
