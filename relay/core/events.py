"""The events of an exercise: every entry of its journal is one of these.

Events are frozen dataclasses, stamped with the journal sequence number (``seq``, gap-free
from 1) and the core's exercise time (``at``, seconds since the exercise started). The core
makes every event through one helper that stamps both (``Exercise._emit``). Their payload is
made of JSON types only, so ``to_data``/``event_from_data`` round-trip them losslessly; the
payload's fields are listed in the order declared here, which is also the order of ``to_data``.

Inputs and outputs share one vocabulary. An event is an *input* when a seat caused it (its ``by``
names a seat): replay feeds exactly those back into a fresh core and expects the rest to follow.
Events the core makes on its own carry ``by`` = :data:`AUTO` (the automatic mediator),
:data:`CLOCK` (a deadline, a timer) or :data:`CORE` (an agreement), or have no ``by`` at all
(deliveries, arrivals). Scenarios may not use those names for seats.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import Field, dataclass, field, fields, make_dataclass
from typing import Any, ClassVar, cast

__all__ = [
    "AUTO",
    "Audience",
    "EVERY_PARTY",
    "CLOCK",
    "CORE",
    "EVENT_TYPES",
    "Event",
    "ExerciseCreated",
    "ExerciseEnded",
    "ExercisePaused",
    "ExerciseResumed",
    "ExerciseStarted",
    "MediatorArrived",
    "MediatorDeparted",
    "NoteDeclined",
    "Draw",
    "NoteDelivered",
    "NoteExpired",
    "NoteHandedOver",
    "NoteLost",
    "NoteHeld",
    "NoteReceipt",
    "NoteRelayed",
    "NoteReleased",
    "NoteReturned",
    "NoteSubmitted",
    "RESERVED",
    "RulesChanged",
    "event_from_data",
    "is_input",
    "payload_fields",
]

AUTO = "auto"
"""``by`` of actions taken by the automatic mediator policy."""
CLOCK = "clock"
"""``by`` of events caused by the passage of time (deadlines, hold expiry)."""
CORE = "core"
"""``by`` of events that follow from the rules alone (an agreement closing the talks)."""
RESERVED = (AUTO, CLOCK, CORE)
"""Names that can never be a seat, so that ``by`` tells inputs from the core's own events."""

Terms = dict[str, float]


EVERY_PARTY = "*"


@dataclass(frozen=True, slots=True)
class Audience:
    """Who may see an event of a class besides the facilitator and observers, who see all
    (``relay.core.visibility.visible_to`` reads it; DESIGN §1 "Who knew what, when").

    ``party``: :data:`EVERY_PARTY`, the payload field that names the one party that sees it
    (``"recipient"``), or None for no party. ``also``/``also_when``: a second field naming a
    party that sees it too, while the payload's flag ``also_when`` is true. ``mediator``:
    whether the mediator sees it (never an event marked ``unseen``: an offer that lapsed on
    its sender's table, which the mediator never saw).
    """

    party: str | None
    mediator: bool = True
    also: str | None = None
    also_when: str | None = None


class Event:
    """Base of every event: ``seq``, ``at``, and the payload its class declares.

    Each concrete event class is a frozen, slotted dataclass whose first fields are ``seq`` and
    ``at``; this base holds no state of its own (see :func:`_drafts`)."""

    __slots__ = ()
    TYPE: ClassVar[str] = ""
    SEEN_BY: ClassVar[Audience]
    """Who may see it; each class of the vocabulary says (see :class:`Audience`)."""
    Draft: ClassVar[type[Any]]
    """The event as the core writes it, before :func:`seal` stamps and freezes it."""
    seq: int
    at: float

    def to_data(self) -> dict[str, Any]:
        """The payload (everything but ``seq`` and ``at``), as JSON types.

        Rule records (``draws``, ``distortions``) are left out when empty: most events have none.
        """
        return _layout(type(self))[1](self)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Each class gets its generated ``to_data`` below; a subclass must not inherit its
        # parent's (it would leave out the subclass's own fields), so it starts generic.
        super().__init_subclass__(**kwargs)
        setattr(cls, "to_data", Event.to_data)  # noqa: B010 - mypy refuses assigning a method


Draw = list[Any]
"""One random decision of a delivery rule, as journalled: ``[rule, stream, value, outcome]``
(see :mod:`relay.core.draws`). Faithful replay takes these values instead of drawing."""
_LEFT_OUT_WHEN_EMPTY = ("draws", "distortions", "unseen")
"""Payload fields left out of ``to_data`` when empty or false: rule records, which most events
lack, and ``unseen``, true only of an offer that lapsed where the mediator never saw it (a
journal written before that field existed has none)."""


