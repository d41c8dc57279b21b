"""The websocket protocol, version 1: JSON frames with a ``type`` discriminator.

A connection's first client frame is ``hello`` (token and the last sequence number seen, for
resume). After ``welcome``, the server sends the seat's visible journal after that number as
``event`` frames, then live ones; every client frame is answered by ``ack`` or ``error`` carrying
the frame's ``id``. Tokens travel in the hello frame, never in the URL, so no access log holds
them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

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
]

PROTOCOL_VERSION = 1

FrameId = Annotated[str, Field(max_length=128)]
NoteId = Annotated[int, Field(ge=1)]
Terms = dict[Annotated[str, Field(max_length=64)], float]


class _Frame(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: FrameId | None = None


class Hello(_Frame):
    type: Literal["hello"]
    token: str = Field(min_length=1, max_length=256)
    last_seq: int = Field(default=0, ge=0, description="resume after this sequence number")
    version: int = PROTOCOL_VERSION


class Submit(_Frame):
    type: Literal["submit"]
    client_id: str = Field(min_length=1, max_length=128, description="idempotency key")
    kind: str
    text: str = Field(max_length=20_000)
    tags: list[str] = Field(default_factory=list, max_length=32)
    terms: Terms = Field(default_factory=dict)
    in_reply_to: NoteId | None = None
    answer: str | None = None
    to: str = "mediator"


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


class Ping(_Frame):
    type: Literal["ping"]


ClientFrame = Annotated[
    Hello | Submit | Relay | Hold | Release | Return | Decline | Travel | Control | Ping,
    Field(discriminator="type"),
]
client_frame: TypeAdapter[Any] = TypeAdapter(ClientFrame)


class CreateExercise(BaseModel):
    """``POST /exercises``: a scenario (as decoded YAML/JSON) and how to run it."""

    model_config = ConfigDict(extra="forbid")
    scenario: dict[str, Any]
    seed: int | None = Field(default=None, ge=0, le=2**63 - 1)
    speed: float = Field(default=1.0, gt=0, le=100_000)
    title: str | None = Field(default=None, max_length=200)
    observers: int = Field(default=1, ge=0, le=20)
