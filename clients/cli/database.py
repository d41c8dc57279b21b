"""The journal database as the commands open it: through :mod:`relay.store`, with a one-line
failure for a bad URL or an unusable database."""

from __future__ import annotations

from clients.cli.options import fail
from relay.store import (
    JournalStore,
    StoreError,
    default_database_url,
    open_store,
    sqlite_file,
)

__all__ = ["database_url", "opened_store", "probe_store"]


def database_url(database: str | None) -> str:
    """``--database`` as given, or the default store (``sqlite:///./shuttle.db``)."""
    return database or default_database_url()


async def opened_store(url: str, *, must_exist: bool = False) -> JournalStore:
    """An opened journal store; a clear error for a bad URL or an unusable database.

    With ``must_exist``, a SQLite file that is not there is an error instead of a new,
    empty database (a mistyped path when reading).
    """
    try:
        path = sqlite_file(url) if must_exist else None
        if path is not None and not path.exists():
            raise fail(f"no database at {path}")
        store = open_store(url)
        await store.open()
    except (ValueError, StoreError) as error:
        raise fail(f"cannot open the journal database: {error}") from None
    return store


async def probe_store(url: str) -> None:
    """Open the store at ``url`` and close it again: fail now rather than halfway through."""
    await (await opened_store(url)).close()
