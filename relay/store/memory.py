"""An in-memory :class:`JournalStore`: the reference backend for tests and headless runs.

It keeps every invariant of :mod:`relay.store.base` with plain dictionaries. Because every
method is a coroutine that never awaits, each call runs to completion without interleaving
with other tasks of the event loop, which is what makes a batch atomic here.

Data is kept as JSON text (exactly as the SQL backend stores it) and decoded on every read,
so callers can neither mutate stored state through a shared dict nor store something the SQL
backend would refuse: the two backends behave alike, which is the point of the contract suite.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from relay.store._common import (
    check_batch_shape,
    check_seats,
    data_json,
    dump_json,
    oldest_first,
)
from relay.store.base import (
    DuplicateKey,
    Entry,
    ExerciseExists,
    ExerciseRecord,
    JournalStore,
    SeatRecord,
    StoreError,
    UnknownExercise,
)

__all__ = ["MemoryStore"]


@dataclass(slots=True)
class _StoredEntry:
    """An entry with its data kept as JSON text (decoded afresh on each read)."""

    seq: int
    at: float
    type: str
    data_json: str
    wall: float | None
    dedupe_key: str | None

    def to_entry(self) -> Entry:
        return Entry(
            seq=self.seq,
            at=self.at,
            type=self.type,
            data=json.loads(self.data_json),
            wall=self.wall,
            dedupe_key=self.dedupe_key,
        )


@dataclass(slots=True)
class _Exercise:
    """Everything stored for one exercise."""

    record_json: str
    record: ExerciseRecord
    seats: dict[str, SeatRecord] = field(default_factory=dict)
    journal: list[_StoredEntry] = field(default_factory=list)
    keys: set[str] = field(default_factory=set)

    def to_record(self) -> ExerciseRecord:
        """A copy whose dicts the caller may mutate freely."""
        blob = json.loads(self.record_json)
        return replace(self.record, scenario=blob["scenario"], extra=blob["extra"])


class MemoryStore(JournalStore):
    """Journal store that lives in this object; nothing outlives the process.

    ``MemoryStore()`` needs no arguments. :meth:`open` and :meth:`close` do nothing and the
    data stays in the object across them, so a test can hand the same store to a second app
    to simulate a restart that recovers from the journal.
    """

    def __init__(self) -> None:
        self._exercises: dict[str, _Exercise] = {}
        self._token_hashes: set[str] = set()

    def _get(self, exercise_id: str) -> _Exercise:
        try:
            return self._exercises[exercise_id]
        except KeyError:
            raise UnknownExercise(exercise_id) from None

    async def create_exercise(self, record: ExerciseRecord, seats: Sequence[SeatRecord]) -> None:
        check_seats(record, seats)
        if record.id in self._exercises:
            raise ExerciseExists(record.id)
        if any(seat.token_hash in self._token_hashes for seat in seats):
            raise StoreError(f"a token hash of exercise {record.id!r} is already in use")
        blob = dump_json({"scenario": record.scenario, "extra": record.extra})
        exercise = _Exercise(record_json=blob, record=_coerce_record(record))
        exercise.seats = {seat.seat: _coerce_seat(seat) for seat in seats}
        self._exercises[record.id] = exercise
        self._token_hashes.update(seat.token_hash for seat in seats)

    async def get_exercise(self, exercise_id: str) -> ExerciseRecord | None:
        exercise = self._exercises.get(exercise_id)
        return None if exercise is None else exercise.to_record()

    async def list_exercises(self) -> list[ExerciseRecord]:
        records = [exercise.to_record() for exercise in self._exercises.values()]
        return sorted(records, key=oldest_first)

    async def set_status(self, exercise_id: str, status: str) -> None:
        exercise = self._get(exercise_id)
        exercise.record = replace(exercise.record, status=status)

    async def seats(self, exercise_id: str) -> list[SeatRecord]:
        seats = self._get(exercise_id).seats
        return [seats[name] for name in sorted(seats)]

    async def find_seat(self, exercise_id: str, token_hash: str) -> SeatRecord | None:
        exercise = self._exercises.get(exercise_id)
        if exercise is None:
            return None
        for seat in exercise.seats.values():
            if seat.token_hash == token_hash:
                return seat
        return None

    async def revoke_seat(self, exercise_id: str, seat: str) -> None:
        exercise = self._get(exercise_id)
        if seat not in exercise.seats:
            raise StoreError(f"exercise {exercise_id!r} has no seat {seat!r}")
        exercise.seats[seat] = replace(exercise.seats[seat], revoked=True)

    async def append(self, exercise_id: str, entries: Sequence[Entry]) -> None:
        exercise = self._get(exercise_id)
        check_batch_shape(exercise_id, len(exercise.journal), entries)
        for entry in entries:
            if entry.dedupe_key is not None and entry.dedupe_key in exercise.keys:
                raise DuplicateKey(entry.dedupe_key)
        # serialise everything before storing anything: a TypeError must leave no trace
        stored = [_to_stored(entry) for entry in entries]
        exercise.journal.extend(stored)
        exercise.keys.update(e.dedupe_key for e in stored if e.dedupe_key is not None)

    async def read(
        self, exercise_id: str, after_seq: int = 0, limit: int | None = None
    ) -> list[Entry]:
        if limit is not None and limit < 0:
            raise ValueError(f"limit must be >= 0, got {limit}")
        journal = self._get(exercise_id).journal
        start = max(after_seq, 0)  # seq n lives at index n - 1
        stop = len(journal) if limit is None else min(len(journal), start + limit)
        return [stored.to_entry() for stored in journal[start:stop]]

    async def last_seq(self, exercise_id: str) -> int:
        return len(self._get(exercise_id).journal)


def _to_stored(entry: Entry) -> _StoredEntry:
    return _StoredEntry(
        seq=entry.seq,
        at=float(entry.at),
        type=entry.type,
        data_json=data_json(entry),
        wall=None if entry.wall is None else float(entry.wall),
        dedupe_key=entry.dedupe_key,
    )


def _coerce_record(record: ExerciseRecord) -> ExerciseRecord:
    """Normalise numeric fields the way a SQL round trip would (int speed -> float)."""
    return replace(
        record,
        seed=int(record.seed),
        speed=float(record.speed),
        created_wall=float(record.created_wall),
    )


def _coerce_seat(seat: SeatRecord) -> SeatRecord:
    return replace(seat, revoked=bool(seat.revoked))
