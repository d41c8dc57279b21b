"""The Python SDK: REST through httpx (``clients/rest.py``), one websocket per seat through
``websockets``, driving the seat protocol's client half (``relay.seat.ClientSeat``).

    api = RelayAPI("http://127.0.0.1:8000")
    created = await api.create(scenario_dict, seed=7, speed=60)
    seat = await SeatClient.connect(api.base_url, created["id"], created["seats"]["iran"])
    await seat.submit(kind="proposal", text="...", terms={"enrichment_cap": 3.67})
    async for frame in seat.events():      # event frames visible to this seat, in order
        ...

Every request frame gets an id; :meth:`SeatClient.request` waits for its ``ack`` and raises
:class:`Refused` (with the server's code and message) on an ``error``. What the relay sends
comes out as the models of ``schemas.wire`` (``Welcome``, ``EventFrame``, ``Ack``,
``SubmitAck``, ``Pong``), which also read as mappings (``ack["note"]``).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import websockets

from clients.rest import Refused, RelayAPI
from relay.core import events as ev
from relay.seat import ClientSeat, SeatRefused
from schemas import wire

__all__ = [
    "Backoff",
    "ConnectionLost",
    "Refused",
    "RelayAPI",
    "Resumed",
    "SeatClient",
    "event_of",
    "ws_url",
]


class ConnectionLost(Exception):
    """The websocket closed while a request was waiting for its answer."""


def event_of(frame: wire.EventFrame) -> ev.Event:
    """The core event an ``event`` frame carries."""
    return ev.event_from_data(frame.event, frame.seq, frame.at, frame.data)


def ws_url(base_url: str, exercise_id: str) -> str:
    base = base_url.rstrip("/")
    if base.startswith("http"):
        base = "ws" + base[4:]
    return f"{base}/ws/{exercise_id}"


@dataclass
class Backoff:
    """Waits between reconnection attempts: exponential, capped, with full jitter.

    Attempt ``n`` (from 0) waits a random time in ``[0, min(maximum, initial * factor**n)]``,
    so that clients dropped together do not come back together.
    """

    initial: float = 0.2
    factor: float = 2.0
    maximum: float = 10.0
    attempts: int | None = None  # None: keep trying until close()
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int) -> float:
        return self.rng.uniform(0, min(self.maximum, self.initial * self.factor**attempt))


@dataclass(frozen=True)
class Resumed:
    """A reconnection: after which ``seq`` the relay resumed, and whether it could do it whole."""

    after: int
    complete: bool
    attempt: int


_FINAL_CLOSES = {
    1008,
    1009,
}  # refused (bad or revoked token, limits) or too big: retrying won't help


class SeatClient:
    """One seat's live connection: send requests, iterate over visible events.

    With ``reconnect`` (the default) a dropped connection is re-opened with :class:`Backoff`
    and resumed from the last ``seq`` seen, so :meth:`events` goes on without a gap or a
    repeat. A ``submit`` waiting for its ``ack`` is sent again with the same ``client_id``
    (the relay stores it once); any other waiting request fails with :class:`ConnectionLost`,
    because sending a mediator's action twice is not harmless. A close with 1008 or 1009 is
    final.
    """

    def __init__(
        self,
        base_url: str,
        exercise_id: str,
        token: str,
        *,
        last_seq: int = 0,
        reconnect: bool = True,
        backoff: Backoff | None = None,
        on_change: Callable[[str, Any], None] | None = None,
    ) -> None:
        self.url = ws_url(base_url, exercise_id)
        self.protocol = ClientSeat(token, last_seq)  # the seat's half of the conversation
        self.reconnect = reconnect
        self.backoff = backoff or Backoff()
        self.on_change = on_change or (lambda what, detail: None)
        self.seat = self.role = ""
        self.resumes: list[Resumed] = []
        self.close_code: int | None = None
        self._ws: Any = None
        self._connected = asyncio.Event()
        self._closing = False
        self._waiting: dict[str, asyncio.Future[wire.Answer]] = {}  # by request id
        self._events: asyncio.Queue[wire.EventFrame | None] = asyncio.Queue()
        self._reader: asyncio.Task[None] | None = None

    @property
    def last_seq(self) -> int:
        """The last event's ``seq`` seen: where a reconnection resumes."""
        return self.protocol.last_seq

    @property
    def welcome(self) -> wire.Welcome | None:
        """The relay's last welcome (``None`` before the seat is open)."""
        return self.protocol.welcome

    @property
    def notices(self) -> list[wire.ErrorFrame]:
        """Errors not tied to a request."""
        return self.protocol.notices

    @classmethod
    async def connect(
        cls, base_url: str, exercise_id: str, token: str, **options: Any
    ) -> SeatClient:
        """Open the seat (``options`` as for the constructor).

        Raises :class:`Refused` or ``OSError`` if the first attempt fails: a wrong address or
        token is reported at once, not retried.
        """
        client = cls(base_url, exercise_id, token, **options)
        await client._open()
        client._reader = asyncio.create_task(client._run())
        return client

    async def _open(self) -> None:
        # permessage-deflate off: it triples CPU per frame for short JSON (DESIGN §3).
        ws = await websockets.connect(self.url, compression=None, max_size=2**20)
        await ws.send(self.protocol.hello())
        try:
            welcome = self.protocol.receive_welcome(await ws.recv())
        except websockets.ConnectionClosed as closed:
            raise Refused("closed", f"the relay closed the connection: {closed}") from None
        except SeatRefused as refused:
            await ws.close()
            raise Refused(refused.code, refused.message) from None
        self._ws = ws
        self.seat, self.role = welcome.seat, welcome.role
        self._connected.set()

    async def close(self) -> None:
        self._closing = True
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader

    def drop(self) -> None:
        """Cut the connection as a network failure would (no closing handshake).

        With ``reconnect`` the seat comes back on its own; used to test exactly that.
        """
        if self._ws is not None:
            self._ws.transport.abort()

    async def __aenter__(self) -> SeatClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def events(self) -> AsyncIterator[wire.EventFrame]:
        """Event frames in journal order, across reconnections; ends when the seat is closed."""
        while True:
            frame = await self._events.get()
            if frame is None:
                self._events.put_nowait(None)  # a second iterator ends too
                return
            yield frame

    def received(self) -> list[wire.EventFrame]:
        """Take the event frames received and not yet taken by :meth:`events` (never waits)."""
        frames = []
        while not self._events.empty():
            frame = self._events.get_nowait()
            if frame is None:
                self._events.put_nowait(None)  # the end stays, for events()
                break
            frames.append(frame)
        return frames

    @property
    def connected(self) -> bool:
        """Whether the seat has a live connection now (``False`` while it reconnects)."""
        return self._connected.is_set() and self._ws is not None

    async def request(self, frame: dict[str, Any]) -> wire.Answer:
        """Send ``frame`` and return its answer; raises :class:`Refused` for an ``error``, and
        ValueError at once for a number JSON cannot hold (NaN, infinity), which the relay
        could only answer without the frame's id."""
        frame_id, text = self.protocol.request(frame)  # ValueError: not JSON
        future: asyncio.Future[wire.Answer] = asyncio.get_running_loop().create_future()
        self._waiting[frame_id] = future
        await self._connected.wait()
        if self._ws is None:
            self.protocol.forget(frame_id)
            self._waiting.pop(frame_id, None)
            raise ConnectionLost("the seat is closed")
        try:
            self.protocol.sent(frame_id)
            await self._ws.send(text)
        except websockets.ConnectionClosed as error:
            if not (self.reconnect and frame["type"] == "submit"):
                self.protocol.forget(frame_id)
                self._waiting.pop(frame_id, None)
                raise ConnectionLost(str(error)) from None
            # else: it stays pending and is sent again once the seat is resumed
        answer = await future
        if isinstance(answer, wire.ErrorFrame):
            raise Refused(answer.code, answer.message)
        return answer

    async def _act(self, frame: dict[str, Any]) -> wire.Ack:
        """Send a seat's action; its ``ack``, or :class:`Refused`."""
        answer = await self.request(frame)
        if not isinstance(answer, wire.Ack):
            raise Refused("unexpected", f"{frame['type']} answered with {answer!r}")
        return answer

    # ------------------------------------------------------------------ seat actions

    async def submit(
        self,
        *,
        client_id: str,
        kind: str,
        text: str,
        tags: list[str] | None = None,
        terms: dict[str, float] | None = None,
        in_reply_to: int | None = None,
        answer: str | None = None,
        to: str = "mediator",
    ) -> wire.SubmitAck:
        acked = await self.request(
            {
                "type": "submit",
                "client_id": client_id,
                "kind": kind,
                "text": text,
                "tags": tags or [],
                "terms": terms or {},
                "in_reply_to": in_reply_to,
                "answer": answer,
                "to": to,
            }
        )
        if not isinstance(acked, wire.SubmitAck):
            raise Refused("unexpected", f"a submit answered with {acked!r}")
        return acked

    async def relay(
        self,
        note: int,
        *,
        text: str | None = None,
        tags: list[str] | None = None,
        terms: dict[str, float] | None = None,
    ) -> wire.Ack:
        return await self._act(
            {"type": "relay", "note": note, "text": text, "tags": tags, "terms": terms}
        )

    async def hold(
        self, note: int, until: float | None = None, condition: str | None = None
    ) -> wire.Ack:
        """Hold ``note`` until exercise time ``until``, until ``condition`` (``delivered:N``
        or ``answered:N``) holds, or, with neither, until released."""
        frame = {"type": "hold", "note": note, "until": until, "condition": condition}
        return await self._act(frame)

    async def batch(self, notes: list[int] | None = None) -> wire.Ack:
        """Relay ``notes`` (every read note, if none) verbatim and leave with them."""
        return await self._act({"type": "batch", "notes": list(notes or [])})

    async def change_rules(self, delivery: dict[str, Any]) -> wire.Ack:
        """Facilitator: replace the delivery rules (a scenario ``delivery`` section)."""
        return await self._act({"type": "rules", "delivery": delivery})

    async def release(self, note: int) -> wire.Ack:
        return await self._act({"type": "release", "note": note})

    async def return_note(self, note: int, comment: str) -> wire.Ack:
        return await self._act({"type": "return", "note": note, "comment": comment})

    async def decline(self, note: int, reason: str) -> wire.Ack:
        return await self._act({"type": "decline", "note": note, "reason": reason})

    async def travel(self, destination: str) -> wire.Ack:
        return await self._act({"type": "travel", "destination": destination})

    async def control(self, action: str) -> wire.Ack:
        return await self._act({"type": "control", "action": action})

    async def ping(self) -> wire.Answer:
        """The relay's ``pong``. It comes after every event the relay had for this seat when
        it read the ping, so once this returns, :meth:`received` holds them all."""
        return await self.request({"type": "ping"})

    # ------------------------------------------------------------------ reading

    async def _run(self) -> None:
        """Read until closed; after a drop, reconnect, resume and resend pending submits."""
        try:
            while True:
                await self._read_until_closed()
                if not await self._resume():
                    return
        finally:
            self._ws = None
            self._connected.set()  # wake waiting requests: they see the seat closed
            self._fail(self.protocol.close())
            self._events.put_nowait(None)

    async def _read_until_closed(self) -> None:
        try:
            async for message in self._ws:
                for frame, answers in self.protocol.receive(message):
                    if isinstance(frame, wire.EventFrame):
                        self._events.put_nowait(frame)
                    elif answers is not None:
                        self._answered(answers, frame)
        except websockets.ConnectionClosed:
            pass
        self._connected.clear()
        self.close_code = self._ws.close_code

    async def _resume(self) -> bool:
        """Reconnect with backoff; ``False`` when the seat is done for good."""
        if self._closing or not self.reconnect or self.close_code in _FINAL_CLOSES:
            return False
        self._fail(self.protocol.lost())
        self.on_change("lost", self.close_code)
        attempt = 0
        while self.backoff.attempts is None or attempt < self.backoff.attempts:
            await asyncio.sleep(self.backoff.delay(attempt))
            attempt += 1
            try:
                await self._open()
            except Refused as refused:
                if refused.code in ("unauthorized", "unsupported_version"):
                    self.close_code = 1008
                    return False
                self.on_change("retrying", attempt)
                continue
            except (OSError, websockets.InvalidHandshake, websockets.ConnectionClosed):
                self.on_change("retrying", attempt)
                continue
            welcome = self.welcome
            assert welcome is not None  # _open set it
            resumed = Resumed(welcome.resumed_after, welcome.resume_complete, attempt)
            self.resumes.append(resumed)
            self.on_change("resumed", resumed)
            for text in self.protocol.resend():
                with contextlib.suppress(websockets.ConnectionClosed):
                    await self._ws.send(text)
            return True
        return False

    def _fail(self, frame_ids: list[str]) -> None:
        for frame_id in frame_ids:
            future = self._waiting.pop(frame_id, None)
            if future is not None and not future.done():
                future.set_exception(ConnectionLost("connection closed"))

    def _answered(self, frame_id: str, answer: wire.Answer) -> None:
        future = self._waiting.pop(frame_id, None)
        if future is not None and not future.done():
            future.set_result(answer)
