"""Journal storage: the :class:`JournalStore` contract and its backends, chosen by URL.

``open_store(url)`` returns a store that is *not yet opened*: the caller owns its lifecycle
(``await store.open()`` ... ``await store.close()``), which keeps construction free of I/O and
lets the same code drive every backend.

This package is the store's front door: code outside it (the relay, the command line) asks
these functions about database URLs instead of reaching into a backend. Importing it loads no
database library: the SQL backend (SQLAlchemy) is imported when a SQL store is first asked
for (:func:`open_store`, :func:`sqlite_file`, :func:`process_local`, ``SqlStore``).
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

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
from relay.store.memory import MemoryStore

if TYPE_CHECKING:
    from relay.store.sql import SqlStore

__all__ = [
    "DuplicateKey",
    "Entry",
    "ExerciseExists",
    "ExerciseRecord",
    "JournalStore",
    "MemoryStore",
    "SeatRecord",
    "SequenceConflict",
    "SqlStore",
    "StoreError",
    "UnknownExercise",
    "default_database_url",
    "open_store",
    "process_local",
    "sqlite_file",
]

_ACCEPTED = (
    "memory://, sqlite:///path/to/file.db (or sqlite://), postgresql://... or postgres://..."
)


def open_store(url: str | None) -> JournalStore:
    """The backend named by ``url``'s scheme, constructed but not opened.

    ``None`` means :func:`default_database_url` (a SQLite file in the current directory), so
    a bare command line keeps its data by default.
    """
    if url is None:
        url = default_database_url()
    scheme = url.partition("://")[0].partition("+")[0].lower() if "://" in url else ""
    if scheme == "memory":
        return MemoryStore()
    if scheme in ("sqlite", "postgresql", "postgres"):
        store: JournalStore = _sql_backend().SqlStore(url)
        return store
    raise ValueError(f"unsupported store URL {_redact(url)!r}; accepted: {_ACCEPTED}")


def default_database_url() -> str:
    """``sqlite:///`` + the absolute path of ``./shuttle.db``.

    Absolute, so the store stays put if the process later changes directory.
    """
    return "sqlite:///" + str(Path("shuttle.db").absolute())


def sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL names; ``None`` for an in-memory database or another backend.

    ``ValueError`` for a SQLite URL that is not valid.
    """
    path: Path | None = _sql_backend().sqlite_file(url)
    return path


def process_local(url: str) -> bool:
    """Whether the database ``url`` names lives inside one process (``memory://``, an
    in-memory SQLite database), so that several processes cannot share it.

    ``ValueError`` for a URL that names no database a store can open.
    """
    if url.startswith("memory:"):
        return True
    sql = _sql_backend()
    return bool(
        sql.normalise_url(url).drivername.startswith("sqlite") and sql.sqlite_file(url) is None
    )


def __getattr__(name: str) -> Any:
    """``SqlStore``, imported with its backend when first asked for."""
    if name == "SqlStore":
        return _sql_backend().SqlStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _sql_backend() -> ModuleType:
    """The SQL backend, imported on first use: it loads SQLAlchemy, which takes a quarter of a
    second that a memory store, a journal file or a command's ``--help`` need not pay."""
    from relay.store import sql

    return sql


def _redact(url: str) -> str:
    """``url`` without its password, for error messages."""
    scheme, sep, rest = url.partition("://")
    userinfo, at, host = rest.rpartition("@")
    if not sep or not at or ":" not in userinfo:
        return url
    return f"{scheme}://{userinfo.partition(':')[0]}:***@{host}"
