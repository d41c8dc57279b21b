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

Lifecycle (the transition table :data:`LIFECYCLE`)::

    draft --start--> running --pause--> paused --resume--> running
    running|paused --end--> ended        (also: agreement delivered, deadline reached)

A note's life (the table :data:`NOTE_MOVES`)::

    waiting --handover--> with_mediator --relay|return|decline--> outbound --arrive--> delivered
                          with_mediator <--release-- held <--hold-- with_mediator
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from schemas.scenario import Scenario

from . import commands as cmd
from . import events as ev
from .errors import (
    DirectChannel,
    InvalidNote,
    LocalProtocolError,
    NotPermitted,
    OutOfScope,
    UnknownNote,
    WrongState,
)
from .latency import RngFactory, draw

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


class NoteStatus(StrEnum):
    WAITING = "waiting"  # on the table in its sender's room, for the mediator to collect
    WITH_MEDIATOR = "with_mediator"  # handed over; readable once ready_at has passed
    HELD = "held"
    OUTBOUND = "outbound"  # decided, to be delivered in its destination room
    DELIVERED = "delivered"


NOTE_MOVES: dict[tuple[NoteStatus, type[cmd.Command]], NoteStatus] = {
    (NoteStatus.WITH_MEDIATOR, cmd.Relay): NoteStatus.OUTBOUND,
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
    carried: dict[str, Any] = field(default_factory=dict)  # text/tags/terms as relayed


@dataclass(frozen=True, slots=True)
class Travelling:
    origin: str
    destination: str
    arrives_at: float


class Exercise:
    """One exercise's protocol state. Not thread-safe; drivers serialise calls."""

    def __init__(self, scenario: Scenario, *, seed: int, rng: RngFactory) -> None:
        self.scenario = scenario
        self.seed = seed
        self.parties: tuple[str, str] = (scenario.parties[0].id, scenario.parties[1].id)
        self.phase = Phase.DRAFT
        self.now = 0.0
        self.location: str | Travelling = scenario.mediator.start_room or self.parties[0]
        self.auto_mediator = scenario.mediator.mode == "auto"
        self.outcome: ev.ExerciseEnded | None = None
        self.notes: dict[int, Note] = {}
        self._travel_rng = rng("travel")
        self._reading_rng = rng("reading")
        self._client_ids: dict[tuple[str, str], int] = {}
        self._known: dict[str, set[int]] = {party: set() for party in self.parties}
        self._waiting: dict[str, list[int]] = {party: [] for party in self.parties}
        self._outbound: dict[str, list[int]] = {party: [] for party in self.parties}
        self._with_mediator: dict[int, Note] = {}  # handed over, not yet decided; in order
        self._timers: list[tuple[float, int, str, int]] = []
        self._timer_order = 0
        self._paused_at = 0.0
        self._seq = 0
        self._out: list[ev.Event] = []
        self._handlers: dict[type[cmd.Command], Callable[[Any], None]] = {
            cmd.Start: self._control,
            cmd.Pause: self._control,
            cmd.Resume: self._control,
            cmd.End: self._control,
            cmd.Submit: self._submit,
            cmd.Relay: self._relay,
            cmd.Hold: self._hold,
            cmd.Release: self._release,
            cmd.Return: self._send_back,
            cmd.Decline: self._send_back,
            cmd.Travel: self._travel,
        }
        # What the author set, not the defaults: journals stay valid when defaults are added.
        written = scenario.model_dump(mode="json", exclude_unset=True)
        self._emit(ev.ExerciseCreated, scenario=written, seed=seed)

    # ------------------------------------------------------------------ inputs

    def handle(self, command: cmd.Command, now: float) -> None:
        """Apply a seat's command at ``now``; raises :class:`RuleViolation` if refused."""
        self._advance_to(now)
        self._handlers[type(command)](command)
        self._settle()
        # What the command made due at this very moment (zero-delay legs) happens in the same
        # step, so drivers commit once per input.
        self._advance_to(now)

    def advance(self, now: float) -> None:
        """The driver's wake-up: fire every timer due at or before ``now``."""
        self._advance_to(now)

    def next_deadline(self) -> float | None:
        """Exercise time at which :meth:`advance` must next be called, if any."""
        if self.phase is not Phase.RUNNING or not self._timers:
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
        """Notes not yet delivered, oldest first (for the facilitator's view)."""
        return [n for n in self.notes.values() if n.status is not NoteStatus.DELIVERED]

    # ------------------------------------------------------------------ time

    def _advance_to(self, now: float) -> None:
        if now < self.now:
            raise LocalProtocolError(f"time ran backwards: {now} < {self.now}")
        while self.phase is Phase.RUNNING and self._timers and self._timers[0][0] <= now:
            due, _, kind, ref = heapq.heappop(self._timers)
            self.now = due
            self._fire(kind, ref)
            self._settle()
        self.now = now

    def _schedule(self, due: float, kind: str, ref: int = 0) -> None:
        self._timer_order += 1
        heapq.heappush(self._timers, (due, self._timer_order, kind, ref))

    def _shift_timers(self, pause: float) -> None:
        """A pause stops the exercise clock: whatever was pending is due that much later.

        Drivers that freeze their clock while paused (the live relay does) shift by zero.
        """
        if pause <= 0:
            return
        self._timers = [(due + pause, order, kind, ref) for due, order, kind, ref in self._timers]
        if isinstance(self.location, Travelling):
            trip = self.location
            self.location = Travelling(trip.origin, trip.destination, trip.arrives_at + pause)
        for note in self._with_mediator.values():
            if note.ready_at > self._paused_at:
                note.ready_at += pause
        for note in self.notes.values():
            if note.status is NoteStatus.HELD and note.held_until is not None:
                note.held_until += pause

    def _fire(self, kind: str, ref: int) -> None:
        if kind == "arrive":
            assert isinstance(self.location, Travelling)
            self.location = self.location.destination
            self._emit(ev.MediatorArrived, room=self.location)
        elif kind == "deadline":
            self._finish(ev.CLOCK, "deadline")
        elif kind == "unhold":
            note = self.notes[ref]
            if note.status is NoteStatus.HELD and note.held_until == self.now:
                self._move(note, cmd.Release)
                self._emit(ev.NoteReleased, by=ev.CLOCK, note=note.id)
        # "ready" needs no action of its own: settling lets the mediator policy look again.

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
        event_cls = cmd.EVENT_OF[type(command)]
        self._emit(event_cls, by=command.by)
        if isinstance(command, cmd.Start) and self.scenario.deadline is not None:
            self._schedule(self.now + self.scenario.deadline, "deadline")

    def _finish(self, by: str, reason: str, note: Note | None = None) -> None:
        self.phase = Phase.ENDED
        terms = dict(note.carried["terms"]) if note is not None else None
        self.outcome = self._emit(
            ev.ExerciseEnded, by=by, reason=reason, note=note.id if note else None, terms=terms
        )

    # ------------------------------------------------------------------ parties

    def _submit(self, command: cmd.Submit) -> None:
        sender = command.by
        if self.role_of_or_none(sender) != "party":
            raise NotPermitted(f"{sender} cannot submit notes: only the parties write notes")
        self._require_running("submit a note")
        self._check_address(sender, command.to)
        self._check_note(sender, command)
        note_id = len(self.notes) + 1
        self.notes[note_id] = Note(
            id=note_id,
            sender=sender,
            kind=command.kind,
            text=command.text,
            tags=list(command.tags),
            terms=dict(command.terms),
            in_reply_to=command.in_reply_to,
            answer=command.answer,
        )
        self._client_ids[(sender, command.client_id)] = note_id
        self._known[sender].add(note_id)
        self._waiting[sender].append(note_id)
        self._emit(
            ev.NoteSubmitted,
            by=sender,
            note=note_id,
            client_id=command.client_id,
            kind=command.kind,
            text=command.text,
            tags=list(command.tags),
            terms=dict(command.terms),
            in_reply_to=command.in_reply_to,
            answer=command.answer,
            to=command.to,
        )

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
        self._check_tags(note.tags)
        self._check_terms(note.terms)
        self._check_reply(sender, note)

    def _check_tags(self, tags: list[str]) -> None:
        agenda = {item.id for item in self.scenario.agenda}
        if len(tags) > MAX_TAGS:
            raise InvalidNote(f"at most {MAX_TAGS} tags")
        unknown = [tag for tag in tags if tag not in agenda]
        if unknown:
            raise InvalidNote(f"tags {unknown} are not agenda items {sorted(agenda)}")

    def _check_terms(self, terms: dict[str, float]) -> None:
        items = {item.id: item for item in self.scenario.agenda}
        for name, value in terms.items():
            item = items.get(name)
            if item is None:
                raise InvalidNote(f"term {name!r} is not an agenda item")
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidNote(f"term {name!r} must be a number, got {value!r}")
            if not math.isfinite(value):
                raise InvalidNote(f"term {name!r} must be finite")
            low = -math.inf if item.min is None else item.min
            high = math.inf if item.max is None else item.max
            if not low <= value <= high:
                raise InvalidNote(f"term {name!r}={value} is outside [{item.min}, {item.max}]")

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
        is_offer = target.kind == "proposal" or target.answer == "counter"
        if note.answer == "accept" and not is_offer:
            what = target.kind if target.answer is None else f"{target.answer} reply"
            raise InvalidNote(f"note {target.id} is a {what}; only offers can be accepted")

    # ------------------------------------------------------------------ mediator

    def _mediator_note(self, command: cmd.Command, note_id: int) -> Note:
        self._require_role(command.by, MEDIATOR, "act as the mediator")
        if self.auto_mediator:
            raise NotPermitted("the mediator is automatic in this exercise")
        self._require_running("act on notes")
        note = self.notes.get(note_id)
        if note is None or note.status is NoteStatus.WAITING:
            raise UnknownNote(f"note {note_id} has not been handed to the mediator")
        if (note.status, type(command)) not in NOTE_MOVES:
            verb = type(command).__name__.lower()
            raise WrongState(f"cannot {verb}: note {note_id} is {note.status}")
        return note

    def _relay(self, command: cmd.Relay) -> None:
        note = self._mediator_note(command, command.note)
        if note.kind == "mediator_only":
            raise WrongState(f"cannot relay: note {note.id} is for the mediator only")
        if note.ready_at > self.now:
            left = note.ready_at - self.now
            raise WrongState(f"cannot relay: note {note.id} is still being read ({left:.0f}s more)")
        tags = note.tags if command.tags is None else list(command.tags)
        terms = note.terms if command.terms is None else dict(command.terms)
        text = note.text if command.text is None else command.text
        if not text.strip() or len(text) > MAX_TEXT:
            raise InvalidNote(f"text must be 1 to {MAX_TEXT} characters")
        self._check_tags(tags)
        self._check_terms(terms)
        refused = self._refused(self._other(note.sender), tags)
        if refused and self.scenario.rules.scope == "return":
            raise OutOfScope(
                f"cannot relay: note {note.id} is tagged {', '.join(refused)}, which "
                f"{self._other(note.sender)} refuses to discuss; return it, or relay a "
                "paraphrase without those tags"
            )
        self._carry(command.by, note, text, tags, terms)

    def _carry(
        self, by: str, note: Note, text: str, tags: list[str], terms: dict[str, float]
    ) -> None:
        recipient = self._other(note.sender)
        paraphrased = (text, tags, terms) != (note.text, note.tags, note.terms)
        flags = []
        if self.scenario.rules.scope == "flag":
            flags = [
                f"{recipient} refuses to discuss {tag}" for tag in self._refused(recipient, tags)
            ]
        note.carried = {"text": text, "tags": list(tags), "terms": dict(terms), "flags": flags}
        self._move(note, cmd.Relay, recipient, "relayed")
        self._emit(
            ev.NoteRelayed,
            by=by,
            note=note.id,
            recipient=recipient,
            text=text,
            tags=list(tags),
            terms=dict(terms),
            paraphrased=paraphrased,
            flags=list(flags),
        )

    def _hold(self, command: cmd.Hold) -> None:
        note = self._mediator_note(command, command.note)
        if command.until is not None and command.until <= self.now:
            raise InvalidNote(f"hold until {command.until}: that time has passed")
        note.held_until = command.until
        self._move(note, cmd.Hold)
        self._emit(ev.NoteHeld, by=command.by, note=note.id, until=command.until)
        if command.until is not None:
            self._schedule(command.until, "unhold", note.id)

    def _release(self, command: cmd.Release) -> None:
        note = self._mediator_note(command, command.note)
        self._move(note, cmd.Release)
        self._emit(ev.NoteReleased, by=command.by, note=note.id)

    def _send_back(self, command: cmd.Return | cmd.Decline) -> None:
        note = self._mediator_note(command, command.note)
        words = command.comment if isinstance(command, cmd.Return) else command.reason
        if not words.strip() or len(words) > MAX_TEXT:
            raise InvalidNote(f"say why, in 1 to {MAX_TEXT} characters")
        self._send_back_note(command.by, note, type(command), words)

    def _send_back_note(
        self, by: str, note: Note, action: type[cmd.Return | cmd.Decline], words: str
    ) -> None:
        note.comment = words
        note.carried = {
            "text": note.text,
            "tags": list(note.tags),
            "terms": dict(note.terms),
            "flags": [],
        }
        if action is cmd.Return:
            self._move(note, action, note.sender, "returned")
            self._emit(ev.NoteReturned, by=by, note=note.id, comment=words)
        else:
            self._move(note, action, note.sender, "declined")
            self._emit(ev.NoteDeclined, by=by, note=note.id, reason=words)

    def _travel(self, command: cmd.Travel) -> None:
        self._require_role(command.by, MEDIATOR, "move the mediator")
        if self.auto_mediator:
            raise NotPermitted("the mediator is automatic in this exercise")
        self._require_running("travel")
        if isinstance(self.location, Travelling):
            raise WrongState(f"cannot travel: already on the way to {self.location.destination}")
        if command.destination not in self.parties:
            raise InvalidNote(f"no room {command.destination!r}; rooms are {list(self.parties)}")
        if command.destination == self.location:
            raise WrongState(f"cannot travel: already in {command.destination}'s room")
        self._depart(command.by, command.destination)

    def _depart(self, by: str, destination: str) -> None:
        assert isinstance(self.location, str)
        travel_s = draw(self.scenario.latency.travel, self._travel_rng)
        arrives = self.now + travel_s
        self._emit(
            ev.MediatorDeparted,
            by=by,
            origin=self.location,
            destination=destination,
            travel_s=travel_s,
            arrives_at=arrives,
        )
        self.location = Travelling(self.location, destination, arrives)
        self._schedule(arrives, "arrive")

    # ------------------------------------------------------------------ the shuttle

    def _settle(self) -> None:
        """Do everything that now follows without anyone's decision, until nothing does."""
        while self.phase is Phase.RUNNING:
            before = self._seq
            if isinstance(self.location, str):
                self._hand_over(self.location)
                self._deliver(self.location)
            if self.auto_mediator and self.phase is Phase.RUNNING:
                self._auto_mediate()
            if self._seq == before:
                return

    def _hand_over(self, room: str) -> None:
        waiting, self._waiting[room] = self._waiting[room], []
        for note_id in waiting:
            note = self.notes[note_id]
            reading_s = draw(self.scenario.latency.reading, self._reading_rng)
            note.ready_at = self.now + reading_s
            note.status = NoteStatus.WITH_MEDIATOR
            self._with_mediator[note.id] = note
            self._emit(
                ev.NoteHandedOver,
                note=note.id,
                sender=note.sender,
                reading_s=reading_s,
                ready_at=note.ready_at,
                kind=note.kind,
                text=note.text,
                tags=list(note.tags),
                terms=dict(note.terms),
                in_reply_to=note.in_reply_to,
                answer=note.answer,
            )
            if reading_s > 0:
                self._schedule(note.ready_at, "ready", note.id)
            self._receipt(note, "handed_over")

    def _deliver(self, room: str) -> None:
        outbound, self._outbound[room] = self._outbound[room], []
        for note_id in outbound:
            note = self.notes[note_id]
            note.status = NoteStatus.DELIVERED
            self._known[room].add(note.id)
            self._emit(
                ev.NoteDelivered,
                note=note.id,
                recipient=room,
                sender=note.sender,
                outcome=note.outcome or "relayed",
                kind=note.kind,
                text=note.carried["text"],
                tags=list(note.carried["tags"]),
                terms=dict(note.carried["terms"]),
                in_reply_to=note.in_reply_to,
                answer=note.answer,
                comment=note.comment,
                flags=list(note.carried.get("flags", [])),
            )
            if note.outcome == "relayed":
                self._receipt(note, "delivered")
                if self._agreed(note):
                    return

    def _agreed(self, note: Note) -> bool:
        """An accept delivered to the proposer closes the deal on the terms the acceptor read."""
        if note.kind != "reply" or note.answer != "accept" or note.in_reply_to is None:
            return False
        accepted = self.notes[note.in_reply_to]
        self._finish(ev.CORE, "agreement", accepted)
        return True

    def _auto_mediate(self) -> None:
        """The automatic mediator: carry everything read, and shuttle whenever something waits."""
        if not isinstance(self.location, str):
            return
        reading = False
        for note in list(self._with_mediator.values()):
            if note.kind == "mediator_only":
                continue
            refused = self._refused(self._other(note.sender), note.tags)
            if note.ready_at > self.now:
                reading = True
            elif refused and self.scenario.rules.scope == "return":
                why = f"{self._other(note.sender)} refuses to discuss {', '.join(refused)}"
                self._send_back_note(ev.AUTO, note, cmd.Return, f"Out of scope: {why}.")
            else:
                self._carry(ev.AUTO, note, note.text, note.tags, note.terms)
        other = self._other(self.location)
        if not reading and (self._outbound[other] or self._waiting[other]):
            self._depart(ev.AUTO, other)

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
        if note.status is NoteStatus.WITH_MEDIATOR:
            self._with_mediator[note.id] = note
        elif before is NoteStatus.WITH_MEDIATOR:
            del self._with_mediator[note.id]
        if note.status is NoteStatus.OUTBOUND:
            assert destination is not None
            note.destination, note.outcome = destination, outcome
            self._outbound[destination].append(note.id)

    _RECEIPTS = {
        "none": (),
        "handed_over": ("handed_over",),
        "delivered": ("handed_over", "delivered"),
    }

    def _receipt(self, note: Note, status: str) -> None:
        """Tell the sender how its note fares, as far as the scenario's receipts rule says."""
        if status in self._RECEIPTS[self.scenario.rules.receipts]:
            self._emit(ev.NoteReceipt, note=note.id, recipient=note.sender, status=status)

    def _refused(self, recipient: str, tags: list[str]) -> list[str]:
        """The note's agenda tags that ``recipient`` declared out of scope."""
        refuses = self.scenario.party(recipient).refuses
        return [tag for tag in tags if tag in refuses]

    def _other(self, party: str) -> str:
        first, second = self.parties
        return second if party == first else first

    def _emit(self, cls: type[ev.Event], **payload: Any) -> Any:
        self._seq += 1
        event = cls(seq=self._seq, at=self.now, **payload)
        self._out.append(event)
        return event
