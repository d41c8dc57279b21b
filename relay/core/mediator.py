"""The automatic mediator: a policy that plays the mediator's seat with the human's commands.

A policy looks at the exercise and yields the commands a human mediator would send (``Relay``,
``Hold``, ``Return``, ``Travel``), each by :data:`~relay.core.events.AUTO`. The core applies
each one through the same handler, and the same checks, as a human's before the policy goes on,
so the policy sees what its last command did. A policy may also yield :class:`Wake`: "look
again at this time", for a departure it must wait for. A second policy is one more class with
an ``act`` method.

:class:`Courier`, the policy of ``mediator.mode: auto``: carry everything read, verbatim, unless
the link's hold policy keeps it back or its recipient refuses its tags under ``scope: return``;
and shuttle whenever something waits in the other room or is to be carried there, once nothing
is being read or drafted (with a scheduled pouch, on the pouch's schedule), inside the sitting
hours.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from . import commands as cmd
from .events import AUTO
from .rules import holds, pouch, scope

if TYPE_CHECKING:
    from .exercise import Exercise

__all__ = ["Courier", "MediatorPolicy", "Wake"]


@dataclass(frozen=True, slots=True)
class Wake:
    """Call the policy again at ``at`` (exercise time)."""

    at: float


class MediatorPolicy(Protocol):
    def act(self, exercise: Exercise) -> Iterable[cmd.Command | Wake]:
        """The policy's turn: its commands (and wakes), each applied before the next is
        asked for."""
        ...


class Courier:
    """Carry everything read, and shuttle whenever something waits (see the module doc)."""

    __slots__ = ("_checked",)

    def __init__(self) -> None:
        self._checked: set[int] = set()  # notes the hold policy has looked at

    def act(self, exercise: Exercise) -> Iterable[cmd.Command | Wake]:
        here = exercise.location
        if not isinstance(here, str):
            return ()
        if not exercise.book.with_mediator:  # most turns: only whether to leave
            departure = self._shuttle(exercise, here, bool(exercise.book.drafting))
            return () if departure is None else (departure,)
        return self._decide(exercise, here)

    def _decide(self, exercise: Exercise, here: str) -> Iterator[cmd.Command | Wake]:
        """Each note read: hold, return or relay it; then whether to leave."""
        now, book = exercise.now, exercise.book
        busy = bool(book.drafting)
        for note in list(book.with_mediator.values()):
            if note.kind == "mediator_only":
                continue
            if note.ready_at > now:
                busy = True
                continue
            if note.id not in self._checked:
                self._checked.add(note.id)
                hold = self._hold(exercise, note.id)
                if hold is not None:
                    yield cmd.Hold(
                        by=AUTO, note=note.id, until=hold.until, condition=hold.condition_text
                    )
                    continue
            recipient = exercise.other(note.sender)
            blocked = scope.blocking(
                exercise.link_to(recipient), exercise.refuses(recipient), note.tags
            )
            if blocked:
                comment = scope.return_comment(recipient, blocked)
                yield cmd.Return(by=AUTO, note=note.id, comment=comment)
            else:
                yield cmd.Relay(by=AUTO, note=note.id)
        departure = self._shuttle(exercise, here, busy)
        if departure is not None:
            yield departure

    @staticmethod
    def _hold(exercise: Exercise, note_id: int) -> holds.Hold | None:
        note = exercise.book.notes[note_id]
        link = exercise.link_from(note.sender)
        if link.hold is None:
            return None
        previous = exercise.last_offer(note.sender)
        if previous is not None and exercise.condition_holds(("answered", previous)):
            previous = None
        return holds.policy_hold(link, note.is_offer, previous, exercise.now, exercise.draws)

    @staticmethod
    def _shuttle(exercise: Exercise, here: str, busy: bool) -> cmd.Travel | Wake | None:
        """Leave for the other room if anything calls for it, now or at the next slot."""
        book, other = exercise.book, exercise.other(here)
        if not (
            book.outbound[other]
            or book.left_behind[other]
            or book.waiting[other]
            # a note for this room that missed the pouch goes out and comes back with the next
            or book.left_behind[here]
            or (book.outbound[here] and not exercise.delivers_now(here))
        ):
            return None
        link = exercise.link_to(other)
        scheduled = link.pouch is not None and link.pouch.every is not None
        if busy and not scheduled:
            return None  # without a schedule, the mediator finishes reading and writing first
        leave_at = pouch.departure_time(link, exercise.rules.sittings, exercise.now)
        if leave_at is None:
            return None  # no sitting left: the mediator stays put
        if leave_at <= exercise.now:
            return cmd.Travel(by=AUTO, destination=other)
        return Wake(leave_at)
