"""The websocket endpoint: read a frame, hand it over, write what comes back.

Everything a seat's connection means (hello, welcome, resume position, frames in, commands,
answers, refusals, rate strikes) is the seat protocol's (``relay/seat.py``, a
:class:`~relay.seat.ServerSeat` per connection). This module only moves text: it accepts the
socket, authenticates the hello's token with the hub, subscribes the seat to its exercise,
and then runs one task group per connection:

    reader   websocket.receive -> seat.receive -> exercise.post (the exercise's inbox)
    writer   the seat's stream (events published by the exercise, answers settled by the
             seat in the same step) -> websocket.send, bundled when the client asked

A submitted note's path, frame to ack, is in docs/architecture.md ("The live seam"). These
close a connection (docs/protocol.md#close-codes, docs/security.md):

    1008  no valid hello in time, an unknown or revoked token, an unsupported protocol
          version, too many sockets for the seat, sustained excess over the seat's frame rate,
          or the facilitator revoked the seat's token while it was connected
    1009  a frame larger than ``max_frame_bytes`` (the server's own limit is set to match)
    1011  the exercise cannot be served (its journal does not replay)
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi import WebSocket, WebSocketDisconnect

from relay.frames import Close, FrameRefused, bundle_text
from relay.live import NO_SEAT, ExerciseHub, LiveExercise, Outgoing, Subscriber
from relay.seat import POLICY_VIOLATION, ServerSeat, State
from relay.settings import Settings
from relay.store import StoreError
from relay.views import scenario_view

__all__ = ["Connection", "FrameBudget", "SeatGate", "serve_seat"]

INTERNAL_ERROR = 1011

# A bundle of frames (hello.bundle) stops growing past this much text (at most 4 bytes a
# character: well inside the 1 MiB a client takes by default), plus the frame that crossed it.
_BUNDLE_CHARS = 128 * 1024
# How long a connection closing on the relay's side may take to send what is queued.
_CLOSING_S = 5.0


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


@dataclass(eq=False)
class Connection:
    """One accepted websocket of one seat, once it is welcomed."""

    websocket: WebSocket
    live: LiveExercise
    sub: Subscriber
    seat: ServerSeat
    window: asyncio.Event = field(default_factory=asyncio.Event)  # set: room for commands


async def _receive(websocket: WebSocket) -> tuple[str | None, int]:
    """The next frame's text (``None`` for a binary one) and its size in bytes."""
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000))
    text, data = message.get("text"), message.get("bytes")
    size = len(data) if data is not None else len(text.encode("utf-8")) if text else 0
    return text, size


async def _refuse(websocket: WebSocket, refused: FrameRefused) -> None:
    close = refused.close or Close(POLICY_VIOLATION, "expected a hello frame")
    with contextlib.suppress(Exception):  # the peer may already be gone
        await websocket.send_text(refused.frame)
        await websocket.close(close.code, close.reason)


async def serve_seat(
    websocket: WebSocket, hub: ExerciseHub, gate: SeatGate, exercise_id: str
) -> None:
    settings = gate.settings
    seat = ServerSeat(
        max_frame_bytes=settings.max_frame_bytes,
        rate_per_minute=settings.rate_limit_per_minute,
        strikes=settings.rate_limit_strikes,
        unavailable=(StoreError,),
    )
    await websocket.accept()
    try:
        async with asyncio.timeout(settings.hello_timeout_s):
            seat.receive_hello(*await _receive(websocket))
    except TimeoutError:
        with contextlib.suppress(Exception):
            await websocket.close(POLICY_VIOLATION, "expected a hello frame with a valid token")
        return
    except FrameRefused as refused:
        await _refuse(websocket, refused)
        return
    except WebSocketDisconnect:
        return
    try:
        await _join(websocket, hub, gate, exercise_id, seat)
    except FrameRefused as refused:
        await _refuse(websocket, refused)


