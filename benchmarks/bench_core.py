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


def _simulate_one(scenario: Any, seed: int) -> Any:
    from clients.bots import default_bots
    from relay.rng import seeded_streams
    from relay.sim import simulate

    return simulate(scenario, seed, default_bots(scenario, seeded_streams(seed)))


def simulate_rates(exercises: int, batch: int, reps: int, workers: int) -> dict[str, Any]:
    """Per repetition: simulate ``exercises`` bilateral exercises (seeds differ) in this process,
    then a study of ``batch`` more spread over ``workers`` processes
    (``relay.sim.simulate_many``, a fresh pool each time, its start-up timed too)."""
    from clients.bots import default_bots
    from relay.sim import simulate_many

    scenario = bargaining_scenario()
    _simulate_one(scenario, 0)  # warm caches and imports
    out: dict[str, list[float]] = {
        "exercises_per_s": [],
        "offers_per_s": [],
        "events_per_s": [],
        "offers_per_exercise": [],
        "batch_offers_per_s": [],
        "batch_exercises_per_s": [],
    }
    seed = 1
    for _ in range(reps):
        for in_batch in (False, True):
            count = batch if in_batch else exercises
            seeds = range(seed, seed + count)
            seed += count
            gc.collect()
            t0 = time.perf_counter()
            runs = simulate_many(scenario, seeds, default_bots, workers=workers if in_batch else 1)
            elapsed = time.perf_counter() - t0
            unfinished = [run.seed for run in runs if run.outcome == "unfinished"]
            if unfinished:
                raise RuntimeError(f"simulation seeds {unfinished} did not end")
            offers = sum(run.offers for run in runs)
            if in_batch:
                out["batch_offers_per_s"].append(offers / elapsed)
                out["batch_exercises_per_s"].append(count / elapsed)
                continue
            out["exercises_per_s"].append(count / elapsed)
            out["offers_per_s"].append(offers / elapsed)
            out["events_per_s"].append(sum(run.events for run in runs) / elapsed)
            out["offers_per_exercise"].append(offers / count)
    return out


def stored_journal(deadline_s: float) -> list[Any]:
    """Entries of one simulated exercise, round-tripped through JSON as a store returns them."""
    import json

    from relay.entry import Entry
    from relay.journal import dumps, to_entry

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
