"""The SQL store's tables, declared once with SQLModel, and their Core ``Table`` objects.

Rows go in and out through SQLAlchemy Core (and the driver's own ``executemany`` for journal
appends), never the ORM: its unit of work costs about ten times as much per entry. The
classes here are only the one place the schema is written down.
"""

from __future__ import annotations

from typing import Any

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
    Table,
    Text,
    text,
)
from sqlmodel import Field, SQLModel

__all__ = [
    "EXERCISE",
    "JOURNAL",
    "JOURNAL_COLUMNS",
    "JOURNAL_KEYS",
    "SEAT",
    "TABLES",
    "VERSION",
    "ExerciseRow",
    "JournalRow",
    "SchemaVersionRow",
    "SeatRow",
]


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
    as well, but indexes every row (schema version 1; see
    :func:`relay.store.sql.migrations.migrate_1_to_2`).
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


EXERCISE: Table = ExerciseRow.__table__  # type: ignore[attr-defined]
SEAT: Table = SeatRow.__table__  # type: ignore[attr-defined]
JOURNAL: Table = JournalRow.__table__  # type: ignore[attr-defined]
VERSION: Table = SchemaVersionRow.__table__  # type: ignore[attr-defined]
(JOURNAL_KEYS,) = JOURNAL.indexes
TABLES = [EXERCISE, SEAT, JOURNAL, VERSION]
JOURNAL_COLUMNS = ("exercise_id", "seq", "at", "wall", "type", "data", "dedupe_key")
"""The journal's columns in the order of a journal row (:data:`relay.store.sql.rows.Row`)."""
