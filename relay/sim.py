"""The headless driver: one exercise on a virtual clock, seats played by in-process bots.

Time jumps straight to the next thing that happens (a core timer or a bot's next move), so an
exercise of hours runs in milliseconds. Bots see exactly what their seat may see (the same
:func:`visible_to` the live relay uses) and answer with commands after a thinking delay. The
result is a journal, byte-identical for the same scenario, seed and bots.
"""

from __future__ import annotations

import heapq
import multiprocessing
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from relay.core import Exercise, Phase, RuleViolation, visible_to
from relay.core import commands as cmd
from relay.core import events as ev
from relay.core.bots import Intent, SeatBot
from relay.core.config import ExerciseConfig
from relay.core.exercise import FACILITATOR
from relay.gcpause import cyclic_gc_paused
from relay.journal import dumps, to_entry
from relay.rng import SeededStreams, seeded_streams
from schemas.scenario import Scenario
from schemas.translate import exercise_config

__all__ = [
    "BotFactory",
    "Intent",
    "RunSummary",
    "SeatBot",
    "SimulationResult",
    "count_offers",
    "simulate",
    "simulate_many",
]


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
    config: ExerciseConfig | None = None,
) -> SimulationResult:
    """Play ``scenario`` to its end (agreement, deadline, or nothing left to happen).

    ``config`` is the scenario as the core takes it, for a caller that runs one scenario many
    times (made from ``scenario`` if not given)."""
    config = exercise_config(scenario) if config is None else config
    with cyclic_gc_paused():
        return _simulate(config, seed, list(bots), max_events)


def _simulate(
    config: ExerciseConfig, seed: int, bots: list[SeatBot], max_events: int
) -> SimulationResult:
    core = Exercise(config, seed=seed, rng=seeded_streams(seed))
    pending: list[tuple[float, int, cmd.Command]] = []
    order = 0
    journal: list[ev.Event] = []
    refused: list[tuple[float, cmd.Command, str]] = []

    watchers = [(bot, bot.seat, bot.role, getattr(bot, "reads", None)) for bot in bots]
    # per event class, the bots that read it (all of them unless a bot says what it reads)
    routes: dict[type[ev.Event], list[tuple[SeatBot, str, str]]] = {}

    push = heapq.heappush

    def dispatch(events: list[ev.Event]) -> None:
        nonlocal order
        journal.extend(events)
        for event in events:
            kind = type(event)
            route = routes.get(kind)
            if route is None:
                route = routes[kind] = [
                    (bot, seat, role)
                    for bot, seat, role, reads in watchers
                    if reads is None or kind in reads
                ]
            for bot, seat, role in route:
                if visible_to(seat, role, event):
                    for intent in bot.observe(event):
                        order += 1
                        push(pending, (event.at + intent.delay, order, intent.command))

    core.handle(cmd.Start(by=FACILITATOR), 0.0)
    dispatch(core.events())
    for bot in bots:
        for intent in bot.on_start(0.0):
            order += 1
            heapq.heappush(pending, (intent.delay, order, intent.command))

    running = Phase.RUNNING  # bound once: an enum member lookup is not free
    next_deadline, handle, advance, drain = (
        core.next_deadline,
        core.handle,
        core.advance,
        core.events,
    )
    while core.phase is running and len(journal) < max_events:
        timer = next_deadline()
        if pending and (timer is None or pending[0][0] <= timer):
            due, _, command = heapq.heappop(pending)
            try:
                handle(command, due)
            except RuleViolation as error:
                refused.append((due, command, str(error)))
        elif timer is not None:
            advance(timer)
        else:
            break
        dispatch(drain())
    return SimulationResult(journal, refused)


# ---------------------------------------------------------------------- batch studies

BotFactory = Callable[[Scenario, SeededStreams], Sequence[SeatBot]]
"""Makes the bots of one run from the scenario and the run's seeded streams
(``clients.bots.default_bots`` is one). With workers it must be picklable: a module-level
function."""


@dataclass(frozen=True, slots=True)
class RunSummary:
    """One run of a study: how it ended, and its journal if it was asked for."""

    seed: int
    outcome: str  # agreement, deadline, facilitator, or unfinished
    ended_at: float | None  # exercise time of its end
    events: int
    offers: int
    refused: int
    journal: str | None = None  # its entries as JSON Lines, exactly as a journal file has them


