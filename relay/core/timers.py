"""The core's timers: a heap of ``(due, order, kind, ref)``.

Ties keep insertion order (``order`` grows with every timer set), so items are never compared
beyond it, as in SimPy's scheduler. The core pops every timer due at one instant before anyone
decides anything (see :meth:`relay.core.exercise.Exercise.advance`).
"""

from __future__ import annotations

import heapq
from enum import StrEnum

__all__ = ["TimerKind", "Timers"]


class TimerKind(StrEnum):
    ARRIVE = "arrive"  # the mediator walks into the room it travels to
    DEADLINE = "deadline"  # the exercise's time is up
    READY = "ready"  # a note handed over has been read
    DRAFTED = "drafted"  # a relayed note is written up and can travel (ref: the note)
    UNHOLD = "unhold"  # a hold's time has come (ref: the note)
    EXPIRE = "expire"  # an offer lapses (ref: the note)
    WAKE = "wake"  # the automatic mediator's departure slot


Timer = tuple[float, int, TimerKind, int]


class Timers:
    """Pending timers, earliest first."""

    __slots__ = ("_heap", "_order")

    def __init__(self) -> None:
        self._heap: list[Timer] = []
        self._order = 0

    def set(self, due: float, kind: TimerKind, ref: int = 0) -> None:
        self._order += 1
        heapq.heappush(self._heap, (due, self._order, kind, ref))

    def next_due(self) -> float | None:
        return self._heap[0][0] if self._heap else None

    def pop(self, due: float) -> tuple[TimerKind, int] | None:
        """The next timer due exactly at ``due``, removed; None when there is none left."""
        heap = self._heap
        if not heap or heap[0][0] != due:
            return None
        _, _, kind, ref = heapq.heappop(heap)
        return kind, ref

    def shift(self, by: float) -> None:
        """Everything pending is due ``by`` seconds later (a pause stopped the clock)."""
        self._heap = [(due + by, order, kind, ref) for due, order, kind, ref in self._heap]

    def __len__(self) -> int:
        return len(self._heap)
