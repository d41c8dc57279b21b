"""A :class:`JournalStore` on SQLite or PostgreSQL, with one code path for both.

Design, and why:

* **One worker thread, synchronous SQLAlchemy.** Every database call runs on a single
  ``ThreadPoolExecutor(max_workers=1)``, so the event loop never waits on the network or a
  disk, and the database sees one writer per process (SQLite allows only one anyway). Async
  drivers hop threads per call and were measured slower.
* **Except a SQLite file's journal appends.** There a group commit is written on the event
  loop's own thread: in WAL mode with ``synchronous=NORMAL`` a commit is a write into the
  page cache (tens of microseconds), less than the hop to the worker and back costs, and the
  hop was half of a note's latency (docs/performance.md). What can take long is moved off
  the loop instead: the writing connection never checkpoints; the worker runs a PASSIVE
  checkpoint when appends pause (``CHECKPOINT_IDLE_S``) or after ``CHECKPOINT_ROWS`` rows.
* **Core, not ORM.** The tables are declared with SQLModel (one place for the schema), but
  journal rows go in as plain tuples through the driver's own ``executemany``
  (``exec_driver_sql``) and come out with Core selects; the ORM's unit of work costs about
  ten times as much per entry, and even a compiled Core ``insert`` builds a dict per row.
* **Group commit.** ``append`` calls that arrive while a commit is running are queued and the
  next commit takes all of them in one transaction, on a connection the worker keeps, so N
  concurrent writers pay for one fsync. Every batch is validated against the state inside
  the transaction before one insert of all rows; stored dedupe keys are left to the unique
  index. Should the database refuse, the group is redone with each batch in its own
  SAVEPOINT, so a bad batch fails only its own caller.
* **A per-exercise ``last_seq`` cache** lets a good batch go in without a ``SELECT
  max(seq)``. It is merged only after a successful commit and is dropped and re-read whenever
  the database disagrees with it, so errors never leave it stale. The group writer keeps it
  (on the worker, or on the loop for a SQLite file), and ``last_seq`` refreshes it from the
  worker; a refresh that lands behind an inline commit leaves it low, which only costs a
  re-read, since it is trusted to accept a batch, never to refuse one (and the primary key
  refuses a wrong acceptance).
* **No server-side time.** ``at`` and ``wall`` come from the caller; no column has a default.
* **JSON as text.** ``data`` is stored as compact ``json.dumps`` text so an exported entry is
  byte-for-byte what went in (key order kept); floats are ``DOUBLE PRECISION`` so they
  round-trip exactly.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Double,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    create_engine,
    event,
    func,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.pool import NullPool, StaticPool
from sqlmodel import Field, SQLModel

from relay.store._common import check_batch_shape, check_seats, data_json, dump_json
from relay.store.base import (
    DuplicateKey,
    Entry,
    ExerciseExists,
    ExerciseRecord,
    JournalStore,
    SeatRecord,
    SequenceConflict,
    StoreError,
    UnknownExercise,
)

__all__ = [
    "SCHEMA_VERSION",
    "ExerciseRow",
    "JournalRow",
    "SchemaVersionRow",
    "SeatRow",
    "SqlStore",
    "normalise_url",
    "sqlite_file",
]

SCHEMA_VERSION = 2
"""Bumped whenever the tables change. An older database is migrated when a store opens it
(:data:`_MIGRATIONS`); one written by newer code is refused."""

_T = TypeVar("_T")
log = logging.getLogger("shuttle.store")
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
CHECKPOINT_IDLE_S = 0.05
"""An inline SQLite writer's WAL is checkpointed once appends pause this long..."""
CHECKPOINT_ROWS = 100_000
"""...or at the latest after this many journal rows (a WAL of some 50 MB)."""
_SQLITE_PRAGMAS = (
    "busy_timeout=5000",  # first, so the pragmas below wait for a lock instead of failing
    "journal_mode=WAL",
    "synchronous=NORMAL",  # with WAL: a commit survives kill -9 of the process
    "foreign_keys=ON",
)


# --------------------------------------------------------------------------- tables


class ExerciseRow(SQLModel, table=True):
    """One exercise; ``scenario`` and ``extra`` are JSON documents."""

    __tablename__ = "exercise"

    id: str = Field(sa_column=Column(String, primary_key=True))
    title: str = Field(sa_column=Column(String, nullable=False))
    scenario: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    seed: int = Field(sa_column=Column(BigInteger, nullable=False))
    speed: float = Field(sa_column=Column(Double, nullable=False))
    created_wall: float = Field(sa_column=Column(Double, nullable=False))
    status: str = Field(sa_column=Column(String, nullable=False))
    extra: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))


