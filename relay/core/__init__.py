"""The sans-I/O shuttle core: no clocks, sockets, databases or global randomness.

Drivers (the live relay, the headless simulator, replay) push commands in with ``now``, pull
events out, and wake the core at :meth:`Exercise.next_deadline`. See ``exercise.py``.
"""

from . import commands, events
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
from .exercise import Exercise, NoteStatus, Phase
from .latency import Draws, Rng, RngFactory, sample
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
    "events",
    "sample",
    "visible_to",
]
