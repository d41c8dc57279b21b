"""Every frame the relay sends is a model of ``schemas.wire``, and the models are the bytes.

A raw client plays a seat through hello, events, acks of both kinds, errors and a pong; each
message it receives parses as a :data:`wire.ServerFrame`, validates against the published
JSON Schema, and encodes back (``relay.frames.frame_text``) to exactly the text received.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import jsonschema
import pytest
import websockets

from clients.sdk import RelayAPI, SeatClient, ws_url
from relay.frames import ack_text, event_frame, frame_text
from relay.store import Entry
from schemas import wire
from tests.live.test_relay import started

# The keys of each frame in the order protocol version 1 writes them: the bytes as before.
KEYS = {
    wire.Welcome: "type id version exercise seat role phase last_seq resumed_after "
    "resume_complete bundle scenario",
    wire.EventFrame: "type seq at event data",
    wire.Ack: "type id seq",
    wire.SubmitAck: "type id client_id note duplicate seq",
    wire.ErrorFrame: "type id code message",
    wire.Pong: "type id now",
}


def validator(definition: str) -> jsonschema.Draft202012Validator:
    schema = wire.json_schema()
    return jsonschema.Draft202012Validator({**schema, "$ref": f"#/$defs/{definition}"})


async def test_every_server_frame_is_a_model_and_encodes_to_the_same_bytes(
    api: RelayAPI, relay_url: str
) -> None:
    created = await started(api)
    seats = created["seats"]
    raw: list[str] = []
    async with websockets.connect(ws_url(relay_url, created["id"]), compression=None) as ws:
        await ws.send(json.dumps({"type": "hello", "id": "h", "token": seats["iran"]}))
        raw.append(await ws.recv())
        for frame in (
            {"type": "submit", "id": "s", "client_id": "c1", "kind": "statement", "text": "t"},
            {"type": "submit", "id": "again", "client_id": "c1", "kind": "statement", "text": "t"},
            {"type": "travel", "id": "t", "destination": "usa"},  # a party may not: error
            {"type": "ping", "id": "p"},
        ):
            await ws.send(json.dumps(frame))
        while json.loads(raw[-1]).get("id") != "p":
            async with asyncio.timeout(10):
                raw.append(await ws.recv())
    async with websockets.connect(ws_url(relay_url, created["id"]), compression=None) as ws:
        await ws.send(json.dumps({"type": "hello", "token": seats["facilitator"]}))
        raw.append(await ws.recv())
        await ws.send(json.dumps({"type": "control", "id": "c", "action": "pause"}))
        while json.loads(raw[-1]).get("id") != "c":
            async with asyncio.timeout(10):
                raw.append(await ws.recv())
    server = validator("ServerFrame")
    kinds = set()
    for text in raw:
        frame = wire.server_message.validate_json(text)
        kinds.add(type(frame))
        assert frame_text(frame) == text
        if isinstance(frame, wire.EventFrame):  # the hot path writes it without the model
            assert event_frame(Entry(frame.seq, frame.at, frame.event, frame.data)) == text
        assert " ".join(json.loads(text)) == KEYS[type(frame)]
        server.validate(json.loads(text))
    assert kinds == {
        wire.Welcome,
        wire.EventFrame,
        wire.Ack,
        wire.SubmitAck,
        wire.ErrorFrame,
        wire.Pong,
    }


async def test_an_error_before_hello_is_a_model_too(api: RelayAPI, relay_url: str) -> None:
    created = await started(api)
    async with websockets.connect(ws_url(relay_url, created["id"]), compression=None) as ws:
        await ws.send(json.dumps({"type": "ping", "id": "early"}))
        refused = await ws.recv()
    error = wire.server_message.validate_json(refused)
    assert isinstance(error, wire.ErrorFrame) and error.code == "expected_hello"
    assert frame_text(error) == refused
    validator("ServerFrame").validate(json.loads(refused))


def test_the_schema_describes_both_directions() -> None:
    schema = wire.json_schema()
    assert schema["anyOf"] == [{"$ref": "#/$defs/ClientFrame"}, {"$ref": "#/$defs/ServerFrame"}]
    client, server = validator("ClientFrame"), validator("ServerFrame")
    hello: dict[str, Any] = {"type": "hello", "token": "t", "last_seq": 3}
    ack = {"type": "ack", "id": "1", "client_id": "c", "note": 1, "duplicate": False, "seq": 4}
    assert client.is_valid(hello) and not server.is_valid(hello)
    assert server.is_valid(ack) and not client.is_valid(ack)
    assert not server.is_valid({**ack, "note": "one"})
    assert not server.is_valid({"type": "ack", "id": "1", "seq": 4, "extra": 1})


async def test_the_sdk_hands_out_the_wire_models(api: RelayAPI, relay_url: str) -> None:
    created = await started(api)
    async with await SeatClient.connect(relay_url, created["id"], created["seats"]["iran"]) as iran:
        assert isinstance(iran.welcome, wire.Welcome) and iran.welcome.seat == "iran"
        ack = await iran.submit(client_id="c1", kind="statement", text="t")
        assert isinstance(ack, wire.SubmitAck) and (ack.note, ack.duplicate) == (1, False)
        assert ack["note"] == ack.note  # read as a mapping too, as the SDK's dicts were
        assert isinstance(await iran.ping(), wire.Pong)
        frames = iran.received()
        assert frames and all(isinstance(frame, wire.EventFrame) for frame in frames)
        assert iran.last_seq == frames[-1].seq


@pytest.mark.parametrize("client_id", ["c1", 'ünïcode \u2028 "quoted" \\ \x01 tab\t', "x" * 128])
def test_the_hot_path_writes_an_ack_as_its_model_does(client_id: str) -> None:
    submit = wire.SubmitAck(id="s", client_id=client_id, note=7, duplicate=True, seq=2**40)
    assert ack_text("s", 2**40, (client_id, 7, True)) == frame_text(submit)
    assert ack_text(None, 3) == frame_text(wire.Ack(id=None, seq=3))
    assert ack_text(client_id, 3) == frame_text(wire.Ack(id=client_id, seq=3))
