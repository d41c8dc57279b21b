"""The websocket endpoint: one connection per seat, a reader and a writer.

The endpoint validates each frame (schemas.wire), translates it into a core command, lets the
exercise apply and persist it, and answers ``ack`` or ``error``. A bad frame never closes the
connection. These do (docs/protocol.md#close-codes, docs/security.md):

    1008  no valid hello in time, an unknown or revoked token, an unsupported protocol
          version, too many sockets for the seat, sustained excess over the seat's frame rate,
          or the facilitator revoked the seat's token while it was connected
    1009  a frame larger than ``max_frame_bytes`` (the server's own limit is set to match)
    1011  the exercise cannot be served (its journal does not replay)

The reader puts every answer on the seat's queue, the same queue live events go to, so a seat
sees one ordered stream; the writer alone sends. A :class:`Close` on the queue ends the stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from relay.core import ShuttleError
from relay.core import commands as cmd
from relay.jsontext import dumps, dumps_fast, loads
from relay.live import (
    NO_SEAT,
    Applied,
    Close,
    ExerciseHub,
    LiveExercise,
    Outgoing,
    Subscriber,
)
from relay.settings import Settings
from relay.store import StoreError
from relay.views import scenario_view
from schemas import wire
from schemas.scenario import describe_errors

__all__ = ["FrameBudget", "SeatGate", "error_frame", "frame_command", "parse_frame", "serve_seat"]

log = logging.getLogger("shuttle.ws")

POLICY_VIOLATION = 1008
MESSAGE_TOO_BIG = 1009
INTERNAL_ERROR = 1011

# Commands one connection may have waiting to be committed before its reader pauses.
_IN_FLIGHT = 32
# A bundle of frames (hello.bundle) stops growing past this much text (at most 4 bytes a
# character: well inside the 1 MiB a client takes by default), plus the frame that crossed it.
_BUNDLE_CHARS = 128 * 1024

_COMMANDS: dict[str, type[cmd.Command]] = {
    "submit": cmd.Submit,
    "relay": cmd.Relay,
    "hold": cmd.Hold,
    "release": cmd.Release,
    "return": cmd.Return,
    "decline": cmd.Decline,
    "travel": cmd.Travel,
    "batch": cmd.Batch,
    "rules": cmd.ChangeRules,
}


class FrameRefused(Exception):
    """A frame that gets an error frame (``frame``) and, if ``close`` is set, a close."""

    def __init__(self, frame: str, close: Close | None = None) -> None:
        super().__init__(frame)
        self.frame = frame
        self.close = close


def frame_text(frame: wire.ServerFrame) -> str:
    """A server frame's wire text: its fields in declaration order, compact JSON.

    Every field of a server frame is a plain JSON value, so the model's ``__dict__`` is the
    wire object already: encoding it skips ``model_dump``'s copy. An ack (strings, integers,
    booleans: no float, whose exponent orjson spells differently) goes through orjson, which
    saves about 1 µs a frame on the path of every command (docs/performance.md).
    """
    if type(frame) is wire.SubmitAck or type(frame) is wire.Ack:
        return dumps_fast(frame.__dict__)
    return dumps(frame.__dict__)


def error_frame(frame_id: str | None, code: str, message: str) -> str:
    return frame_text(wire.ErrorFrame(id=frame_id, code=code, message=message))


def parse_frame(raw: str) -> tuple[Any, str | None]:
    """A validated client frame and its id, or raise :class:`FrameRefused`."""
    try:
        obj = loads(raw)
    except ValueError as error:
        raise FrameRefused(error_frame(None, "bad_json", f"not JSON: {error}")) from None
    frame_id = _frame_id(obj)
    try:
        return wire.client_frame.validate_python(obj), frame_id
    except ValidationError as error:
        raise FrameRefused(
            error_frame(frame_id, "invalid_frame", describe_errors(error, 5, "frame"))
        ) from None


def _frame_id(obj: Any) -> str | None:
    """The id an answer repeats: the frame's own, if it is a string of 128 characters at most."""
    frame_id = obj.get("id") if isinstance(obj, dict) else None
    return frame_id if isinstance(frame_id, str) and len(frame_id) <= 128 else None


def _id_of(raw: str | None) -> str | None:
    """The id of a frame that will not be read further (dropped over the rate), if it has one."""
    try:
        return _frame_id(loads(raw)) if raw is not None else None
    except ValueError:
        return None


class FrameBudget:
    """A token bucket: ``per_minute`` frames at most, refilled continuously."""

    def __init__(self, per_minute: int, clock: Callable[[], float]) -> None:
        self.capacity = float(per_minute)
        self.tokens = float(per_minute)
        self.clock = clock
        self._stamp = clock()

    def take(self) -> bool:
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self._stamp) * self.capacity / 60)
        self._stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