async def _join(
    websocket: WebSocket, hub: ExerciseHub, gate: SeatGate, exercise_id: str, seat: ServerSeat
) -> None:
    hello = seat.hello
    assert hello is not None
    record = await hub.authenticate(exercise_id, hello.token)
    try:
        live = await hub.get(exercise_id) if record is not None else None
    except Exception:  # logged by the hub
        refused = seat.refuse("unavailable", "this exercise cannot be served", close=INTERNAL_ERROR)
        raise refused from None
    if record is None or live is None or record.seat in live.revoked:
        raise seat.refuse("unauthorized", NO_SEAT)
    key = (exercise_id, record.seat)
    if not gate.admit(key):
        raise seat.refuse(
            "too_many_sockets",
            f"seat {record.seat} already holds {gate.settings.max_sockets_per_seat} sockets",
        )
    try:
        sub, last_seq = await live.subscribe(record.seat, record.role, hello.last_seq)
        try:
            conn = Connection(websocket, live, sub, seat)
            welcome = seat.welcome(
                exercise=live.id,
                config=live.core.config,
                seat=sub.seat,
                role=sub.role,
                phase=live.core.phase.value,
                last_seq=last_seq,
                scenario=scenario_view(live.core, sub.seat, sub.role),
                send=sub.queue.put_nowait,
                wake=conn.window.set,
                allow_frame=functools.partial(gate.allow_frame, key),
            )
            await websocket.send_text(welcome)
            await _stream(conn)
        finally:
            live.unsubscribe(sub)
    finally:
        gate.leave(key)


async def _stream(conn: Connection) -> None:
    """Run the reader and the writer, one task group, until the peer leaves or the socket is
    closed. Each task ends the other as it ends; neither raises (an exception that left a
    task group would keep the connection in a reference cycle: see ``_read``)."""
    loop = asyncio.get_running_loop()
    async with asyncio.TaskGroup() as group:
        writer = group.create_task(_write(conn))
        reader = group.create_task(_read(conn))
        # The writer ends once the close is sent: nothing more to read.
        writer.add_done_callback(lambda _: reader.cancel())

        def after_reader(done: asyncio.Task[bool]) -> None:
            if done.cancelled() or not done.result():
                writer.cancel()  # the peer left: nothing more to write
            else:  # the seat closes: the writer sends what is queued, for a while
                stop = loop.call_later(_CLOSING_S, writer.cancel)
                writer.add_done_callback(lambda _: stop.cancel())

        reader.add_done_callback(after_reader)


async def _read(conn: Connection) -> bool:
    """Read and hand over frames until the peer leaves (``False``) or the seat closes
    (``True``).

    A command is not awaited here: it goes to the exercise's inbox at once, with the seat's
    ``settle`` to tell its outcome, so a client may have up to ``IN_FLIGHT`` commands being
    committed; past that the reader waits for room. Exceptions end the connection quietly,
    as the peer leaving does (a bug in the seat protocol is not the peer's to hear of).
    """
    seat, live, websocket = conn.seat, conn.live, conn.websocket
    now = live.clock.now
    try:
        while seat.state is State.OPEN:
            ticket = seat.receive(*await _receive(websocket), now)
            if ticket is not None:
                live.post(ticket.command, functools.partial(seat.settle, ticket))
                if not seat.window_open:
                    conn.window.clear()
                    await conn.window.wait()
        return True
    except Exception:
        return False


async def _write(conn: Connection) -> None:
    """Send the seat's stream in order; with ``bundle``, whatever is queued as one message.

    A bundle is a JSON array of the frames queued when the writer gets its turn (the events
    of a commit and the answers that follow them), up to ``_BUNDLE_CHARS`` of text: one send
    instead of one per frame. Nothing waits for company, except that a seat with commands
    still unanswered waits one turn of the loop: their answers may be settled with the
    commit whose events woke the writer, and join them.
    """
    websocket, queue, seat = conn.websocket, conn.sub.queue, conn.seat
    bundle = seat.bundle
    with contextlib.suppress(Exception):  # the peer is gone: nothing more can be sent
        while True:
            item = await queue.get()
            if bundle and seat.in_flight:
                await asyncio.sleep(0)
            frames, close = _take(item, queue, _BUNDLE_CHARS if bundle else 0)
            if bundle and frames:
                await websocket.send_text(bundle_text(frames))
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