def count_offers(events: Iterable[ev.Event]) -> int:
    """Offers made: proposals and counter-replies submitted."""
    offers = 0
    submitted = ev.NoteSubmitted
    for e in events:
        if isinstance(e, submitted) and (
            e.kind == "proposal" or (e.kind == "reply" and e.answer == "counter")
        ):
            offers += 1
    return offers


def simulate_many(
    scenario: Scenario,
    seeds: Sequence[int],
    bots: BotFactory,
    *,
    workers: int = 1,
    journals: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> list[RunSummary]:
    """Simulate one exercise per seed, spread over ``workers`` processes; summaries in seed
    order.

    Every run is :func:`simulate` of its own seed, with its whole journal built in memory, so
    a run's result does not depend on the worker that made it or on the other runs: the same
    seeds give the same summaries and byte-identical journals with any number of workers.
    ``journals=True`` keeps each journal's entries as JSON Lines (that costs the encoding).
    ``progress(done, total)`` is called in this process as runs complete.
    """
    seeds = list(seeds)
    total = len(seeds)
    out: list[RunSummary] = []
    if workers <= 1 or total <= 1:
        for start in range(0, total, _CHUNK):
            for run in _run_seeds(scenario, seeds[start : start + _CHUNK], bots, journals):
                out.append(run)
                if progress is not None:
                    progress(len(out), total)
        return out
    # as many chunks for every worker, each of at most _CHUNK runs: the workers finish together
    per_worker = -(-total // (workers * _CHUNK))
    size = -(-total // (workers * per_worker))
    chunks = [seeds[i : i + size] for i in range(0, total, size)]
    methods = multiprocessing.get_all_start_methods()
    # fork: a worker starts in milliseconds with everything imported; spawn elsewhere
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    with ProcessPoolExecutor(
        max_workers=min(workers, len(chunks)),
        mp_context=context,
        initializer=_init_worker,
        initargs=(scenario, bots, journals),
    ) as pool:
        for done in pool.map(_run_chunk, chunks):
            out.extend(done)
            if progress is not None:
                progress(len(out), total)
    return out


_CHUNK = 16
"""Runs made under one pause of the cyclic GC (and the most a worker is given at once)."""


def _run_seeds(
    scenario: Scenario, seeds: list[int], bots: BotFactory, journals: bool
) -> Iterator[RunSummary]:
    """Runs one after the other, under one pause of the cyclic GC.

    Each :func:`simulate` pauses it too, and on its own would turn it back on at its end, while
    its journal is still alive: the first collection after that walks the whole journal. Under
    one pause for several runs, the journals are gone (reference counting frees them once
    summarised) by the time the collector runs. Nothing a run builds is cyclic garbage, and
    a pause lasts a few runs, so memory stays flat either way.
    """
    config = exercise_config(scenario)
    with cyclic_gc_paused():
        for seed in seeds:
            yield _run(scenario, config, seed, bots, journals)


def _run(
    scenario: Scenario, config: ExerciseConfig, seed: int, bots: BotFactory, journal: bool
) -> RunSummary:
    result = simulate(scenario, seed, bots(scenario, seeded_streams(seed)), config=config)
    events = result.events
    end = result.outcome
    text = None
    if journal:
        text = "".join(dumps(to_entry(event).to_json()) + "\n" for event in events)
    return RunSummary(
        seed=seed,
        outcome=end.reason if end is not None else "unfinished",
        ended_at=end.at if end is not None else None,
        events=len(events),
        offers=count_offers(events),
        refused=len(result.refused),
        journal=text,
    )


_WORKER: tuple[Scenario, BotFactory, bool] | None = None


def _init_worker(scenario: Scenario, bots: BotFactory, journals: bool) -> None:
    global _WORKER
    _WORKER = (scenario, bots, journals)


def _run_chunk(seeds: list[int]) -> list[RunSummary]:
    assert _WORKER is not None, "a study worker runs only after _init_worker"
    scenario, bots, journals = _WORKER
    return list(_run_seeds(scenario, seeds, bots, journals))