class SeatRow(SQLModel, table=True):
    """A seat; ``token_hash`` is unique across all exercises (it is the login)."""

    __tablename__ = "seat"

    exercise_id: str = Field(sa_column=Column(String, ForeignKey("exercise.id"), primary_key=True))
    seat: str = Field(sa_column=Column(String, primary_key=True))
    role: str = Field(sa_column=Column(String, nullable=False))
    token_hash: str = Field(sa_column=Column(String, nullable=False, unique=True, index=True))
    revoked: bool = Field(sa_column=Column(Boolean, nullable=False))


_KEYED = "dedupe_key IS NOT NULL"


class JournalRow(SQLModel, table=True):
    """One journal entry; ``data`` is JSON text, ``dedupe_key`` unique per exercise.

    The unique index on ``(exercise_id, dedupe_key)`` is partial: it holds only the rows that
    carry a key (the submits, one entry in ten), so every other entry goes into two B-trees,
    the table and its primary key, instead of three. A unique constraint ignores NULL keys
    as well, but indexes every row (schema version 1; see :func:`_migrate_1_to_2`).
    """

    __tablename__ = "journal"
    __table_args__ = (
        Index(
            "uq_journal_exercise_dedupe_key",
            "exercise_id",
            "dedupe_key",
            unique=True,
            sqlite_where=text(_KEYED),
            postgresql_where=text(_KEYED),
        ),
    )

    exercise_id: str = Field(sa_column=Column(String, ForeignKey("exercise.id"), primary_key=True))
    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    at: float = Field(sa_column=Column(Double, nullable=False))
    wall: float | None = Field(default=None, sa_column=Column(Double, nullable=True))
    type: str = Field(sa_column=Column(String, nullable=False))
    data: str = Field(sa_column=Column(Text, nullable=False))
    dedupe_key: str | None = Field(default=None, sa_column=Column(String, nullable=True))


class SchemaVersionRow(SQLModel, table=True):
    """A single row (``id`` = 1) holding the schema version the database was written with."""

    __tablename__ = "schema_version"

    id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    version: int = Field(sa_column=Column(Integer, nullable=False))


_EXERCISE = ExerciseRow.__table__  # type: ignore[attr-defined]
_SEAT = SeatRow.__table__  # type: ignore[attr-defined]
_JOURNAL = JournalRow.__table__  # type: ignore[attr-defined]
_VERSION = SchemaVersionRow.__table__  # type: ignore[attr-defined]
(_JOURNAL_KEYS,) = _JOURNAL.indexes
_TABLES = [_EXERCISE, _SEAT, _JOURNAL, _VERSION]


# --------------------------------------------------------------------------- URLs and engines


def normalise_url(url: str) -> URL:
    """Parse ``url`` and pin the synchronous driver this store is written for.

    ``postgres://`` and ``postgresql://`` become ``postgresql+psycopg://`` (psycopg 3);
    ``sqlite://`` stays on the standard library's ``sqlite3``. Async drivers are refused:
    the store does its own threading.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ValueError(f"not a database URL: {url!r}") from exc
    backend, _, driver = parsed.drivername.partition("+")
    if backend in ("postgresql", "postgres") and driver in ("", "psycopg"):
        return parsed.set(drivername="postgresql+psycopg")
    if backend == "sqlite" and driver in ("", "pysqlite"):
        return parsed.set(drivername="sqlite")
    raise ValueError(
        f"unsupported database URL {parsed.render_as_string(hide_password=True)!r}: "
        "expected sqlite:///path, postgresql://... or postgres://..."
    )


def sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL names; ``None`` for an in-memory database or another backend."""
    if not url.lower().startswith("sqlite"):
        return None
    parsed = normalise_url(url)
    return None if _sqlite_in_memory(parsed) else Path(str(parsed.database)).expanduser()


def _is_sqlite(url: URL) -> bool:
    return url.drivername == "sqlite"


def _sqlite_in_memory(url: URL) -> bool:
    return url.database in (None, "", ":memory:")


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    """Take transaction control away from ``sqlite3`` (its legacy mode breaks SAVEPOINT)."""
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        for pragma in _SQLITE_PRAGMAS:
            cursor.execute(f"PRAGMA {pragma}")
    finally:
        cursor.close()


