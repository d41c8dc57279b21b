"""The websocket endpoint: one connection per seat, a reader and a writer.

The endpoint validates each frame (schemas.wire), translates it into a core command, lets the
exercise apply and persist it, and answers ``ack`` or ``error``. A bad frame never closes the
connection; only a missing/invalid hello (1008) or an oversized frame (1009, enforced by the
server's max size) does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from fastapi import WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from relay.core import ShuttleError
from relay.core import commands as cmd
from relay.journal import dumps
from relay.live import ExerciseHub, LiveExercise, Subscriber
from relay.views import scenario_view
from schemas import wire

__all__ = ["serve_seat"]

POLICY_VIOLATION = 1008

_COMMANDS: dict[str, type[cmd.Command]] = {
    "submit": cmd.Submit,
    "relay": cmd.Relay,
    "hold": cmd.Hold,
    "release": cmd.Release,
    "return": cmd.Return,
    "decline": cmd.Decline,
    "travel": cmd.Travel,
}


def error_frame(frame_id: str | None, code: str, message: str) -> str:
    return dumps({"type": "error", "id": frame_id, "code": code, "message": message})


def describe_validation(error: ValidationError) -> str:
    parts = []
    for item in error.errors()[:5]:
        where = ".".join(str(p) for p in item["loc"]) or "frame"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)


def parse_frame(raw: str) -> tuple[Any, str | None]:
    """A validated client frame, or raise ValueError with the error frame to send."""
    try:
        obj = json.loads(raw)
    except json.JSONDecodeError as error:
        raise ValueError(error_frame(None, "bad_json", f"not JSON: {error.msg}")) from None
    frame_id = obj.get("id") if isinstance(obj, dict) else None
    frame_id = frame_id if isinstance(frame_id, str) else None
    try:
        return wire.client_frame.validate_python(obj), frame_id
    except ValidationError as error:
        raise ValueError(
            error_frame(frame_id, "invalid_frame", describe_validation(error))
        ) from None


async def _receive_text(websocket: WebSocket) -> str | None:
    """The next text frame; ``None`` for a binary one."""
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000))
    return message.get("text")


async def serve_seat(
    websocket: WebSocket, hub: ExerciseHub, exercise_id: str, hello_timeout: float
) -> None:
    await websocket.accept()
    try:
        hello = await asyncio.wait_for(_hello(websocket), hello_timeout)
    except (TimeoutError, ValueError) as error:
        if isinstance(error, ValueError) and error.args:
            await websocket.send_text(error.args[0])
        await websocket.close(POLICY_VIOLATION, "expected a hello frame with a valid token")
        return
    except WebSocketDisconnect:
        return
    seat = await hub.authenticate(exercise_id, hello.token)
    live = await hub.get(exercise_id) if seat is not None else None
    if seat is None or live is None:
        await websocket.send_text(error_frame(hello.id, "unauthorized", "unknown or revoked token"))
        await websocket.close(POLICY_VIOLATION, "unknown or revoked token")
        return
    sub = await live.subscribe(seat.seat, seat.role, hello.last_seq)
    welcome = {
        "type": "welcome",
        "id": hello.id,
        "version": wire.PROTOCOL_VERSION,
        "exercise": exercise_id,
        "seat": seat.seat,
        "role": seat.role,
        "phase": live.core.phase.value,
        "last_seq": live.core.last_seq,
        "resumed_after": hello.last_seq,
        "scenario": scenario_view(live.core, seat.seat, seat.role),
    }
    await websocket.send_text(dumps(welcome))
    writer = asyncio.create_task(_write(websocket, sub))
    try:
        await _read(websocket, live, sub)
    except WebSocketDisconnect:
        pass
    finally:
        live.unsubscribe(sub)
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await writer


async def _hello(websocket: WebSocket) -> wire.Hello:
    while True:
        raw = await _receive_text(websocket)
        if raw is None:
            raise ValueError(error_frame(None, "bad_frame", "send a text frame: hello"))
        frame, frame_id = parse_frame(raw)
        if isinstance(frame, wire.Hello):
            return frame
        raise ValueError(error_frame(frame_id, "expected_hello", "the first frame must be hello"))


async def _write(websocket: WebSocket, sub: Subscriber) -> None:
    while True:
        frame = await sub.queue.get()
        await websocket.send_text(frame)


async def _read(websocket: WebSocket, live: LiveExercise, sub: Subscriber) -> None:
    while True:
        raw = await _receive_text(websocket)
        if raw is None:
            sub.queue.put_nowait(error_frame(None, "bad_frame", "binary frames are not accepted"))
            continue
        try:
            frame, frame_id = parse_frame(raw)
        except ValueError as error:
            sub.queue.put_nowait(error.args[0])
            continue
        sub.queue.put_nowait(await _answer(live, sub.seat, frame, frame_id))


async def _answer(live: LiveExercise, seat: str, frame: Any, frame_id: str | None) -> str:
    if isinstance(frame, wire.Ping):
        return dumps({"type": "pong", "id": frame_id, "now": live.clock.now()})
    if isinstance(frame, wire.Hello):
        return error_frame(frame_id, "already_joined", "hello is sent once per connection")
    try:
        if isinstance(frame, wire.Control):
            await live.command(cmd.CONTROLS[frame.action](by=seat))
            return dumps({"type": "ack", "id": frame_id, "seq": live.core.last_seq})
        fields = frame.model_dump(exclude={"type", "id"})
        command = _COMMANDS[frame.type](by=seat, **fields)
        if isinstance(command, cmd.Submit):
            note, fresh = await live.submit_once(command)
            return dumps(
                {
                    "type": "ack",
                    "id": frame_id,
                    "client_id": command.client_id,
                    "note": note,
                    "duplicate": not fresh,
                    "seq": live.core.last_seq,
                }
            )
        await live.command(command)
        return dumps({"type": "ack", "id": frame_id, "seq": live.core.last_seq})
    except ShuttleError as refused:  # a rule broken, or (never expected) our own misuse
        return error_frame(frame_id, refused.code, str(refused))
