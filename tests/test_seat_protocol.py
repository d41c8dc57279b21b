"""The seat protocol without a socket: frames in, commands and answers out (relay/seat.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from relay.core import WrongState
from relay.core import commands as cmd
from relay.frames import Close, FrameRefused, Outgoing
from relay.seat import IN_FLIGHT, ClientSeat, SeatRefused, ServerSeat, State
from schemas import wire
from schemas.scenario import load_scenario, sample_scenario_path
from schemas.translate import exercise_config


@dataclass
class Done:
    seq: int = 9
    note: int | None = None
    fresh: bool = True


class Outage(Exception):
    pass


def submit(client_id: str, frame_id: str | None = None) -> str:
    frame = {"type": "submit", "client_id": client_id, "kind": "statement", "text": "t"}
    return json.dumps({**frame, "id": frame_id or client_id})


def opened(allow: list[bool] | None = None) -> tuple[ServerSeat, list[Outgoing], list[str]]:
    """A welcomed seat, what it sent and when it woke its reader."""
    seat = ServerSeat(max_frame_bytes=1000, rate_per_minute=60, strikes=2, unavailable=(Outage,))
    seat.receive_hello(json.dumps({"type": "hello", "id": "h", "token": "t", "last_seq": 5}), 10)
    sent: list[Outgoing] = []
    woken: list[str] = []
    welcome = seat.welcome(
        exercise="ex-1",
        config=exercise_config(load_scenario(sample_scenario_path())),
        seat="iran",
        role="party",
        phase="running",
        last_seq=3,
        scenario={},
        send=sent.append,
        wake=lambda: woken.append("wake"),
        allow_frame=(lambda: allow.pop(0)) if allow is not None else (lambda: True),
    )
    frame = json.loads(welcome)
    assert (frame["id"], frame["resumed_after"], frame["resume_complete"]) == ("h", 5, False)
    return seat, sent, woken


def answers(sent: list[Outgoing]) -> list[tuple[str, Any]]:
    return [(f["type"], f["id"]) for f in (json.loads(s) for s in sent if isinstance(s, str))]


def test_answers_go_out_in_the_order_of_the_frames() -> None:
    seat, sent, _ = opened()
    first = seat.receive(submit("c1"), 10, lambda: 1.5)
    second = seat.receive(submit("c2"), 10, lambda: 1.5)
    assert seat.receive(json.dumps({"type": "ping", "id": "p"}), 10, lambda: 1.5) is None
    assert first is not None and second is not None
    assert first.command == cmd.Submit(by="iran", client_id="c1", kind="statement", text="t")
    assert sent == []  # the pong waits for the answers before it
    seat.settle(second, WrongState("not now"))
    assert sent == []  # and so does the second answer, for the first
    seat.settle(first, Done(note=1, fresh=False))
    assert answers(sent) == [("ack", "c1"), ("error", "c2"), ("pong", "p")]
    assert json.loads(sent[0])["duplicate"] is True  # type: ignore[arg-type]
    assert json.loads(sent[2])["now"] == 1.5  # type: ignore[arg-type]


def test_a_full_window_wakes_the_reader_once_it_has_room() -> None:
    seat, sent, woken = opened()
    tickets = [seat.receive(submit(f"c{i}"), 10, lambda: 0.0) for i in range(IN_FLIGHT)]
    assert not seat.window_open and seat.in_flight == IN_FLIGHT
    seat.settle(tickets[0], Done(note=1))  # type: ignore[arg-type]
    assert seat.window_open and woken == ["wake"]
    seat.settle(tickets[1], Done(note=2))  # type: ignore[arg-type]
    assert woken == ["wake"] and answers(sent) == [("ack", "c0"), ("ack", "c1")]


def test_an_outage_and_a_bug_are_answered_without_a_close() -> None:
    seat, sent, _ = opened()
    outage = seat.receive(json.dumps({"type": "release", "id": "r", "note": 1}), 10, lambda: 0)
    bug = seat.receive(json.dumps({"type": "release", "id": "b", "note": 2}), 10, lambda: 0)
    assert outage is not None and bug is not None
    seat.settle(outage, Outage("disk full"))
    seat.settle(bug, KeyError("oops"))
    codes = [json.loads(s)["code"] for s in sent if isinstance(s, str)]
    assert codes == ["unavailable", "internal"] and seat.state is State.OPEN


def test_strikes_over_the_rate_close_the_seat() -> None:
    seat, sent, _ = opened(allow=[False, True, False, False])
    ping = json.dumps({"type": "ping", "id": "p"})
    for _ in range(3):
        assert seat.receive(ping, 10, lambda: 0.0) is None
    assert seat.state is State.OPEN  # a frame let through in between: strikes start again
    seat.receive(ping, 10, lambda: 0.0)
    assert seat.state is State.CLOSING and sent[-1] == Close(1008, "frame rate limit exceeded")
    assert [a[0] for a in answers(sent)] == ["error", "pong", "error", "error"]


def test_a_hello_is_refused_with_an_error_then_a_close() -> None:
    seat = ServerSeat(max_frame_bytes=100, rate_per_minute=60, strikes=2)
    with pytest.raises(FrameRefused) as refused:
        seat.receive_hello(json.dumps({"type": "ping", "id": "p"}), 10)
    assert json.loads(refused.value.frame)["code"] == "expected_hello"
    with pytest.raises(FrameRefused) as refused:
        seat.receive_hello(json.dumps({"type": "hello", "token": "t", "version": 2}), 10)
    assert json.loads(refused.value.frame)["code"] == "unsupported_version"
    assert refused.value.close is not None and refused.value.close.code == 1008
    with pytest.raises(FrameRefused) as refused:
        seat.receive_hello("x" * 101, 101)
    assert refused.value.close == Close(1009, "frame too big")


def test_the_client_half_matches_answers_and_resends_only_submits_it_sent() -> None:
    client = ClientSeat("t", last_seq=4)
    assert json.loads(client.hello()) == {
        "type": "hello",
        "token": "t",
        "last_seq": 4,
        "bundle": True,
    }
    with pytest.raises(SeatRefused) as refused:
        client.receive_welcome('{"type":"error","id":null,"code":"unauthorized","message":"no"}')
    assert refused.value.code == "unauthorized"
    sub_id, sub_text = client.request({"type": "submit", "client_id": "c", "kind": "k", "text": ""})
    hold_id, _ = client.request({"type": "hold", "note": 1})
    travel_id, _ = client.request({"type": "travel", "destination": "usa"})
    unsent_id, _ = client.request({"type": "release", "note": 1})
    for frame_id in (sub_id, hold_id, travel_id):
        client.sent(frame_id)
    with pytest.raises(ValueError):
        client.request({"type": "hold", "note": 1, "until": float("nan")})
    bundle = (
        '[{"type":"event","seq":7,"at":1.0,"event":"mediator.arrived","data":{"room":"iran"}},'
        f'{{"type":"ack","id":"{hold_id}","seq":7}},'
        '{"type":"error","id":"zzz","code":"internal","message":"m"}]'
    )
    received = client.receive(bundle)
    assert [(type(frame), answers) for frame, answers in received] == [
        (wire.EventFrame, None),
        (wire.Ack, hold_id),
        (wire.ErrorFrame, None),
    ]
    assert client.last_seq == 7 and len(client.notices) == 1
    # the hold was answered; the travel fails; the submit waits; the release never went
    assert client.lost() == [travel_id]
    assert client.resend() == [sub_text]
    assert sorted(client.close()) == sorted([sub_id, unsent_id])
