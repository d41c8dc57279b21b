"""Pipelined frames and bundled answers over the real relay (docs/protocol.md#bundles).

A client may send frames without waiting for their answers; each gets exactly one answer, in
the order sent, after the events its command made. A client that says ``bundle`` in its
hello may get several frames in one websocket message, as a JSON array; one that does not
gets one frame per message, as before.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import websockets

from clients.sdk import RelayAPI, ws_url
from relay.journal import parse_journal
from tests.live.test_relay import started

pytestmark = pytest.mark.asyncio


async def join(relay_url: str, exercise: str, token: str, **hello: Any) -> Any:
    ws = await websockets.connect(ws_url(relay_url, exercise), compression=None)
    await ws.send(json.dumps({"type": "hello", "token": token, **hello}))
    welcome = json.loads(await ws.recv())
    assert welcome["type"] == "welcome"
    assert welcome["bundle"] is bool(hello.get("bundle"))
    return ws


async def read_until(ws: Any, done: Any) -> tuple[list[Any], list[dict[str, Any]]]:
    """Messages as received, and their frames in stream order, until ``done(frames)``."""
    messages: list[Any] = []
    frames: list[dict[str, Any]] = []
    while not done(frames):
        async with asyncio.timeout(10):
            message = json.loads(await ws.recv())
        messages.append(message)
        frames += message if isinstance(message, list) else [message]
    return messages, frames


async def burst(ws: Any, sent: list[str]) -> tuple[list[Any], list[dict[str, Any]]]:
    """Send every frame at once (none waits for its answer), read until all are answered."""
    try:
        for raw in sent:
            await ws.send(raw)
        return await read_until(ws, lambda fs: len(answers(fs)) == len(sent))
    finally:
        await ws.close()


def answers(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [f for f in frames if f["type"] in ("ack", "error", "pong")]


def submit(n: int, client_id: str | None = None) -> str:
    return json.dumps(
        {
            "type": "submit",
            "id": f"f{n}",
            "client_id": client_id or f"c{n}",
            "kind": "statement",
            "text": f"note {n}",
        }
    )


async def test_pipelined_frames_are_answered_in_order_after_their_events(
    api: RelayAPI, relay_url: str
) -> None:
    created = await started(api)
    exercise, seats = created["id"], created["seats"]
    sent = [submit(n) for n in range(1, 31)]
    sent.insert(10, json.dumps({"type": "ping", "id": "p"}))
    sent.insert(20, json.dumps({"type": "relay", "id": "r", "note": 1}))  # a party may not
    sent.insert(25, submit(99, client_id="c3"))  # a resubmission inside the burst
    ws = await join(relay_url, exercise, seats["iran"], bundle=True)
    messages, frames = await burst(ws, sent)

    got = answers(frames)
    assert [a["id"] for a in got] == [json.loads(raw)["id"] for raw in sent]
    assert got[10]["type"] == "pong"
    assert (got[20]["type"], got[20]["code"]) == ("error", "forbidden")
    acks = [a for a in got if a["type"] == "ack"]
    assert [a["note"] for a in acks if not a["duplicate"]] == list(range(1, 31))
    (again,) = [a for a in acks if a["duplicate"]]
    assert (again["id"], again["note"]) == ("f99", 3)
    # each note's submission is in the stream before its ack, and seqs only grow
    position = {id(f): i for i, f in enumerate(frames)}
    submitted = {
        f["data"]["note"]: position[id(f)]
        for f in frames
        if f["type"] == "event" and f["event"] == "note.submitted"
    }
    for ack in acks:
        assert submitted[ack["note"]] < position[id(ack)]
        assert ack["seq"] >= max(f["seq"] for f in frames[: position[id(ack)]] if "seq" in f)
    seqs = [f["seq"] for f in frames if f["type"] == "event"]
    assert seqs == sorted(set(seqs))
    # bundled: fewer messages than frames, every bundle a list of frames
    assert any(isinstance(m, list) and len(m) > 1 for m in messages)
    assert len(messages) < len(frames)


async def test_a_client_that_does_not_ask_gets_one_frame_per_message(
    api: RelayAPI, relay_url: str
) -> None:
    created = await started(api)
    exercise, seats = created["id"], created["seats"]
    ws = await join(relay_url, exercise, seats["iran"])
    messages, frames = await burst(ws, [submit(n) for n in range(1, 11)])
    assert all(isinstance(m, dict) for m in messages)
    assert [a["note"] for a in answers(frames)] == list(range(1, 11))


async def test_a_late_joiner_gets_the_history_bundled_and_in_order(
    api: RelayAPI, relay_url: str
) -> None:
    created = await started(api)
    exercise, seats = created["id"], created["seats"]
    sender = await join(relay_url, exercise, seats["iran"])
    await burst(sender, [submit(n) for n in range(1, 6)])
    journal = parse_journal(await api.export(exercise, seats["facilitator"]))
    last = journal.entries[-1].seq
    ws = await join(relay_url, exercise, seats["facilitator"], bundle=True)
    try:
        messages, frames = await read_until(ws, lambda fs: bool(fs) and fs[-1]["seq"] >= last)
    finally:
        await ws.close()
    assert [f["seq"] for f in frames][:last] == list(range(1, last + 1))
    assert isinstance(messages[0], list) and len(messages[0]) > 1
