"""The SQL backend: a :class:`JournalStore` on SQLite or PostgreSQL (``SqlStore``).

Its modules, from the bottom up:

* :mod:`~relay.store.sql.tables`: the tables, declared once with SQLModel;
* :mod:`~relay.store.sql.engines`: database URLs, engines and connection settings;
* :mod:`~relay.store.sql.rows`: records to rows and back, driver errors as ``StoreError``;
* :mod:`~relay.store.sql.migrations`: the schema version and the steps up to it;
* :mod:`~relay.store.sql.group_commit`: the writer that commits many appends together;
* :mod:`~relay.store.sql.checkpoint`: WAL checkpoints beside a SQLite file's writer;
* :mod:`~relay.store.sql.store`: ``SqlStore`` itself, which puts them together.

Code outside :mod:`relay.store` opens stores with :func:`relay.store.open_store`.
"""

from __future__ import annotations

from relay.store.sql.checkpoint import CHECKPOINT_IDLE_S, CHECKPOINT_ROWS
from relay.store.sql.engines import normalise_url, sqlite_file
from relay.store.sql.migrations import SCHEMA_VERSION
from relay.store.sql.store import SqlStore
from relay.store.sql.tables import ExerciseRow, JournalRow, SchemaVersionRow, SeatRow

__all__ = [
    "CHECKPOINT_IDLE_S",
    "CHECKPOINT_ROWS",
    "SCHEMA_VERSION",
    "ExerciseRow",
    "JournalRow",
    "SchemaVersionRow",
    "SeatRow",
    "SqlStore",
    "normalise_url",
    "sqlite_file",
]
