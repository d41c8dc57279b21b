"""The journal store: one small interface, several backends.

An exercise's journal is an append-only, gap-free sequence of entries numbered 1, 2, 3, ...
Each entry is stamped with the core's ``at`` (exercise time, seconds) and, in live runs, the
wall time; the store never invents either (DESIGN §journal: no database defaults for time).

Invariants every backend keeps (the contract suite in ``tests/store/`` checks each):

* ``append`` is atomic: all of a batch is committed, or none of it is.
* the first entry of a batch must be ``last_seq + 1`` and the batch must be contiguous;
  anything else raises :class:`SequenceConflict` and writes nothing.
* an entry's ``dedupe_key``, when set, is unique within its exercise; a batch that repeats one
  raises :class:`DuplicateKey` and writes nothing (idempotent note submission).
* ``append`` returns only after the batch is durable (committed), so an acknowledgement sent
  after it is honest. Concurrent appends may be committed together (group commit).
* no call waits on the network or a disk flush on the event loop (``SqlStore`` writes a
  SQLite file's appends on the loop's thread: a WAL commit without fsync).

Backends are chosen by URL with :func:`relay.store.open_store`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from relay.entry import Entry

__all__ = [
    "DuplicateKey",
    "Entry",
    "ExerciseExists",
    "ExerciseRecord",
    "JournalStore",
    "SeatRecord",
    "SequenceConflict",
    "StoreError",
    "UnknownExercise",
]


class StoreError(Exception):
    """Base of every error a store raises."""


class ExerciseExists(StoreError):
    """``create_exercise`` with an id that is already taken."""


class UnknownExercise(StoreError):
    """The exercise id names no stored exercise."""


class SequenceConflict(StoreError):
    """A batch does not continue the journal exactly (gap, overlap or reordering)."""


class DuplicateKey(StoreError):
    """A batch repeats a ``dedupe_key`` already stored for the exercise (or within itself)."""

    def __init__(self, key: str) -> None:
        super().__init__(f"dedupe key already stored: {key!r}")
        self.key = key


@dataclass(frozen=True, slots=True)
class ExerciseRecord:
    """What is stored about an exercise besides its journal."""

    id: str
    scenario: dict[str, Any]
    seed: int
    speed: float
    created_wall: float
    status: str = "draft"
    title: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SeatRecord:
    """A seat of an exercise and the hash of its token (the token itself is never stored)."""

    exercise_id: str
    seat: str
    role: str
    token_hash: str
    revoked: bool = False


class JournalStore(ABC):
    """The storage seam. Every method is safe to call concurrently from one event loop."""

    async def open(self) -> None:  # noqa: B027 - optional hook
        """Prepare the backend (create tables, start the writer)."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Flush pending writes and release resources."""

    @abstractmethod
    async def create_exercise(self, record: ExerciseRecord, seats: Sequence[SeatRecord]) -> None:
        """Store an exercise and its seats atomically; :class:`ExerciseExists` if id is taken."""

    @abstractmethod
    async def get_exercise(self, exercise_id: str) -> ExerciseRecord | None: ...

    @abstractmethod
    async def list_exercises(self) -> list[ExerciseRecord]:
        """Every exercise, oldest first."""

    @abstractmethod
    async def set_status(self, exercise_id: str, status: str) -> None:
        """Record the lifecycle status (a cache for listing; the journal stays the truth)."""

    @abstractmethod
    async def seats(self, exercise_id: str) -> list[SeatRecord]: ...

    @abstractmethod
    async def find_seat(self, exercise_id: str, token_hash: str) -> SeatRecord | None:
        """The seat of ``exercise_id`` whose token hashes to ``token_hash``, if any."""

    @abstractmethod
    async def revoke_seat(self, exercise_id: str, seat: str) -> None: ...

    @abstractmethod
    async def append(self, exercise_id: str, entries: Sequence[Entry]) -> None:
        """Commit ``entries`` durably and atomically (see the module invariants)."""

    @abstractmethod
    async def read(
        self, exercise_id: str, after_seq: int = 0, limit: int | None = None
    ) -> list[Entry]:
        """Entries with ``seq > after_seq`` in order, at most ``limit`` of them."""

    @abstractmethod
    async def last_seq(self, exercise_id: str) -> int:
        """The highest stored seq, 0 for an empty journal."""
