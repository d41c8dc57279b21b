"""Sustained journal appends to SQLite through ``relay.store.SqlStore``, as the relay writes.

Many concurrent appenders (asyncio tasks, one exercise each) append batches of the sizes the
live relay produces for a note (2 to 5 entries: a submit's batch, a timer step's batch) and
await each append, as ``LiveExercise._commit`` does while holding its lock; so the store's
group commit gets to merge them. The entries are real events of a zero-delay exercise (same
types, payloads and dedupe keys), renumbered per exercise.
"""

from __future__ import annotations

import asyncio
import gc
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["journal_rates", "note_batches"]

BATCH_SIZES = (4, 3, 2, 5)  # cycled: a submit, a departure, an arrival/delivery, a big step


def note_batches(notes: int) -> list[Any]:
    """Event templates from a zero-delay exercise where one party sends ``notes`` notes."""
    from benchmarks._common import zero_delay_scenario
    from relay.core import Exercise
    from relay.core import commands as cmd
    from relay.rng import seeded_streams
    from schemas.scenario import Scenario
    from schemas.translate import exercise_config

    config = exercise_config(Scenario.model_validate(zero_delay_scenario()))
    core = Exercise(config, seed=1, rng=seeded_streams(1))
    core.handle(cmd.Start(by="facilitator"), 0.0)
    core.events()
    events = []
    for n in range(1, notes + 1):
        core.handle(
            cmd.Submit(by="iran", client_id=f"n{n}", kind="statement", text=f"benchmark note {n}"),
            float(n),
        )
        core.advance(float(n))
        events += core.events()
    return events


def journal_rates(appenders: int, batches: int, reps: int) -> dict[str, Any]:
    return asyncio.run(_journal(appenders, batches, reps))


async def _journal(appenders: int, batches: int, reps: int) -> dict[str, Any]:
    from relay.journal import to_entry
    from relay.live import hash_token
    from relay.store import Entry, ExerciseRecord, SeatRecord, open_store

    templates = [to_entry(event) for event in note_batches(max(8, batches))]
    rates: list[float] = []
    group_sizes: list[float] = []
    with tempfile.TemporaryDirectory(prefix="shuttle-bench-journal-") as tmp:
        store = open_store(f"sqlite:///{Path(tmp) / 'journal.db'}")
        await store.open()
        try:
            ids = [f"ex-bench-{i:04d}" for i in range(appenders)]
            for exercise_id in ids:
                record = ExerciseRecord(
                    id=exercise_id,
                    scenario={},
                    seed=1,
                    speed=1.0,
                    created_wall=time.time(),
                    status="running",
                )
                seats = [
                    SeatRecord(exercise_id, seat, "party", hash_token(f"{exercise_id}/{seat}"))
                    for seat in ("iran", "usa")
                ]
                await store.create_exercise(record, seats)
            last = dict.fromkeys(ids, 0)
            cursor = dict.fromkeys(ids, 0)

            def next_batch(exercise_id: str, k: int) -> list[Any]:
                size = BATCH_SIZES[k % len(BATCH_SIZES)]
                out = []
                for _ in range(size):
                    t = templates[cursor[exercise_id] % len(templates)]
                    lap = cursor[exercise_id] // len(templates)
                    cursor[exercise_id] += 1
                    last[exercise_id] += 1
                    key = None if t.dedupe_key is None else f"{t.dedupe_key}/{lap}"
                    out.append(
                        Entry(
                            seq=last[exercise_id],
                            at=t.at,
                            type=t.type,
                            data=t.data,
                            wall=time.time(),
                            dedupe_key=key,
                        )
                    )
                return out

            async def appender(exercise_id: str) -> int:
                written = 0
                for k in range(batches):
                    batch = next_batch(exercise_id, k)
                    await store.append(exercise_id, batch)
                    written += len(batch)
                return written

            for _ in range(reps):
                gc.collect()
                commits0 = store.commit_count  # type: ignore[attr-defined]
                t0 = time.perf_counter()
                written = sum(await asyncio.gather(*(appender(i) for i in ids)))
                elapsed = time.perf_counter() - t0
                commits = store.commit_count - commits0  # type: ignore[attr-defined]
                rates.append(written / elapsed)
                group_sizes.append(appenders * batches / max(1, commits))
            # the figures count only if everything is there, in order
            for exercise_id in ids[:3]:
                stored = await store.read(exercise_id)
                if [e.seq for e in stored] != list(range(1, last[exercise_id] + 1)):
                    raise RuntimeError(f"{exercise_id}: journal has gaps after the benchmark")
        finally:
            await store.close()
    return {"events_per_s": rates, "appends_per_commit": group_sizes}
