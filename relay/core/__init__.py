"""The sans-I/O shuttle core: no clocks, sockets, databases, global randomness or wire models.

Drivers (the live relay, the headless simulator, replay) build an :class:`Exercise` from an
:class:`~relay.core.config.ExerciseConfig` (``schemas.translate.exercise_config`` makes one from
a scenario), push commands in with ``now``, pull events out, and wake the core at
:meth:`Exercise.next_deadline`. The rooms of the package:

| module | what it holds |
|---|---|
| ``exercise.py`` | :class:`Exercise`: inputs, the timers' actions, the settling loop |
| ``state.py`` | its state, the queries, and ``_emit``, the one place events are made |
| ``shuttle.py`` | the courier's mechanics: hand-over, relay, walk, delivery, expiry |
| ``seats.py`` | the seats' commands: controls, rule changes, notes, the mediator's actions |
| ``notes.py`` | a note's life: the transition table and the :class:`NoteBook` that applies it |
| ``lifecycle.py`` | the exercise's phases and the facilitator's controls, as a table |
| ``timers.py`` | the typed timer queue |
| ``rules/`` | one module per delivery rule, each a pure function |
| ``draws.py`` | injected randomness and the recorder that journals every draw |
| ``mediator.py`` | the automatic mediator, a policy issuing the human mediator's commands |
| ``checks.py`` | what makes a note well formed |
| ``config.py`` | the core's configuration, frozen dataclasses |
| ``commands.py``, ``events.py`` | what seats ask, and what happened |
| ``visibility.py`` | who may see which event |
| ``errors.py`` | the error tree |
"""

from . import commands, config, events
from .draws import Draws, Rng, RngFactory
from .errors import (
    DirectChannel,
    InvalidCommand,
    InvalidNote,
    LocalProtocolError,
    NotPermitted,
    OutOfScope,
    RuleViolation,
    ShuttleError,
    UnknownNote,
    WrongState,
)
from .exercise import Exercise
from .lifecycle import Phase
from .notes import NoteStatus
from .rules.latency import sample
from .visibility import visible_to

__all__ = [
    "DirectChannel",
    "Draws",
    "Exercise",
    "InvalidCommand",
    "InvalidNote",
    "LocalProtocolError",
    "NotPermitted",
    "NoteStatus",
    "OutOfScope",
    "Phase",
    "Rng",
    "RngFactory",
    "RuleViolation",
    "ShuttleError",
    "UnknownNote",
    "WrongState",
    "commands",
    "config",
    "events",
    "sample",
    "visible_to",
]
