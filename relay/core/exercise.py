"""The shuttle core: one exercise, as a deterministic state machine with time as an argument.

Push in, pull out (the shape of h11, wsproto and aioquic)::

    core = Exercise(scenario, seed=7, rng=streams)   # journals exercise.created
    core.handle(Submit(by="iran", ...), now=12.0)    # may raise RuleViolation
    core.advance(now=30.0)                           # wake: fire every timer due by now
    core.next_deadline()                             # when to call advance next (or None)
    core.events()                                    # drain what happened, in journal order

Rules this module enforces (DESIGN §1 "The shuttle"):

* No direct channel: a party hands notes only to the mediator; addressing the other party
  raises :class:`DirectChannel`.
* The mediator is a courier: in exactly one room, or travelling between two. A note is handed
  over only while the mediator stands in its sender's room, and delivered only while the
  mediator stands in its recipient's room (on arrival, or at once if already there).
* Travel and reading take time drawn from the scenario's latency model; every draw is written
  into the event that used it.
* Time never runs backwards; timers due at ``t`` fire before any input stamped ``t``, each
  stamped with its own due time, so an event's ``at`` does not depend on when a driver woke us.
  Ties keep insertion order (the timer heap is ``(due, order, ...)``; items are never compared).
* A refused command changes nothing: it is validated in full before any state is touched. The
  timers that fired on the way to its ``now`` stand, so drivers drain events even after an error.
* Delivery rules are per link (``schemas/delivery.py``): reading on a party -> mediator link;
  drafting, the pouch, loss, duplication, distortion and scope on a mediator -> party link.
  Every random decision goes through :meth:`Exercise._delay` or :meth:`Exercise._chance`,
  which draw from the injected :class:`Draws` and record ``[rule, stream, value, outcome]`` in
  the event the decision belongs to (docs/delivery-rules.md).

Lifecycle (the transition table :data:`LIFECYCLE`)::

    draft --start--> running --pause--> paused --resume--> running
    running|paused --end--> ended        (also: agreement delivered, deadline reached)

A note's life (the table :data:`NOTE_MOVES`)::

    waiting --handover--> with_mediator --relay--> drafting --drafted--> outbound
                          with_mediator --return|decline--> outbound
                          with_mediator <--release-- held <--hold-- with_mediator
    outbound --arrive--> delivered (or lost: a miscalculation)
    any state before delivered --offer lapses--> expired
"""

from __future__ import annotations

import heapq
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import ValidationError

from schemas.delivery import Delivery, Link, inbound, outbound, resolve
from schemas.latency import LatencySpec
from schemas.scenario import Scenario, describe_errors

from . import commands as cmd
from . import events as ev
from .errors import (
    DirectChannel,
    InvalidCommand,
    InvalidNote,
    LocalProtocolError,
    NotPermitted,
    OutOfScope,
    ShuttleError,
    UnknownNote,
    WrongState,
)
from .latency import Draws, is_fixed, sample

__all__ = ["FACILITATOR", "LIFECYCLE", "MEDIATOR", "NOTE_MOVES", "Exercise", "NoteStatus", "Phase"]

MEDIATOR = "mediator"
FACILITATOR = "facilitator"
MAX_TEXT = 20_000
MAX_TAGS = 32


class Phase(StrEnum):
    DRAFT = "draft"
    RUNNING = "running"
    PAUSED = "paused"
    ENDED = "ended"


LIFECYCLE: dict[tuple[Phase, type[cmd.Command]], Phase] = {
    (Phase.DRAFT, cmd.Start): Phase.RUNNING,
    (Phase.RUNNING, cmd.Pause): Phase.PAUSED,
    (Phase.PAUSED, cmd.Resume): Phase.RUNNING,
    (Phase.RUNNING, cmd.End): Phase.ENDED,
    (Phase.PAUSED, cmd.End): Phase.ENDED,
}

_CONTROL_EVENTS: dict[
    type[cmd.Command], type[ev.ExerciseStarted | ev.ExercisePaused | ev.ExerciseResumed]
] = {
    cmd.Start: ev.ExerciseStarted,
    cmd.Pause: ev.ExercisePaused,
    cmd.Resume: ev.ExerciseResumed,
}
"""The event each lifecycle command other than End is journalled as (cmd.EVENT_OF agrees)."""

_E = TypeVar("_E", bound=ev.Event)


class NoteStatus(StrEnum):
    WAITING = "waiting"  # on the table in its sender's room, for the mediator to collect
    WITH_MEDIATOR = "with_mediator"  # handed over; readable once ready_at has passed
    HELD = "held"
    DRAFTING = "drafting"  # relayed as a paraphrase (or behind one); travels once written up
    OUTBOUND = "outbound"  # decided, to be delivered in its destination room
    DELIVERED = "delivered"
    LOST = "lost"  # miscalculation: fell out of the pouch
    EXPIRED = "expired"  # an offer that lapsed before it was delivered

    @property
    def settled(self) -> bool:
        """No longer in flight."""
        return self in _SETTLED


_SETTLED = frozenset({NoteStatus.DELIVERED, NoteStatus.LOST, NoteStatus.EXPIRED})


# The members the busiest paths compare with, bound once: looking a member up on its enum
# class costs CPython 3.11 about 50 ns, as much as the rest of a short test.
_RUNNING = Phase.RUNNING
_WITH_MEDIATOR = NoteStatus.WITH_MEDIATOR
_HELD = NoteStatus.HELD
_DRAFTING = NoteStatus.DRAFTING
_OUTBOUND = NoteStatus.OUTBOUND
_DELIVERED = NoteStatus.DELIVERED
_LOST = NoteStatus.LOST

NOTE_MOVES: dict[tuple[NoteStatus, type[cmd.Command]], NoteStatus] = {
    (NoteStatus.WITH_MEDIATOR, cmd.Relay): NoteStatus.DRAFTING,
    (NoteStatus.WITH_MEDIATOR, cmd.Hold): NoteStatus.HELD,
    (NoteStatus.HELD, cmd.Release): NoteStatus.WITH_MEDIATOR,
    (NoteStatus.WITH_MEDIATOR, cmd.Return): NoteStatus.OUTBOUND,
    (NoteStatus.HELD, cmd.Return): NoteStatus.OUTBOUND,
    (NoteStatus.WITH_MEDIATOR, cmd.Decline): NoteStatus.OUTBOUND,
    (NoteStatus.HELD, cmd.Decline): NoteStatus.OUTBOUND,
}


