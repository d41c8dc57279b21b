"""Websocket frames as text: the relay's encoders and the reading of a client frame.

Server frames are the models of ``schemas/wire.py``; :func:`frame_text` writes one, and
:func:`event_frame` writes an ``event`` frame straight from a journal entry's JSON (the hot
path: every seat that sees an event gets the same text, built once). :func:`parse_frame`
reads a client frame, and :func:`frame_command` turns it into the core's command. What a
frame leads to on a connection is the seat protocol's (``relay/seat.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from relay.core import commands as cmd
from relay.core import events as ev
from relay.core.config import ExerciseConfig
from relay.jsontext import dumps, dumps_fast, loads
from schemas import translate, wire
from schemas.scenario import describe_errors

__all__ = [
    "Close",
    "FrameRefused",
    "Outgoing",
    "ack_text",
    "bundle_text",
    "error_frame",
    "event_frame",
    "frame_command",
    "frame_id_of",
    "frame_text",
    "parse_frame",
]


@dataclass(frozen=True)
class Close:
    """Put on a seat's stream: close the socket with ``code`` once what precedes is sent."""

    code: int
    reason: str


Outgoing = str | list[str] | Close
"""What a seat's stream holds: a frame, the frames of one commit, or the end."""


def frame_text(frame: wire.ServerFrame) -> str:
    """A server frame's wire text: its fields in declaration order, compact JSON.

    Every field of a server frame is a plain JSON value, so the model's ``__dict__`` is the
    wire object already: encoding it skips ``model_dump``'s copy.
    """
    return dumps(frame.__dict__)


def ack_text(frame_id: str | None, seq: int, submit: tuple[str, int, bool] | None = None) -> str:
    """An ``ack``'s text (:class:`wire.Ack`), or with ``submit`` (its ``client_id``, ``note``
    and ``duplicate``) a :class:`wire.SubmitAck`'s, written without building the model.

    The hot path: one per command. Validating the model and encoding it takes about 3.9 µs;
    this takes 0.9 µs (docs/performance.md, "Server frames as models"). The keys are the
    models' fields in order, and nothing here is a float, whose exponent orjson would spell
    otherwise: tests/live/test_wire_frames.py checks the text is the model's.
    """
    if submit is None:
        return dumps_fast({"type": "ack", "id": frame_id, "seq": seq})
    client_id, note, duplicate = submit
    return dumps_fast(
        {
            "type": "ack",
            "id": frame_id,
            "client_id": client_id,
            "note": note,
            "duplicate": duplicate,
            "seq": seq,
        }
    )


def event_frame(entry: Any) -> str:
    """The ``event`` frame of a journal entry: :class:`wire.EventFrame`'s text, the same for
    every seat that sees it, built without a model on the hot path.

    It is written from the entry's own JSON text (``entry.data_json``, encoded once when the
    entry was made), in the frame's field order; ``at`` is a finite number, whose ``repr`` is
    what the JSON encoder writes. (tests/live/test_wire_frames.py checks it is the model's.)
    """
    data_json = entry.data_json if entry.data_json is not None else dumps(entry.data)
    event = _QUOTED_TYPES.get(entry.type) or dumps(entry.type)
    return (
        f'{{"type":"event","seq":{entry.seq},"at":{entry.at!r},"event":{event},"data":{data_json}}}'
    )


_QUOTED_TYPES = {name: dumps(name) for name in ev.EVENT_TYPES}


def error_frame(frame_id: str | None, code: str, message: str) -> str:
    return frame_text(wire.ErrorFrame(id=frame_id, code=code, message=message))


class FrameRefused(Exception):
    """A frame that gets an error frame (``frame``) and, if ``close`` is set, a close."""

    def __init__(self, frame: str, close: Close | None = None) -> None:
        super().__init__(frame)
        self.frame = frame
        self.close = close


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


def frame_id_of(raw: str | None) -> str | None:
    """The id of a frame that will not be read further (dropped over the rate), if it has one."""
    try:
        return _frame_id(loads(raw)) if raw is not None else None
    except ValueError:
        return None


_COMMANDS: dict[str, type[cmd.Command]] = {
    "submit": cmd.Submit,
    "relay": cmd.Relay,
    "hold": cmd.Hold,
    "release": cmd.Release,
    "return": cmd.Return,
    "decline": cmd.Decline,
    "travel": cmd.Travel,
    "batch": cmd.Batch,
}
_NOT_FIELDS = frozenset({"type", "id"})  # of a frame, not of its command


def frame_command(seat: str, frame: Any, config: ExerciseConfig) -> cmd.Command:
    """The core command a (validated) client frame asks for, on behalf of ``seat``, in the
    exercise whose configuration is ``config`` (a rules change is translated against it)."""
    if isinstance(frame, wire.Control):
        return cmd.CONTROLS[frame.action](by=seat)
    if isinstance(frame, wire.Rules):
        return translate.change_rules(config, seat, frame.delivery)
    # Every frame's fields are plain JSON values (no nested models): taken as validated.
    fields = {name: value for name, value in vars(frame).items() if name not in _NOT_FIELDS}
    return _COMMANDS[frame.type](by=seat, **fields)


def bundle_text(frames: list[str]) -> str:
    """One websocket message of several frames (``hello.bundle``): a JSON array of them."""
    return frames[0] if len(frames) == 1 else f"[{','.join(frames)}]"
