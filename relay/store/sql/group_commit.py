"""Group commit: every ``append`` waiting while a commit runs goes into the next transaction.

:class:`GroupWriter` is the synchronous half, run on the store's worker thread (or, for a
SQLite file, on the event loop's own thread; see :mod:`relay.store.sql.store`). It writes a
group of batches in one transaction, on a connection it keeps across groups, and each batch
succeeds or fails alone:

* **Fast path.** Every batch is validated against the state inside the transaction, then all
  accepted rows go in with one driver ``executemany``. Stored dedupe keys are left to the
  unique index.
* **Careful path.** Should the database refuse the combined insert, the group is redone with
  each batch in its own SAVEPOINT, so a bad batch fails only its own caller.
* **A per-exercise ``last_seq`` cache** lets a good batch go in without a ``SELECT
  max(seq)``. It is merged only after a successful commit and is dropped and re-read whenever
  the database disagrees with it, so errors never leave it stale. It is trusted to accept a
  batch, never to refuse one (and the primary key refuses a wrong acceptance), so a refresh
  that lands behind a commit and leaves it low only costs a re-read.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError

from relay.store._common import check_batch_shape
from relay.store.base import DuplicateKey, Entry, SequenceConflict, StoreError
from relay.store.sql.engines import on_driver
from relay.store.sql.rows import (
    Row,
    database_error,
    database_failure,
    journal_insert_sql,
    stored_last_seq,
)
from relay.store.sql.tables import JOURNAL

__all__ = ["Batch", "GroupWriter", "Request", "settle"]


@dataclass(slots=True)
class Batch:
    """One ``append`` call as the writer sees it: plain data only, no futures."""

    exercise_id: str
    entries: tuple[Entry, ...]
    rows: list[Row]


@dataclass(slots=True)
class Request:
    """One ``append`` call waiting for its group's commit."""

    batch: Batch
    future: asyncio.Future[None]


def settle(future: asyncio.Future[None], outcome: BaseException | None) -> None:
    """Hand one caller its batch's outcome: ``None`` (committed) or its error."""
    if future.done():  # the caller was cancelled and no longer listens
        return
    if outcome is None:
        future.set_result(None)
    else:
        future.set_exception(outcome)


class _RetryCarefully(Exception):
    """The database refused a group's combined insert; redo it one savepoint per batch.

    Raised only for the INSERT, never for the COMMIT: a failed commit may in truth have
    landed, and retrying it would turn that into false sequence conflicts.
    """


