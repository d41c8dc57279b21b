"""The seats' commands: the facilitator's controls and rule changes, a party's notes, the
mediator's actions. Each handler validates its command in full before it touches any state,
so a refused command changes nothing; the automatic mediator's commands come through the same
handlers (:mod:`.mediator`).
"""

from __future__ import annotations

from . import commands as cmd
from . import events as ev
from .checks import MAX_TEXT
from .errors import (
    DirectChannel,
    InvalidCommand,
    InvalidNote,
    NotPermitted,
    OutOfScope,
    UnknownNote,
    WrongState,
)
from .lifecycle import CONTROL_EVENTS, LIFECYCLE, Phase
from .notes import Move, Note, NoteStatus
from .rules import expiry, holds, scope
from .rules.sittings import travel_refusal
from .shuttle import Shuttle
from .state import FACILITATOR, MEDIATOR, Travelling
from .timers import TimerKind

__all__ = ["SeatCommands"]

_S = NoteStatus


class SeatCommands(Shuttle):
    """What each seat may ask, a part of :class:`~relay.core.exercise.Exercise`."""

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

    def _change_rules(self, command: cmd.ChangeRules) -> None:
        """New delivery rules from now on. Delays already drawn stand; nothing in flight is
        dropped or doubled, because no note changes status."""
        self._require_role(command.by, FACILITATOR, "change the delivery rules")
        if self.phase is Phase.ENDED:
            raise WrongState("cannot change the rules: the exercise has ended")
        self._use_rules(command.rules)
        self._emit(ev.RulesChanged.Draft(by=command.by, delivery=dict(command.rules.written)))

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
                **note.as_written(),
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