def _sqlite_on_begin(conn: Connection) -> None:
    """Emit BEGIN ourselves; IMMEDIATE for writes so a lock upgrade can never deadlock."""
    immediate = conn.get_execution_options().get("shuttle_write", False)
    statement = "BEGIN IMMEDIATE" if immediate else "BEGIN"
    _on_driver(conn, statement)


def _on_driver(conn: Connection, statement: str, rows: list[_Row] | None = None) -> None:
    """Execute ``statement`` (with ``executemany`` over ``rows``, if given) on the connection's
    DBAPI cursor, past SQLAlchemy's execution path, which costs as much as a small group's
    insert (about 40 of the 210 µs of CPU a one-note append took). A driver error is wrapped as
    SQLAlchemy would wrap it (``IntegrityError``...), so callers see one family of exceptions.
    """
    dbapi_connection = conn.connection.dbapi_connection
    assert dbapi_connection is not None, "a connection in use has its DBAPI connection"
    cursor = dbapi_connection.cursor()
    try:
        if rows is None:
            cursor.execute(statement)
        else:
            cursor.executemany(statement, rows)
    except conn.dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(
            statement, None, exc, conn.dialect.loaded_dbapi.Error, dialect=conn.dialect
        ) from exc
    finally:
        cursor.close()


def _sqlite_engine(url: URL) -> Engine:
    if _sqlite_in_memory(url):
        # one shared connection, or every checkout would see a fresh empty database
        engine = create_engine(
            url,
            json_serializer=dump_json,
            poolclass=StaticPool,
            connect_args={"check_same_thread": False},
        )
    else:
        Path(str(url.database)).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, json_serializer=dump_json)
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _postgres_engine(url: URL, schema: str | None) -> Engine:
    if schema is None:
        return create_engine(url, json_serializer=dump_json)
    _create_pg_schema(url, schema)
    return create_engine(
        url,
        json_serializer=dump_json,
        connect_args={"options": f"-csearch_path={schema}"},
    )


def _create_pg_schema(url: URL, schema: str) -> None:
    """Create ``schema`` before the real engine's first connect.

    SQLAlchemy learns the default schema on its first connection; if the search path named
    a schema that did not exist yet, it would remember none.
    """
    bootstrap = create_engine(url, poolclass=NullPool)
    try:
        with bootstrap.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    finally:
        bootstrap.dispose()


def _check_schema_name(schema: str | None, url: URL) -> str | None:
    if schema is None:
        return None
    if _is_sqlite(url):
        raise ValueError("schema= applies to PostgreSQL only")
    if not _SCHEMA_NAME.match(schema):
        raise ValueError(f"schema must match {_SCHEMA_NAME.pattern}, got {schema!r}")
    return schema


# --------------------------------------------------------------------------- rows


_JOURNAL_COLUMNS = ("exercise_id", "seq", "at", "wall", "type", "data", "dedupe_key")
_Row = tuple[str, int, float, float | None, str, str, str | None]


def _entry_row(exercise_id: str, entry: Entry) -> _Row:
    """The journal row for ``entry`` (``_JOURNAL_COLUMNS`` order); raises TypeError/ValueError
    for unserialisable data."""
    wall = entry.wall
    return (
        exercise_id,
        entry.seq,
        float(entry.at),
        None if wall is None else float(wall),
        entry.type,
        data_json(entry),
        entry.dedupe_key,
    )


def _journal_insert_sql(paramstyle: str) -> str:
    """The driver-level INSERT of one journal row, in the driver's positional paramstyle.

    Rows go to the DBAPI ``executemany`` as plain tuples: no per-row dict, no compiled
    statement, no bind processors (every value already has the column's Python type).
    """
    mark = "?" if paramstyle == "qmark" else "%s"  # sqlite3; psycopg
    columns = ", ".join(_JOURNAL_COLUMNS)
    return f"INSERT INTO journal ({columns}) VALUES ({', '.join([mark] * len(_JOURNAL_COLUMNS))})"


def _row_entry(row: Any) -> Entry:
    return Entry(
        seq=row.seq,
        at=row.at,
        type=row.type,
        data=json.loads(row.data),
        wall=row.wall,
        dedupe_key=row.dedupe_key,
    )


def _exercise_values(record: ExerciseRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "title": record.title,
        "scenario": record.scenario,
        "seed": int(record.seed),
        "speed": float(record.speed),
        "created_wall": float(record.created_wall),
        "status": record.status,
        "extra": record.extra,
    }


