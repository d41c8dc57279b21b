"""The seat protocol: one seat's websocket conversation, without I/O.

A connection is text in and text out. This module holds what happens in between, for both
ends, the way ``websockets`` keeps its ``Protocol`` apart from the layers that move bytes:
``relay/ws.py`` reads a frame, hands it to a :class:`ServerSeat` and writes what comes out;
the SDK's ``SeatClient`` does the same with a :class:`ClientSeat`. Neither half touches a
socket, a clock or a task.

The relay's half, :class:`ServerSeat`::

    AWAITING_HELLO --receive_hello--> JOINING --welcome--> OPEN --(a close is due)--> CLOSING
          |                              |
          +--- FrameRefused -------------+--- refuse(): error frame, then close ----> CLOSING

    OPEN: receive(text) -> a Ticket (a command for the exercise) or None (answered at once)
          settle(ticket, outcome) once the exercise committed or refused it
          every answer goes to ``send`` in the order of the frames, each after the events
          its command made (they were published before the exercise settles the ticket)

The client's half, :class:`ClientSeat`::

    (new) --hello--> WELCOMING --receive_welcome--> OPEN --lost--> (new) --hello--> ...
                          |
                          +--- SeatRefused (an error frame instead of a welcome)

    OPEN: request(frame) -> (id, text); receive(message) -> the frames in it, each with the
          id of the request it answers; after a drop, lost() names the requests that fail and
          resend() gives the submits to send again once resumed (stored once, by client_id).

Frames are the models of ``schemas/wire.py``, written and read by ``relay/frames.py``.
"""

from __future__ import annotations

import enum
import itertools
import json
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from relay.core import ShuttleError
from relay.core import commands as cmd
from relay.core.config import ExerciseConfig
from relay.frames import (
    Close,
    FrameRefused,
    Outgoing,
    ack_text,
    error_frame,
    frame_command,
    frame_id_of,
    frame_text,
    parse_frame,
)
from schemas import wire

__all__ = [
    "IN_FLIGHT",
    "POLICY_VIOLATION",
    "ClientSeat",
    "Durable",
    "SeatRefused",
    "ServerSeat",
    "State",
    "Ticket",
]

log = logging.getLogger("shuttle.ws")

POLICY_VIOLATION = 1008
MESSAGE_TOO_BIG = 1009

IN_FLIGHT = 32
"""Commands one connection may have waiting to be committed before its reader pauses."""


# ---------------------------------------------------------------------- the relay's half


class State(enum.Enum):
    AWAITING_HELLO = "awaiting hello"
    JOINING = "joining"
    OPEN = "open"
    CLOSING = "closing"


class Durable(Protocol):
    """What the exercise says of a command once it is committed (``relay.inbox.Applied``)."""

    seq: int
    note: int | None
    fresh: bool


@dataclass(eq=False, slots=True)
class Ticket:
    """A command handed to the exercise, waiting for its outcome; then its answer's text."""

    frame_id: str | None
    command: cmd.Command
    answer: str | None = None


