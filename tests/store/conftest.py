"""Fixtures of the store suite: the same tests run against every backend.

``store`` is an opened store of the backend named by the ``backend`` parameter ("memory",
"sqlite", "postgres"); ``stores`` opens more stores of that backend, on the same database
for the SQL ones (to test close and reopen). Tests that only make sense for persistent
backends override the parameter: ``@pytest.mark.parametrize("backend", [...], indirect=True)``.

Every store a fixture opens is closed at teardown, so nothing leaks a connection (pytest
turns ResourceWarnings into errors here).

PostgreSQL comes from ``SHUTTLE_TEST_POSTGRES_URL`` (default: local trust-auth server, db
``test``). Each run works in its own schema ``shuttle_test_<hex>``, dropped after every test
(the next store recreates it) and at the end. An unreachable server skips the postgres
cases, except under ``CI=true``, where it fails them: CI must not go green untested.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from relay.store import JournalStore, MemoryStore, SqlStore

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"

ALL_BACKENDS = ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def postgres_url() -> str:
    return os.environ.get("SHUTTLE_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def _libpq_url(url: str) -> str:
    """The URL as psycopg itself accepts it (no SQLAlchemy ``+driver`` suffix)."""
    return re.sub(r"^postgres(?:ql)?(?:\+psycopg)?://", "postgresql://", url)


def _shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _drop_schema(url: str, schema: str) -> None:
    with psycopg.connect(_libpq_url(url), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[str]:
    """A private schema name for this run; the server is checked once, up front."""
    url = postgres_url()
    try:
        psycopg.connect(_libpq_url(url), connect_timeout=5).close()
    except psycopg.Error as exc:
        reason = " ".join(str(exc).split())  # one line: libpq's messages span several
        message = (
            f"PostgreSQL at {_shown(url)} is unreachable ({reason}); start it or set "
            "SHUTTLE_TEST_POSTGRES_URL"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    schema = f"shuttle_test_{uuid.uuid4().hex[:8]}"
    yield schema
    _drop_schema(url, schema)


@dataclass
class Backend:
    """How to make (unopened) stores of one backend.

    SQL stores made by one ``Backend`` share their database; memory stores share nothing.
    """

    name: str
    make: Callable[[], JournalStore]


@pytest.fixture(params=ALL_BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    name: str = request.param
    if name == "memory":
        yield Backend(name, MemoryStore)
    elif name == "sqlite":
        url = f"sqlite:///{tmp_path / 'db' / 'journal.db'}"  # 'db/' is created by the store
        yield Backend(name, lambda: SqlStore(url))
    elif name == "postgres":
        schema: str = request.getfixturevalue("postgres_schema")
        url = postgres_url()
        yield Backend(name, lambda: SqlStore(url, schema=schema))
        _drop_schema(url, schema)  # the next test starts from nothing (the store recreates it)
    else:
        raise AssertionError(f"unknown backend {name!r}")


@dataclass
class StoreFactory:
    """Opens stores of one backend and remembers them so teardown can close them."""

    backend: Backend
    opened: list[JournalStore] = field(default_factory=list)

    async def open(self) -> JournalStore:
        store = self.backend.make()
        await store.open()
        self.opened.append(store)
        return store

    async def close_all(self) -> None:
        while self.opened:
            await self.opened.pop().close()


@pytest.fixture
async def stores(backend: Backend) -> AsyncIterator[StoreFactory]:
    factory = StoreFactory(backend)
    try:
        yield factory
    finally:
        await factory.close_all()


@pytest.fixture
async def store(stores: StoreFactory) -> JournalStore:
    return await stores.open()
