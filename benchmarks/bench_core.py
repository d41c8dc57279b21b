"""CPU-bound benchmarks of the sans-I/O core: headless simulation and faithful replay.

Both run in a spawned process of their own (fresh heap, no server around) and time pure
computation with ``time.perf_counter``.
"""

from __future__ import annotations

import gc
import time
from typing import Any

__all__ = ["bargaining_scenario", "replay_rates", "simulate_rates"]

# A long sitting with quick shuttles: two concession bots trade ~90-100 offers before they meet
# (offers = proposals and counter-replies; the count per exercise is measured, not assumed).
SIM_DEADLINE_S = 19 * 3600.0
SIM_TRAVEL_S = 60.0
SIM_READING_S = 30.0


def bargaining_scenario(deadline_s: float = SIM_DEADLINE_S) -> Any:
    """The Muscat scenario with Constant latencies and a long deadline."""
    from schemas.scenario import Scenario, load_scenario, sample_scenario_path

    data = load_scenario(sample_scenario_path("muscat")).model_dump(mode="json")
    data["deadline"] = deadline_s
    data.pop("delivery", None)  # its preset would override the constant delays below
    data["latency"] = {
        "travel": {"dist": "constant", "value": SIM_TRAVEL_S},
        "reading": {"dist": "constant", "value": SIM_READING_S},
        "drafting": {"dist": "constant", "value": 0.0},
    }
    return Scenario.model_validate(data)


def _offers(events: list[Any]) -> int:
    from relay.core import events as ev

    return sum(
        1
        for e in events
        if isinstance(e, ev.NoteSubmitted)
        and (e.kind == "proposal" or (e.kind == "reply" and e.answer == "counter"))
    )


def _simulate_one(scenario: Any, seed: int) -> Any:
    from clients.bots import ConcessionBot
    from relay.rng import seeded_streams
    from relay.sim import simulate

    streams = seeded_streams(seed)
    bots = [
        ConcessionBot(scenario, party.id, streams(f"bot:{party.id}"), opens=index == 0)
        for index, party in enumerate(scenario.parties)
    ]
    return simulate(scenario, seed, bots)


def simulate_rates(exercises: int, reps: int) -> dict[str, Any]:
    """Per repetition: simulate ``exercises`` bilateral exercises (seeds differ), timed."""
    scenario = bargaining_scenario()
    _simulate_one(scenario, 0)  # warm caches and imports
    out: dict[str, list[float]] = {
        "exercises_per_s": [],
        "offers_per_s": [],
        "events_per_s": [],
        "offers_per_exercise": [],
    }
    seed = 1
    for _ in range(reps):
        offers = events = 0
        gc.collect()
        t0 = time.perf_counter()
        for _ in range(exercises):
            result = _simulate_one(scenario, seed)
            seed += 1
            offers += _offers(result.events)
            events += len(result.events)
            if result.outcome is None:
                raise RuntimeError(f"simulation seed {seed - 1} did not end")
        elapsed = time.perf_counter() - t0
        out["exercises_per_s"].append(exercises / elapsed)
        out["offers_per_s"].append(offers / elapsed)
        out["events_per_s"].append(events / elapsed)
        out["offers_per_exercise"].append(offers / exercises)
    return out


def stored_journal(deadline_s: float) -> list[Any]:
    """Entries of one simulated exercise, round-tripped through JSON as a store returns them."""
    import json

    from relay.journal import dumps, to_entry
    from relay.store.base import Entry

    result = _simulate_one(bargaining_scenario(deadline_s), 11)
    return [Entry.from_json(json.loads(dumps(to_entry(e).to_json()))) for e in result.events]


def replay_rates(deadline_s: float, reps: int) -> dict[str, Any]:
    """``relay.replay.verify`` of one long stored journal, ``reps`` times."""
    from relay.replay import verify

    entries = stored_journal(deadline_s)
    rates: list[float] = []
    for _ in range(reps):
        gc.collect()
        t0 = time.perf_counter()
        mismatch = verify(entries)
        elapsed = time.perf_counter() - t0
        if mismatch is not None:
            raise RuntimeError(f"the stored journal does not replay: {mismatch}")
        rates.append(len(entries) / elapsed)
    return {"events_per_s": rates, "events": len(entries)}
