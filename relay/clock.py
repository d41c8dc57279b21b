"""Exercise time on the wall clock, for the live driver.

    draft --start--> running (at + (wall - anchor) * speed) --pause--> frozen --resume--> ...
                                                           --end--> frozen for good

The clock is anchored on the wall time journalled with each start or resume, so a relay
restarted from its journal goes on with the same timeline (docs/architecture.md, "Crash
recovery").
"""

from __future__ import annotations

import time
from collections.abc import Callable

from relay.core import events as ev

__all__ = ["ExerciseClock"]


class ExerciseClock:
    """Exercise time from the wall clock: ``at + (wall - anchor) * speed`` while running.

    Frozen before the start and while paused. Anchored on the wall time journalled with the
    start/resume event, so a restarted server continues the same timeline.
    """

    def __init__(self, speed: float, wall: Callable[[], float] = time.time) -> None:
        self.speed = speed
        self.wall = wall
        self._at = 0.0
        self._anchor: float | None = None

    def now(self) -> float:
        if self._anchor is None:
            return self._at
        return self._at + max(0.0, self.wall() - self._anchor) * self.speed

    def run_from(self, at: float, wall: float) -> None:
        self._at, self._anchor = at, wall

    def freeze(self, at: float) -> None:
        self._at, self._anchor = at, None

    def seconds_until(self, at: float) -> float:
        """Wall seconds until exercise time ``at`` (infinite while frozen)."""
        if self._anchor is None:
            return float("inf")
        return max(0.0, (at - self.now()) / self.speed)

    def follow(self, event: ev.Event, wall: float | None) -> None:
        """Track the lifecycle: run from a start/resume, freeze on a pause or the end."""
        kind = type(event)
        if kind is ev.ExerciseStarted or kind is ev.ExerciseResumed:
            self.run_from(event.at, wall if wall is not None else self.wall())
        elif kind is ev.ExercisePaused or kind is ev.ExerciseEnded:
            self.freeze(event.at)
