"""The exercise's lifecycle: its phases and the facilitator's controls, as a table::

    draft --start--> running --pause--> paused --resume--> running
    running|paused --end--> ended        (also: an agreement delivered, the deadline reached)

A control not in :data:`LIFECYCLE` for the current phase is refused with ``wrong_state``.
Notes and the mediator's actions are taken only while running; timers fire only while running.
"""

from __future__ import annotations

from enum import StrEnum

from . import commands as cmd
from . import events as ev

__all__ = ["CONTROL_EVENTS", "LIFECYCLE", "Phase"]


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

CONTROL_EVENTS: dict[
    type[cmd.Command], type[ev.ExerciseStarted | ev.ExercisePaused | ev.ExerciseResumed]
] = {
    cmd.Start: ev.ExerciseStarted,
    cmd.Pause: ev.ExercisePaused,
    cmd.Resume: ev.ExerciseResumed,
}
"""The event each lifecycle command other than End is journalled as (cmd.EVENT_OF agrees)."""