class ServerSeat:
    """The relay's half of one seat's connection (see the module's states).

    ``max_frame_bytes`` is the largest frame taken (then 1009). Once open, ``allow_frame``
    (given to :meth:`welcome`) says whether the seat's rate still allows a frame; over it,
    ``strikes`` refusals in a row close with 1008.
    Exceptions of the types in ``unavailable`` are answered ``unavailable`` (the journal
    refused the write: nothing was acknowledged, the client may resend).
    """

    def __init__(
        self,
        *,
        max_frame_bytes: int,
        rate_per_minute: int,
        strikes: int,
        unavailable: tuple[type[BaseException], ...] = (),
    ) -> None:
        self.state = State.AWAITING_HELLO
        self.max_frame_bytes = max_frame_bytes
        self.allow_frame: Callable[[], bool] = _always
        self.rate_per_minute = rate_per_minute
        self.strikes_allowed = strikes
        self.unavailable = unavailable
        self.hello: wire.Hello | None = None
        self.seat = ""
        self.exercise = ""
        self.config: ExerciseConfig | None = None  # the exercise's, once welcomed
        self.strikes = 0
        self.in_flight = 0  # tickets handed over and not yet settled
        self._answers: deque[Ticket | str | Close] = deque()
        self._send: Callable[[Outgoing], None] = _nowhere
        self._wake: Callable[[], None] = _nothing

    @property
    def bundle(self) -> bool:
        return self.hello is not None and self.hello.bundle

    def check_size(self, size: int) -> None:
        if size > self.max_frame_bytes:
            raise FrameRefused(
                error_frame(None, "too_big", f"frames are limited to {self.max_frame_bytes} bytes"),
                Close(MESSAGE_TOO_BIG, "frame too big"),
            )

    def receive_hello(self, text: str | None, size: int) -> wire.Hello:
        """The first frame: a hello, or :class:`FrameRefused` (to send, then close: 1008)."""
        self.check_size(size)
        if text is None:
            raise FrameRefused(error_frame(None, "bad_frame", "send a text frame: hello"))
        frame, frame_id = parse_frame(text)
        if not isinstance(frame, wire.Hello):
            raise FrameRefused(
                error_frame(frame_id, "expected_hello", "the first frame must be hello")
            )
        if frame.version != wire.PROTOCOL_VERSION:
            message = (
                f"this relay speaks protocol version {wire.PROTOCOL_VERSION}, not {frame.version}"
            )
            raise self.refuse("unsupported_version", message, frame.id)
        self.state, self.hello = State.JOINING, frame
        return frame

    def refuse(
        self, code: str, message: str, frame_id: str | None = None, close: int = POLICY_VIOLATION
    ) -> FrameRefused:
        """A hello turned away (token, sockets, an exercise that cannot be served)."""
        self.state = State.CLOSING
        if frame_id is None and self.hello is not None:
            frame_id = self.hello.id
        return FrameRefused(error_frame(frame_id, code, message), Close(close, message[:120]))

    def welcome(
        self,
        *,
        exercise: str,
        config: ExerciseConfig,
        seat: str,
        role: str,
        phase: str,
        last_seq: int,
        scenario: dict[str, Any],
        send: Callable[[Outgoing], None],
        wake: Callable[[], None] = lambda: None,
        allow_frame: Callable[[], bool] = lambda: True,
    ) -> str:
        """The welcome's text, once the seat's history up to ``last_seq`` is queued on its
        stream; from now on answers go to ``send``, ``wake`` is called when a full window of
        commands (:data:`IN_FLIGHT`) has room again, and ``allow_frame`` rates each frame."""
        hello = self.hello
        assert hello is not None and self.state is State.JOINING
        self.state, self.exercise, self.seat = State.OPEN, exercise, seat
        self.config = config
        self._send, self._wake, self.allow_frame = send, wake, allow_frame
        return frame_text(
            wire.Welcome(
                id=hello.id,
                exercise=exercise,
                seat=seat,
                role=role,
                phase=phase,
                last_seq=last_seq,
                resumed_after=hello.last_seq,
                # Everything after resumed_after is queued, unless the client claims to have
                # seen more than this journal holds: then it must start again from 0.
                resume_complete=hello.last_seq <= last_seq,
                bundle=hello.bundle,
                scenario=scenario,
            )
        )

    @property
    def window_open(self) -> bool:
        return self.in_flight < IN_FLIGHT

    def receive(self, text: str | None, size: int, now: Callable[[], float]) -> Ticket | None:
        """One frame read: the command to hand to the exercise, or ``None`` (answered at once,
        or refused; after a refusal that closes, :attr:`state` is ``CLOSING``).

        ``now`` gives the exercise time, for a ``pong``.
        """
        try:
            self.check_size(size)
            self._check_rate(text)
            if text is None:
                raise FrameRefused(error_frame(None, "bad_frame", "binary frames are not accepted"))
            frame, frame_id = parse_frame(text)
        except FrameRefused as refused:
            self._answer(refused.frame)
            if refused.close is not None:
                self.state = State.CLOSING
                self._answer(refused.close)
            return None
        if isinstance(frame, wire.Ping):
            self._answer(frame_text(wire.Pong(id=frame_id, now=now())))
            return None
        if isinstance(frame, wire.Hello):
            self._answer(
                error_frame(frame_id, "already_joined", "hello is sent once per connection")
            )
            return None
        try:
            assert self.config is not None  # frames are read once the seat is welcomed
            command = frame_command(self.seat, frame, self.config)
        except ShuttleError as refused:
            self._answer(error_frame(frame_id, refused.code, str(refused)))
            return None
        ticket = Ticket(frame_id, command)
        self.in_flight += 1
        self._answers.append(ticket)
        return ticket

    def settle(self, ticket: Ticket, outcome: Durable | BaseException) -> None:
        """The exercise's outcome of a ticket's command: its ack or error goes out, after
        the events it made (already on the stream) and in the order of the frames."""
        ticket.answer = self._answer_to(ticket, outcome)
        self.in_flight -= 1
        self._flush()
        if self.in_flight == IN_FLIGHT - 1:
            self._wake()

    def _answer_to(self, ticket: Ticket, outcome: Durable | BaseException) -> str:
        frame_id = ticket.frame_id
        if isinstance(outcome, ShuttleError):  # a rule broken, or (never expected) our misuse
            return error_frame(frame_id, outcome.code, str(outcome))
        if isinstance(outcome, self.unavailable):  # nothing was acknowledged; may resend
            log.warning("exercise %s: the journal refused a write: %s", self.exercise, outcome)
            return error_frame(frame_id, "unavailable", "the journal is unavailable; send it again")
        if isinstance(outcome, BaseException):  # a bug in applying it, logged by the exercise
            return error_frame(frame_id, "internal", "the relay could not apply this frame")
        command = ticket.command
        if not isinstance(command, cmd.Submit):
            return ack_text(frame_id, outcome.seq)
        assert outcome.note is not None  # a submit's outcome names its note
        return ack_text(frame_id, outcome.seq, (command.client_id, outcome.note, not outcome.fresh))

    def _answer(self, answer: str | Close) -> None:
        self._answers.append(answer)
        self._flush()

    def _flush(self) -> None:
        """Send the answers that are ready, up to the first ticket still unsettled."""
        answers = self._answers
        while answers:
            head = answers[0]
            if isinstance(head, Ticket):
                if head.answer is None:
                    return
                self._send(head.answer)
            else:
                self._send(head)
            answers.popleft()

    def _check_rate(self, raw: str | None) -> None:
        """Over the seat's frame rate: an error frame (with the dropped frame's id, so that a
        client waiting for its answer gets one); ``strikes`` in a row: 1008."""
        if self.allow_frame():
            self.strikes = 0
            return
        self.strikes += 1
        close = None
        if self.strikes >= self.strikes_allowed:
            close = Close(POLICY_VIOLATION, "frame rate limit exceeded")
        message = f"more than {self.rate_per_minute} frames a minute; this one was dropped"
        raise FrameRefused(error_frame(frame_id_of(raw), "rate_limited", message), close)