@dataclass(frozen=True, slots=True)
class ExerciseCreated(Event):
    """First entry of every journal: what a replay needs to rebuild the core."""

    TYPE: ClassVar[str] = "exercise.created"
    SEEN_BY: ClassVar[Audience] = Audience(party=None, mediator=False)
    seq: int
    at: float
    scenario: dict[str, Any]
    seed: int


@dataclass(frozen=True, slots=True)
class ExerciseStarted(Event):
    TYPE: ClassVar[str] = "exercise.started"
    SEEN_BY: ClassVar[Audience] = Audience(party=EVERY_PARTY)
    seq: int
    at: float
    by: str


@dataclass(frozen=True, slots=True)
class ExercisePaused(Event):
    TYPE: ClassVar[str] = "exercise.paused"
    SEEN_BY: ClassVar[Audience] = Audience(party=EVERY_PARTY)
    seq: int
    at: float
    by: str


@dataclass(frozen=True, slots=True)
class ExerciseResumed(Event):
    TYPE: ClassVar[str] = "exercise.resumed"
    SEEN_BY: ClassVar[Audience] = Audience(party=EVERY_PARTY)
    seq: int
    at: float
    by: str


@dataclass(frozen=True, slots=True)
class ExerciseEnded(Event):
    """``reason`` is ``agreement``, ``deadline`` or ``facilitator``."""

    TYPE: ClassVar[str] = "exercise.ended"
    SEEN_BY: ClassVar[Audience] = Audience(party=EVERY_PARTY)
    seq: int
    at: float
    by: str
    reason: str
    note: int | None = None
    terms: Terms | None = None


@dataclass(frozen=True, slots=True)
class NoteSubmitted(Event):
    """A party wrote a note and put it down for the mediator in its own room."""

    TYPE: ClassVar[str] = "note.submitted"
    SEEN_BY: ClassVar[Audience] = Audience(party="by", mediator=False)
    seq: int
    at: float
    by: str
    note: int
    client_id: str
    kind: str
    text: str
    tags: list[str] = field(default_factory=list)
    terms: Terms = field(default_factory=dict)
    in_reply_to: int | None = None
    answer: str | None = None
    to: str = "mediator"


@dataclass(frozen=True, slots=True)
class NoteHandedOver(Event):
    """The mediator, standing in the sender's room, took the note; reading it takes a while.

    It carries the note as written: this is the moment the mediator learns it.
    """

    TYPE: ClassVar[str] = "note.handed_over"
    SEEN_BY: ClassVar[Audience] = Audience(party="sender")  # it happened in the sender's own room
    seq: int
    at: float
    note: int
    sender: str
    reading_s: float
    ready_at: float
    kind: str
    text: str
    tags: list[str]
    terms: Terms
    in_reply_to: int | None
    answer: str | None
    draws: list[Draw] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class NoteRelayed(Event):
    """The mediator decided to carry the note to the other party, verbatim or paraphrased.

    ``text``/``tags``/``terms`` are what the mediator meant to carry. ``distortions`` lists what
    the link's miscalculation rule changed on the way, each with the original, so the
    recipient reads the note as distorted (see :class:`NoteDelivered`). A paraphrase takes
    ``drafting_s`` to write up; the note can travel from ``ready_at``.
    """

    TYPE: ClassVar[str] = "note.relayed"
    SEEN_BY: ClassVar[Audience] = Audience(party=None)
    seq: int
    at: float
    by: str
    note: int
    recipient: str
    text: str
    tags: list[str]
    terms: Terms
    paraphrased: bool
    flags: list[str] = field(default_factory=list)
    drafting_s: float = 0.0
    ready_at: float | None = None
    distortions: list[dict[str, Any]] = field(default_factory=list)
    draws: list[Draw] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class NoteHeld(Event):
    """The mediator holds the note: until a time, until a condition holds
    (``delivered:N``, ``answered:N``), or until released."""

    TYPE: ClassVar[str] = "note.held"
    SEEN_BY: ClassVar[Audience] = Audience(party=None)
    seq: int
    at: float
    by: str
    note: int
    until: float | None = None
    condition: str | None = None
    draws: list[Draw] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class NoteReleased(Event):
    TYPE: ClassVar[str] = "note.released"
    SEEN_BY: ClassVar[Audience] = Audience(party=None)
    seq: int
    at: float
    by: str
    note: int


