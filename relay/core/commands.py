"""Commands: what a seat asks the core to do.

Commands are slotted dataclasses that nothing changes once made (a driver makes one and hands
it in; the core reads it). They are not ``frozen``: a frozen dataclass sets each field through
``object.__setattr__``, which made a ``Relay`` cost 2.0 us against 0.4 us, and the automatic
mediator issues one per note it carries (CPython 3.11, this project's benchmark host).

A command that the core accepts is journalled as the event named in :data:`EVENT_OF`, whose
payload holds every field of the command (plus what the core derived, such as the note number).
That is what makes replay possible: :func:`command_for` rebuilds the command from its event.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from . import events as ev
from .config import Rules
from .errors import LocalProtocolError

__all__ = [
    "ANSWERS",
    "Batch",
    "ChangeRules",
    "CONTROLS",
    "KINDS",
    "Command",
    "Decline",
    "End",
    "Hold",
    "Pause",
    "Relay",
    "Release",
    "Resume",
    "Return",
    "Start",
    "Submit",
    "Travel",
    "command_for",
]

KINDS = ("proposal", "reply", "question", "statement", "mediator_only")
"""Note kinds. ``mediator_only`` is read by the mediator and never carried on."""
ANSWERS = ("accept", "reject", "counter", "clarify")
"""What a ``reply`` says about the note it answers."""


@dataclass(kw_only=True, slots=True)
class Command:
    by: str


@dataclass(kw_only=True, slots=True)
class Start(Command):
    pass


@dataclass(kw_only=True, slots=True)
class Pause(Command):
    pass


@dataclass(kw_only=True, slots=True)
class Resume(Command):
    pass


@dataclass(kw_only=True, slots=True)
class End(Command):
    pass


@dataclass(kw_only=True, slots=True)
class Submit(Command):
    client_id: str
    kind: str
    text: str
    tags: list[str] = field(default_factory=list)
    terms: dict[str, float] = field(default_factory=dict)
    in_reply_to: int | None = None
    answer: str | None = None
    to: str = "mediator"


@dataclass(kw_only=True, slots=True)
class Relay(Command):
    """Carry ``note`` to the other party; any of text/tags/terms given makes it a paraphrase."""

    note: int
    text: str | None = None
    tags: list[str] | None = None
    terms: dict[str, float] | None = None


@dataclass(kw_only=True, slots=True)
class Hold(Command):
    """Hold ``note`` until exercise time ``until``, until ``condition`` holds
    (``delivered:N``: note N reached its recipient; ``answered:N``: a reply to note N was
    handed over), or, with neither, until released."""

    note: int
    until: float | None = None
    condition: str | None = None


@dataclass(kw_only=True, slots=True)
class Release(Command):
    note: int


@dataclass(kw_only=True, slots=True)
class Return(Command):
    note: int
    comment: str


@dataclass(kw_only=True, slots=True)
class Decline(Command):
    note: int
    reason: str


@dataclass(kw_only=True, slots=True)
class Travel(Command):
    destination: str


@dataclass(kw_only=True, slots=True)
class Batch(Command):
    """Relay ``notes`` (every read note for the other room, if empty) verbatim, and leave for
    that room with the pouch. All or nothing; journalled as the relays and the departure."""

    notes: list[int] = field(default_factory=list)


@dataclass(kw_only=True, slots=True)
class ChangeRules(Command):
    """The facilitator replaces the delivery rules. ``rules.written`` is the scenario
    ``delivery`` section they were made from (``schemas.translate.change_rules`` makes this
    command from it, at the edge)."""

    rules: Rules


CONTROLS: dict[str, type[Command]] = {"start": Start, "pause": Pause, "resume": Resume, "end": End}
"""The facilitator's controls by name (REST path and websocket ``control`` frame)."""

EVENT_OF: dict[type[Command], type[ev.Event]] = {
    Start: ev.ExerciseStarted,
    Pause: ev.ExercisePaused,
    Resume: ev.ExerciseResumed,
    End: ev.ExerciseEnded,
    Submit: ev.NoteSubmitted,
    Relay: ev.NoteRelayed,
    Hold: ev.NoteHeld,
    Release: ev.NoteReleased,
    Return: ev.NoteReturned,
    Decline: ev.NoteDeclined,
    Travel: ev.MediatorDeparted,
    ChangeRules: ev.RulesChanged,
}
_COMMAND_OF = {event: command for command, event in EVENT_OF.items()}


def command_for(event: ev.Event) -> Command:
    """The command that produced an input event (see :func:`relay.core.events.is_input`)."""
    if isinstance(event, ev.RulesChanged):
        raise LocalProtocolError(
            "a rules change is translated at the edge: schemas.translate.command_for"
        )
    cls = _COMMAND_OF[type(event)]
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(cls))
    values: dict[str, Any] = {name: getattr(event, name) for name in names}
    return cls(**values)


_FIELD_NAMES: dict[type[Command], tuple[str, ...]] = {}
