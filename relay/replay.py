"""Faithful replay: feed a journal's inputs into a fresh core and compare every output.

A journal is a complete record: its first event holds the scenario and seed, and every input
names the seat that caused it. Because the core is deterministic (time and randomness are
inputs), the same inputs at the same times must give the same journal, event for event.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from relay.core import Exercise, ShuttleError
from relay.core import events as ev
from relay.core.commands import command_for
from relay.journal import from_entry, to_entry
from relay.rng import seeded_streams
from relay.store.base import Entry
from schemas.scenario import Scenario

__all__ = ["Mismatch", "core_from_created", "first_mismatch", "rebuild", "verify"]


@dataclass(frozen=True)
class Mismatch:
    seq: int
    expected: Entry | None
    actual: Entry | None
    detail: str

    def __str__(self) -> str:
        return f"event {self.seq}: {self.detail}"


def core_from_created(created: ev.ExerciseCreated) -> Exercise:
    scenario = Scenario.model_validate(created.scenario)
    return Exercise(scenario, seed=created.seed, rng=seeded_streams(created.seed))


def rebuild(entries: Sequence[Entry]) -> tuple[Exercise, list[ev.Event]]:
    """Re-execute a journal's inputs; returns the core and every event it produced.

    An input the core refuses (possible only in an edited journal: a rule broken, time run
    backwards) stops the re-execution there.
    """
    first = from_entry(entries[0])
    if not isinstance(first, ev.ExerciseCreated):
        raise ValueError("a journal starts with exercise.created")
    core = core_from_created(first)
    produced = core.events()
    for entry in entries[1:]:
        event = from_entry(entry)
        if not ev.is_input(event):
            continue
        try:
            core.handle(command_for(event), event.at)
        except ShuttleError:
            produced.extend(core.events())
            return core, produced
        produced.extend(core.events())
    if entries:
        core.advance(entries[-1].at)
        produced.extend(core.events())
    return core, produced


def verify(entries: Sequence[Entry]) -> Mismatch | None:
    """The first event where re-execution differs from the record, or ``None``."""
    _, produced = rebuild(entries)
    return first_mismatch(entries, produced)


def first_mismatch(entries: Sequence[Entry], produced: Sequence[ev.Event]) -> Mismatch | None:
    """Compare recorded entries with re-executed events (extra produced events are fine)."""
    for recorded, event in zip(entries, produced, strict=False):
        actual = to_entry(event)
        if (recorded.seq, recorded.at, recorded.type, recorded.data) != (
            actual.seq,
            actual.at,
            actual.type,
            actual.data,
        ):
            return Mismatch(recorded.seq, recorded, actual, _describe(recorded, actual))
    if len(produced) < len(entries):
        missing = entries[len(produced)]
        return Mismatch(missing.seq, missing, None, f"recorded {missing.type} was not reproduced")
    return None


def _describe(recorded: Entry, actual: Entry) -> str:
    if recorded.type != actual.type:
        return f"recorded {recorded.type}, replay produced {actual.type}"
    if recorded.at != actual.at:
        return f"{recorded.type} recorded at {recorded.at}, replayed at {actual.at}"
    fields = sorted(
        key
        for key in recorded.data.keys() | actual.data.keys()
        if recorded.data.get(key) != actual.data.get(key)
    )
    details = ", ".join(
        f"{key}: recorded {recorded.data.get(key)!r}, replayed {actual.data.get(key)!r}"
        for key in fields
    )
    return f"{recorded.type} differs in {details}"