@dataclass(frozen=True, slots=True)
class NoteReturned(Event):
    """The mediator will carry the note back to its sender with a comment."""

    TYPE: ClassVar[str] = "note.returned"
    SEEN_BY: ClassVar[Audience] = Audience(party=None)
    seq: int
    at: float
    by: str
    note: int
    comment: str


@dataclass(frozen=True, slots=True)
class NoteDeclined(Event):
    """The mediator drops the note; its sender is told why on the mediator's next visit."""

    TYPE: ClassVar[str] = "note.declined"
    SEEN_BY: ClassVar[Audience] = Audience(party=None)
    seq: int
    at: float
    by: str
    note: int
    reason: str


@dataclass(frozen=True, slots=True)
class MediatorDeparted(Event):
    TYPE: ClassVar[str] = "mediator.departed"
    SEEN_BY: ClassVar[Audience] = Audience(party="origin")
    seq: int
    at: float
    by: str
    origin: str
    destination: str
    travel_s: float
    arrives_at: float
    draws: list[Draw] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class MediatorArrived(Event):
    TYPE: ClassVar[str] = "mediator.arrived"
    SEEN_BY: ClassVar[Audience] = Audience(party="room")
    seq: int
    at: float
    room: str


@dataclass(frozen=True, slots=True)
class NoteDelivered(Event):
    """The note (as relayed) reached ``recipient``: the only moment the recipient knows it.

    ``outcome`` is ``relayed`` (delivered to the other party), ``returned`` or ``declined``
    (brought back to its own sender). The text is what the recipient reads, which for a
    paraphrase is not what the sender wrote.
    """

    TYPE: ClassVar[str] = "note.delivered"
    SEEN_BY: ClassVar[Audience] = Audience(party="recipient")
    seq: int
    at: float
    note: int
    recipient: str
    sender: str
    outcome: str
    kind: str
    text: str
    tags: list[str]
    terms: Terms
    in_reply_to: int | None
    answer: str | None
    comment: str | None = None
    flags: list[str] = field(default_factory=list)
    duplicate: bool = False
    draws: list[Draw] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class NoteLost(Event):
    """Miscalculation: the note fell out of the pouch; ``recipient`` never reads it."""

    TYPE: ClassVar[str] = "note.lost"
    # a miscalculation is for the debrief: neither side, nor the mediator, learns of it
    SEEN_BY: ClassVar[Audience] = Audience(party=None, mediator=False)
    seq: int
    at: float
    note: int
    recipient: str
    sender: str
    draws: list[Draw] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class NoteExpired(Event):
    """A standing offer lapsed. Undelivered, it is withdrawn; delivered, it can no longer be
    accepted. ``unseen``: it lapsed on its sender's table, before the mediator collected it
    (so the mediator is not told)."""

    TYPE: ClassVar[str] = "note.expired"
    SEEN_BY: ClassVar[Audience] = Audience(party="sender", also="recipient", also_when="delivered")
    seq: int
    at: float
    by: str
    note: int
    sender: str
    recipient: str
    delivered: bool
    unseen: bool = False


@dataclass(frozen=True, slots=True)
class RulesChanged(Event):
    """The facilitator changed the delivery rules in flight: ``delivery`` replaces the
    scenario's delivery section from now on. Notes in flight keep the delays already drawn."""

    TYPE: ClassVar[str] = "rules.changed"
    SEEN_BY: ClassVar[Audience] = Audience(party=None)
    seq: int
    at: float
    by: str
    delivery: dict[str, Any]


@dataclass(frozen=True, slots=True)
class NoteReceipt(Event):
    """What the sender is told about its note's progress."""

    TYPE: ClassVar[str] = "note.receipt"
    SEEN_BY: ClassVar[Audience] = Audience(party="recipient", mediator=False)
    seq: int
    at: float
    note: int
    recipient: str
    status: str


EVENT_TYPES: dict[str, type[Event]] = {
    cls.TYPE: cls
    for cls in (
        ExerciseCreated,
        ExerciseStarted,
        ExercisePaused,
        ExerciseResumed,
        ExerciseEnded,
        NoteSubmitted,
        NoteHandedOver,
        NoteRelayed,
        NoteHeld,
        NoteReleased,
        NoteReturned,
        NoteDeclined,
        MediatorDeparted,
        MediatorArrived,
        NoteDelivered,
        NoteReceipt,
        NoteLost,
        NoteExpired,
        RulesChanged,
    )
}

