"""Journal storage: the :class:`JournalStore` contract and its backends, chosen by URL.

``open_store(url)`` returns a store that is *not yet opened*: the caller owns its lifecycle
(``await store.open()`` ... ``await store.close()``), which keeps construction free of I/O and
lets the same code drive every backend.
"""

from __future__ import annotations

from pathlib import Path

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
        return SqlStore(url)
    raise ValueError(f"unsupported store URL {_redact(url)!r}; accepted: {_ACCEPTED}")


def default_database_url() -> str:
    """``sqlite:///`` + the absolute path of ``./shuttle.db``.

    Absolute, so the store stays put if the process later changes directory.
    """
    return "sqlite:///" + str(Path("shuttle.db").absolute())


def _redact(url: str) -> str:
    """``url`` without its password, for error messages."""
    scheme, sep, rest = url.partition("://")
    userinfo, at, host = rest.rpartition("@")
    if not sep or not at or ":" not in userinfo:
        return url
    return f"{scheme}://{userinfo.partition(':')[0]}:***@{host}"
