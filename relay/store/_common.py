"""Rules shared by every backend, so that the same bad input fails the same way everywhere."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from relay.store.base import (
    DuplicateKey,
    Entry,
    ExerciseRecord,
    SeatRecord,
    SequenceConflict,
    StoreError,
)

__all__ = ["check_batch_shape", "check_seats", "data_json", "dump_json", "oldest_first"]

# one encoder for every call: ``json.dumps`` with non-default options builds a new one each time
_ENCODER = json.JSONEncoder(separators=(",", ":"), sort_keys=False)


def dump_json(value: Any) -> str:
    """Serialise ``value`` compactly, keeping dict key order (exports must round-trip)."""
    return _ENCODER.encode(value)


def data_json(entry: Entry) -> str:
    """The text stored for ``entry.data``: the caller's own encoding if it gave one."""
    text = entry.data_json
    return _ENCODER.encode(entry.data) if text is None else text


def check_seats(record: ExerciseRecord, seats: Sequence[SeatRecord]) -> None:
    """Reject seats that belong to another exercise or repeat a seat name or token hash.

    Checked before anything is written so both backends refuse the same input the same way.
    """
    names: set[str] = set()
    hashes: set[str] = set()
    for seat in seats:
        if seat.exercise_id != record.id:
            raise ValueError(
                f"seat {seat.seat!r} belongs to {seat.exercise_id!r}, not {record.id!r}"
            )
        if seat.seat in names:
            raise StoreError(f"seat {seat.seat!r} given twice for exercise {record.id!r}")
        if seat.token_hash in hashes:
            raise StoreError(f"token hash given twice for exercise {record.id!r}")
        names.add(seat.seat)
        hashes.add(seat.token_hash)


def check_batch_shape(exercise_id: str, last: int, entries: Sequence[Entry]) -> None:
    """Raise unless ``entries`` continue a journal ending at ``last`` without gap or repeat.

    Also rejects a ``dedupe_key`` repeated inside the batch itself. Stored keys are the
    backend's business; this is the part every backend shares, and it runs first so the
    same bad batch raises the same error everywhere.
    """
    for offset, entry in enumerate(entries):
        if entry.seq != last + 1 + offset:
            raise SequenceConflict(
                f"exercise {exercise_id!r}: entry {offset} of the batch has seq {entry.seq}, "
                f"expected {last + 1 + offset}"
            )
    keys: set[str] = set()
    for entry in entries:
        if entry.dedupe_key is None:
            continue
        if entry.dedupe_key in keys:
            raise DuplicateKey(entry.dedupe_key)
        keys.add(entry.dedupe_key)


def oldest_first(record: ExerciseRecord) -> tuple[float, str]:
    """Sort key of :meth:`JournalStore.list_exercises`; the id breaks ties deterministically."""
    return (record.created_wall, record.id)