@dataclass
class SeatGate:
    """What a seat may cost the relay: sockets held at once and frames sent per minute.

    Kept per (exercise, seat), across the seat's sockets and reconnections, so reconnecting is
    no way around the rate limit.
    """

    settings: Settings
    clock: Callable[[], float] = time.monotonic
    _sockets: dict[tuple[str, str], int] = field(default_factory=dict)
    _budgets: dict[tuple[str, str], FrameBudget] = field(default_factory=dict)

    def admit(self, key: tuple[str, str]) -> bool:
        held = self._sockets.get(key, 0)
        if held >= self.settings.max_sockets_per_seat:
            return False
        self._sockets[key] = held + 1
        return True

    def leave(self, key: tuple[str, str]) -> None:
        held = self._sockets.get(key, 0) - 1
        if held > 0:
            self._sockets[key] = held
        else:
            self._sockets.pop(key, None)

    def allow_frame(self, key: tuple[str, str]) -> bool:
        per_minute = self.settings.rate_limit_per_minute
        if per_minute == 0:
            return True
        budget = self._budgets.get(key)
        if budget is None:
            budget = self._budgets[key] = FrameBudget(per_minute, self.clock)
        return budget.take()


@dataclass
class Connection:
    """One accepted websocket of one seat."""

    websocket: WebSocket
    live: LiveExercise
    sub: Subscriber
    gate: SeatGate
    bundle: bool = False  # the client takes several frames per message (hello.bundle)
    strikes: int = 0
    unanswered: int = 0  # commands read and not yet answered

    @property
    def key(self) -> tuple[str, str]:
        return (self.live.id, self.sub.seat)


async def _receive_text(websocket: WebSocket, max_bytes: int) -> str | None:
    """The next text frame; ``None`` for a binary one. Oversized frames are refused (1009)."""
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000))
    text, data = message.get("text"), message.get("bytes")
    size = len(data) if data is not None else len(text.encode("utf-8")) if text else 0
    if size > max_bytes:
        raise FrameRefused(
            error_frame(None, "too_big", f"frames are limited to {max_bytes} bytes"),
            Close(MESSAGE_TOO_BIG, "frame too big"),
        )
    return text


async def _refuse(websocket: WebSocket, frame: str, close: Close) -> None:
    with contextlib.suppress(Exception):  # the peer may already be gone
        await websocket.send_text(frame)
        await websocket.close(close.code, close.reason)


async def serve_seat(
    websocket: WebSocket,
    hub: ExerciseHub,
    gate: SeatGate,
    exercise_id: str,
) -> None:
    settings = gate.settings
    await websocket.accept()
    try:
        hello = await asyncio.wait_for(
            _hello(websocket, settings.max_frame_bytes), settings.hello_timeout_s
        )
    except TimeoutError:
        with contextlib.suppress(Exception):
            await websocket.close(POLICY_VIOLATION, "expected a hello frame with a valid token")
        return
    except FrameRefused as refused:
        close = refused.close or Close(POLICY_VIOLATION, "expected a hello frame")
        await _refuse(websocket, refused.frame, close)
        return
    except WebSocketDisconnect:
        return
    try:
        await _join(websocket, hub, gate, exercise_id, hello)
    except FrameRefused as refused:
        await _refuse(websocket, refused.frame, refused.close or Close(POLICY_VIOLATION, ""))


async def _join(
    websocket: WebSocket, hub: ExerciseHub, gate: SeatGate, exercise_id: str, hello: wire.Hello
) -> None:
    def refuse(code: str, message: str, close: int = POLICY_VIOLATION) -> FrameRefused:
        return FrameRefused(error_frame(hello.id, code, message), Close(close, message[:120]))

    if hello.version != wire.PROTOCOL_VERSION:
        raise refuse(
            "unsupported_version",
            f"this relay speaks protocol version {wire.PROTOCOL_VERSION}, not {hello.version}",
        )
    seat = await hub.authenticate(exercise_id, hello.token)
    try:
        live = await hub.get(exercise_id) if seat is not None else None
    except Exception:  # logged by the hub
        raise refuse("unavailable", "this exercise cannot be served", INTERNAL_ERROR) from None
    if seat is None or live is None or seat.seat in live.revoked:
        raise refuse("unauthorized", NO_SEAT)
    key = (exercise_id, seat.seat)
    if not gate.admit(key):
        raise refuse(
            "too_many_sockets",
            f"seat {seat.seat} already holds {gate.settings.max_sockets_per_seat} sockets",
        )
    try:
        sub, last_seq = await live.subscribe(seat.seat, seat.role, hello.last_seq)
        try:
            await websocket.send_text(frame_text(_welcome(live, sub, hello, last_seq)))
            await _stream(Connection(websocket, live, sub, gate, hello.bundle))
        finally:
            live.unsubscribe(sub)
    finally:
        gate.leave(key)


