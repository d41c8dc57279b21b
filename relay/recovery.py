"""Bringing an exercise back from its journal: after a restart, even after ``kill -9``.

    journal entries --rebuild (re-execute the inputs)--> core, produced events
        --check_faithful (produced == recorded)--> or refuse to serve it (logged)
        --commit what the rebuild made beyond the record, advance to the clock's now-->
        timers start again

Every acknowledged note is in the journal, so it is re-created; its hand-over and delivery
follow from the rules, exactly once (docs/architecture.md, "Crash recovery").
"""

from __future__ import annotations

import time
from collections.abc import Callable

from relay.core import Exercise
from relay.core import events as ev
from relay.live_exercise import LiveExercise
from relay.replay import first_mismatch, rebuild
from relay.rng import seeded_streams
from relay.store import Entry, ExerciseRecord, JournalStore
from schemas.scenario import Scenario
from schemas.translate import exercise_config

__all__ = ["check_faithful", "load"]


async def load(
    record: ExerciseRecord, store: JournalStore, wall: Callable[[], float] = time.time
) -> LiveExercise:
    """Rebuild an exercise from its journal and catch up with the time spent down."""
    entries = await store.read(record.id)
    if not entries:  # created, but the first append never committed
        config = exercise_config(Scenario.model_validate(record.scenario))
        core = Exercise(config, seed=record.seed, rng=seeded_streams(record.seed))
        missed = core.events()
    else:
        core, produced = rebuild(entries)
        check_faithful(record.id, entries, produced)
        missed = produced[len(entries) :]
    live = LiveExercise(record, core, store, entries, wall)
    await live.catch_up(missed)
    return live


def check_faithful(exercise_id: str, entries: list[Entry], produced: list[ev.Event]) -> None:
    """Refuse (RuntimeError) a journal whose re-execution differs from its record."""
    mismatch = first_mismatch(entries, produced)
    if mismatch is not None:
        raise RuntimeError(f"exercise {exercise_id}: the journal does not replay: {mismatch}")