class GroupWriter:
    """Writes groups of batches, one transaction per group, on one thread at a time.

    ``name`` names the store in errors. The writer has an engine between :meth:`start` and
    :meth:`stop`; its ``last_seq`` cache and commit count outlive both.
    """

    def __init__(self, name: str) -> None:
        self._name = name
        self._engine: Engine | None = None
        self._insert_sql = ""  # set by start(), for the engine's driver
        self._inline = False
        self.write_conn: Connection | None = None
        """The connection kept across groups (None until the first group, or after a
        failure)."""
        self.last_seq: dict[str, int] = {}
        """Per exercise, the last seq known to be committed (see the module notes)."""
        self.commits = 0
        """Group transactions committed."""

    def start(self, engine: Engine, *, inline: bool) -> None:
        """Write through ``engine``; ``inline``: on a SQLite file, from the event loop's
        thread, whose connection must then never checkpoint the WAL."""
        self._engine = engine
        self._insert_sql = journal_insert_sql(engine.dialect.paramstyle)
        self._inline = inline

    def stop(self) -> None:
        """Close the kept connection and let go of the engine (its owner disposes it)."""
        self._drop_write_conn()
        self._engine = None

    def write(self, batches: list[Batch]) -> list[BaseException | None]:
        """Write every batch in one transaction; each batch succeeds or fails alone.

        The fast path validates every batch in Python and inserts all accepted rows with a
        single executemany. Should the database still refuse (a stored dedupe key, another
        process writing), the transaction is rolled back and redone carefully, one SAVEPOINT
        per batch, so only the offending batch fails.
        """
        staged: dict[str, int] = {}  # last seq per exercise inside the transaction
        try:
            try:
                outcomes = self._write_once(batches, staged, careful=False)
            except _RetryCarefully:
                staged.clear()
                outcomes = self._write_once(batches, staged, careful=True)
        except Exception as exc:
            for exercise_id in staged:
                self.last_seq.pop(exercise_id, None)
            # nothing was committed: every batch shares the failure (a fresh error each)
            return [database_failure(exc) for _ in batches]
        self.commits += 1
        self.last_seq.update(staged)
        return outcomes

    def _write_once(
        self, batches: list[Batch], staged: dict[str, int], *, careful: bool
    ) -> list[BaseException | None]:
        with self._transaction() as conn:
            if careful:
                return [self._write_batch(conn, staged, batch) for batch in batches]
            return self._write_fast(conn, staged, batches)

    def _write_fast(
        self, conn: Connection, staged: dict[str, int], batches: list[Batch]
    ) -> list[BaseException | None]:
        """Validate every batch's seqs up front, then one executemany of all rows.

        Stored dedupe keys are not looked up: the unique index refuses a repeat, and the
        refusal sends the whole group down the careful path, which fails only the batch that
        repeated a key. (The live relay answers a resubmission from its core before it gets
        here, so a refusal is rare; the lookup it replaces cost a query per group.) Keys
        repeated by two batches of this group are caught here, since both would be new to
        the database: the later batch fails and the earlier one goes in.
        """
        taken: set[tuple[str, str]] = set()
        outcomes: list[BaseException | None] = []
        rows: list[Row] = []
        for batch in batches:
            outcome = self._accept_batch(conn, staged, taken, batch)
            outcomes.append(outcome)
            if outcome is None:
                rows += batch.rows
        if rows:
            try:
                self._insert(conn, rows)
            except DBAPIError as exc:
                raise _RetryCarefully from exc
        return outcomes

    def _insert(self, conn: Connection, rows: list[Row]) -> None:
        """Insert journal rows with the driver's own ``executemany``."""
        on_driver(conn, self._insert_sql, rows)

    def _accept_batch(
        self,
        conn: Connection,
        staged: dict[str, int],
        taken: set[tuple[str, str]],
        batch: Batch,
    ) -> StoreError | None:
        """Validate one batch; if it passes, count its seqs and keys as written."""
        pairs = _key_pairs(batch)
        try:
            self._check_batch(conn, staged, batch)
            for pair in pairs:
                if pair in taken:
                    raise DuplicateKey(pair[1])
        except StoreError as exc:
            return exc
        if pairs:
            taken.update(pairs)
        if batch.entries:
            staged[batch.exercise_id] = batch.entries[-1].seq
        return None

    def _write_batch(
        self, conn: Connection, staged: dict[str, int], batch: Batch
    ) -> StoreError | None:
        """Validate and insert one batch; return its error instead of raising it."""
        try:
            self._check_batch(conn, staged, batch)
            if not batch.rows:
                return None
            try:
                with conn.begin_nested():
                    self._insert(conn, batch.rows)
            except IntegrityError as exc:
                return self._explain_refusal(conn, staged, batch, exc)
            except DBAPIError as exc:  # e.g. a value out of range: this batch only
                return database_error(exc)
        except StoreError as exc:
            return exc
        staged[batch.exercise_id] = batch.entries[-1].seq
        return None

    def _check_batch(self, conn: Connection, staged: dict[str, int], batch: Batch) -> None:
        """Raise unless the batch continues the journal as this transaction sees it.

        ``staged`` (this group's progress, or a read made inside this transaction) is the
        truth. The cross-commit cache is trusted only to *accept*: should it refuse, another
        process may have written, so the database is asked before the batch is refused.
        """
        exercise_id = batch.exercise_id
        cached = None if exercise_id in staged else self.last_seq.get(exercise_id)
        if cached is not None:
            try:
                check_batch_shape(exercise_id, cached, batch.entries)
                return
            except SequenceConflict:
                del self.last_seq[exercise_id]
        check_batch_shape(exercise_id, self._known_last(conn, staged, exercise_id), batch.entries)

    def _explain_refusal(
        self, conn: Connection, staged: dict[str, int], batch: Batch, exc: IntegrityError
    ) -> StoreError:
        """The savepoint was rolled back; find out which rule the batch broke."""
        exercise_id = batch.exercise_id
        self._forget(staged, exercise_id)
        try:
            check_batch_shape(
                exercise_id, self._known_last(conn, staged, exercise_id), batch.entries
            )
        except StoreError as error:
            return error
        keys = [e.dedupe_key for e in batch.entries if e.dedupe_key is not None]
        if keys:
            query = select(JOURNAL.c.dedupe_key).where(
                JOURNAL.c.exercise_id == exercise_id, JOURNAL.c.dedupe_key.in_(keys)
            )
            stored = set(conn.execute(query).scalars())
            for key in keys:
                if key in stored:
                    return DuplicateKey(key)
        return database_error(exc)

    def _known_last(self, conn: Connection, staged: dict[str, int], exercise_id: str) -> int:
        """Last seq as seen inside the current transaction (staged, cached, else queried)."""
        if exercise_id in staged:
            return staged[exercise_id]
        if exercise_id in self.last_seq:
            return self.last_seq[exercise_id]
        last = stored_last_seq(conn, exercise_id)
        staged[exercise_id] = last
        return last

    def _forget(self, staged: dict[str, int], exercise_id: str) -> None:
        staged.pop(exercise_id, None)
        self.last_seq.pop(exercise_id, None)

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        """A write transaction on the connection kept for group commits.

        Keeping it saves a pool checkout and reset per group, which is most of what a small
        group costs. After any failure but a retry it is closed, so a broken connection is
        never reused: the next group checks out a fresh one.
        """
        conn = self.write_conn
        if conn is None:
            if self._engine is None:
                raise StoreError(f"{self._name} is not open")
            conn = self._engine.connect().execution_options(shuttle_write=True)
            if self._inline:
                conn.exec_driver_sql("PRAGMA wal_autocheckpoint=0")
                conn.commit()
            self.write_conn = conn
        try:
            with conn.begin():
                yield conn
        except _RetryCarefully:
            raise
        except BaseException:
            self._drop_write_conn()
            raise

    def _drop_write_conn(self) -> None:
        conn, self.write_conn = self.write_conn, None
        if conn is not None:
            with suppress(SQLAlchemyError):
                conn.close()


def _key_pairs(batch: Batch) -> list[tuple[str, str]]:
    return [(batch.exercise_id, e.dedupe_key) for e in batch.entries if e.dedupe_key is not None]