def _welcome(live: LiveExercise, sub: Subscriber, hello: wire.Hello, last_seq: int) -> wire.Welcome:
    return wire.Welcome(
        id=hello.id,
        exercise=live.id,
        seat=sub.seat,
        role=sub.role,
        phase=live.core.phase.value,
        last_seq=last_seq,
        resumed_after=hello.last_seq,
        # Everything after resumed_after is queued, unless the client claims to have seen
        # more than this journal holds: then it must start again from 0 (docs/protocol.md).
        resume_complete=hello.last_seq <= last_seq,
        bundle=hello.bundle,
        scenario=scenario_view(live.core, sub.seat, sub.role),
    )


async def _stream(conn: Connection) -> None:
    """Run the reader and the writer until the peer leaves or one side closes the socket."""
    writer = asyncio.create_task(_write(conn))
    reader = asyncio.create_task(_read(conn))
    try:
        done, _ = await asyncio.wait({reader, writer}, return_when=asyncio.FIRST_COMPLETED)
        if reader in done and reader.exception() is None and reader.result():
            # the reader asked for a close: let the writer send what is queued, then close
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(writer), 5.0)
    finally:
        for task in (reader, writer):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


async def _hello(websocket: WebSocket, max_bytes: int) -> wire.Hello:
    raw = await _receive_text(websocket, max_bytes)
    if raw is None:
        raise FrameRefused(error_frame(None, "bad_frame", "send a text frame: hello"))
    frame, frame_id = parse_frame(raw)
    if isinstance(frame, wire.Hello):
        return frame
    raise FrameRefused(error_frame(frame_id, "expected_hello", "the first frame must be hello"))


async def _write(conn: Connection) -> None:
    """Send the seat's stream in order; with ``bundle``, whatever is queued as one message.

    A bundle is a JSON array of the frames queued when the writer gets its turn (the events
    of a commit and the answers that follow them), up to ``_BUNDLE_CHARS`` of text: one send
    instead of one per frame. Nothing waits for company, except that a seat with commands
    still unanswered waits one turn of the loop: their answers are settled with the commit
    whose events woke the writer, and join them.
    """
    websocket, queue, bundle = conn.websocket, conn.sub.queue, conn.bundle
    while True:
        item = await queue.get()
        if bundle and conn.unanswered:
            await asyncio.sleep(0)
        frames, close = _take(item, queue, _BUNDLE_CHARS if bundle else 0)
        if bundle and len(frames) > 1:
            await websocket.send_text(f"[{','.join(frames)}]")
        else:
            for frame in frames:
                await websocket.send_text(frame)
        if close is not None:
            await websocket.close(close.code, close.reason)
            return


def _take(
    item: Outgoing, queue: asyncio.Queue[Outgoing], limit: int
) -> tuple[list[str], Close | None]:
    """``item``'s frames and, until ``limit`` characters are reached, those queued after it."""
    frames: list[str] = []
    size = 0
    while True:
        if isinstance(item, Close):
            return frames, item
        if isinstance(item, str):
            frames.append(item)
            size += len(item)
        else:
            frames += item
            size += sum(map(len, item))
        if size >= limit or queue.empty():
            return frames, None
        item = queue.get_nowait()


async def _read(conn: Connection) -> bool:
    """Read frames until the peer leaves (``False``) or a close is queued (``True``).

    Commands are not awaited here: each goes to the exercise's inbox at once, so a client may
    have up to ``_IN_FLIGHT`` of them being committed, and the answerer puts the answers on
    the seat's queue in the order the frames came (each after the events its command made).
    """
    answers = _Answers(conn)
    try:
        while True:
            try:
                raw = await _receive_text(conn.websocket, conn.gate.settings.max_frame_bytes)
                _check_rate(conn, raw)
                if raw is None:
                    raise FrameRefused(
                        error_frame(None, "bad_frame", "binary frames are not accepted")
                    )
                frame, frame_id = parse_frame(raw)
            except WebSocketDisconnect:
                return False
            except FrameRefused as refused:
                await answers.put(refused.frame)
                if refused.close is not None:
                    await answers.put(refused.close)
                    await answers.sent()
                    return True
                continue
            await answers.put(_start(conn.live, conn.sub.seat, frame, frame_id))
    finally:
        answers.cancel()


