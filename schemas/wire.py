"""The websocket protocol, version 1: JSON frames with a ``type`` discriminator.

A connection's first client frame is ``hello`` (token and the last sequence number seen, for
resume). After ``welcome``, the server sends the seat's visible journal after that number as
``event`` frames, then live ones; every client frame is answered by ``ack`` or ``error`` carrying
the frame's ``id``. Tokens travel in the hello frame, never in the URL, so no access log holds
them.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator

__all__ = [
    "PROTOCOL_VERSION",
    "ClientFrame",
    "Control",
    "CreateExercise",
    "Decline",
    "Hello",
    "Hold",
    "Ping",
    "Relay",
    "Release",
    "Return",
    "Submit",
    "Travel",
    "client_frame",
    "unstorable",
]

PROTOCOL_VERSION = 1

FrameId = Annotated[str, Field(max_length=128)]
NoteId = Annotated[int, Field(ge=1)]
Terms = dict[Annotated[str, Field(max_length=64)], Annotated[float, Field(allow_inf_nan=False)]]


MAX_SEED = 2**63 - 1
"""The largest seed (and sequence number): what the journal's BIGINT column holds."""
MAX_SPEED = 100_000.0
"""The fastest exercise clock, in exercise seconds per wall second."""
MAX_TITLE = 200


class _Frame(BaseModel):
    # No NaN or infinity anywhere: the journal is JSON, and a timer at NaN would never fire.
    # Strict: a value of the wrong JSON type is refused, not coerced ("3" is not a number,
    # true is not a note number, "yes" is not a boolean); an integer is still a number.
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)
    id: FrameId | None = None


class Hello(_Frame):
    type: Literal["hello"]
    token: str = Field(min_length=1, max_length=256)
    last_seq: int = Field(
        default=0, ge=0, le=MAX_SEED, description="resume after this sequence number"
    )
    version: int = Field(
        default=PROTOCOL_VERSION,
        description="protocol version; another is refused (unsupported_version, close 1008)",
    )
    bundle: bool = Field(
        default=False,
        description=(
            "the client accepts several server frames in one websocket message, as a JSON "
            "array of frames in stream order"
        ),
    )


class Submit(_Frame):
    type: Literal["submit"]
    client_id: str = Field(min_length=1, max_length=128, description="idempotency key")
    kind: str
    text: str = Field(max_length=20_000)
    tags: list[str] = Field(default_factory=list, max_length=32)
    terms: Terms = Field(default_factory=dict)
    in_reply_to: NoteId | None = None
    answer: str | None = None
    to: str = Field(default="mediator", max_length=64)


class Relay(_Frame):
    type: Literal["relay"]
    note: NoteId
    text: str | None = Field(default=None, max_length=20_000)
    tags: list[str] | None = Field(default=None, max_length=32)
    terms: Terms | None = None


class Hold(_Frame):
    type: Literal["hold"]
    note: NoteId
    until: float | None = Field(default=None, description="exercise time of automatic release")
    condition: str | None = Field(
        default=None,
        pattern=r"^(delivered|answered):[0-9]{1,12}$",
        description="release when note N is delivered (delivered:N) or answered (answered:N)",
    )


class Batch(_Frame):
    type: Literal["batch"]
    notes: list[NoteId] = Field(
        default_factory=list,
        max_length=256,
        description="relay these notes verbatim and leave with them (empty: every read note)",
    )


class Release(_Frame):
    type: Literal["release"]
    note: NoteId


class Return(_Frame):
    type: Literal["return"]
    note: NoteId
    comment: str = Field(max_length=20_000)


class Decline(_Frame):
    type: Literal["decline"]
    note: NoteId
    reason: str = Field(max_length=20_000)


class Travel(_Frame):
    type: Literal["travel"]
    destination: str = Field(max_length=64)


class Control(_Frame):
    type: Literal["control"]
    action: Literal["start", "pause", "resume", "end"]


class Rules(_Frame):
    type: Literal["rules"]
    delivery: dict[str, Any] = Field(
        description="facilitator: a scenario delivery section that replaces the current rules"
    )


class Ping(_Frame):
    type: Literal["ping"]


ClientFrame = Annotated[
    Hello
    | Submit
    | Relay
    | Hold
    | Release
    | Return
    | Decline
    | Travel
    | Batch
    | Control
    | Rules
    | Ping,
    Field(discriminator="type"),
]
client_frame: TypeAdapter[Any] = TypeAdapter(ClientFrame)


class CreateExercise(BaseModel):
    """``POST /exercises``: a scenario (as decoded YAML/JSON) and how to run it."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)
    scenario: dict[str, Any]
    seed: int | None = Field(default=None, ge=0, le=MAX_SEED)
    speed: float = Field(default=1.0, gt=0, le=MAX_SPEED)
    title: str | None = Field(default=None, max_length=MAX_TITLE)
    observers: int = Field(default=1, ge=0, le=20)

    @field_validator("scenario", "title")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        """What the journal can store: finite numbers, strings that encode as UTF-8."""
        problem = unstorable(value)
        if problem:
            raise ValueError(problem)
        return value


class JournalHeader(BaseModel):
    """The ``exercise`` object of a journal file's first line, as an import takes it.

    Each field may be missing or null: a simulated journal has no wall clock (``speed`` and
    ``created_wall`` null), and the title then comes from the scenario. What is there must
    be what ``POST /exercises`` would accept. Other fields (``id``, ``seed``) are ignored:
    the import gets a new id, and the seed is the one in ``exercise.created``.
    """

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)
    title: str | None = Field(default=None, max_length=MAX_TITLE)
    speed: float | None = Field(default=None, gt=0, le=MAX_SPEED)
    created_wall: float | None = Field(default=None, gt=0)


def unstorable(value: Any, where: str = "") -> str | None:
    """Why ``value`` (decoded JSON) cannot go into the journal as is, or None.

    Python's JSON reader accepts NaN, Infinity and lone surrogates (``"\\ud800"``); the
    journal's writer and UTF-8 refuse them, so they are refused at the edge.
    """
    if isinstance(value, float) and not math.isfinite(value):
        return f"{where or 'value'}: numbers must be finite"
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return f"{where or 'value'}: text holds a lone surrogate"
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        if isinstance(key, str) and unstorable(key):
            return f"{where or 'value'}: a key holds a lone surrogate"
        problem = unstorable(item, f"{where}.{key}" if where else str(key))
        if problem:
            return problem
    return None
