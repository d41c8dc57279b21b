"""Database URLs and engines: which driver, which connection settings, and the driver's own
cursor for the statements that must skip SQLAlchemy's execution path.

The store runs synchronous SQLAlchemy on psycopg 3 (PostgreSQL) or the standard library's
``sqlite3``. A SQLite connection runs in WAL mode with ``synchronous=NORMAL``, waits up to five
seconds for a lock and begins every write with ``BEGIN IMMEDIATE``. A PostgreSQL store may live
in its own schema (tests isolate themselves so), reached through the ``search_path``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.pool import NullPool, StaticPool

from relay.store._common import dump_json

__all__ = [
    "check_schema_name",
    "is_sqlite",
    "make_engine",
    "normalise_url",
    "on_driver",
    "postgres_engine",
    "sqlite_engine",
    "sqlite_file",
    "sqlite_in_memory",
]

_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_SQLITE_PRAGMAS = (
    "busy_timeout=5000",  # first, so the pragmas below wait for a lock instead of failing
    "journal_mode=WAL",
    "synchronous=NORMAL",  # with WAL: a commit survives kill -9 of the process
    "foreign_keys=ON",
)


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
    return None if sqlite_in_memory(parsed) else Path(str(parsed.database)).expanduser()


def is_sqlite(url: URL) -> bool:
    return url.drivername == "sqlite"


def sqlite_in_memory(url: URL) -> bool:
    return url.database in (None, "", ":memory:")


def check_schema_name(schema: str | None, url: URL) -> str | None:
    """``schema`` if it may name the store's PostgreSQL schema; ``ValueError`` otherwise."""
    if schema is None:
        return None
    if is_sqlite(url):
        raise ValueError("schema= applies to PostgreSQL only")
    if not _SCHEMA_NAME.match(schema):
        raise ValueError(f"schema must match {_SCHEMA_NAME.pattern}, got {schema!r}")
    return schema


def make_engine(url: URL, schema: str | None) -> Engine:
    """The engine for ``url``: SQLite (file or memory) or PostgreSQL (in ``schema``)."""
    return sqlite_engine(url) if is_sqlite(url) else postgres_engine(url, schema)


def sqlite_engine(url: URL) -> Engine:
    if sqlite_in_memory(url):
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


def postgres_engine(url: URL, schema: str | None) -> Engine:
    if schema is None:
        return create_engine(url, json_serializer=dump_json)
    _create_pg_schema(url, schema)
    return create_engine(
        url,
        json_serializer=dump_json,
        connect_args={"options": f"-csearch_path={schema}"},
    )


def on_driver(
    conn: Connection, statement: str, rows: Sequence[Sequence[Any]] | None = None
) -> None:
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
    on_driver(conn, statement)


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