@dataclass(slots=True)
class Note:
    """The core's private record of one note."""

    id: int
    sender: str
    kind: str
    text: str
    tags: list[str]
    terms: dict[str, float]
    in_reply_to: int | None
    answer: str | None
    status: NoteStatus = NoteStatus.WAITING
    ready_at: float = math.inf
    held_until: float | None = None
    destination: str | None = None
    outcome: str | None = None  # relayed | returned | declined
    comment: str | None = None
    carried: dict[str, Any] = field(default_factory=dict)  # text/tags/terms as delivered
    drafted_at: float = math.inf
    condition: tuple[str, int] | None = None  # of a hold: ("delivered"|"answered", note)
    expires_at: float | None = None
    lapsed: bool = False  # an offer past its expiry: it can no longer be accepted
    policy_checked: bool = False  # the automatic mediator's hold policy has looked at it

    @property
    def is_offer(self) -> bool:
        return self.kind == "proposal" or self.answer == "counter"

    def as_written(
        self,
    ) -> tuple[str, str, list[str], dict[str, float], int | None, str | None]:
        """The note as its sender wrote it, in the order events list it (``kind``, ``text``,
        ``tags``, ``terms``, ``in_reply_to``, ``answer``), with its own copies of the lists."""
        return (
            self.kind,
            self.text,
            list(self.tags),
            dict(self.terms),
            self.in_reply_to,
            self.answer,
        )


@dataclass(frozen=True, slots=True)
class Travelling:
    origin: str
    destination: str
    arrives_at: float


