"""``SqlStore``: the :class:`JournalStore` on SQLite or PostgreSQL, one code path for both.

* **One worker thread, synchronous SQLAlchemy.** Every database call runs on a single
  ``ThreadPoolExecutor(max_workers=1)``, so the event loop never waits on the network or a
  disk, and the database sees one writer per process (SQLite allows only one anyway). Async
  drivers hop threads per call and were measured slower.
* **Except a SQLite file's journal appends.** There a group commit is written on the event
  loop's own thread: in WAL mode with ``synchronous=NORMAL`` a commit is a write into the
  page cache (tens of microseconds), less than the hop to the worker and back costs, and the
  hop was half of a note's latency (docs/performance.md). What can take long is moved off
  the loop instead: the writing connection never checkpoints; the worker does
  (:mod:`relay.store.sql.checkpoint`).
* **Group commit.** ``append`` calls that arrive while a commit is running are queued and the
  next commit takes all of them in one transaction, so N concurrent writers pay for one
  fsync (:mod:`relay.store.sql.group_commit`).
* **No server-side time.** ``at`` and ``wall`` come from the caller; no column has a default.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import insert, select, update
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import IntegrityError

from relay.store._common import check_seats
from relay.store.base import (
    Entry,
    ExerciseExists,
    ExerciseRecord,
    JournalStore,
    SeatRecord,
    StoreError,
    UnknownExercise,
)
from relay.store.sql.checkpoint import CHECKPOINT_IDLE_S, CHECKPOINT_ROWS, WalCheckpointer
from relay.store.sql.engines import (
    check_schema_name,
    is_sqlite,
    make_engine,
    normalise_url,
    sqlite_in_memory,
)
from relay.store.sql.group_commit import Batch, GroupWriter, Request, settle
from relay.store.sql.migrations import prepare_schema
from relay.store.sql.rows import (
    database_failure,
    entry_row,
    exercise_exists,
    exercise_values,
    guarded,
    row_entry,
    row_exercise,
    row_seat,
    seat_values,
    stored_last_seq,
)
from relay.store.sql.tables import EXERCISE, JOURNAL, SEAT

__all__ = ["SqlStore"]

_T = TypeVar("_T")


class SqlStore(JournalStore):
    """Journal store on SQLite (``sqlite:///file.db``, ``sqlite://``) or PostgreSQL.

    ``schema`` (PostgreSQL only) puts the tables in that schema, created if missing, via the
    connection's ``search_path``; tests use it to isolate themselves.
    """

    def __init__(
        self,
        url: str,
        schema: str | None = None,
        *,
        checkpoint_idle_s: float = CHECKPOINT_IDLE_S,
        checkpoint_rows: int = CHECKPOINT_ROWS,
    ) -> None:
        self._url = normalise_url(url)
        self._schema = check_schema_name(schema, self._url)
        self._engine: Engine | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._closing = False
        self._groups = GroupWriter(repr(self))
        # event-loop state
        self._pending: list[Request] = []
        self._writer: asyncio.Task[None] | None = None
        # SQLite files: groups are written on the event loop's thread (see the module notes)
        self._inline = False
        self._checkpointer = WalCheckpointer(
            repr(self), idle_s=checkpoint_idle_s, rows=checkpoint_rows
        )

    def __repr__(self) -> str:
        shown = self._url.render_as_string(hide_password=True)
        return f"SqlStore({shown!r}, schema={self._schema!r})"

    @property
    def url(self) -> URL:
        """The normalised URL (render with ``hide_password=True`` before logging it)."""
        return self._url

    @property
    def commit_count(self) -> int:
        """How many append transactions were committed; fewer than appends means grouping."""
        return self._groups.commits

    @property
    def checkpoint_count(self) -> int:
        """WAL checkpoints run beside an inline SQLite writer (0 for other databases)."""
        return self._checkpointer.count

    # ----------------------------------------------------------------- lifecycle

    async def open(self) -> None:
        if self._executor is not None:
            raise StoreError(f"{self!r} is already open")
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="shuttle-store")
        try:
            await self._call(self._open_sync)
        except BaseException:
            await self._release()
            raise

    async def close(self) -> None:
        if self._executor is None:
            return
        self._closing = True
        self._checkpointer.stop()
        try:
            if self._writer is not None:
                await self._writer
        finally:
            await self._release()

    async def _release(self) -> None:
        """Dispose the engine on the worker, then stop the worker."""
        executor = self._executor
        if executor is None:
            return
        try:
            if self._engine is not None:
                await asyncio.get_running_loop().run_in_executor(executor, self._dispose_sync)
        finally:
            executor.shutdown(wait=True)  # the worker is idle by now: this returns at once
            self._executor = None
            self._closing = False
            self._groups.last_seq.clear()
            self._checkpointer.release()

    def _open_sync(self) -> None:
        url = self._url
        self._engine = make_engine(url, self._schema)
        self._inline = is_sqlite(url) and not sqlite_in_memory(url)
        self._groups.start(self._engine, inline=self._inline)
        assert self._executor is not None
        self._checkpointer.start(self._executor, self._engine)
        with self._connect(write=True) as conn, conn.begin():
            prepare_schema(conn, repr(self))

    def _dispose_sync(self) -> None:
        self._groups.stop()
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    @contextmanager
    def _connect(self, *, write: bool = False) -> Iterator[Connection]:
        if self._engine is None:
            raise StoreError(f"{self!r} is not open")
        with self._engine.connect() as conn:
            if write:
                conn.execution_options(shuttle_write=True)
            yield conn

    async def _call(self, fn: Callable[..., _T], *args: Any) -> _T:
        """Run ``fn(*args)`` on the worker thread and await its result."""
        executor = self._executor
        if executor is None or self._closing:
            raise StoreError(f"{self!r} is not open")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(executor, guarded, fn, *args)

    # ----------------------------------------------------------------- exercises and seats

    async def create_exercise(self, record: ExerciseRecord, seats: Sequence[SeatRecord]) -> None:
        check_seats(record, seats)
        await self._call(self._create_sync, record, tuple(seats))

    def _create_sync(self, record: ExerciseRecord, seats: tuple[SeatRecord, ...]) -> None:
        with self._connect(write=True) as conn:
            try:
                with conn.begin():
                    if exercise_exists(conn, record.id):
                        raise ExerciseExists(record.id)
                    conn.execute(insert(EXERCISE).values(exercise_values(record)))
                    if seats:
                        conn.execute(insert(SEAT), [seat_values(seat) for seat in seats])
            except IntegrityError as exc:
                # another process may have won the race for the id; else a token hash clashed
                if exercise_exists(conn, record.id):
                    raise ExerciseExists(record.id) from exc
                raise StoreError(
                    f"a token hash of exercise {record.id!r} is already in use"
                ) from exc
        self._groups.last_seq[record.id] = 0

    async def get_exercise(self, exercise_id: str) -> ExerciseRecord | None:
        return await self._call(self._get_exercise_sync, exercise_id)

    def _get_exercise_sync(self, exercise_id: str) -> ExerciseRecord | None:
        with self._connect() as conn:
            row = conn.execute(select(EXERCISE).where(EXERCISE.c.id == exercise_id)).first()
        return None if row is None else row_exercise(row)

    async def list_exercises(self) -> list[ExerciseRecord]:
        return await self._call(self._list_exercises_sync)

    def _list_exercises_sync(self) -> list[ExerciseRecord]:
        query = select(EXERCISE).order_by(EXERCISE.c.created_wall, EXERCISE.c.id)
        with self._connect() as conn:
            return [row_exercise(row) for row in conn.execute(query)]

    async def set_status(self, exercise_id: str, status: str) -> None:
        await self._call(self._set_status_sync, exercise_id, status)

    def _set_status_sync(self, exercise_id: str, status: str) -> None:
        query = update(EXERCISE).where(EXERCISE.c.id == exercise_id).values(status=status)
        with self._connect(write=True) as conn, conn.begin():
            if conn.execute(query).rowcount == 0:
                raise UnknownExercise(exercise_id)

    async def seats(self, exercise_id: str) -> list[SeatRecord]:
        return await self._call(self._seats_sync, exercise_id)

    def _seats_sync(self, exercise_id: str) -> list[SeatRecord]:
        query = select(SEAT).where(SEAT.c.exercise_id == exercise_id).order_by(SEAT.c.seat)
        with self._connect() as conn:
            seats = [row_seat(row) for row in conn.execute(query)]
            if not seats and not exercise_exists(conn, exercise_id):
                raise UnknownExercise(exercise_id)
        return seats

    async def find_seat(self, exercise_id: str, token_hash: str) -> SeatRecord | None:
        return await self._call(self._find_seat_sync, exercise_id, token_hash)

    def _find_seat_sync(self, exercise_id: str, token_hash: str) -> SeatRecord | None:
        query = select(SEAT).where(
            SEAT.c.token_hash == token_hash, SEAT.c.exercise_id == exercise_id
        )
        with self._connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else row_seat(row)

    async def revoke_seat(self, exercise_id: str, seat: str) -> None:
        await self._call(self._revoke_seat_sync, exercise_id, seat)

    def _revoke_seat_sync(self, exercise_id: str, seat: str) -> None:
        query = (
            update(SEAT)
            .where(SEAT.c.exercise_id == exercise_id, SEAT.c.seat == seat)
            .values(revoked=True)
        )
        with self._connect(write=True) as conn, conn.begin():
            if conn.execute(query).rowcount == 0:
                if not exercise_exists(conn, exercise_id):
                    raise UnknownExercise(exercise_id)
                raise StoreError(f"exercise {exercise_id!r} has no seat {seat!r}")

    # ----------------------------------------------------------------- journal: reads

    async def read(
        self, exercise_id: str, after_seq: int = 0, limit: int | None = None
    ) -> list[Entry]:
        if limit is not None and limit < 0:
            raise ValueError(f"limit must be >= 0, got {limit}")
        return await self._call(self._read_sync, exercise_id, after_seq, limit)

    def _read_sync(self, exercise_id: str, after_seq: int, limit: int | None) -> list[Entry]:
        query = (
            select(JOURNAL)
            .where(JOURNAL.c.exercise_id == exercise_id, JOURNAL.c.seq > after_seq)
            .order_by(JOURNAL.c.seq)
        )
        if limit is not None:
            query = query.limit(limit)
        with self._connect() as conn:
            entries = [row_entry(row) for row in conn.execute(query)]
            # an empty answer is the only one that might hide an unknown exercise
            if not entries and not exercise_exists(conn, exercise_id):
                raise UnknownExercise(exercise_id)
        return entries

    async def last_seq(self, exercise_id: str) -> int:
        return await self._call(self._last_seq_sync, exercise_id)

    def _last_seq_sync(self, exercise_id: str) -> int:
        """Always asks the database (another process may write) and refreshes the cache."""
        with self._connect() as conn:
            last = stored_last_seq(conn, exercise_id)
        self._groups.last_seq[exercise_id] = last
        return last

    # ----------------------------------------------------------------- journal: appends

    async def append(self, exercise_id: str, entries: Sequence[Entry]) -> None:
        if self._executor is None or self._closing:
            raise StoreError(f"{self!r} is not open")
        batch = tuple(entries)
        # serialise here, on the caller's turn: bad data fails only this call, at once, and
        # the worker never reads dicts the event loop could still be changing
        rows = [entry_row(exercise_id, entry) for entry in batch]
        loop = asyncio.get_running_loop()
        request = Request(Batch(exercise_id, batch, rows), loop.create_future())
        self._pending.append(request)
        if self._writer is None:
            self._writer = loop.create_task(self._drain(), name="shuttle-store-writer")
        await request.future

    async def _drain(self) -> None:
        """Commit queued appends, one group per worker turn, until the queue is empty."""
        try:
            while self._pending:
                group = [r for r in self._pending if not r.future.cancelled()]
                self._pending = []
                if group:
                    await self._commit_group(group)
                # let the callers just woken queue their next batch, so it joins the next
                # group instead of trailing it (halves the commits of steady writers)
                await asyncio.sleep(0)
        finally:
            self._writer = None

    async def _commit_group(self, group: list[Request]) -> None:
        assert self._executor is not None
        loop = asyncio.get_running_loop()
        batches = [request.batch for request in group]
        try:
            if self._inline:
                outcomes = self._groups.write(batches)
                self._checkpointer.wrote(sum(len(batch.rows) for batch in batches))
            else:
                outcomes = await loop.run_in_executor(self._executor, self._groups.write, batches)
        except asyncio.CancelledError:
            for request in group:
                request.future.cancel()
            raise
        except Exception as exc:  # the worker itself failed: every caller hears of it
            outcomes = [database_failure(exc) for _ in group]
        for request, outcome in zip(group, outcomes, strict=True):
            settle(request.future, outcome)