def _nowhere(item: Outgoing) -> None:
    raise RuntimeError("the seat is not open: nothing may be sent yet")


def _nothing() -> None:
    pass


def _always() -> bool:
    return True


# ---------------------------------------------------------------------- the client's half


class SeatRefused(Exception):
    """The relay answered the hello with an error (``code``, ``message``) or closed."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class ClientSeat:
    """The client's half of one seat's connection, across reconnections (see the module)."""

    def __init__(self, token: str, last_seq: int = 0) -> None:
        self.token = token
        self.last_seq = last_seq
        self.welcome: wire.Welcome | None = None
        self.open = False
        self.notices: list[wire.ErrorFrame] = []  # errors not tied to a request
        self._ids = itertools.count(1)
        # requests waiting for their answers, by id, in order; the set: those sent
        self._pending: dict[str, dict[str, Any]] = {}
        self._sent: set[str] = set()

    def hello(self) -> str:
        """The hello that opens (or resumes) the seat: after the last event seen; bundles."""
        self.open = False
        hello = {"type": "hello", "token": self.token, "last_seq": self.last_seq, "bundle": True}
        return json.dumps(hello)

    def receive_welcome(self, message: str | bytes) -> wire.Welcome:
        """The relay's first message: the welcome, or :class:`SeatRefused`."""
        first = wire.server_message.validate_json(message)
        if isinstance(first, wire.ErrorFrame):
            raise SeatRefused(first.code, first.message)
        if not isinstance(first, wire.Welcome):
            raise SeatRefused("refused", f"the relay answered hello with {first!r}")
        self.welcome, self.open = first, True
        return first

    def request(self, frame: dict[str, Any]) -> tuple[str, str]:
        """A request's id and text, to send once the seat is open (then :meth:`sent`); it
        waits for its answer. ValueError at once for a number JSON cannot hold (NaN,
        infinity), which the relay could only answer without the frame's id."""
        frame_id = str(next(self._ids))
        frame = {**frame, "id": frame_id}
        text = json.dumps(frame, allow_nan=False)
        self._pending[frame_id] = frame
        return frame_id, text

    def sent(self, frame_id: str) -> None:
        """The request went out on the current connection."""
        if frame_id in self._pending:
            self._sent.add(frame_id)

    def forget(self, frame_id: str) -> None:
        """No longer wait for this request's answer (it could not be sent)."""
        self._pending.pop(frame_id, None)
        self._sent.discard(frame_id)

    def receive(
        self, message: str | bytes
    ) -> list[tuple[wire.EventFrame | wire.Answer, str | None]]:
        """The frames of one message (one, or a bundle), each with the id of the request it
        answers (``None`` for an event, or an answer nobody waits for)."""
        parsed = wire.server_message.validate_json(message)
        received: list[tuple[wire.EventFrame | wire.Answer, str | None]] = []
        for frame in parsed if isinstance(parsed, list) else (parsed,):
            if isinstance(frame, wire.EventFrame):
                self.last_seq = frame.seq
                received.append((frame, None))
            elif isinstance(frame, wire.Welcome):  # only ever the first frame
                continue
            elif str(frame.id) in self._pending:
                self.forget(str(frame.id))
                received.append((frame, str(frame.id)))
            else:
                if isinstance(frame, wire.ErrorFrame):
                    self.notices.append(frame)
                received.append((frame, None))
        return received

    def lost(self) -> list[str]:
        """The connection dropped: the requests sent on it that fail (every one but a
        ``submit``, since sending a mediator's action twice is not harmless). Sent submits
        wait to be resent; requests not yet sent wait for the next connection."""
        self.open = False
        failed = [i for i in self._sent if self._pending[i]["type"] != "submit"]
        for frame_id in failed:
            self.forget(frame_id)
        return failed

    def resend(self) -> list[str]:
        """Once resumed: the submits sent before and still waiting for their ack, in the
        order first sent (the relay stores each once, by ``client_id``)."""
        return [json.dumps(frame) for i, frame in self._pending.items() if i in self._sent]

    def close(self) -> list[str]:
        """The seat is done: every request still waiting fails."""
        self.open = False
        failed = list(self._pending)
        self._pending.clear()
        self._sent.clear()
        return failed