class _Answers:
    """The connection's answers in the order of its frames, put on the seat's queue by a
    task of their own, started with the first answer (an idle seat costs no task)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.queue: asyncio.Queue[_Answer] | None = None
        self.task: asyncio.Task[None] | None = None

    async def put(self, answer: _Answer) -> None:
        if self.queue is None:
            self.queue = asyncio.Queue(_IN_FLIGHT)
            self.task = asyncio.create_task(self._run(self.queue))
        if isinstance(answer, _Pending):
            self.conn.unanswered += 1
        await self.queue.put(answer)

    async def _run(self, answers: asyncio.Queue[_Answer]) -> None:
        conn = self.conn
        while True:
            answer = await answers.get()
            if isinstance(answer, _Pending):
                conn.sub.queue.put_nowait(await _reply(answer))
                conn.unanswered -= 1
                continue
            conn.sub.queue.put_nowait(answer)
            if isinstance(answer, Close):
                return

    async def sent(self) -> None:
        """Wait until every answer, ending with a :class:`Close`, is on the seat's queue."""
        if self.task is not None:
            await self.task

    def cancel(self) -> None:
        # Let go of the task: once cancelled, its traceback holds this object, and a reference
        # back would make the whole connection cyclic garbage, which a frozen heap (see
        # relay/live.py) never frees.
        task, self.task = self.task, None
        if task is not None:
            task.cancel()


@dataclass(frozen=True, slots=True)
class _Pending:
    """A command in the exercise's inbox, and how to answer it once it is durable."""

    live: LiveExercise
    frame_id: str | None
    command: cmd.Command
    done: asyncio.Future[Applied]


_Answer = str | Close | _Pending


def _check_rate(conn: Connection, raw: str | None) -> None:
    """Over the seat's frame rate: an error frame (with the dropped frame's id, so that a
    client waiting for its answer gets one); ``rate_limit_strikes`` in a row: 1008."""
    if conn.gate.allow_frame(conn.key):
        conn.strikes = 0
        return
    conn.strikes += 1
    settings = conn.gate.settings
    close = None
    if conn.strikes >= settings.rate_limit_strikes:
        close = Close(POLICY_VIOLATION, "frame rate limit exceeded")
    message = f"more than {settings.rate_limit_per_minute} frames a minute; this one was dropped"
    raise FrameRefused(error_frame(_id_of(raw), "rate_limited", message), close)


def _start(live: LiveExercise, seat: str, frame: Any, frame_id: str | None) -> _Answer:
    """Answer a frame at once, or queue its command and return what will answer it."""
    if isinstance(frame, wire.Ping):
        return frame_text(wire.Pong(id=frame_id, now=live.clock.now()))
    if isinstance(frame, wire.Hello):
        return error_frame(frame_id, "already_joined", "hello is sent once per connection")
    try:
        command = frame_command(seat, frame)
    except ShuttleError as refused:
        return error_frame(frame_id, refused.code, str(refused))
    return _Pending(live, frame_id, command, live.enqueue(command))


_NOT_FIELDS = frozenset({"type", "id"})  # of a frame, not of its command


def frame_command(seat: str, frame: Any) -> cmd.Command:
    if isinstance(frame, wire.Control):
        return cmd.CONTROLS[frame.action](by=seat)
    # Every frame's fields are plain JSON values (no nested models): taken as validated.
    fields = {name: value for name, value in vars(frame).items() if name not in _NOT_FIELDS}
    return _COMMANDS[frame.type](by=seat, **fields)


async def _reply(pending: _Pending) -> str:
    try:
        applied = await pending.done
    except ShuttleError as refused:  # a rule broken, or (never expected) our own misuse
        return error_frame(pending.frame_id, refused.code, str(refused))
    except StoreError as error:  # nothing was acknowledged; the client may resend
        log.warning("exercise %s: the journal refused a write: %s", pending.live.id, error)
        return error_frame(
            pending.frame_id, "unavailable", "the journal is unavailable; send it again"
        )
    except Exception:  # a bug in applying it: logged by the exercise; the client hears of it
        return error_frame(pending.frame_id, "internal", "the relay could not apply this frame")
    if not isinstance(pending.command, cmd.Submit):
        return frame_text(wire.Ack(id=pending.frame_id, seq=applied.seq))
    return frame_text(
        wire.SubmitAck(
            id=pending.frame_id,
            client_id=pending.command.client_id,
            note=applied.note,
            duplicate=not applied.fresh,
            seq=applied.seq,
        )
    )