def _row_exercise(row: Any) -> ExerciseRecord:
    return ExerciseRecord(
        id=row.id,
        scenario=row.scenario,
        seed=row.seed,
        speed=row.speed,
        created_wall=row.created_wall,
        status=row.status,
        title=row.title,
        extra=row.extra,
    )


def _seat_values(seat: SeatRecord) -> dict[str, Any]:
    return {
        "exercise_id": seat.exercise_id,
        "seat": seat.seat,
        "role": seat.role,
        "token_hash": seat.token_hash,
        "revoked": bool(seat.revoked),
    }


def _row_seat(row: Any) -> SeatRecord:
    return SeatRecord(
        exercise_id=row.exercise_id,
        seat=row.seat,
        role=row.role,
        token_hash=row.token_hash,
        revoked=bool(row.revoked),
    )


def _database_error(exc: SQLAlchemyError) -> StoreError:
    """A StoreError that names the driver's complaint but not the SQL or its parameters."""
    detail = exc.orig if isinstance(exc, DBAPIError) else exc
    error = StoreError(f"database error: {type(detail).__name__}: {detail}")
    error.__cause__ = exc
    return error


def _guarded(fn: Callable[..., _T], *args: Any) -> _T:
    """Run ``fn`` on the worker, turning driver errors into :class:`StoreError`."""
    try:
        return fn(*args)
    except SQLAlchemyError as exc:
        raise _database_error(exc) from exc


# --------------------------------------------------------------------------- group commit


class _RetryCarefully(Exception):
    """The database refused a group's combined insert; redo it one savepoint per batch.

    Raised only for the INSERT, never for the COMMIT: a failed commit may in truth have
    landed, and retrying it would turn that into false sequence conflicts.
    """


@dataclass(slots=True)
class _Batch:
    """One ``append`` call as the worker sees it: plain data only, no futures."""

    exercise_id: str
    entries: tuple[Entry, ...]
    rows: list[_Row]


@dataclass(slots=True)
class _Request:
    """One ``append`` call waiting for its group's commit."""

    batch: _Batch
    future: asyncio.Future[None]


def _settle(future: asyncio.Future[None], outcome: BaseException | None) -> None:
    if future.done():  # the caller was cancelled and no longer listens
        return
    if outcome is None:
        future.set_result(None)
    else:
        future.set_exception(outcome)


