"""The bot protocol: what a seat played in process is shown, and how it answers.

A bot is pure decision logic. A driver shows it the events its seat may see and gets back
:class:`Intent` values: a command to issue after a thinking delay. The headless simulator
(:mod:`relay.sim`) drives bots on its virtual clock; the demo drives the same bots over real
websockets through the SDK. Nothing here depends on either driver, so bots (``clients.bots``)
import only this module and the core's commands and events.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from . import commands as cmd
from . import events as ev

__all__ = ["Intent", "SeatBot"]


@dataclass(frozen=True, slots=True)
class Intent:
    """A bot's decision: issue ``command`` after ``delay`` seconds of exercise time."""

    delay: float
    command: cmd.Command


class SeatBot(Protocol):
    """A seat played in process. A bot may also have ``reads``: the event classes its
    ``observe`` can answer (it returns nothing for any other); the driver then shows it only
    those. Without it, the bot is shown every event its seat may see."""

    seat: str
    role: str

    def on_start(self, now: float) -> Sequence[Intent]: ...

    def observe(self, event: ev.Event) -> Sequence[Intent]: ...
