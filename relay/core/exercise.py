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

Where the rest lives: :class:`Exercise` is built in layers, each a module: the state, its
queries and the one helper that makes events (:mod:`.state`), the courier's mechanics
(:mod:`.shuttle`), the seats' commands (:mod:`.seats`); this module holds the inputs, the
timers' actions and the settling loop. The note's life is the table in :mod:`.notes`; the
lifecycle is the table in :mod:`.lifecycle`; every delivery rule is a module of :mod:`.rules`,
drawing through the :class:`~.draws.Recorder`; the automatic mediator is a policy
(:mod:`.mediator`) whose commands go through the same handlers as a human mediator's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from . import commands as cmd
from . import events as ev
from .errors import (
    LocalProtocolError,
    ShuttleError,
)
from .lifecycle import Phase
from .mediator import MediatorPolicy, Wake
from .notes import Move, NoteStatus
from .rules import pouch
from .seats import SeatCommands
from .state import FACILITATOR, MEDIATOR, Travelling
from .timers import TimerKind

__all__ = ["FACILITATOR", "MEDIATOR", "Exercise", "Travelling"]

_S = NoteStatus


class Exercise(SeatCommands):
    """One exercise's protocol state. Not thread-safe; drivers serialise calls.

    Built on :class:`~relay.core.state.ExerciseState` (state, queries, events),
    :class:`~relay.core.shuttle.Shuttle` (the courier's mechanics) and
    :class:`~relay.core.seats.SeatCommands` (the commands); this class holds the inputs, the
    timers' actions and the settling loop.
    """

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
        while self.phase is Phase.RUNNING:
            due = timers.next_due()
            if due is None or due > now:
                break
            # Everything due at one instant fires before anyone decides: a note that becomes
            # ready at the very moment the pouch leaves travels with it.
            self.now = due
            while self.phase is Phase.RUNNING:
                timer = timers.pop(due)
                if timer is None:
                    break
                kind, ref = timer
                _TIMER_ACTIONS[kind](self, ref)
            self._settle()
        self.now = now

    def next_deadline(self) -> float | None:
        """Exercise time at which :meth:`advance` must next be called, if any."""
        if self.phase is not Phase.RUNNING:
            return None
        return self._timers.next_due()

    def events(self) -> list[ev.Event]:
        """Drain the events produced since the last call, in journal order."""
        out, self._out = self._out, []
        return out

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
        while self.phase is Phase.RUNNING:
            before = self._seq
            self._tend()
            if self._policy is not None and self.phase is Phase.RUNNING:
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