# --------------------------------------------------------------------------- the store


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
        self._schema = _check_schema_name(schema, self._url)
        self._engine: Engine | None = None
        self._insert_sql = ""  # set by open(), for the engine's driver
        self._write_conn: Connection | None = None  # the worker's, kept across groups
        self._executor: ThreadPoolExecutor | None = None
        self._closing = False
        # group-writer state
        self._last_seq: dict[str, int] = {}
        self._commits = 0
        # event-loop state
        self._pending: list[_Request] = []
        self._writer: asyncio.Task[None] | None = None
        # SQLite files: groups are written on the event loop's thread (see the module notes)
        self._inline = False
        self._checkpoint_idle_s = checkpoint_idle_s
        self._checkpoint_rows = checkpoint_rows
        self._rows_since_checkpoint = 0
        self._last_group = 0.0  # loop time of the last inline group
        self._idle_timer: asyncio.TimerHandle | None = None
        self._checkpointing = False
        self._checkpoints = 0

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
        return self._commits

    @property
    def checkpoint_count(self) -> int:
        """WAL checkpoints run beside an inline SQLite writer (0 for other databases)."""
        return self._checkpoints

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
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None
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
            self._last_seq.clear()

    def _open_sync(self) -> None:
        url = self._url
        self._engine = (
            _sqlite_engine(url) if _is_sqlite(url) else _postgres_engine(url, self._schema)
        )
        self._insert_sql = _journal_insert_sql(self._engine.dialect.paramstyle)
        self._inline = _is_sqlite(url) and not _sqlite_in_memory(url)
        with self._connect(write=True) as conn, conn.begin():
            self._prepare_schema(conn)

    def _dispose_sync(self) -> None:
        self._drop_write_conn()
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def _prepare_schema(self, conn: Connection) -> None:
        """Check the stored schema version *before* creating anything, then create tables."""
        if conn.dialect.name == "postgresql":
            # serialise concurrent first opens of the same database
            conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('shuttle.schema'))"))
        stored = None
        if inspect(conn).has_table("schema_version"):
            stored = conn.execute(select(_VERSION.c.version).where(_VERSION.c.id == 1)).scalar()
        if stored is not None:
            _check_version(int(stored), self)
            for version in range(int(stored), SCHEMA_VERSION):
                log.warning("%r: migrating the schema from version %d", self, version)
                _MIGRATIONS[version](conn)
                conn.execute(update(_VERSION).where(_VERSION.c.id == 1).values(version=version + 1))
        SQLModel.metadata.create_all(conn, tables=_TABLES)
        if stored is None:
            conn.execute(insert(_VERSION).values(id=1, version=SCHEMA_VERSION))

    @contextmanager
    def _group_transaction(self) -> Iterator[Connection]:
        """Worker: a write transaction on the connection kept for group commits.

        Keeping it saves a pool checkout and reset per group, which is most of what a small
        group costs. After any failure but a retry it is closed, so a broken connection is
        never reused: the next group checks out a fresh one.
        """
        conn = self._write_conn
        if conn is None:
            if self._engine is None:
                raise StoreError(f"{self!r} is not open")
            conn = self._engine.connect().execution_options(shuttle_write=True)
            if self._inline:
                conn.exec_driver_sql("PRAGMA wal_autocheckpoint=0")
                conn.commit()
            self._write_conn = conn
        try:
            with conn.begin():
                yield conn
        except _RetryCarefully:
            raise
        except BaseException:
            self._drop_write_conn()
            raise

    def _drop_write_conn(self) -> None:
        conn, self._write_conn = self._write_conn, None
        if conn is not None:
            with suppress(SQLAlchemyError):
                conn.close()

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
        return await loop.run_in_executor(executor, _guarded, fn, *args)

    # ----------------------------------------------------------------- exercises and seats

    async def create_exercise(self, record: ExerciseRecord, seats: Sequence[SeatRecord]) -> None:
        check_seats(record, seats)
        await self._call(self._create_sync, record, tuple(seats))

    def _create_sync(self, record: ExerciseRecord, seats: tuple[SeatRecord, ...]) -> None:
        with self._connect(write=True) as conn:
            try:
                with conn.begin():
                    if _exercise_exists(conn, record.id):
                        raise ExerciseExists(record.id)
                    conn.execute(insert(_EXERCISE).values(_exercise_values(record)))
                    if seats:
                        conn.execute(insert(_SEAT), [_seat_values(seat) for seat in seats])
            except IntegrityError as exc:
                # another process may have won the race for the id; else a token hash clashed
                if _exercise_exists(conn, record.id):
                    raise ExerciseExists(record.id) from exc
                raise StoreError(
                    f"a token hash of exercise {record.id!r} is already in use"
                ) from exc
        self._last_seq[record.id] = 0

    async def get_exercise(self, exercise_id: str) -> ExerciseRecord | None:
        return await self._call(self._get_exercise_sync, exercise_id)

    def _get_exercise_sync(self, exercise_id: str) -> ExerciseRecord | None:
        with self._connect() as conn:
            row = conn.execute(select(_EXERCISE).where(_EXERCISE.c.id == exercise_id)).first()
        return None if row is None else _row_exercise(row)

    async def list_exercises(self) -> list[ExerciseRecord]:
        return await self._call(self._list_exercises_sync)

    def _list_exercises_sync(self) -> list[ExerciseRecord]:
        query = select(_EXERCISE).order_by(_EXERCISE.c.created_wall, _EXERCISE.c.id)
        with self._connect() as conn:
            return [_row_exercise(row) for row in conn.execute(query)]

    async def set_status(self, exercise_id: str, status: str) -> None:
        await self._call(self._set_status_sync, exercise_id, status)

    def _set_status_sync(self, exercise_id: str, status: str) -> None:
        query = update(_EXERCISE).where(_EXERCISE.c.id == exercise_id).values(status=status)
        with self._connect(write=True) as conn, conn.begin():
            if conn.execute(query).rowcount == 0:
                raise UnknownExercise(exercise_id)

    async def seats(self, exercise_id: str) -> list[SeatRecord]:
        return await self._call(self._seats_sync, exercise_id)

    def _seats_sync(self, exercise_id: str) -> list[SeatRecord]:
        query = select(_SEAT).where(_SEAT.c.exercise_id == exercise_id).order_by(_SEAT.c.seat)
        with self._connect() as conn:
            seats = [_row_seat(row) for row in conn.execute(query)]
            if not seats and not _exercise_exists(conn, exercise_id):
                raise UnknownExercise(exercise_id)
        return seats

    async def find_seat(self, exercise_id: str, token_hash: str) -> SeatRecord | None:
        return await self._call(self._find_seat_sync, exercise_id, token_hash)

    def _find_seat_sync(self, exercise_id: str, token_hash: str) -> SeatRecord | None:
        query = select(_SEAT).where(
            _SEAT.c.token_hash == token_hash, _SEAT.c.exercise_id == exercise_id
        )
        with self._connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else _row_seat(row)

    async def revoke_seat(self, exercise_id: str, seat: str) -> None:
        await self._call(self._revoke_seat_sync, exercise_id, seat)

    def _revoke_seat_sync(self, exercise_id: str, seat: str) -> None:
        query = (
            update(_SEAT)
            .where(_SEAT.c.exercise_id == exercise_id, _SEAT.c.seat == seat)
            .values(revoked=True)
        )
        with self._connect(write=True) as conn, conn.begin():
            if conn.execute(query).rowcount == 0:
                if not _exercise_exists(conn, exercise_id):
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
            select(_JOURNAL)
            .where(_JOURNAL.c.exercise_id == exercise_id, _JOURNAL.c.seq > after_seq)
            .order_by(_JOURNAL.c.seq)
        )
        if limit is not None:
            query = query.limit(limit)
        with self._connect() as conn:
            entries = [_row_entry(row) for row in conn.execute(query)]
            # an empty answer is the only one that might hide an unknown exercise
            if not entries and not _exercise_exists(conn, exercise_id):
                raise UnknownExercise(exercise_id)
        return entries

    async def last_seq(self, exercise_id: str) -> int:
        return await self._call(self._last_seq_sync, exercise_id)

    def _last_seq_sync(self, exercise_id: str) -> int:
        """Always asks the database (another process may write) and refreshes the cache."""
        with self._connect() as conn:
            last = _stored_last_seq(conn, exercise_id)
        self._last_seq[exercise_id] = last
        return last

    # ----------------------------------------------------------------- journal: appends

    async def append(self, exercise_id: str, entries: Sequence[Entry]) -> None:
        if self._executor is None or self._closing:
            raise StoreError(f"{self!r} is not open")
        batch = tuple(entries)
        # serialise here, on the caller's turn: bad data fails only this call, at once, and
        # the worker never reads dicts the event loop could still be changing
        rows = [_entry_row(exercise_id, entry) for entry in batch]
        loop = asyncio.get_running_loop()
        request = _Request(_Batch(exercise_id, batch, rows), loop.create_future())
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

    async def _commit_group(self, group: list[_Request]) -> None:
        assert self._executor is not None
        loop = asyncio.get_running_loop()
        batches = [request.batch for request in group]
        try:
            if self._inline:
                outcomes = self._write_group(batches)
                self._after_inline_group(sum(len(batch.rows) for batch in batches))
            else:
                outcomes = await loop.run_in_executor(self._executor, self._write_group, batches)
        except asyncio.CancelledError:
            for request in group:
                request.future.cancel()
            raise
        except Exception as exc:  # the worker itself failed: every caller hears of it
            outcomes = [_database_failure(exc) for _ in group]
        for request, outcome in zip(group, outcomes, strict=True):
            _settle(request.future, outcome)

    def _after_inline_group(self, rows: int) -> None:
        """Checkpoint the WAL on the worker thread once appends pause, or after many rows.

        The inline writer's connection never checkpoints (``wal_autocheckpoint=0``): a
        checkpoint copies the WAL into the database and fsyncs it, and while it runs the
        commits beside it slow from tens of microseconds to milliseconds. So it runs on the
        worker, from its own connection (PASSIVE: it never blocks the writer), when appends
        have paused for ``checkpoint_idle_s``, or after ``checkpoint_rows`` rows regardless,
        which bounds the WAL under load that never pauses.
        """
        self._rows_since_checkpoint += rows
        loop = asyncio.get_running_loop()
        self._last_group = loop.time()
        if self._rows_since_checkpoint >= self._checkpoint_rows:
            self._checkpoint()
        elif self._idle_timer is None:
            self._idle_timer = loop.call_later(self._checkpoint_idle_s, self._when_idle)

    def _when_idle(self) -> None:
        self._idle_timer = None
        if self._executor is None or not self._rows_since_checkpoint:
            return
        loop = asyncio.get_running_loop()
        quiet = loop.time() - self._last_group
        if quiet >= self._checkpoint_idle_s:
            self._checkpoint()
        else:  # appends came meanwhile: look again once they may have paused
            self._idle_timer = loop.call_later(self._checkpoint_idle_s - quiet, self._when_idle)

    def _checkpoint(self) -> None:
        if self._checkpointing or self._executor is None or self._closing:
            return
        self._rows_since_checkpoint = 0
        self._checkpointing = True
        done = asyncio.get_running_loop().run_in_executor(self._executor, self._checkpoint_sync)
        done.add_done_callback(self._checkpointed)

    def _checkpoint_sync(self) -> None:
        assert self._engine is not None
        raw = self._engine.raw_connection()  # autocommit (isolation_level None): no BEGIN
        try:
            cursor = raw.cursor()
            try:
                cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
            finally:
                cursor.close()
        finally:
            raw.close()

    def _checkpointed(self, done: asyncio.Future[None]) -> None:
        self._checkpointing = False
        if done.cancelled():
            return
        if done.exception() is not None:
            log.warning("%r: WAL checkpoint failed: %s", self, done.exception())
        else:
            self._checkpoints += 1

    def _write_group(self, batches: list[_Batch]) -> list[BaseException | None]:
        """Write every batch in one transaction (on the worker, or inline for a SQLite file);
        each batch succeeds or fails alone.

        The fast path validates every batch in Python and inserts all accepted rows with a
        single executemany. Should the database still refuse (a stored dedupe key, another
        process writing), the transaction is rolled back and redone carefully, one SAVEPOINT
        per batch, so only the offending batch fails.
        """
        staged: dict[str, int] = {}  # last seq per exercise inside the transaction
        try:
            try:
                outcomes = self._write_group_once(batches, staged, careful=False)
            except _RetryCarefully:
                staged.clear()
                outcomes = self._write_group_once(batches, staged, careful=True)
        except Exception as exc:
            for exercise_id in staged:
                self._last_seq.pop(exercise_id, None)
            # nothing was committed: every batch shares the failure (a fresh error each)
            return [_database_failure(exc) for _ in batches]
        self._commits += 1
        self._last_seq.update(staged)
        return outcomes

    def _write_group_once(
        self, batches: list[_Batch], staged: dict[str, int], *, careful: bool
    ) -> list[BaseException | None]:
        with self._group_transaction() as conn:
            if careful:
                return [self._write_batch(conn, staged, batch) for batch in batches]
            return self._write_group_fast(conn, staged, batches)

    def _write_group_fast(
        self, conn: Connection, staged: dict[str, int], batches: list[_Batch]
    ) -> list[BaseException | None]:
        """Worker: validate every batch's seqs up front, then one executemany of all rows.

        Stored dedupe keys are not looked up: the unique index refuses a repeat, and the
        refusal sends the whole group down the careful path, which fails only the batch that
        repeated a key. (The live relay answers a resubmission from its core before it gets
        here, so a refusal is rare; the lookup it replaces cost a query per group.) Keys
        repeated by two batches of this group are caught here, since both would be new to
        the database: the later batch fails and the earlier one goes in.
        """
        taken: set[tuple[str, str]] = set()
        outcomes: list[BaseException | None] = []
        rows: list[_Row] = []
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

    def _insert(self, conn: Connection, rows: list[_Row]) -> None:
        """Worker: insert journal rows with the driver's own ``executemany``."""
        _on_driver(conn, self._insert_sql, rows)

    def _accept_batch(
        self,
        conn: Connection,
        staged: dict[str, int],
        taken: set[tuple[str, str]],
        batch: _Batch,
    ) -> StoreError | None:
        """Worker: validate one batch; if it passes, count its seqs and keys as written."""
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
        self, conn: Connection, staged: dict[str, int], batch: _Batch
    ) -> StoreError | None:
        """Worker: validate and insert one batch; return its error instead of raising it."""
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
                return _database_error(exc)
        except StoreError as exc:
            return exc
        staged[batch.exercise_id] = batch.entries[-1].seq
        return None

    def _check_batch(self, conn: Connection, staged: dict[str, int], batch: _Batch) -> None:
        """Raise unless the batch continues the journal as this transaction sees it.

        ``staged`` (this group's progress, or a read made inside this transaction) is the
        truth. The cross-commit cache is trusted only to *accept*: should it refuse, another
        process may have written, so the database is asked before the batch is refused.
        """
        exercise_id = batch.exercise_id
        cached = None if exercise_id in staged else self._last_seq.get(exercise_id)
        if cached is not None:
            try:
                check_batch_shape(exercise_id, cached, batch.entries)
                return
            except SequenceConflict:
                del self._last_seq[exercise_id]
        check_batch_shape(exercise_id, self._known_last(conn, staged, exercise_id), batch.entries)

    def _explain_refusal(
        self, conn: Connection, staged: dict[str, int], batch: _Batch, exc: IntegrityError
    ) -> StoreError:
        """Worker: the savepoint was rolled back; find out which rule the batch broke."""
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
            query = select(_JOURNAL.c.dedupe_key).where(
                _JOURNAL.c.exercise_id == exercise_id, _JOURNAL.c.dedupe_key.in_(keys)
            )
            stored = set(conn.execute(query).scalars())
            for key in keys:
                if key in stored:
                    return DuplicateKey(key)
        return _database_error(exc)

    def _known_last(self, conn: Connection, staged: dict[str, int], exercise_id: str) -> int:
        """Last seq as seen inside the current transaction (staged, cached, else queried)."""
        if exercise_id in staged:
            return staged[exercise_id]
        if exercise_id in self._last_seq:
            return self._last_seq[exercise_id]
        last = _stored_last_seq(conn, exercise_id)
        staged[exercise_id] = last
        return last

    def _forget(self, staged: dict[str, int], exercise_id: str) -> None:
        staged.pop(exercise_id, None)
        self._last_seq.pop(exercise_id, None)


