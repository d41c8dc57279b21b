"""What is specific to the SQL backend and to ``open_store``; the contract is elsewhere."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, UniqueConstraint, insert, inspect, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from relay.store import (
    DuplicateKey,
    Entry,
    ExerciseRecord,
    MemoryStore,
    SqlStore,
    StoreError,
    default_database_url,
    open_store,
    sql,
)
from relay.store.sql import engines, normalise_url, tables


def _record(exercise_id: str) -> ExerciseRecord:
    return ExerciseRecord(id=exercise_id, scenario={}, seed=1, speed=1.0, created_wall=0.0)


# --------------------------------------------------------------------------- open_store


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("memory://", MemoryStore),
        ("sqlite:///x/y.db", SqlStore),
        ("sqlite://", SqlStore),
        ("postgresql://u@h/db", SqlStore),
        ("postgres://u:secret@h:5432/db", SqlStore),
        ("postgresql+psycopg://u@h/db", SqlStore),
    ],
)
def test_open_store_picks_the_backend_by_scheme(url: str, kind: type) -> None:
    assert type(open_store(url)) is kind


@pytest.mark.parametrize("url", ["mysql://u@h/db", "shuttle.db", "", "http://x"])
def test_open_store_refuses_other_schemes(url: str) -> None:
    with pytest.raises(ValueError, match="accepted: memory://"):
        open_store(url)


def test_open_store_error_hides_the_password() -> None:
    with pytest.raises(ValueError) as caught:
        open_store("mysql://user:hunter2@host/db")
    assert "hunter2" not in str(caught.value)


def test_open_store_none_means_the_default_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert default_database_url() == f"sqlite:///{tmp_path / 'shuttle.db'}"
    store = open_store(None)
    assert isinstance(store, SqlStore)
    assert store.url.database == str(tmp_path / "shuttle.db")


# --------------------------------------------------------------------------- URLs


@pytest.mark.parametrize(
    ("given", "normal"),
    [
        ("postgres://u:p@h:5/db", "postgresql+psycopg://u:p@h:5/db"),
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:///rel.db", "sqlite:///rel.db"),
        ("sqlite+pysqlite:////abs/x.db", "sqlite:////abs/x.db"),
    ],
)
def test_normalise_url(given: str, normal: str) -> None:
    assert normalise_url(given).render_as_string(hide_password=False) == normal


@pytest.mark.parametrize("url", ["postgresql+asyncpg://u@h/db", "sqlite+aiosqlite:///x.db", "::"])
def test_async_drivers_and_garbage_are_refused(url: str) -> None:
    with pytest.raises(ValueError):
        SqlStore(url)


@pytest.mark.parametrize("schema", ["Bad", "x;drop", "a b", "1st"])
def test_schema_names_are_checked(schema: str) -> None:
    with pytest.raises(ValueError):
        SqlStore("postgresql://u@h/db", schema=schema)


def test_schema_is_for_postgres_only() -> None:
    with pytest.raises(ValueError, match="PostgreSQL only"):
        SqlStore("sqlite://", schema="s")


def test_repr_hides_the_password() -> None:
    assert "secret" not in repr(SqlStore("postgres://u:secret@h/db"))


# --------------------------------------------------------------------------- lifecycle


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
async def test_in_memory_sqlite_shares_one_connection(url: str) -> None:
    store = SqlStore(url)
    await store.open()
    try:
        await store.create_exercise(_record("ex"), [])
        await store.append("ex", [Entry(1, 0.0, "t", {})])
        assert await store.last_seq("ex") == 1
    finally:
        await store.close()


async def test_calls_need_an_open_store(tmp_path: Path) -> None:
    store = SqlStore(f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(StoreError, match="not open"):
        await store.list_exercises()
    with pytest.raises(StoreError, match="not open"):
        await store.append("ex", [])
    await store.open()
    with pytest.raises(StoreError, match="already open"):
        await store.open()
    await store.close()
    await store.close()  # idempotent
    with pytest.raises(StoreError, match="not open"):
        await store.last_seq("ex")


async def test_sqlite_file_settings(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "j.db"  # missing parents are created
    store = SqlStore(f"sqlite:///{path}")
    await store.open()
    await store.close()
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)  # persistent
        tables = {
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
    assert {"exercise", "seat", "journal", "schema_version"} <= tables


# --------------------------------------------------------------------------- group commit


async def test_concurrent_appends_share_commits(tmp_path: Path) -> None:
    store = SqlStore(f"sqlite:///{tmp_path / 'g.db'}")
    await store.open()
    try:
        ids = [f"ex{i}" for i in range(20)]
        for exercise_id in ids:
            await store.create_exercise(_record(exercise_id), [])
        before = store.commit_count
        await asyncio.gather(*(store.append(i, [Entry(1, 0.0, "t", {})]) for i in ids))
        assert store.commit_count - before == 1  # all twenty queued together: one transaction
        for exercise_id in ids:
            assert await store.last_seq(exercise_id) == 1
    finally:
        await store.close()


async def test_close_flushes_queued_appends(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'f.db'}"
    store = SqlStore(url)
    await store.open()
    await store.create_exercise(_record("ex"), [])
    # gather starts the append first: it is queued when close() begins, and must land
    await asyncio.gather(store.append("ex", [Entry(1, 0.0, "t", {})]), store.close())
    reopened = SqlStore(url)
    await reopened.open()
    try:
        assert await reopened.last_seq("ex") == 1
    finally:
        await reopened.close()


async def test_a_stored_key_is_refused_in_the_same_commit_as_the_rest(tmp_path: Path) -> None:
    """No lookup before the insert: the UNIQUE constraint refuses the repeat, and the group is
    redone so that only that batch fails, still in one commit."""
    store = SqlStore(f"sqlite:///{tmp_path / 'k.db'}")
    await store.open()
    try:
        for exercise_id in ("a", "b"):
            await store.create_exercise(_record(exercise_id), [])
        await store.append("a", [Entry(1, 0.0, "t", {}, dedupe_key="iran:n1")])
        before = store.commit_count
        results = await asyncio.gather(
            store.append(
                "a", [Entry(2, 0.0, "t", {}), Entry(3, 0.0, "t", {}, dedupe_key="iran:n1")]
            ),
            store.append("b", [Entry(1, 0.0, "t", {}, dedupe_key="iran:n1")]),
            return_exceptions=True,
        )
        assert isinstance(results[0], DuplicateKey) and results[0].key == "iran:n1"
        assert results[1] is None
        assert store.commit_count - before == 1
        assert [e.seq for e in await store.read("a")] == [1]
        await store.append("a", [Entry(2, 0.0, "t", {})])  # the refusal left nothing behind
    finally:
        await store.close()


async def test_a_failed_group_leaves_the_store_writable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer keeps one connection across groups, but never one a failure went through."""
    store = SqlStore(f"sqlite:///{tmp_path / 'w.db'}")
    await store.open()
    try:
        await store.create_exercise(_record("ex"), [])
        await store.append("ex", [Entry(1, 0.0, "t", {})])
        kept = store._groups.write_conn
        assert kept is not None

        def broken(*_args: object) -> None:
            raise OperationalError("COMMIT", {}, sqlite3.OperationalError("disk I/O error"))

        monkeypatch.setattr(store._groups, "_write_fast", broken)
        with pytest.raises(StoreError, match="disk I/O error"):
            await store.append("ex", [Entry(2, 0.0, "t", {})])
        monkeypatch.undo()
        await store.append("ex", [Entry(2, 0.0, "t", {})])
        assert store._groups.write_conn is not None and store._groups.write_conn is not kept
        assert kept.closed
        assert await store.last_seq("ex") == 2
    finally:
        await store.close()