class Exercise:
    """One exercise's protocol state. Not thread-safe; drivers serialise calls."""

    def __init__(self, scenario: Scenario, *, seed: int, rng: Draws) -> None:
        self.scenario = scenario
        self.seed = seed
        self.parties: tuple[str, str] = (scenario.parties[0].id, scenario.parties[1].id)
        first, second = self.parties
        self._others = {first: second, second: first}
        # The scenario never changes in flight (rule changes replace delivery, not the
        # agenda or the parties), so what validation and scope look up is taken once.
        self._agenda = {item.id: item for item in scenario.agenda}
        self._refuses = {party.id: frozenset(party.refuses) for party in scenario.parties}
        self._bounds = {
            item.id: (
                -math.inf if item.min is None else item.min,
                math.inf if item.max is None else item.max,
            )
            for item in scenario.agenda
        }
        self.phase = Phase.DRAFT
        self.now = 0.0
        self.location: str | Travelling = scenario.mediator.start_room or self.parties[0]
        self.auto_mediator = scenario.mediator.mode == "auto"
        self.outcome: ev.ExerciseEnded | None = None
        self.notes: dict[int, Note] = {}
        self.delivery = scenario.delivery
        self._use_links(resolve(self.parties, self.delivery, scenario.exercise_wide_rules()))
        self._rng = rng
        self._draws: list[ev.Draw] = []  # taken since the last event that recorded them
        self._client_ids: dict[tuple[str, str], int] = {}
        self._known: dict[str, set[int]] = {party: set() for party in self.parties}
        self._waiting: dict[str, list[int]] = {party: [] for party in self.parties}
        self._outbound: dict[str, list[int]] = {party: [] for party in self.parties}
        self._left: dict[str, list[int]] = {party: [] for party in self.parties}  # pouch full
        self._with_mediator: dict[int, Note] = {}  # handed over, not yet decided; in order
        self._drafting: dict[int, Note] = {}
        self._conditional: dict[int, Note] = {}  # held until a condition holds
        self._answered: set[int] = set()  # notes a reply was handed over for
        self._last_offer: dict[str, int] = {}  # per party, its last offer relayed
        self._last_ready: dict[str, float] = {}  # per link, for order: preserve
        self._timers: list[tuple[float, int, str, int]] = []
        self._timer_order = 0
        self._wake_at: float | None = None  # the automatic mediator's next departure slot
        self._arrived_at = 0.0  # when the mediator entered the room it stands in
        self._unpacked = 0  # notes delivered from the pouch at that arrival
        self._paused_at = 0.0
        self._seq = 0
        self._out: list[ev.Event] = []
        # What the author set, not the defaults: journals stay valid when defaults are added.
        written = scenario.model_dump(mode="json", exclude_unset=True)
        self._emit(ev.ExerciseCreated(seq=self._seq + 1, at=self.now, scenario=written, seed=seed))

    # ------------------------------------------------------------------ inputs

    def handle(self, command: cmd.Command, now: float) -> None:
        """Apply a seat's command at ``now``; raises :class:`RuleViolation` if refused."""
        self.advance(now)
        _HANDLERS[type(command)](self, command)
        self._settle()
        # What the command made due at this very moment (zero-delay legs) happens in the same
        # step, so drivers commit once per input.
        self.advance(now)

    def handle_together(
        self, commands: Sequence[cmd.Command], now: float
    ) -> list[ShuttleError | None]:
        """Apply commands that arrived together, as one step at ``now``.

        Each command is checked and applied by itself, in order; only then does the core
        settle. So notes put down together are all waiting when the mediator looks, and share
        its trips (one at a time, each note would make a trip of its own when travel takes no
        time). A refusal is returned in its command's place and the others stand. One command
        is exactly :meth:`handle`.

        For commands whose effects do not depend on settling in between (submissions, or a
        mediator's relays), a step whose commands settled to nothing in between is the same as
        those commands one at a time: replay relies on it (:func:`relay.replay.input_steps`).
        """
        self.advance(now)
        outcomes: list[ShuttleError | None] = []
        for command in commands:
            try:
                _HANDLERS[type(command)](self, command)
            except ShuttleError as refused:
                outcomes.append(refused)
            else:
                outcomes.append(None)
        self._settle()
        self.advance(now)
        return outcomes

    def advance(self, now: float) -> None:
        """The driver's wake-up: fire every timer due at or before ``now``."""
        if now < self.now:
            raise LocalProtocolError(f"time ran backwards: {now} < {self.now}")
        timers = self._timers
        while self.phase is _RUNNING and timers and timers[0][0] <= now:
            # Everything due at one instant fires before anyone decides: a note that becomes
            # ready at the very moment the pouch leaves travels with it.
            self.now = due = timers[0][0]
            while self.phase is _RUNNING and timers and timers[0][0] == due:
                _, _, kind, ref = heapq.heappop(timers)
                if kind != "ready":  # a note read: nothing to do until settling
                    self._fire(kind, ref)
            self._settle()
        self.now = now

    def next_deadline(self) -> float | None:
        """Exercise time at which :meth:`advance` must next be called, if any."""
        if self.phase is not _RUNNING or not self._timers:
            return None
        return self._timers[0][0]

    def events(self) -> list[ev.Event]:
        """Drain the events produced since the last call, in journal order."""
        out, self._out = self._out, []
        return out

    # ------------------------------------------------------------------ queries

    @property
    def last_seq(self) -> int:
        return self._seq

    def role_of(self, seat: str) -> str:
        """``party``, ``mediator``, ``facilitator`` or ``observer``; ``LookupError`` if none."""
        if seat in self.parties:
            return "party"
        if seat in (MEDIATOR, FACILITATOR):
            return seat
        if seat == "observer" or seat.startswith("observer-"):
            return "observer"
        raise LookupError(f"no seat {seat!r} in this exercise")

    def note_for_client(self, seat: str, client_id: str) -> int | None:
        """The note a seat already submitted under ``client_id`` (idempotent resubmission)."""
        return self._client_ids.get((seat, client_id))

    def in_flight(self) -> list[Note]:
        """Notes not yet delivered, lost or lapsed, oldest first (for the facilitator's view)."""
        return [n for n in self.notes.values() if not n.status.settled]

    # ------------------------------------------------------------------ time

    def _schedule(self, due: float, kind: str, ref: int = 0) -> None:
        self._timer_order += 1
        heapq.heappush(self._timers, (due, self._timer_order, kind, ref))

    def _shift_timers(self, pause: float) -> None:
        """A pause stops the exercise clock: whatever was pending is due that much later.

        Drivers that freeze their clock while paused (the live relay does) shift by zero.
        """
        if pause <= 0:
            return
        since = self._paused_at
        self._timers = [(due + pause, order, kind, ref) for due, order, kind, ref in self._timers]
        if isinstance(self.location, Travelling):
            trip = self.location
            self.location = Travelling(trip.origin, trip.destination, trip.arrives_at + pause)
        if self._wake_at is not None:
            self._wake_at += pause
        for note in self.notes.values():
            if note.status.settled:
                continue
            if note.ready_at > since:
                note.ready_at += pause
            if note.drafted_at > since:
                note.drafted_at += pause
            if note.held_until is not None and note.held_until > since:
                note.held_until += pause
            if note.expires_at is not None and note.expires_at > since:
                note.expires_at += pause

    def _fire(self, kind: str, ref: int) -> None:
        if kind == "arrive":
            assert isinstance(self.location, Travelling)
            self.location = self.location.destination
            self._arrived_at = self.now
            self._unpacked = 0
            self._emit(ev.MediatorArrived(seq=self._seq + 1, at=self.now, room=self.location))
        elif kind == "deadline":
            self._finish(ev.CLOCK, "deadline")
        elif kind == "unhold":
            note = self.notes[ref]
            if note.status is _HELD and note.held_until == self.now:
                self._unhold(note, ev.CLOCK)
        elif kind == "drafted":
            note = self.notes[ref]
            if note.status is _DRAFTING and note.drafted_at == self.now:
                self._ready_to_travel(note)
        elif kind == "expire":
            self._expire(self.notes[ref])
        elif kind == "wake":
            self._wake_at = None
        # "ready" and "wake" need no action of their own: settling lets the mediator look again,
        # and delivers whatever is for the room the mediator stands in.

    # ------------------------------------------------------------------ controls

    def _control(self, command: cmd.Command) -> None:
        self._require_role(command.by, FACILITATOR, "control the exercise")
        target = LIFECYCLE.get((self.phase, type(command)))
        if target is None:
            verb = type(command).__name__.lower()
            raise WrongState(f"cannot {verb}: the exercise is {self.phase}")
        if isinstance(command, cmd.End):
            self._finish(command.by, "facilitator")
            return
        if isinstance(command, cmd.Pause):
            self._paused_at = self.now
        elif isinstance(command, cmd.Resume):
            self._shift_timers(self.now - self._paused_at)
        self.phase = target
        event_cls = _CONTROL_EVENTS[type(command)]
        self._emit(event_cls(seq=self._seq + 1, at=self.now, by=command.by))
        if isinstance(command, cmd.Start) and self.scenario.deadline is not None:
            self._schedule(self.now + self.scenario.deadline, "deadline")

    def _change_rules(self, command: cmd.ChangeRules) -> None:
        """New delivery rules from now on. Delays already drawn stand; nothing in flight is
        dropped or doubled, because every list a note sits in stays as it is."""
        self._require_role(command.by, FACILITATOR, "change the delivery rules")
        if self.phase is Phase.ENDED:
            raise WrongState("cannot change the rules: the exercise has ended")
        try:
            delivery = Delivery.model_validate(command.delivery)
            links = resolve(self.parties, delivery, self.scenario.exercise_wide_rules())
            Scenario.model_validate({**self.scenario.model_dump(), "delivery": delivery})
        except ValidationError as error:
            raise InvalidCommand(f"delivery rules: {describe_errors(error)}") from None
        self.delivery = delivery
        self._use_links(links)
        self._emit(
            ev.RulesChanged(
                seq=self._seq + 1,
                at=self.now,
                by=command.by,
                delivery=delivery.model_dump(mode="json", exclude_unset=True),
            )
        )

    def _finish(self, by: str, reason: str, note: Note | None = None) -> None:
        self.phase = Phase.ENDED
        terms = dict(note.carried["terms"]) if note is not None else None
        self.outcome = self._emit(
            ev.ExerciseEnded(
                seq=self._seq + 1,
                at=self.now,
                by=by,
                reason=reason,
                note=note.id if note else None,
                terms=terms,
            )
        )

    # ------------------------------------------------------------------ parties

    def _submit(self, command: cmd.Submit) -> None:
        sender = command.by
        if sender not in self._others:  # the parties, and no other seat
            raise NotPermitted(f"{sender} cannot submit notes: only the parties write notes")
        self._require_running("submit a note")
        if command.to != MEDIATOR:
            self._check_address(sender, command.to)
        self._check_note(sender, command)
        note_id = len(self.notes) + 1
        note = self.notes[note_id] = Note(
            note_id,  # id
            sender,  # sender
            command.kind,  # kind
            command.text,  # text
            list(command.tags),  # tags
            dict(command.terms),  # terms
            command.in_reply_to,  # in_reply_to
            command.answer,  # answer
        )
        self._client_ids[(sender, command.client_id)] = note_id
        self._known[sender].add(note_id)
        self._waiting[sender].append(note_id)
        self._emit(
            ev.NoteSubmitted(
                self._seq + 1,  # seq
                self.now,  # at
                sender,  # by
                note_id,  # note
                command.client_id,  # client_id
                *note.as_written(),  # kind, text, tags, terms, in_reply_to, answer
                command.to,  # to
            )
        )
        expiry = self._from[sender].expiry
        if expiry is not None and note.is_offer:
            note.expires_at = self.now + expiry
            self._schedule(note.expires_at, "expire", note_id)

    def _check_address(self, sender: str, to: str) -> None:
        # DESIGN §shuttle: no direct channel, whatever the client does.
        if to == MEDIATOR:
            return
        if to in self.parties:
            raise DirectChannel(
                f"no direct channel: {sender} cannot address {to}; "
                "hand the note to the mediator, who carries it"
            )
        raise InvalidNote(f"notes are addressed to the mediator, not {to!r}")

    def _check_note(self, sender: str, note: cmd.Submit) -> None:
        if not note.client_id or len(note.client_id) > 128:
            raise InvalidNote("client_id must be 1 to 128 characters")
        if (sender, note.client_id) in self._client_ids:
            raise InvalidNote(f"client_id {note.client_id!r} was already used by {sender}")
        if note.kind not in cmd.KINDS:
            raise InvalidNote(f"kind {note.kind!r} is not one of {', '.join(cmd.KINDS)}")
        if not note.text.strip() or len(note.text) > MAX_TEXT:
            raise InvalidNote(f"text must be 1 to {MAX_TEXT} characters")
        # terms first: a term names its agenda item, and clients tag a note with its terms
        self._check_terms(note.terms)
        self._check_tags(note.tags)
        self._check_reply(sender, note)

    def _check_tags(self, tags: list[str]) -> None:
        agenda = self._agenda
        if len(tags) > MAX_TAGS:
            raise InvalidNote(f"at most {MAX_TAGS} tags")
        unknown = [tag for tag in tags if tag not in agenda]
        if unknown:
            raise InvalidNote(f"tags {unknown} are not agenda items {sorted(agenda)}")

    def _check_terms(self, terms: dict[str, float]) -> None:
        items = self._agenda
        bounds = self._bounds
        for name, value in terms.items():
            # the common case, a plain number inside its item's bounds, in one test
            within = bounds.get(name)
            if (
                within is not None
                and value.__class__ in _PLAIN_NUMBERS
                and within[0] <= value <= within[1]
                and math.isfinite(value)
            ):
                continue
            item = items.get(name)
            if item is None:
                raise InvalidNote(f"term {name!r} is not an agenda item {sorted(items)}")
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidNote(f"term {name!r} must be a number, got {value!r}")
            if not math.isfinite(value):
                raise InvalidNote(f"term {name!r} must be finite")
            if item.outside(value):
                raise InvalidNote(f"term {name!r}={value:g} is outside {item.range_text()}")

    def _check_reply(self, sender: str, note: cmd.Submit) -> None:
        if note.kind != "reply":
            if note.answer is not None:
                raise InvalidNote("only a reply carries an answer")
            if note.in_reply_to is not None and note.in_reply_to not in self._known[sender]:
                raise UnknownNote(f"{sender} knows no note {note.in_reply_to}")
            return
        if note.answer not in cmd.ANSWERS:
            raise InvalidNote(f"a reply's answer must be one of {', '.join(cmd.ANSWERS)}")
        target = self.notes.get(note.in_reply_to) if note.in_reply_to is not None else None
        # A party answers only what was delivered to it: knowledge is what arrived.
        if target is None or target.id not in self._known[sender] or target.sender == sender:
            raise UnknownNote(f"a reply must answer a note delivered to {sender}")
        if note.answer == "accept":
            if not target.is_offer:
                what = target.kind if target.answer is None else f"{target.answer} reply"
                raise InvalidNote(f"note {target.id} is a {what}; only offers can be accepted")
            if target.lapsed:
                raise InvalidNote(f"offer {target.id} lapsed at {target.expires_at:g}s")

    # ------------------------------------------------------------------ mediator

    def _mediator_note(self, command: cmd.Command, note_id: int) -> Note:
        self._require_mediator(command.by, "act on notes")
        note = self.notes.get(note_id)
        if note is None or note.status is NoteStatus.WAITING:
            raise UnknownNote(f"note {note_id} has not been handed to the mediator")
        if (note.status, type(command)) not in NOTE_MOVES:
            verb = type(command).__name__.lower()
            raise WrongState(f"cannot {verb}: note {note_id} is {note.status}")
        return note

    def _require_mediator(self, seat: str, what: str) -> None:
        self._require_role(seat, MEDIATOR, "act as the mediator")
        if self.auto_mediator:
            raise NotPermitted("the mediator is automatic in this exercise")
        self._require_running(what)

    def _relay(self, command: cmd.Relay) -> None:
        note = self._mediator_note(command, command.note)
        self._check_relayable(note)
        tags = note.tags if command.tags is None else list(command.tags)
        terms = note.terms if command.terms is None else dict(command.terms)
        text = note.text if command.text is None else command.text
        if not text.strip() or len(text) > MAX_TEXT:
            raise InvalidNote(f"text must be 1 to {MAX_TEXT} characters")
        self._check_terms(terms)
        self._check_tags(tags)
        recipient = self._other(note.sender)
        refused = self._refused(recipient, tags)
        if refused and self._to[recipient].scope == "return":
            raise OutOfScope(
                f"cannot relay: note {note.id} is tagged {', '.join(refused)}, which "
                f"{recipient} refuses to discuss; return it, or relay a paraphrase without "
                "those tags"
            )
        self._carry(command.by, note, text, tags, terms)

    def _check_relayable(self, note: Note) -> None:
        if note.kind == "mediator_only":
            raise WrongState(f"cannot relay: note {note.id} is for the mediator only")
        if note.ready_at > self.now:
            left = note.ready_at - self.now
            raise WrongState(f"cannot relay: note {note.id} is still being read ({left:.0f}s more)")

    def _carry(
        self, by: str, note: Note, text: str, tags: list[str], terms: dict[str, float]
    ) -> None:
        recipient = self._others[note.sender]
        link = self._to[recipient]
        paraphrased = (text, tags, terms) != (note.text, note.tags, note.terms)
        drafting_s = self._delay("drafting", link, link.drafting) if paraphrased else 0.0
        ready_at = self._in_order(link, self.now + drafting_s)
        carried_text, carried_tags, carried_terms, distortions = (
            (text, list(tags), dict(terms), [])
            if link.distort is None
            else self._distort(link, text, list(tags), dict(terms))
        )
        flags = []
        if link.scope == "flag":
            flags = [
                f"{recipient} refuses to discuss {tag}"
                for tag in self._refused(recipient, carried_tags)
            ]
        note.carried = {
            "text": carried_text,
            "tags": carried_tags,
            "terms": carried_terms,
            "flags": flags,
        }
        note.drafted_at = ready_at
        if note.is_offer:
            self._last_offer[note.sender] = note.id
        self._move(note, cmd.Relay)
        note.destination, note.outcome = recipient, "relayed"
        self._drafting[note.id] = note
        self._emit(
            ev.NoteRelayed(
                self._seq + 1,  # seq
                self.now,  # at
                by,  # by
                note.id,  # note
                recipient,  # recipient
                text,  # text
                list(tags),  # tags
                dict(terms),  # terms
                paraphrased,  # paraphrased
                list(flags),  # flags
                drafting_s,  # drafting_s
                ready_at,  # ready_at
                distortions,  # distortions
                self._take_draws() if self._draws else [],  # draws
            )
        )
        if ready_at > self.now:
            self._schedule(ready_at, "drafted", note.id)
        else:
            self._ready_to_travel(note)

    def _ready_to_travel(self, note: Note) -> None:
        """A decided note joins what the mediator carries to its destination."""
        del self._drafting[note.id]
        note.status = _OUTBOUND
        assert note.destination is not None
        self._outbound[note.destination].append(note.id)

    def _hold(self, command: cmd.Hold) -> None:
        note = self._mediator_note(command, command.note)
        if command.until is not None and command.until <= self.now:
            raise InvalidCommand(f"hold until {command.until}: that time has passed")
        condition = None
        if command.condition is not None:
            condition = self._parse_condition(command.condition)
        self._hold_note(command.by, note, command.until, condition)

    def _hold_note(
        self, by: str, note: Note, until: float | None, condition: tuple[str, int] | None
    ) -> None:
        note.held_until, note.condition = until, condition
        self._move(note, cmd.Hold)
        if condition is not None:
            self._conditional[note.id] = note
        self._emit(
            ev.NoteHeld(
                seq=self._seq + 1,
                at=self.now,
                by=by,
                note=note.id,
                until=until,
                condition=None if condition is None else f"{condition[0]}:{condition[1]}",
                draws=self._take_draws() if self._draws else [],
            )
        )
        if until is not None:
            self._schedule(until, "unhold", note.id)

    def _parse_condition(self, condition: str) -> tuple[str, int]:
        kind, _, number = condition.partition(":")
        if kind not in ("delivered", "answered") or not number.isdigit():
            raise InvalidCommand(
                f"condition {condition!r}: use delivered:N or answered:N with a note number"
            )
        if int(number) not in self.notes:
            raise InvalidCommand(f"condition {condition!r}: there is no note {number}")
        return kind, int(number)

    def _condition_holds(self, condition: tuple[str, int]) -> bool:
        kind, number = condition
        note = self.notes[number]
        if note.status in (NoteStatus.LOST, NoteStatus.EXPIRED):
            return True  # what it waited for will never come
        if kind == "delivered":
            return note.status is NoteStatus.DELIVERED
        return note.id in self._answered

    def _release(self, command: cmd.Release) -> None:
        note = self._mediator_note(command, command.note)
        self._unhold(note, command.by)

    def _unhold(self, note: Note, by: str) -> None:
        self._conditional.pop(note.id, None)
        self._move(note, cmd.Release)
        self._emit(ev.NoteReleased(seq=self._seq + 1, at=self.now, by=by, note=note.id))

    def _send_back(self, command: cmd.Return | cmd.Decline) -> None:
        note = self._mediator_note(command, command.note)
        words = command.comment if isinstance(command, cmd.Return) else command.reason
        if not words.strip() or len(words) > MAX_TEXT:
            raise InvalidCommand(f"say why, in 1 to {MAX_TEXT} characters")
        self._send_back_note(command.by, note, type(command), words)

    def _send_back_note(
        self, by: str, note: Note, action: type[cmd.Return | cmd.Decline], words: str
    ) -> None:
        self._conditional.pop(note.id, None)
        note.comment = words
        note.carried = {
            "text": note.text,
            "tags": list(note.tags),
            "terms": dict(note.terms),
            "flags": [],
        }
        outcome = "returned" if action is cmd.Return else "declined"
        self._move(note, action, note.sender, outcome)
        if action is cmd.Return:
            self._emit(
                ev.NoteReturned(seq=self._seq + 1, at=self.now, by=by, note=note.id, comment=words)
            )
        else:
            self._emit(
                ev.NoteDeclined(seq=self._seq + 1, at=self.now, by=by, note=note.id, reason=words)
            )

    def _travel(self, command: cmd.Travel) -> None:
        self._require_mediator(command.by, "travel")
        self._check_travel(command.destination)
        self._depart(command.by, command.destination)

    def _check_travel(self, destination: str) -> None:
        if isinstance(self.location, Travelling):
            raise WrongState(f"cannot travel: already on the way to {self.location.destination}")
        if destination not in self.parties:
            raise InvalidCommand(f"no room {destination!r}; rooms are {list(self.parties)}")
        if destination == self.location:
            raise WrongState(f"cannot travel: already in {destination}'s room")
        sitting = self.delivery.next_sitting(self.now)
        if sitting != self.now:
            when = "no sitting is left" if sitting is None else f"the next starts at {sitting:g}s"
            raise WrongState(f"cannot travel: outside the sitting hours ({when})")

    def _batch(self, command: cmd.Batch) -> None:
        """Relay notes verbatim and leave with them: validated whole, then applied."""
        self._require_mediator(command.by, "send a batch")
        if isinstance(self.location, Travelling):
            raise WrongState(f"cannot batch: already on the way to {self.location.destination}")
        chosen = command.notes or [
            n.id
            for n in self._with_mediator.values()
            if n.kind != "mediator_only" and n.ready_at <= self.now
        ]
        if not chosen:
            raise WrongState("cannot batch: no note has been read and is ready to relay")
        notes = []
        for note_id in chosen:
            note = self._mediator_note(cmd.Relay(by=command.by, note=note_id), note_id)
            self._check_relayable(note)
            recipient = self._other(note.sender)
            refused = self._refused(recipient, note.tags)
            if refused and self._to[recipient].scope == "return":
                raise OutOfScope(
                    f"cannot batch: note {note.id} is tagged {', '.join(refused)}, which "
                    f"{recipient} refuses to discuss"
                )
            notes.append(note)
        rooms = {self._other(note.sender) for note in notes}
        if len(rooms) != 1 or len(set(chosen)) != len(chosen):
            raise InvalidCommand("a batch carries distinct notes for one room")
        (room,) = rooms
        if room != self.location:
            self._check_travel(room)
        for note in notes:
            self._carry(command.by, note, note.text, note.tags, note.terms)
        if room != self.location:
            self._depart(command.by, room)

    def _depart(self, by: str, destination: str) -> None:
        assert isinstance(self.location, str)
        link = self._to[destination]
        travel_s = self._delay("travel", link, link.travel)
        arrives = self.now + travel_s
        self._emit(
            ev.MediatorDeparted(
                self._seq + 1,  # seq
                self.now,  # at
                by,  # by
                self.location,  # origin
                destination,  # destination
                travel_s,  # travel_s
                arrives,  # arrives_at
                self._take_draws() if self._draws else [],  # draws
            )
        )
        self.location = Travelling(self.location, destination, arrives)
        self._schedule(arrives, "arrive")

    # ------------------------------------------------------------------ the shuttle

    def _settle(self) -> None:
        """Do everything that now follows without anyone's decision, until nothing does.

        A pass that emits nothing changed nothing, so it ends the loop. With the automatic
        mediator, a pass whose mediator decided nothing also ends it when no note waits on a
        condition: the next pass would meet the state this one's mediator already looked at
        (no note waits in the room, and what is for the room was handed out or waits for the
        next pouch), so it would decide nothing either. Only the conditions of held notes can
        change behind the mediator's back (a hand-over or delivery earlier in the pass). A
        pass that leaves the mediator travelling, with no note waiting on a condition, ends it
        too: without a room, the next pass has nothing to hand over, deliver or decide.
        """
        while self.phase is _RUNNING:
            before = self._seq
            self._tend()
            if self.auto_mediator and self.phase is _RUNNING:
                decided = self._seq
                self._auto_mediate()
                if self._seq == decided and not self._conditional:
                    return
            if self._seq == before:
                return
            if not self._conditional and not isinstance(self.location, str):
                return  # on the road: nothing follows until the arrival

    def _tend(self) -> None:
        """One settling pass before the mediator decides: release the held notes whose
        condition now holds, then, if the mediator is in a room, take what waits there and
        hand out what is for it."""
        if self._conditional:
            for note in list(self._conditional.values()):
                if note.condition is not None and self._condition_holds(note.condition):
                    self._unhold(note, ev.CORE)
        room = self.location
        if isinstance(room, str):
            if self._waiting[room]:
                self._hand_over(room)
            if (self._outbound[room] or self._left[room]) and self._delivers_now(room):
                self._deliver(room)

    def _hand_over(self, room: str) -> None:
        waiting, self._waiting[room] = self._waiting[room], []
        link = self._from[room]
        for note_id in waiting:
            note = self.notes[note_id]
            reading_s = self._delay("reading", link, link.reading)
            note.ready_at = self._in_order(link, self.now + reading_s)
            note.status = _WITH_MEDIATOR
            self._with_mediator[note.id] = note
            if note.in_reply_to is not None and note.kind == "reply":
                self._answered.add(note.in_reply_to)
            self._emit(
                ev.NoteHandedOver(
                    self._seq + 1,  # seq
                    self.now,  # at
                    note.id,  # note
                    note.sender,  # sender
                    reading_s,  # reading_s
                    note.ready_at,  # ready_at
                    *note.as_written(),  # kind, text, tags, terms, in_reply_to, answer
                    self._take_draws() if self._draws else [],  # draws
                )
            )
            if note.ready_at > self.now:
                self._schedule(note.ready_at, "ready", note.id)
            if "handed_over" in self._tells[note.sender]:
                self._receipt(note, "handed_over")

    def _delivers_now(self, room: str) -> bool:
        """Whether notes for ``room`` are handed out now: with a pouch on its link, only at
        the moment the courier arrives; without one, whenever the mediator stands there."""
        return self._to[room].pouch is None or self.now == self._arrived_at

    def _deliver(self, room: str) -> None:
        link = self._to[room]
        outbound_notes = self._left[room] + self._outbound[room]
        self._left[room], self._outbound[room] = [], []
        capacity = link.pouch.capacity if link.pouch is not None else None
        if capacity is not None:  # what does not fit this arrival waits for the next
            room_for = max(0, capacity - self._unpacked)
            outbound_notes, self._left[room] = outbound_notes[:room_for], outbound_notes[room_for:]
            self._unpacked += len(outbound_notes)
        for note_id in outbound_notes:
            note = self.notes[note_id]
            relayed = note.outcome == "relayed"
            if relayed and link.loss > 0.0 and self._chance("loss", link, link.loss, LOSS):
                note.status = _LOST
                self._emit(
                    ev.NoteLost(
                        seq=self._seq + 1,
                        at=self.now,
                        note=note.id,
                        recipient=room,
                        sender=note.sender,
                        draws=self._take_draws() if self._draws else [],
                    )
                )
                continue
            twice = (
                relayed
                and link.duplicate > 0.0
                and self._chance("duplicate", link, link.duplicate, TWICE)
            )
            note.status = _DELIVERED
            self._known[room].add(note.id)
            for copy in (False, True) if twice else (False,):
                self._emit(
                    ev.NoteDelivered(
                        self._seq + 1,  # seq
                        self.now,  # at
                        note.id,  # note
                        room,  # recipient
                        note.sender,  # sender
                        note.outcome or "relayed",  # outcome
                        note.kind,  # kind
                        note.carried["text"],  # text
                        list(note.carried["tags"]),  # tags
                        dict(note.carried["terms"]),  # terms
                        note.in_reply_to,  # in_reply_to
                        note.answer,  # answer
                        note.comment,  # comment
                        list(note.carried.get("flags", [])),  # flags
                        copy,  # duplicate
                        self._take_draws() if self._draws else [],  # draws
                    )
                )
            if relayed:
                if "delivered" in self._tells[note.sender]:
                    self._receipt(note, "delivered")
                if note.answer == "accept" and self._agreed(note):
                    self._outbound[room][:0] = outbound_notes[outbound_notes.index(note_id) + 1 :]
                    return

    def _expire(self, note: Note) -> None:
        """An offer's time is up: withdrawn if still in flight, no longer acceptable if not."""
        if note.status is NoteStatus.LOST or note.expires_at != self.now:
            return
        delivered = note.status is NoteStatus.DELIVERED
        unseen = note.status is NoteStatus.WAITING
        if not delivered:
            for queue in (
                self._waiting[note.sender],
                *self._outbound.values(),
                *self._left.values(),
            ):
                if note.id in queue:
                    queue.remove(note.id)
            self._with_mediator.pop(note.id, None)
            self._drafting.pop(note.id, None)
            self._conditional.pop(note.id, None)
            note.status = NoteStatus.EXPIRED
        note.lapsed = True
        self._emit(
            ev.NoteExpired(
                seq=self._seq + 1,
                at=self.now,
                by=ev.CLOCK,
                note=note.id,
                sender=note.sender,
                recipient=self._other(note.sender),
                delivered=delivered,
                unseen=unseen,
            )
        )

    def _agreed(self, note: Note) -> bool:
        """An accept delivered to the proposer closes the deal on the terms the acceptor read."""
        if note.kind != "reply" or note.answer != "accept" or note.in_reply_to is None:
            return False
        accepted = self.notes[note.in_reply_to]
        self._finish(ev.CORE, "agreement", accepted)
        return True

    def _auto_mediate(self) -> None:
        """The automatic mediator: carry everything read, and shuttle whenever something waits
        (on the pouch's schedule, inside the sitting hours)."""
        here = self.location
        if not isinstance(here, str):
            return
        busy = bool(self._drafting)
        for note in list(self._with_mediator.values()) if self._with_mediator else ():
            if note.kind == "mediator_only":
                continue
            if note.ready_at > self.now:
                busy = True
                continue
            if not note.policy_checked:
                note.policy_checked = True
                if self._from[note.sender].hold is not None and self._policy_hold(note):
                    continue
            recipient = self._others[note.sender]
            refused = self._refused(recipient, note.tags)
            if refused and self._to[recipient].scope == "return":
                why = f"{recipient} refuses to discuss {', '.join(refused)}"
                self._send_back_note(ev.AUTO, note, cmd.Return, f"Out of scope: {why}.")
            else:
                self._carry(ev.AUTO, note, note.text, note.tags, note.terms)
        other = self._others[here]
        outbound, left = self._outbound, self._left
        if not (
            outbound[other]
            or left[other]
            or self._waiting[other]
            # a note for this room that missed the pouch goes out and comes back with the next
            or left[here]
            or (outbound[here] and not self._delivers_now(here))
        ):
            return
        pouch = self._to[other].pouch
        scheduled = pouch is not None and pouch.every is not None
        if busy and not scheduled:
            return  # without a schedule, the mediator finishes reading and writing first
        leave_at = self._departure_time(other)
        if leave_at is None:
            return  # no sitting left: the mediator stays put
        if leave_at <= self.now:
            self._depart(ev.AUTO, other)
        elif self._wake_at != leave_at:
            self._wake_at = leave_at
            self._schedule(leave_at, "wake")

    def _policy_hold(self, note: Note) -> bool:
        """The link's hold policy, applied once to each note the automatic mediator has read."""
        policy = self._from[note.sender].hold
        if policy is None:
            return False
        previous = self._last_offer.get(note.sender)
        if policy.until_answered and note.is_offer and previous is not None:
            waiting_for = ("answered", previous)
            if not self._condition_holds(waiting_for):
                self._hold_note(ev.AUTO, note, None, waiting_for)
                return True
        if policy.delay is not None:
            delay = self._delay("hold", self._from[note.sender], policy.delay)
            if delay > 0:
                self._hold_note(ev.AUTO, note, self.now + delay, None)
                return True
        return False

    def _departure_time(self, destination: str) -> float | None:
        """The earliest time from now the courier may leave for ``destination``."""
        pouch = self._to[destination].pouch
        if pouch is None and self._always_sitting:
            return self.now
        at: float | None = self.now
        for _ in range(64):  # a slot inside a sitting; both are periodic, so this converges
            assert at is not None
            slot = at
            if pouch is not None and pouch.every is not None:
                k = max(0, math.ceil((at - pouch.offset) / pouch.every - 1e-9))
                slot = pouch.offset + k * pouch.every
            at = self.delivery.next_sitting(slot)
            if at is None or at == slot:
                return at
        return None

    # ------------------------------------------------------------------ rules

    def _use_links(self, links: dict[str, Link]) -> None:
        self.links = links
        self._from = {party: links[inbound(party)] for party in self.parties}  # party's notes
        self._to = {party: links[outbound(party)] for party in self.parties}  # to the party
        # what each party is told of its notes' progress
        self._tells = {party: self._RECEIPTS[self._from[party].receipts] for party in self.parties}
        # the delays that draw nothing, by (rule, link), worked out on first use
        self._fixed: dict[tuple[str, str], float] = {}
        # the mediator may always travel: no sitting hours to wait for
        self._always_sitting = not self.delivery.sittings

    def _delay(self, rule: str, link: Link, spec: LatencySpec) -> float:
        """A delay for ``rule`` on ``link``, drawn and recorded (a constant draws nothing).

        ``spec`` is that link's rule, so a constant one is worked out once per rule and link
        until the rules change."""
        fixed = self._fixed.get((rule, link.name))
        if fixed is not None:
            return fixed
        if is_fixed(spec):
            fixed = self._fixed[(rule, link.name)] = sample(spec, 0.5, 0.5)
            return fixed
        stream = f"{rule}:{link.name}"
        value = self._rng.take(stream, lambda u1, u2: sample(spec, u1, u2))
        self._draws.append([rule, stream, value, ""])
        return value

    def _chance(self, rule: str, link: Link, p: float, outcomes: tuple[str, str]) -> bool:
        """Whether an event of probability ``p`` happens, drawn and recorded (0 and 1 draw
        nothing)."""
        if p <= 0.0 or p >= 1.0:
            return p >= 1.0
        stream = f"{rule}:{link.name}"
        u = self._rng.take(stream, _first)
        self._draws.append([rule, stream, u, outcomes[0] if u < p else outcomes[1]])
        return u < p

    def _pick(self, rule: str, link: Link, count: int) -> int:
        """One of ``count`` choices, drawn and recorded."""
        stream = f"{rule}:{link.name}"
        index = int(self._rng.take(stream, lambda u1, u2: min(int(u1 * count), count - 1)))
        self._draws.append([rule, stream, index, "picked"])
        return index

    def _take_draws(self) -> list[ev.Draw]:
        draws, self._draws = self._draws, []
        return draws

    def _in_order(self, link: Link, ready_at: float) -> float:
        """With ``order: preserve``, a note is never ready before the one ahead on its link."""
        if link.order == "preserve":
            last = self._last_ready.get(link.name)
            if last is not None and last > ready_at:
                ready_at = last
            self._last_ready[link.name] = ready_at
        return ready_at

    def _distort(
        self, link: Link, text: str, tags: list[str], terms: dict[str, float]
    ) -> tuple[str, list[str], dict[str, float], list[dict[str, Any]]]:
        """The link's paraphrase errors: what the recipient will read, and what changed."""
        rules = link.distort
        changes: list[dict[str, Any]] = []
        if rules is None:
            return text, tags, terms, changes
        if tags and rules.tag_drop and self._chance("distort", link, rules.tag_drop, HIT):
            dropped = tags.pop(self._pick("distort", link, len(tags)))
            changes.append({"kind": "tag_dropped", "tag": dropped})
        if terms and rules.number and self._chance("distort", link, rules.number, HIT):
            names = sorted(terms)
            name = names[self._pick("distort", link, len(names))]
            stream = f"distort:{link.name}"
            move = self._rng.take(stream, lambda u1, u2: rules.number_bound * (2.0 * u1 - 1.0))
            self._draws.append(["distort", stream, move, "moved"])
            item = next(a for a in self.scenario.agenda if a.id == name)
            moved = round(terms[name] + move, 2)
            moved = max(moved, item.min) if item.min is not None else moved
            moved = min(moved, item.max) if item.max is not None else moved
            changes.append(
                {"kind": "term_moved", "item": name, "original": terms[name], "relayed": moved}
            )
            terms[name] = moved
        if rules.tone and self._chance("distort", link, rules.tone, HIT):
            markers = [(a, b) for a, b in TONE_SWAPS if re.search(rf"\b{a}\b", text)]
            if markers:
                original, replaced = markers[self._pick("distort", link, len(markers))]
                text = re.sub(rf"\b{original}\b", replaced, text, count=1)
                changes.append({"kind": "tone", "original": original, "relayed": replaced})
        return text, tags, terms, changes

    # ------------------------------------------------------------------ helpers

    def role_of_or_none(self, seat: str) -> str | None:
        try:
            return self.role_of(seat)
        except LookupError:
            return None

    def _require_role(self, seat: str, role: str, what: str) -> None:
        if self.role_of_or_none(seat) != role:
            raise NotPermitted(f"{seat} cannot {what}: only the {role} can")

    def _require_running(self, what: str) -> None:
        if self.phase is not Phase.RUNNING:
            raise WrongState(f"cannot {what}: the exercise is {self.phase}")

    def _move(
        self,
        note: Note,
        action: type[cmd.Command],
        destination: str | None = None,
        outcome: str | None = None,
    ) -> None:
        before, note.status = note.status, NOTE_MOVES[(note.status, action)]
        if note.status is _WITH_MEDIATOR:
            self._with_mediator[note.id] = note
        elif before is _WITH_MEDIATOR:
            del self._with_mediator[note.id]
        if note.status is _OUTBOUND:
            assert destination is not None
            note.destination, note.outcome = destination, outcome
            self._outbound[destination].append(note.id)

    _RECEIPTS = {
        "none": (),
        "handed_over": ("handed_over",),
        "delivered": ("handed_over", "delivered"),
    }

    def _receipt(self, note: Note, status: str) -> None:
        """Tell the sender how its note fares. Callers first check that its link's receipts
        rule tells this ``status`` (``status in self._tells[note.sender]``)."""
        self._emit(
            ev.NoteReceipt(
                seq=self._seq + 1,
                at=self.now,
                note=note.id,
                recipient=note.sender,
                status=status,
            )
        )

    def _refused(self, recipient: str, tags: list[str]) -> list[str]:
        """The note's agenda tags that ``recipient`` declared out of scope."""
        refuses = self._refuses[recipient]
        if not refuses:
            return []
        return [tag for tag in tags if tag in refuses]

    def _other(self, party: str) -> str:
        return self._others.get(party, self.parties[0])

    def _emit(self, event: _E) -> _E:
        """Journal ``event``, which the caller made with ``seq=self._seq + 1`` and
        ``at=self.now`` by calling its class directly (no payload dict to repack)."""
        self._seq = event.seq
        self._out.append(event)
        return event


