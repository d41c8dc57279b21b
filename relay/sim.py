"""The headless driver: one exercise on a virtual clock, seats played by in-process bots.

Time jumps straight to the next thing that happens (a core timer or a bot's next move), so an
exercise of hours runs in milliseconds. Bots see exactly what their seat may see (the same
:func:`visible_to` the live relay uses) and answer with commands after a thinking delay. The
result is a journal, byte-identical for the same scenario, seed and bots.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from relay.core import Exercise, Phase, RuleViolation, visible_to
from relay.core import commands as cmd
from relay.core import events as ev
from relay.core.exercise import FACILITATOR
from relay.gcpause import cyclic_gc_paused
from relay.rng import seeded_streams
from schemas.scenario import Scenario

__all__ = ["Intent", "SeatBot", "SimulationResult", "simulate"]


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


@dataclass
class SimulationResult:
    events: list[ev.Event]
    refused: list[tuple[float, cmd.Command, str]]

    @property
    def outcome(self) -> ev.ExerciseEnded | None:
        last = self.events[-1] if self.events else None
        return last if isinstance(last, ev.ExerciseEnded) else None


def simulate(
    scenario: Scenario,
    seed: int,
    bots: Iterable[SeatBot],
    *,
    max_events: int = 1_000_000,
) -> SimulationResult:
    """Play ``scenario`` to its end (agreement, deadline, or nothing left to happen)."""
    with cyclic_gc_paused():
        return _simulate(scenario, seed, list(bots), max_events)


def _simulate(
    scenario: Scenario, seed: int, bots: list[SeatBot], max_events: int
) -> SimulationResult:
    core = Exercise(scenario, seed=seed, rng=seeded_streams(seed))
    pending: list[tuple[float, int, cmd.Command]] = []
    order = 0
    journal: list[ev.Event] = []
    refused: list[tuple[float, cmd.Command, str]] = []

    watchers = [(bot, bot.seat, bot.role, getattr(bot, "reads", None)) for bot in bots]

    def dispatch(events: list[ev.Event]) -> None:
        nonlocal order
        journal.extend(events)
        for event in events:
            kind = type(event)
            for bot, seat, role, reads in watchers:
                if reads is not None and kind not in reads:
                    continue
                if visible_to(seat, role, event):
                    for intent in bot.observe(event):
                        order += 1
                        heapq.heappush(pending, (event.at + intent.delay, order, intent.command))

    core.handle(cmd.Start(by=FACILITATOR), 0.0)
    dispatch(core.events())
    for bot in bots:
        for intent in bot.on_start(0.0):
            order += 1
            heapq.heappush(pending, (intent.delay, order, intent.command))

    while core.phase is Phase.RUNNING and len(journal) < max_events:
        timer = core.next_deadline()
        if pending and (timer is None or pending[0][0] <= timer):
            due, _, command = heapq.heappop(pending)
            try:
                core.handle(command, due)
            except RuleViolation as error:
                refused.append((due, command, str(error)))
        elif timer is not None:
            core.advance(timer)
        else:
            break
        dispatch(core.events())
    return SimulationResult(journal, refused)