# --------------------------------------------------------------------------- migrations


def _engine_of(store: SqlStore) -> Engine:
    """An engine on the store's database (and PostgreSQL schema), made as the store makes it."""
    if store.url.drivername == "sqlite":
        return engines.sqlite_engine(store.url)
    return engines.postgres_engine(store.url, store._schema)


def _write_version_1(engine: Engine) -> None:
    """A database as schema version 1 left it: the journal's keys under a unique constraint
    (which indexes every row), an exercise with a keyed and an unkeyed entry."""
    metadata = MetaData()
    for table in (tables.EXERCISE, tables.SEAT, tables.VERSION):
        table.to_metadata(metadata)
    journal = tables.JOURNAL.to_metadata(metadata)
    journal.indexes.clear()
    journal.append_constraint(
        UniqueConstraint("exercise_id", "dedupe_key", name="uq_journal_exercise_dedupe_key")
    )
    with engine.begin() as conn:
        metadata.create_all(conn)
        conn.execute(insert(metadata.tables["schema_version"]).values(id=1, version=1))
        conn.execute(
            insert(metadata.tables["exercise"]).values(
                id="ex",
                title="",
                scenario={},
                seed=1,
                speed=1.0,
                created_wall=0.0,
                status="running",
                extra={},
            )
        )
        conn.execute(
            insert(journal),
            [
                dict(
                    exercise_id="ex",
                    seq=1,
                    at=0.0,
                    wall=None,
                    type="t",
                    data='{"n":1}',
                    dedupe_key="iran:c1",
                ),
                dict(
                    exercise_id="ex",
                    seq=2,
                    at=0.5,
                    wall=9.5,
                    type="t",
                    data='{"n":2}',
                    dedupe_key=None,
                ),
            ],
        )


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
async def test_a_version_1_database_is_migrated_when_opened(backend: Any) -> None:
    store = backend.make()
    assert isinstance(store, SqlStore)
    engine = _engine_of(store)
    try:
        _write_version_1(engine)
        await store.open()
        try:
            assert await store.read("ex") == [
                Entry(1, 0.0, "t", {"n": 1}, dedupe_key="iran:c1"),
                Entry(2, 0.5, "t", {"n": 2}, wall=9.5),
            ]
            # the same rule as before: a stored key is refused, entries without one are not
            with pytest.raises(DuplicateKey):
                await store.append("ex", [Entry(3, 1.0, "t", {}, dedupe_key="iran:c1")])
            await store.append("ex", [Entry(3, 1.0, "t", {}), Entry(4, 1.0, "t", {})])
            await store.append("ex", [Entry(5, 1.0, "t", {}, dedupe_key="iran:c2")])
        finally:
            await store.close()
        with engine.connect() as conn:
            assert conn.execute(select(tables.VERSION.c.version)).scalar() == sql.SCHEMA_VERSION
            (index,) = inspect(conn).get_indexes("journal")
            constraints = inspect(conn).get_unique_constraints("journal")
        assert index["name"] == "uq_journal_exercise_dedupe_key" and index["unique"]
        where = index.get("dialect_options", {})
        assert "dedupe_key IS NOT NULL" in str(where.get(f"{engine.dialect.name}_where"))
        assert constraints == []
    finally:
        engine.dispose()