_PLAIN_NUMBERS = frozenset({float, int})
"""Classes of a term's value that need no closer look than a bounds check (not bool)."""

_HANDLERS: dict[type[cmd.Command], Callable[[Exercise, Any], None]] = {
    cmd.Start: Exercise._control,
    cmd.Pause: Exercise._control,
    cmd.Resume: Exercise._control,
    cmd.End: Exercise._control,
    cmd.Submit: Exercise._submit,
    cmd.Relay: Exercise._relay,
    cmd.Hold: Exercise._hold,
    cmd.Release: Exercise._release,
    cmd.Return: Exercise._send_back,
    cmd.Decline: Exercise._send_back,
    cmd.Travel: Exercise._travel,
    cmd.Batch: Exercise._batch,
    cmd.ChangeRules: Exercise._change_rules,
}
"""The method that applies each command. Plain functions, not bound methods: an exercise that
held its own bound methods would be a reference cycle, left for the cyclic garbage collector
to free instead of going as soon as its last user lets go."""

HIT = ("yes", "no")
"""Outcome names of a distortion's chance draw."""
LOSS = ("lost", "kept")
TWICE = ("twice", "once")
"""Outcome names of the loss and duplication draws."""

TONE_SWAPS: tuple[tuple[str, str], ...] = (
    ("must", "should"),
    ("should", "must"),
    ("will not", "would rather not"),
    ("demand", "ask"),
    ("ask", "demand"),
    ("never", "not now"),
    ("unacceptable", "difficult"),
    ("insist", "suggest"),
    ("suggest", "insist"),
)
"""Tone markers a distorting paraphrase may swap: a firm word softened, or a soft one hardened."""


def _first(u1: float, u2: float) -> float:
    return u1