_Layout = tuple[tuple[str, ...], Callable[[Any], dict[str, Any]]]
_LAYOUTS: dict[type[Event], _Layout] = {}


def payload_fields(cls: type[Event]) -> tuple[str, ...]:
    """The names in an event class's ``data``, in journal order."""
    return _layout(cls)[0]


def _fields(cls: type[Event]) -> tuple[Field[Any], ...]:
    return fields(cast(Any, cls))


def _layout(cls: type[Event]) -> _Layout:
    """Per event class: its payload fields in order, and its ``to_data``.

    The speed path of events: ``to_data`` runs once per event everywhere (journal, replay,
    frames), so it is generated, as :mod:`dataclasses` generates ``__init__``. One dict display
    with the field names as constants builds a 14-field payload in 0.65 us, against 1.6 us for
    ``dict(zip(names, attrgetter(*names)(event)))`` or a comprehension (CPython 3.11, this
    project's benchmark host); that is about a tenth of faithful replay's time per event.
    """
    layout = _LAYOUTS.get(cls)
    if layout is None:
        names = tuple(f.name for f in _fields(cls) if f.name not in ("seq", "at"))
        items = ", ".join(f"{name!r}: event.{name}" for name in names)
        lines = ["def to_data(event):", f"    data = {{{items}}}"]
        for name in names:
            if name in _LEFT_OUT_WHEN_EMPTY:
                lines += [f"    if not data[{name!r}]:", f"        del data[{name!r}]"]
        lines.append("    return data")
        namespace: dict[str, Any] = {}
        exec("\n".join(lines), namespace)  # noqa: S102 - the names are dataclass field names
        layout = _LAYOUTS[cls] = (names, namespace["to_data"])
    return layout


# Each class of the vocabulary gets its generated ``to_data`` as its own method, so a call skips
# the lookup in ``_LAYOUTS`` that :meth:`Event.to_data` makes (any other subclass, including
# one of these classes' subclasses, still goes through it: see ``Event.__init_subclass__``).
for _cls in EVENT_TYPES.values():
    setattr(_cls, "to_data", _layout(_cls)[1])  # noqa: B010 - mypy refuses assigning a method
del _cls


def _drafts(cls: type[Event]) -> type[Any]:
    """The speed path of making events: a mutable draft of ``cls``, turned into ``cls`` by
    :func:`seal`.

    A frozen dataclass sets each field through ``object.__setattr__``: a 16-field event costs
    3.8 us to make that way, against 0.8 us for the draft plus the seal (CPython 3.11, this
    project's benchmark host), and the core makes every event of every journal. A draft has the
    event's slots, on the same base, so :func:`seal` can give it the event's class; its
    ``__init__`` takes the payload, then ``seq`` and ``at`` by keyword (0 until sealed).
    """
    specs: list[tuple[str, Any, Any]] = [
        (f.name, f.type, field(default=f.default, default_factory=f.default_factory))
        for f in _fields(cls)
        if f.name not in ("seq", "at")
    ]
    specs += [(name, Any, field(default=0, kw_only=True)) for name in ("seq", "at")]
    plain: Any = make_dataclass(f"{cls.__name__}Draft", specs)
    namespace = {"__slots__": cls.__slots__, "__init__": plain.__init__, "__module__": __name__}
    return type(f"{cls.__name__}Draft", (Event,), namespace)


def seal(draft: Any, seq: int, at: float) -> Any:
    """Stamp a draft with ``seq`` and ``at`` and make it the (frozen) event it drafts."""
    draft.seq = seq
    draft.at = at
    draft.__class__ = _SEALED[type(draft)]
    return draft


_SEALED: dict[type[Any], type[Event]] = {}
for _cls in EVENT_TYPES.values():
    _cls.Draft = _drafts(_cls)
    _SEALED[_cls.Draft] = _cls
del _cls


def event_from_data(type_: str, seq: int, at: float, data: dict[str, Any]) -> Event:
    """Rebuild an event from its journal form; ``KeyError``/``TypeError`` on a malformed one."""
    event: Event = seal(EVENT_TYPES[type_].Draft(**data), seq, at)
    return event


def is_input(event: Event) -> bool:
    """True for events a seat caused: the inputs that replay feeds back into a core."""
    by = getattr(event, "by", None)
    return by is not None and by not in RESERVED