# --------------------------------------------------------------------------- helpers


def _key_pairs(batch: _Batch) -> list[tuple[str, str]]:
    return [(batch.exercise_id, e.dedupe_key) for e in batch.entries if e.dedupe_key is not None]


def _exercise_exists(conn: Connection, exercise_id: str) -> bool:
    query = select(_EXERCISE.c.id).where(_EXERCISE.c.id == exercise_id)
    return conn.execute(query).first() is not None


def _stored_last_seq(conn: Connection, exercise_id: str) -> int:
    """``max(seq)`` of the exercise's journal (0 if empty); UnknownExercise if it has none."""
    highest = (
        select(func.max(_JOURNAL.c.seq))
        .where(_JOURNAL.c.exercise_id == exercise_id)
        .scalar_subquery()
    )
    row = conn.execute(select(_EXERCISE.c.id, highest).where(_EXERCISE.c.id == exercise_id)).first()
    if row is None:
        raise UnknownExercise(exercise_id)
    return int(row[1] or 0)


def _check_version(stored: int, store: SqlStore) -> None:
    if stored > SCHEMA_VERSION:
        raise StoreError(
            f"{store!r}: the database has schema version {stored}, newer than this code's "
            f"{SCHEMA_VERSION}; upgrade shuttle or use another database"
        )
    if stored < min(_MIGRATIONS, default=SCHEMA_VERSION):
        raise StoreError(
            f"{store!r}: the database has schema version {stored}, older than this code's "
            f"{SCHEMA_VERSION}, and no migration is known"
        )


