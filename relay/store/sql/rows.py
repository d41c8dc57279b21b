"""Records to rows and back, the two lookups every writer needs, and driver errors as
:class:`StoreError`.

A journal row is a plain tuple in :data:`relay.store.sql.tables.JOURNAL_COLUMNS` order, made on
the caller's turn so that bad data fails only its own call. ``data`` is stored as compact JSON
text, so an exported entry is byte-for-byte what went in (key order kept); floats are ``DOUBLE
PRECISION`` so they round-trip exactly.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from relay.store._common import data_json
from relay.store.base import Entry, ExerciseRecord, SeatRecord, StoreError, UnknownExercise
from relay.store.sql.tables import EXERCISE, JOURNAL, JOURNAL_COLUMNS

__all__ = [
    "Row",
    "database_error",
    "database_failure",
    "entry_row",
    "exercise_exists",
    "exercise_values",
    "guarded",
    "journal_insert_sql",
    "row_entry",
    "row_exercise",
    "row_seat",
    "seat_values",
    "stored_last_seq",
]

_T = TypeVar("_T")

Row = tuple[str, int, float, float | None, str, str, str | None]
"""One journal row, in ``JOURNAL_COLUMNS`` order."""


def entry_row(exercise_id: str, entry: Entry) -> Row:
    """The journal row for ``entry`` (``JOURNAL_COLUMNS`` order); raises TypeError/ValueError
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


def journal_insert_sql(paramstyle: str) -> str:
    """The driver-level INSERT of one journal row, in the driver's positional paramstyle.

    Rows go to the DBAPI ``executemany`` as plain tuples: no per-row dict, no compiled
    statement, no bind processors (every value already has the column's Python type).
    """
    mark = "?" if paramstyle == "qmark" else "%s"  # sqlite3; psycopg
    columns = ", ".join(JOURNAL_COLUMNS)
    return f"INSERT INTO journal ({columns}) VALUES ({', '.join([mark] * len(JOURNAL_COLUMNS))})"


def row_entry(row: Any) -> Entry:
    return Entry(
        seq=row.seq,
        at=row.at,
        type=row.type,
        data=json.loads(row.data),
        wall=row.wall,
        dedupe_key=row.dedupe_key,
    )


def exercise_values(record: ExerciseRecord) -> dict[str, Any]:
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


def row_exercise(row: Any) -> ExerciseRecord:
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


def seat_values(seat: SeatRecord) -> dict[str, Any]:
    return {
        "exercise_id": seat.exercise_id,
        "seat": seat.seat,
        "role": seat.role,
        "token_hash": seat.token_hash,
        "revoked": bool(seat.revoked),
    }


def row_seat(row: Any) -> SeatRecord:
    return SeatRecord(
        exercise_id=row.exercise_id,
        seat=row.seat,
        role=row.role,
        token_hash=row.token_hash,
        revoked=bool(row.revoked),
    )


def exercise_exists(conn: Connection, exercise_id: str) -> bool:
    query = select(EXERCISE.c.id).where(EXERCISE.c.id == exercise_id)
    return conn.execute(query).first() is not None


def stored_last_seq(conn: Connection, exercise_id: str) -> int:
    """``max(seq)`` of the exercise's journal (0 if empty); UnknownExercise if it has none."""
    highest = (
        select(func.max(JOURNAL.c.seq))
        .where(JOURNAL.c.exercise_id == exercise_id)
        .scalar_subquery()
    )
    row = conn.execute(select(EXERCISE.c.id, highest).where(EXERCISE.c.id == exercise_id)).first()
    if row is None:
        raise UnknownExercise(exercise_id)
    return int(row[1] or 0)


def database_error(exc: SQLAlchemyError) -> StoreError:
    """A StoreError that names the driver's complaint but not the SQL or its parameters."""
    detail = exc.orig if isinstance(exc, DBAPIError) else exc
    error = StoreError(f"database error: {type(detail).__name__}: {detail}")
    error.__cause__ = exc
    return error


def database_failure(exc: BaseException) -> StoreError:
    """What each caller of a failed group commit receives (a fresh exception per caller)."""
    if isinstance(exc, SQLAlchemyError):
        return database_error(exc)
    error = StoreError(f"commit failed: {type(exc).__name__}: {exc}")
    error.__cause__ = exc
    return error


def guarded(fn: Callable[..., _T], *args: Any) -> _T:
    """Run ``fn`` on the worker, turning driver errors into :class:`StoreError`."""
    try:
        return fn(*args)
    except SQLAlchemyError as exc:
        raise database_error(exc) from exc
