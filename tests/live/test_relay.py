"""The live relay over real websockets: hello, errors that keep the connection, the shuttle."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import websockets

from clients.sdk import Refused, RelayAPI, SeatClient, ws_url
from relay.live import NO_SEAT
from tests.conftest import quick_scenario

pytestmark = pytest.mark.asyncio


async def started(api: RelayAPI, **scenario: Any) -> dict[str, Any]:
    created = await api.create(quick_scenario(**scenario), seed=1, speed=1000.0)
    await api.control(created["id"], "start", created["seats"]["facilitator"])
    return created


async def next_event(seat: SeatClient, type_: str, **match: Any) -> dict[str, Any]:
    async with asyncio.timeout(10):
        async for frame in seat.events():
            if frame["event"] == type_ and all(frame["data"].get(k) == v for k, v in match.items()):
                return frame
    raise AssertionError(f"connection closed before {type_}")


async def test_create_returns_one_token_per_seat(api: RelayAPI) -> None:
    created = await api.create(quick_scenario(), seed=1)
    assert set(created["seats"]) == {"iran", "usa", "mediator", "facilitator", "observer"}
    assert created["phase"] == "draft"
    assert len(set(created["seats"].values())) == 5


async def test_bad_scenario_is_refused_naming_the_field(api: RelayAPI) -> None:
    scenario = quick_scenario(latency={"travel": {"dist": "uniform", "low": 5, "high": 1}})
    with pytest.raises(Refused) as refused:
        await api.create(scenario)
    assert refused.value.code == "http_422"
    assert "latency.travel" in refused.value.message


async def test_note_travels_party_mediator_party(api: RelayAPI, relay_url: str) -> None:
    created = await started(api)
    exercise, seats = created["id"], created["seats"]
    async with (
        await SeatClient.connect(relay_url, exercise, seats["iran"]) as iran,
        await SeatClient.connect(relay_url, exercise, seats["usa"]) as usa,
    ):
        ack = await iran.submit(
            client_id="n1", kind="proposal", text="Cap at 3.67", terms={"enrichment_cap": 3.67}
        )
        assert ack["note"] == 1 and ack["duplicate"] is False
        delivered = await next_event(usa, "note.delivered", note=1)
        assert delivered["data"]["text"] == "Cap at 3.67"
        assert delivered["data"]["sender"] == "iran"
        receipt = await next_event(iran, "note.receipt", note=1, status="delivered")
        assert receipt["seq"] > delivered["seq"]
        # The recipient learns of the note only on delivery: nothing of it came earlier.
        journal = await api.journal(exercise, seats["usa"])
        assert [e["type"] for e in journal if e["data"].get("note") == 1] == ["note.delivered"]


async def test_resubmission_is_acknowledged_again_not_stored_twice(
    api: RelayAPI, relay_url: str
) -> None:
    created = await started(api)
    async with await SeatClient.connect(relay_url, created["id"], created["seats"]["iran"]) as iran:
        first = await iran.submit(client_id="same", kind="statement", text="once")
        again = await iran.submit(client_id="same", kind="statement", text="once")
    assert (first["note"], again["note"]) == (1, 1)
    assert again["duplicate"] is True
    journal = await api.journal(created["id"], created["seats"]["facilitator"])
    assert sum(e["type"] == "note.submitted" for e in journal) == 1


@pytest.mark.parametrize("party, other", [("iran", "usa"), ("usa", "iran")])
async def test_direct_channel_is_refused_over_the_wire(
    api: RelayAPI, relay_url: str, party: str, other: str
) -> None:
    created = await started(api)
    async with await SeatClient.connect(relay_url, created["id"], created["seats"][party]) as seat:
        with pytest.raises(Refused) as refused:
            await seat.submit(client_id="x", kind="proposal", text="hello", to=other)
        assert refused.value.code == "no_direct_channel"
        # the connection stays up and usable
        ack = await seat.submit(client_id="y", kind="statement", text="via the mediator")
        assert ack["note"] == 1


async def test_bad_frames_get_error_frames_and_the_connection_stays(
    api: RelayAPI, relay_url: str
) -> None:
    created = await started(api)
    async with websockets.connect(ws_url(relay_url, created["id"]), compression=None) as ws:
        await ws.send(json.dumps({"type": "hello", "token": created["seats"]["iran"]}))
        assert json.loads(await ws.recv())["type"] == "welcome"
        await ws.recv()  # the exercise.created/started history the party may see
        bad = [
            ("{not json", "bad_json"),
            (json.dumps({"type": "warp"}), "invalid_frame"),
            (json.dumps({"type": "submit", "id": "a"}), "invalid_frame"),
            (json.dumps([1, 2]), "invalid_frame"),
            (json.dumps({"type": "relay", "id": "b", "note": 1}), "forbidden"),
            (json.dumps({"type": "control", "id": "c", "action": "end"}), "forbidden"),
            (
                json.dumps(
                    {"type": "submit", "id": "d", "client_id": "z", "kind": "poem", "text": "x"}
                ),
                "invalid_note",
            ),
        ]
        for raw, code in bad:
            await ws.send(raw)
            answer = json.loads(await ws.recv())
            assert (answer["type"], answer["code"]) == ("error", code), raw
            assert answer["message"]
        await ws.send(b"\x00binary")
        assert json.loads(await ws.recv())["code"] == "bad_frame"
        await ws.send(json.dumps({"type": "ping", "id": "p"}))
        assert json.loads(await ws.recv())["type"] == "pong"


@pytest.mark.parametrize("wrong", ["token", "exercise"])
async def test_unknown_token_is_closed_with_policy_violation(
    api: RelayAPI, relay_url: str, wrong: str
) -> None:
    created = await api.create(quick_scenario())
    exercise, token = created["id"], created["seats"]["iran"]
    if wrong == "token":
        token = "not-a-token"
    else:
        exercise = "ex-0000000000"  # well-formed, unknown
    async with websockets.connect(ws_url(relay_url, exercise), compression=None) as ws:
        await ws.send(json.dumps({"type": "hello", "token": token}))
        refusal = json.loads(await ws.recv())
        assert refusal["code"] == "unauthorized"
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
    with pytest.raises(Refused) as refused:
        await api.get(exercise, token)
    # one answer for both causes, naming both, over websockets and REST alike
    assert refusal["message"] == refused.value.message == NO_SEAT
    assert "no such exercise" in NO_SEAT and "token" in NO_SEAT


async def test_first_frame_must_be_hello(api: RelayAPI, relay_url: str) -> None:
    created = await api.create(quick_scenario())
    async with websockets.connect(ws_url(relay_url, created["id"]), compression=None) as ws:
        await ws.send(json.dumps({"type": "ping"}))
        assert json.loads(await ws.recv())["code"] == "expected_hello"
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008


async def test_resume_sends_only_what_was_missed(api: RelayAPI, relay_url: str) -> None:
    created = await started(api)
    exercise, seats = created["id"], created["seats"]
    async with await SeatClient.connect(relay_url, exercise, seats["iran"]) as iran:
        await iran.submit(client_id="a", kind="statement", text="one")
        await next_event(iran, "note.handed_over", note=1)
        seen = iran.last_seq
        await iran.submit(client_id="b", kind="statement", text="two")
    async with await SeatClient.connect(relay_url, exercise, seats["iran"], last_seq=seen) as again:
        frame = await next_event(again, "note.submitted")
        assert frame["data"]["note"] == 2 and frame["seq"] > seen


async def test_human_mediator_exchange_with_paraphrase(api: RelayAPI, relay_url: str) -> None:
    created = await started(api, mediator={"name": "Badr", "mode": "human", "start_room": "iran"})
    exercise, seats = created["id"], created["seats"]
    async with (
        await SeatClient.connect(relay_url, exercise, seats["iran"]) as iran,
        await SeatClient.connect(relay_url, exercise, seats["usa"]) as usa,
        await SeatClient.connect(relay_url, exercise, seats["mediator"]) as mediator,
    ):
        await iran.submit(
            client_id="p",
            kind="proposal",
            text="Cap at 3.67 for full relief",
            terms={"enrichment_cap": 3.67, "sanctions_relief": 100},
        )
        await next_event(mediator, "note.handed_over", note=1)
        await mediator.relay(1, text="They offer a cap at 3.67 in exchange for relief")
        await mediator.travel("usa")
        delivered = await next_event(usa, "note.delivered", note=1)
        assert delivered["data"]["text"] == "They offer a cap at 3.67 in exchange for relief"
        await usa.submit(
            client_id="r", kind="reply", text="Accepted", in_reply_to=1, answer="accept"
        )
        await next_event(mediator, "note.handed_over", note=2)
        await mediator.relay(2)
        await mediator.travel("iran")
        ended = await next_event(iran, "exercise.ended")
        assert ended["data"]["reason"] == "agreement"
        assert ended["data"]["terms"] == {"enrichment_cap": 3.67, "sanctions_relief": 100}


async def test_only_the_facilitator_controls_over_rest(api: RelayAPI) -> None:
    created = await api.create(quick_scenario())
    with pytest.raises(Refused) as refused:
        await api.control(created["id"], "start", created["seats"]["iran"])
    assert refused.value.code == "http_403"
    with pytest.raises(Refused):
        await api.control(created["id"], "pause", created["seats"]["facilitator"])
    state = await api.control(created["id"], "start", created["seats"]["facilitator"])
    assert state["phase"] == "running"


async def test_export_import_round_trip_is_lossless(api: RelayAPI, relay_url: str) -> None:
    created = await started(api)
    async with await SeatClient.connect(relay_url, created["id"], created["seats"]["iran"]) as iran:
        await iran.submit(client_id="a", kind="statement", text="for the record ✓")
    await api.control(created["id"], "end", created["seats"]["facilitator"])
    text = await api.export(created["id"], created["seats"]["facilitator"])
    copy = await api.import_journal(text)
    assert copy["id"] != created["id"]
    again = await api.export(copy["id"], copy["seats"]["facilitator"])
    assert text.splitlines()[1:] == again.splitlines()[1:]
    with pytest.raises(Refused) as refused:
        await api.import_journal(text.replace('"seq":2', '"seq":9', 1))
    assert refused.value.code == "http_422"
    lines = text.splitlines()
    created_entry = json.loads(lines[1])
    created_entry["data"]["scenario"]["parties"] = []  # a scenario no relay would accept
    lines[1] = json.dumps(created_entry)
    with pytest.raises(Refused) as refused:
        await api.import_journal("\n".join(lines))
    assert refused.value.code == "http_422"
    assert "import: exercise.created: parties" in refused.value.message
