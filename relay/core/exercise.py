"""The shuttle core: one exercise, as a deterministic state machine with time as an argument.

Push in, pull out (the shape of h11, wsproto and aioquic)::

    core = Exercise(config, seed=7, rng=streams)     # journals exercise.created
    core.handle(Submit(by="iran", ...), now=12.0)    # may raise RuleViolation
    core.advance(now=30.0)                           # wake: fire every timer due by now
    core.next_deadline()                             # when to call advance next (or None)
    core.events()                                    # drain what happened, in journal order

Rules this module enforces (docs/architecture.md, "The core contract"):

* No direct channel: a party hands notes only to the mediator; addressing the other party
  raises :class:`DirectChannel`.
* The mediator is a courier: in exactly one room, or travelling between two. A note is handed
  over only while the mediator stands in its sender's room, and delivered only while the
  mediator stands in its recipient's room (on arrival, or at once if already there).
* Time never runs backwards; timers due at ``t`` fire before any input stamped ``t``, each
  stamped with its own due time (:mod:`.timers`).
* A refused command changes nothing: it is validated in full before any state is touched. The
  timers that fired on the way to its ``now`` stand, so drivers drain events even after an error.

Where the rest lives: the note's life is the table in :mod:`.notes`; the lifecycle is the
table in :mod:`.lifecycle`; every delivery rule is a module of :mod:`.rules`, drawing through
the :class:`~.draws.Recorder`; the automatic mediator is a policy (:mod:`.mediator`) whose
commands go through the same handlers as a human mediator's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from . import commands as cmd
from . import events as ev
from .checks import MAX_TEXT, NoteChecks
from .config import ExerciseConfig, Link, Rules, inbound, outbound
from .draws import Draws, Recorder
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
from .lifecycle import CONTROL_EVENTS, LIFECYCLE, Phase
from .mediator import Courier, MediatorPolicy, Wake
from .notes import Move, Note, NoteBook, NoteStatus
from .rules import distortion, duplication, expiry, holds, loss, order, pouch, receipts, scope
from .rules.sittings import travel_refusal
from .timers import TimerKind, Timers

__all__ = ["FACILITATOR", "MEDIATOR", "Exercise", "Travelling"]

MEDIATOR = "mediator"
FACILITATOR = "facilitator"

_E = TypeVar("_E", bound=ev.Event)
_RUNNING = Phase.RUNNING
_S = NoteStatus


@dataclass(frozen=True, slots=True)
class Travelling:
    origin: str
    destination: str
    arrives_at: float


class Exercise:
    """One exercise's protocol state. Not thread-safe; drivers serialise calls."""

    def __init__(
        self,
        config: ExerciseConfig,
        *,
        seed: int,
        rng: Draws,
        policy: MediatorPolicy | None = None,
    ) -> None:
        self.config = config
        self.seed = seed
        self.parties = config.party_ids
        first, second = self.parties
        self._others = {first: second, second: first}
        self._agenda = {item.id: item for item in config.agenda}
        self._refuses = {party.id: party.refuses for party in config.parties}
        self._checks = NoteChecks(self._agenda)
        self.phase = Phase.DRAFT
        self.now = 0.0
        self.location: str | Travelling = config.start_room or first
        self.auto_mediator = config.auto_mediator
        self._policy = (policy or Courier()) if config.auto_mediator else None
        self.outcome: ev.ExerciseEnded | None = None
        self.book = NoteBook(self.parties)
        self.notes: dict[int, Note] = self.book.notes
        self.draws = Recorder(rng)
        self._use_rules(config.rules)
        self._client_ids: dict[tuple[str, str], int] = {}
        self._known: dict[str, set[int]] = {party: set() for party in self.parties}
        self._answered: set[int] = set()  # notes a reply was handed over for
        self._last_offer: dict[str, int] = {}  # per party, its last offer relayed
        self._last_ready: dict[str, float] = {}  # per link, for order: preserve
        self._timers = Timers()
        self._wake_at: float | None = None  # the automatic mediator's next departure slot
        self._arrived_at = 0.0  # when the mediator entered the room it stands in
        self._unpacked = 0  # notes handed out of the pouch at that arrival
        self._paused_at = 0.0
        self._seq = 0
        self._out: list[ev.Event] = []
        self._emit(ev.ExerciseCreated.Draft(scenario=config.written, seed=seed))

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
        its trips. A refusal is returned in its command's place and the others stand. One
        command is exactly :meth:`handle`.

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
        while self.phase is _RUNNING:
            due = timers.next_due()
            if due is None or due > now:
                break
            # Everything due at one instant fires before anyone decides: a note that becomes
            # ready at the very moment the pouch leaves travels with it.
            self.now = due
            while self.phase is _RUNNING:
                timer = timers.pop(due)
                if timer is None:
                    break
                kind, ref = timer
                _TIMER_ACTIONS[kind](self, ref)
            self._settle()
        self.now = now

    def next_deadline(self) -> float | None:
        """Exercise time at which :meth:`advance` must next be called, if any."""
        if self.phase is not _RUNNING:
            return None
        return self._timers.next_due()

    def events(self) -> list[ev.Event]:
        """Drain the events produced since the last call, in journal order."""
        out, self._out = self._out, []
        return out

    # ------------------------------------------------------------------ queries

    @property
    def last_seq(self) -> int:
        return self._seq

    @property
    def links(self) -> dict[str, Link]:
        return dict(self.rules.links)

    def role_of(self, seat: str) -> str:
        """``party``, ``mediator``, ``facilitator`` or ``observer``; ``LookupError`` if none."""
        if seat in self._others:
            return "party"
        if seat in (MEDIATOR, FACILITATOR):
            return seat
        if seat == "observer" or seat.startswith("observer-"):
            return "observer"
        raise LookupError(f"no seat {seat!r} in this exercise")

    def role_of_or_none(self, seat: str) -> str | None:
        try:
            return self.role_of(seat)
        except LookupError:
            return None

    def note_for_client(self, seat: str, client_id: str) -> int | None:
        """The note a seat already submitted under ``client_id`` (idempotent resubmission)."""
        return self._client_ids.get((seat, client_id))

    def in_flight(self) -> list[Note]:
        """Notes not yet delivered, lost or lapsed, oldest first (for the facilitator's view)."""
        return self.book.in_flight()

    def other(self, party: str) -> str:
        return self._others.get(party, self.parties[0])

    def link_from(self, party: str) -> Link:
        """The link on which ``party`` hands its notes to the mediator."""
        return self._from[party]

    def link_to(self, party: str) -> Link:
        """The link on which the mediator brings notes to ``party``."""
        return self._to[party]

    def refuses(self, party: str) -> frozenset[str]:
        return self._refuses[party]

    def last_offer(self, party: str) -> int | None:
        """The last offer of ``party`` the mediator relayed."""
        return self._last_offer.get(party)

    def condition_holds(self, condition: holds.Condition) -> bool:
        note = self.notes[condition[1]]
        return holds.condition_holds(condition, note.status, note.id in self._answered)

    def delivers_now(self, room: str) -> bool:
        return pouch.delivers_now(self._to[room], self.now, self._arrived_at)

    # ------------------------------------------------------------------ time

    def _arrive(self, _ref: int) -> None:
        assert isinstance(self.location, Travelling)
        self.location = self.location.destination
        self._arrived_at = self.now
        self._unpacked = 0
        self._emit(ev.MediatorArrived.Draft(room=self.location))

    def _deadline(self, _ref: int) -> None:
        self._finish(ev.CLOCK, "deadline")

    def _read(self, _ref: int) -> None:
        """A note has been read: settling lets the mediator look again."""

    def _hold_ends(self, ref: int) -> None:
        note = self.notes[ref]
        if note.status is _S.HELD and note.held_until == self.now:
            self._unhold(note, ev.CLOCK)

    def _drafted(self, ref: int) -> None:
        note = self.notes[ref]
        if note.status is _S.DRAFTING and note.drafted_at == self.now:
            self.book.move(note, Move.DRAFTED)

    def _lapse(self, ref: int) -> None:
        self._expire(self.notes[ref])

    def _wake(self, _ref: int) -> None:
        self._wake_at = None  # settling lets the policy look again

    def _shift_timers(self, pause: float) -> None:
        """A pause stops the exercise clock: whatever was pending is due that much later.

        Drivers that freeze their clock while paused (the live relay does) shift by zero.
        """
        if pause <= 0:
            return
        since = self._paused_at
        self._timers.shift(pause)
        if isinstance(self.location, Travelling):
            trip = self.location
            self.location = Travelling(trip.origin, trip.destination, trip.arrives_at + pause)
        if self._wake_at is not None:
            self._wake_at += pause
        for note in self.book.in_flight():
            if note.ready_at > since:
                note.ready_at += pause
            if note.drafted_at > since:
                note.drafted_at += pause
            if note.held_until is not None and note.held_until > since:
                note.held_until += pause
            if note.expires_at is not None and note.expires_at > since:
                note.expires_at += pause

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
        self._emit(CONTROL_EVENTS[type(command)].Draft(by=command.by))
        if isinstance(command, cmd.Start) and self.config.deadline is not None:
            self._timers.set(self.now + self.config.deadline, TimerKind.DEADLINE)

    def _change_rules(self, command: cmd.ChangeRules) -> None:
        """New delivery rules from now on. Delays already drawn stand; nothing in flight is
        dropped or doubled, because no note changes status."""
        self._require_role(command.by, FACILITATOR, "change the delivery rules")
        if self.phase is Phase.ENDED:
            raise WrongState("cannot change the rules: the exercise has ended")
        self._use_rules(command.rules)
        self._emit(ev.RulesChanged.Draft(by=command.by, delivery=dict(command.rules.written)))

    def _use_rules(self, rules: Rules) -> None:
        self.rules = rules
        self._from = {party: rules.links[inbound(party)] for party in self.parties}
        self._to = {party: rules.links[outbound(party)] for party in self.parties}

    def _finish(self, by: str, reason: str, note: Note | None = None) -> None:
        self.phase = Phase.ENDED
        self.outcome = self._emit(
            ev.ExerciseEnded.Draft(
                by=by,
                reason=reason,
                note=note.id if note else None,
                terms=dict(note.carried["terms"]) if note is not None else None,
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
        used = (sender, command.client_id) in self._client_ids
        self._checks.note(sender, command, used, self._known[sender], self.notes)
        note_id = len(self.notes) + 1
        note = Note(
            id=note_id,
            sender=sender,
            kind=command.kind,
            text=command.text,
            tags=list(command.tags),
            terms=dict(command.terms),
            in_reply_to=command.in_reply_to,
            answer=command.answer,
        )
        self.book.add(note)
        self._client_ids[(sender, command.client_id)] = note_id
        self._known[sender].add(note_id)
        self._emit(
            ev.NoteSubmitted.Draft(
                by=sender,
                note=note_id,
                client_id=command.client_id,
                kind=note.kind,
                text=note.text,
                tags=list(note.tags),
                terms=dict(note.terms),
                in_reply_to=note.in_reply_to,
                answer=note.answer,
                to=command.to,
            )
        )
        lapses = expiry.expires_at(self._from[sender], note.is_offer, self.now)
        if lapses is not None:
            note.expires_at = lapses
            self._timers.set(lapses, TimerKind.EXPIRE, note_id)

    def _check_address(self, sender: str, to: str) -> None:
        # No direct channel, whatever the client does.
        if to in self.parties:
            raise DirectChannel(
                f"no direct channel: {sender} cannot address {to}; "
                "hand the note to the mediator, who carries it"
            )
        raise InvalidNote(f"notes are addressed to the mediator, not {to!r}")

    # ------------------------------------------------------------------ mediator

    def _mediator_note(self, by: str, note_id: int, move: Move) -> Note:
        self._require_mediator(by, "act on notes")
        note = self.notes.get(note_id)
        if note is None or note.status is _S.WAITING:
            raise UnknownNote(f"note {note_id} has not been handed to the mediator")
        if not self.book.allows(note, move):
            raise WrongState(f"cannot {move.value}: note {note_id} is {note.status}")
        return note

    def _require_mediator(self, seat: str, what: str) -> None:
        if seat == ev.AUTO:  # the automatic mediator's policy
            if not self.auto_mediator:
                raise NotPermitted("the mediator is not automatic in this exercise")
        else:
            self._require_role(seat, MEDIATOR, "act as the mediator")
            if self.auto_mediator:
                raise NotPermitted("the mediator is automatic in this exercise")
        self._require_running(what)

    def _relay(self, command: cmd.Relay) -> None:
        note = self._mediator_note(command.by, command.note, Move.RELAY)
        self._check_relayable(note)
        tags = note.tags if command.tags is None else list(command.tags)
        terms = note.terms if command.terms is None else dict(command.terms)
        text = note.text if command.text is None else command.text
        # what the mediator rewrote is checked as a new note's would be (the rest was)
        if command.text is not None:
            self._checks.text(text)
        if command.terms is not None:
            self._checks.terms(terms)
        if command.tags is not None:
            self._checks.tags(tags)
        recipient = self.other(note.sender)
        blocked = scope.blocking(self._to[recipient], self._refuses[recipient], tags)
        if blocked:
            raise OutOfScope(
                f"cannot relay: note {note.id} is tagged {', '.join(blocked)}, which "
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
        drafting_s = self.draws.delay("drafting", link.name, link.drafting) if paraphrased else 0.0
        ready_at = self._in_order(link, self.now + drafting_s)
        read_text, read_tags, read_terms, distortions = distortion.distort(
            link, text, tags, terms, self._agenda, self.draws
        )
        flags = scope.flags(link, recipient, self._refuses[recipient], read_tags)
        note.carried = {"text": read_text, "tags": read_tags, "terms": read_terms, "flags": flags}
        note.drafted_at = ready_at
        if note.is_offer:
            self._last_offer[note.sender] = note.id
        note.destination, note.outcome = recipient, "relayed"
        self.book.move(note, Move.RELAY)
        self._emit(
            ev.NoteRelayed.Draft(
                by=by,
                note=note.id,
                recipient=recipient,
                text=text,
                tags=list(tags),
                terms=dict(terms),
                paraphrased=paraphrased,
                flags=list(flags),
                drafting_s=drafting_s,
                ready_at=ready_at,
                distortions=distortions,
            )
        )
        if ready_at > self.now:
            self._timers.set(ready_at, TimerKind.DRAFTED, note.id)
        else:
            self.book.move(note, Move.DRAFTED)

    def _hold(self, command: cmd.Hold) -> None:
        note = self._mediator_note(command.by, command.note, Move.HOLD)
        if command.until is not None and command.until <= self.now:
            raise InvalidCommand(f"hold until {command.until}: that time has passed")
        condition = None
        if command.condition is not None:
            condition = holds.parse_condition(command.condition, self.notes)
        note.held_until, note.condition = command.until, condition
        self.book.move(note, Move.HOLD)
        self._emit(
            ev.NoteHeld.Draft(
                by=command.by,
                note=note.id,
                until=command.until,
                condition=None if condition is None else f"{condition[0]}:{condition[1]}",
            )
        )
        if command.until is not None:
            self._timers.set(command.until, TimerKind.UNHOLD, note.id)

    def _release(self, command: cmd.Release) -> None:
        note = self._mediator_note(command.by, command.note, Move.RELEASE)
        self._unhold(note, command.by)

    def _unhold(self, note: Note, by: str) -> None:
        self.book.move(note, Move.RELEASE)
        self._emit(ev.NoteReleased.Draft(by=by, note=note.id))

    def _send_back(self, command: cmd.Return | cmd.Decline) -> None:
        returned = isinstance(command, cmd.Return)
        move = Move.RETURN if returned else Move.DECLINE
        note = self._mediator_note(command.by, command.note, move)
        words = command.comment if isinstance(command, cmd.Return) else command.reason
        if not words.strip() or len(words) > MAX_TEXT:
            raise InvalidCommand(f"say why, in 1 to {MAX_TEXT} characters")
        note.comment = words
        note.carried = {
            "text": note.text,
            "tags": list(note.tags),
            "terms": dict(note.terms),
            "flags": [],
        }
        note.destination = note.sender
        note.outcome = "returned" if returned else "declined"
        self.book.move(note, move)
        if returned:
            self._emit(ev.NoteReturned.Draft(by=command.by, note=note.id, comment=words))
        else:
            self._emit(ev.NoteDeclined.Draft(by=command.by, note=note.id, reason=words))

    def _travel(self, command: cmd.Travel) -> None:
        self._require_mediator(command.by, "travel")
        self._check_travel(command.destination)
        self._depart(command.by, command.destination)

    def _check_travel(self, destination: str) -> None:
        if isinstance(self.location, Travelling):
            raise WrongState(f"cannot travel: already on the way to {self.location.destination}")
        if destination not in self._others:
            raise InvalidCommand(f"no room {destination!r}; rooms are {list(self.parties)}")
        if destination == self.location:
            raise WrongState(f"cannot travel: already in {destination}'s room")
        why = travel_refusal(self.rules.sittings, self.now)
        if why is not None:
            raise WrongState(f"cannot travel: {why}")

    def _batch(self, command: cmd.Batch) -> None:
        """Relay notes verbatim and leave with them: validated whole, then applied."""
        self._require_mediator(command.by, "send a batch")
        if isinstance(self.location, Travelling):
            raise WrongState(f"cannot batch: already on the way to {self.location.destination}")
        chosen = command.notes or [
            n.id
            for n in self.book.with_mediator.values()
            if n.kind != "mediator_only" and n.ready_at <= self.now
        ]
        if not chosen:
            raise WrongState("cannot batch: no note has been read and is ready to relay")
        notes = []
        for note_id in chosen:
            note = self._mediator_note(command.by, note_id, Move.RELAY)
            self._check_relayable(note)
            recipient = self.other(note.sender)
            blocked = scope.blocking(self._to[recipient], self._refuses[recipient], note.tags)
            if blocked:
                raise OutOfScope(
                    f"cannot batch: note {note.id} is tagged {', '.join(blocked)}, which "
                    f"{recipient} refuses to discuss"
                )
            notes.append(note)
        rooms = {self.other(note.sender) for note in notes}
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
        travel_s = self.draws.delay("travel", link.name, link.travel)
        arrives = self.now + travel_s
        self._emit(
            ev.MediatorDeparted.Draft(
                by=by,
                origin=self.location,
                destination=destination,
                travel_s=travel_s,
                arrives_at=arrives,
            )
        )
        self.location = Travelling(self.location, destination, arrives)
        self._timers.set(arrives, TimerKind.ARRIVE)

    # ------------------------------------------------------------------ the shuttle

    def _settle(self) -> None:
        """Do everything that now follows without anyone's decision, until nothing does.

        A pass that emits nothing changed nothing, so it ends the loop. With the automatic
        mediator, a pass whose mediator decided nothing also ends it when no note waits on a
        condition: the next pass would meet the state this one's mediator already looked at,
        so it would decide nothing either. Only the conditions of held notes can change behind
        the mediator's back (a hand-over or delivery earlier in the pass). A pass that leaves
        the mediator travelling, with no note waiting on a condition, ends it too: without a
        room, the next pass has nothing to hand over, deliver or decide.
        """
        book = self.book
        while self.phase is _RUNNING:
            before = self._seq
            self._tend()
            if self._policy is not None and self.phase is _RUNNING:
                decided = self._seq
                self._mediate(self._policy)
                if self._seq == decided and not book.held_on_condition:
                    return
            if self._seq == before:
                return
            if not book.held_on_condition and not isinstance(self.location, str):
                return  # on the road: nothing follows until the arrival

    def _tend(self) -> None:
        """One settling pass before the mediator decides: release the held notes whose
        condition now holds, then, if the mediator is in a room, take what waits there and
        hand out what is for it."""
        book = self.book
        if book.held_on_condition:
            for note in list(book.held_on_condition.values()):
                if note.condition is not None and self.condition_holds(note.condition):
                    self._unhold(note, ev.CORE)
        room = self.location
        if isinstance(room, str):
            if book.waiting[room]:
                self._hand_over(room)
            if (book.outbound[room] or book.left_behind[room]) and pouch.delivers_now(
                self._to[room], self.now, self._arrived_at
            ):
                self._deliver(room)

    def _mediate(self, policy: MediatorPolicy) -> None:
        """The automatic mediator's turn: each command it issues is applied before it goes on."""
        for step in policy.act(self):
            if isinstance(step, Wake):
                if self._wake_at != step.at:
                    self._wake_at = step.at
                    self._timers.set(step.at, TimerKind.WAKE)
            else:
                _HANDLERS[type(step)](self, step)

    def _hand_over(self, room: str) -> None:
        link = self._from[room]
        tells = receipts.tells(link, "handed_over")
        for note in list(self.book.waiting[room].values()):
            reading_s = self.draws.delay("reading", link.name, link.reading)
            note.ready_at = self._in_order(link, self.now + reading_s)
            self.book.move(note, Move.HAND_OVER)
            if note.in_reply_to is not None and note.kind == "reply":
                self._answered.add(note.in_reply_to)
            self._emit(
                ev.NoteHandedOver.Draft(
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
            )
            if note.ready_at > self.now:
                self._timers.set(note.ready_at, TimerKind.READY, note.id)
            if tells:
                self._receipt(note, "handed_over")

    def _deliver(self, room: str) -> None:
        link, book = self._to[room], self.book
        pending = [*book.left_behind[room].values(), *book.outbound[room].values()]
        handed_out, later = pouch.load(link, pending, self._unpacked)
        for note in later:
            if note.status is _S.OUTBOUND:
                book.move(note, Move.MISS_POUCH)
        self._unpacked += len(handed_out)
        for note in handed_out:
            relayed = note.outcome == "relayed"
            if relayed and loss.lost(link, self.draws):
                book.move(note, Move.LOSE)
                self._emit(ev.NoteLost.Draft(note=note.id, recipient=room, sender=note.sender))
                continue
            copies = duplication.copies(link, self.draws) if relayed else 1
            book.move(note, Move.DELIVER)
            self._known[room].add(note.id)
            for copy in range(copies):
                self._emit(
                    ev.NoteDelivered.Draft(
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
                        duplicate=copy > 0,
                    )
                )
            if relayed:
                if receipts.tells(self._from[note.sender], "delivered"):
                    self._receipt(note, "delivered")
                if note.answer == "accept" and self._agreed(note):
                    return

    def _expire(self, note: Note) -> None:
        """An offer's time is up: withdrawn if still in flight, no longer acceptable if not."""
        if note.status is _S.LOST or note.expires_at != self.now:
            return
        delivered = note.status is _S.DELIVERED
        unseen = note.status is _S.WAITING
        if not delivered:
            self.book.move(note, Move.EXPIRE)
        note.lapsed = True
        self._emit(
            ev.NoteExpired.Draft(
                by=ev.CLOCK,
                note=note.id,
                sender=note.sender,
                recipient=self.other(note.sender),
                delivered=delivered,
                unseen=unseen,
            )
        )

    def _agreed(self, note: Note) -> bool:
        """An accept delivered to the proposer closes the deal on the terms the acceptor read."""
        if note.kind != "reply" or note.answer != "accept" or note.in_reply_to is None:
            return False
        self._finish(ev.CORE, "agreement", self.notes[note.in_reply_to])
        return True

    def _in_order(self, link: Link, ready_at: float) -> float:
        ready_at, remember = order.in_order(link, ready_at, self._last_ready.get(link.name))
        if remember:
            self._last_ready[link.name] = ready_at
        return ready_at

    def _receipt(self, note: Note, status: str) -> None:
        """Tell the sender how its note fares (callers check its link's receipts rule)."""
        self._emit(ev.NoteReceipt.Draft(note=note.id, recipient=note.sender, status=status))

    # ------------------------------------------------------------------ helpers

    def _require_role(self, seat: str, role: str, what: str) -> None:
        if self.role_of_or_none(seat) != role:
            raise NotPermitted(f"{seat} cannot {what}: only the {role} can")

    def _require_running(self, what: str) -> None:
        if self.phase is not _RUNNING:
            raise WrongState(f"cannot {what}: the exercise is {self.phase}")

    def _emit(self, draft: Any) -> Any:
        """Journal a new event, given as its class's draft (``ev.NoteHeld.Draft(...)``): the
        one place events are made. It stamps the next ``seq`` and the core's ``now``, gives an
        event that records draws every draw made since the last one (the draws its decision
        used), and seals it, frozen (:func:`relay.core.events.seal`)."""
        if self.draws.records and type(draft) in _RECORDS_DRAWS:
            draft.draws = self.draws.take()
        event = ev.seal(draft, self._seq + 1, self.now)
        self._seq = event.seq
        self._out.append(event)
        return event


_RECORDS_DRAWS = frozenset(
    cls.Draft for cls in ev.EVENT_TYPES.values() if "draws" in ev.payload_fields(cls)
)
"""Drafts of the events that record the draws of the decision they journal."""

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

_TIMER_ACTIONS: dict[TimerKind, Callable[[Exercise, int], None]] = {
    TimerKind.ARRIVE: Exercise._arrive,
    TimerKind.DEADLINE: Exercise._deadline,
    TimerKind.READY: Exercise._read,
    TimerKind.DRAFTED: Exercise._drafted,
    TimerKind.UNHOLD: Exercise._hold_ends,
    TimerKind.EXPIRE: Exercise._lapse,
    TimerKind.WAKE: Exercise._wake,
}
"""What each kind of timer does when it is due."""
