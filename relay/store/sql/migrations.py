"""The schema version and the steps that bring an older database up to it.

The store keeps a ``schema_version`` table (one row) and checks it when it opens. A new
database gets the tables and the current version; one written by newer code is refused
("upgrade shuttle or use another database"); an older one is migrated, one version at a time,
inside the transaction that opens the store. DDL is transactional on SQLite and PostgreSQL,
so a step that fails leaves the database as it was. (Why not alembic: docs/architecture.md,
decision (f).)
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import insert, inspect, select, text, update
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from relay.store.base import StoreError
from relay.store.sql.tables import JOURNAL, JOURNAL_COLUMNS, JOURNAL_KEYS, TABLES, VERSION

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "check_version", "migrate_1_to_2", "prepare_schema"]

SCHEMA_VERSION = 2
"""Bumped whenever the tables change. An older database is migrated when a store opens it
(:data:`MIGRATIONS`); one written by newer code is refused."""

log = logging.getLogger("shuttle.store")


def prepare_schema(conn: Connection, store: str) -> None:
    """Check the stored schema version *before* creating anything, migrate an older one, then
    create what is missing. ``store`` names the store in messages."""
    if conn.dialect.name == "postgresql":
        # serialise concurrent first opens of the same database
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('shuttle.schema'))"))
    stored = None
    if inspect(conn).has_table("schema_version"):
        stored = conn.execute(select(VERSION.c.version).where(VERSION.c.id == 1)).scalar()
    if stored is not None:
        check_version(int(stored), store)
        for version in range(int(stored), SCHEMA_VERSION):
            log.warning("%s: migrating the schema from version %d", store, version)
            MIGRATIONS[version](conn)
            conn.execute(update(VERSION).where(VERSION.c.id == 1).values(version=version + 1))
    SQLModel.metadata.create_all(conn, tables=TABLES)
    if stored is None:
        conn.execute(insert(VERSION).values(id=1, version=SCHEMA_VERSION))


def check_version(stored: int, store: str) -> None:
    """Refuse a database of a newer schema version, or of one no migration starts from."""
    if stored > SCHEMA_VERSION:
        raise StoreError(
            f"{store}: the database has schema version {stored}, newer than this code's "
            f"{SCHEMA_VERSION}; upgrade shuttle or use another database"
        )
    if stored < min(MIGRATIONS, default=SCHEMA_VERSION):
        raise StoreError(
            f"{store}: the database has schema version {stored}, older than this code's "
            f"{SCHEMA_VERSION}, and no migration is known"
        )


# Each step runs inside the transaction that opens the store (DDL is transactional on both
# backends): a migration that fails leaves the database as it was.


def migrate_1_to_2(conn: Connection) -> None:
    """The journal's unique constraint on ``(exercise_id, dedupe_key)`` becomes a partial
    unique index over the rows that carry a key. Same rule, a smaller index."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("ALTER TABLE journal DROP CONSTRAINT uq_journal_exercise_dedupe_key"))
        JOURNAL_KEYS.create(conn)
        return
    # SQLite cannot drop a table's constraint: the table is copied into the new form.
    conn.execute(text("ALTER TABLE journal RENAME TO journal_v1"))
    JOURNAL.create(conn)
    columns = ", ".join(JOURNAL_COLUMNS)
    conn.execute(text(f"INSERT INTO journal ({columns}) SELECT {columns} FROM journal_v1"))
    conn.execute(text("DROP TABLE journal_v1"))


MIGRATIONS: dict[int, Callable[[Connection], None]] = {1: migrate_1_to_2}
"""Per schema version, the step that brings a database to the next one."""