# --------------------------------------------------------------------------- migrations
# Each runs inside the transaction that opens the store (DDL is transactional on both
# backends): a migration that fails leaves the database as it was.


def _migrate_1_to_2(conn: Connection) -> None:
    """The journal's unique constraint on ``(exercise_id, dedupe_key)`` becomes a partial
    unique index over the rows that carry a key. Same rule, a smaller index."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("ALTER TABLE journal DROP CONSTRAINT uq_journal_exercise_dedupe_key"))
        _JOURNAL_KEYS.create(conn)
        return
    # SQLite cannot drop a table's constraint: the table is copied into the new form.
    conn.execute(text("ALTER TABLE journal RENAME TO journal_v1"))
    _JOURNAL.create(conn)
    columns = ", ".join(_JOURNAL_COLUMNS)
    conn.execute(text(f"INSERT INTO journal ({columns}) SELECT {columns} FROM journal_v1"))
    conn.execute(text("DROP TABLE journal_v1"))


_MIGRATIONS: dict[int, Callable[[Connection], None]] = {1: _migrate_1_to_2}
"""Per schema version, the step that brings a database to the next one."""


def _database_failure(exc: BaseException) -> StoreError:
    """What each caller of a failed group commit receives (a fresh exception per caller)."""
    if isinstance(exc, SQLAlchemyError):
        return _database_error(exc)
    error = StoreError(f"commit failed: {type(exc).__name__}: {exc}")
    error.__cause__ = exc
    return error
