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

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    TypeAdapter,
    field_validator,
)

__all__ = [
    "PROTOCOL_VERSION",
    "Ack",
    "Answer",
    "ClientFrame",
    "Control",
    "CreateExercise",
    "Decline",
    "ErrorFrame",
    "EventFrame",
    "Hello",
    "Hold",
    "Ping",
    "Pong",
    "Relay",
    "Release",
    "Return",
    "ServerFrame",
    "Submit",
    "SubmitAck",
    "Travel",
    "Welcome",
    "client_frame",
    "json_schema",
    "server_message",
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


# ---------------------------------------------------------------------- server frames


class _ServerFrame(BaseModel):
    """A frame the relay sends.

    Every field is a plain JSON value (no nested model), declared in the order the relay
    writes it, so a frame's ``__dict__`` is its wire object (relay/seat.py encodes it so).
    Fields a later relay adds are ignored, so an older client keeps working.

    A frame also reads as a mapping (``frame["seq"]`` is ``frame.seq``): the SDK handed out
    dicts before it handed out these models, and code written against them keeps working.
    """

    # The schema lists every field as required and no other: what the relay writes. (The
    # model itself ignores other fields, so that an older client reads a newer relay.)
    model_config = ConfigDict(
        extra="ignore",
        allow_inf_nan=False,
        json_schema_serialization_defaults_required=True,
        json_schema_extra={"additionalProperties": False},
    )

    def __getitem__(self, name: str) -> Any:
        if name not in type(self).model_fields:
            raise KeyError(name)
        return getattr(self, name)


class Welcome(_ServerFrame):
    """The answer to a valid ``hello``: who the seat is, and where its stream resumes."""

    type: Literal["welcome"] = "welcome"
    id: FrameId | None = None
    version: int = PROTOCOL_VERSION
    exercise: str
    seat: str
    role: str
    phase: str
    last_seq: int = Field(description="the journal's last sequence number when it was read")
    resumed_after: int = Field(description="the hello's last_seq: events after it follow")
    resume_complete: bool = Field(
        description="false when the hello claimed more than this journal holds: resume from 0"
    )
    bundle: bool = Field(description="the hello's choice: several frames per message")
    scenario: dict[str, Any] = Field(description="the scenario as this seat may know it")


class EventFrame(_ServerFrame):
    """One journal entry the seat may see (docs/protocol.md#events)."""

    type: Literal["event"] = "event"
    seq: int
    at: float
    event: str
    data: dict[str, Any]


class Ack(_ServerFrame):
    """An accepted action, once its events are committed."""

    type: Literal["ack"] = "ack"
    id: FrameId | None = None
    seq: int = Field(description="the journal's last sequence number once it was committed")


class SubmitAck(_ServerFrame):
    """An accepted ``submit``, once its note is committed (or was, under this client_id)."""

    type: Literal["ack"] = "ack"
    id: FrameId | None = None
    client_id: str
    note: int
    duplicate: bool = Field(description="the client_id was used before: no new note")
    seq: int


class ErrorFrame(_ServerFrame):
    """A refused or malformed frame (docs/protocol.md#error-codes)."""

    type: Literal["error"] = "error"
    id: FrameId | None = None
    code: str
    message: str


class Pong(_ServerFrame):
    """The answer to ``ping``: sent after every event the relay had for the seat then."""

    type: Literal["pong"] = "pong"
    id: FrameId | None = None
    now: float = Field(description="the exercise time")


def _server_tag(value: Any) -> str | None:
    """Which server frame ``value`` is: its ``type``, but an ack with a ``client_id`` is a
    :class:`SubmitAck`."""
    if isinstance(value, dict):
        kind, submit = value.get("type"), "client_id" in value
    else:
        kind, submit = getattr(value, "type", None), isinstance(value, SubmitAck)
    if kind == "ack" and submit:
        return "submit_ack"
    return kind if isinstance(kind, str) else None


ServerFrame = Annotated[
    Annotated[Welcome, Tag("welcome")]
    | Annotated[EventFrame, Tag("event")]
    | Annotated[Ack, Tag("ack")]
    | Annotated[SubmitAck, Tag("submit_ack")]
    | Annotated[ErrorFrame, Tag("error")]
    | Annotated[Pong, Tag("pong")],
    Discriminator(_server_tag),
]
Answer = Ack | SubmitAck | ErrorFrame | Pong
"""What answers a client frame (its ``id`` repeated)."""

server_message: TypeAdapter[Any] = TypeAdapter(ServerFrame | list[ServerFrame])
"""One websocket message from the relay: a frame, or a bundle of them (``hello.bundle``)."""


def json_schema() -> dict[str, Any]:
    """The JSON Schema of both directions: ``ClientFrame`` and ``ServerFrame`` under
    ``$defs``, each frame's own definition beside them (``shuttle schema wire``)."""
    keys, top = TypeAdapter.json_schemas(
        [
            ("client", "validation", TypeAdapter(ClientFrame)),
            ("server", "serialization", TypeAdapter(ServerFrame)),
        ],
        title=f"Shuttle websocket frames, protocol version {PROTOCOL_VERSION}",
    )
    defs = dict(top.get("$defs", {}))
    defs["ClientFrame"] = keys[("client", "validation")]
    defs["ServerFrame"] = keys[("server", "serialization")]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": top["title"],
        "description": (
            "A client sends ClientFrame objects; the relay sends ServerFrame objects, or (to "
            "a client whose hello asked for bundles) JSON arrays of them."
        ),
        "anyOf": [{"$ref": "#/$defs/ClientFrame"}, {"$ref": "#/$defs/ServerFrame"}],
        "$defs": defs,
    }


# ---------------------------------------------------------------------- REST bodies


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
