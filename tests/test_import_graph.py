"""What a module drags in when imported: reading and replaying journals loads no database
library, and the store package loads its SQL backend only when a SQL store is asked for.

Each check imports in a fresh interpreter (a child process) and looks at ``sys.modules``,
since in this process the other tests have long loaded everything.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATABASE_LIBRARIES = ("sqlalchemy", "sqlmodel")


def database_libraries_after(code: str) -> list[str]:
    """The database libraries (top-level packages) loaded once ``code`` has run."""
    probe = (
        f"{code}\nimport json, sys\n"
        f"print(json.dumps(sorted({{m.partition('.')[0] for m in sys.modules}} & "
        f"{set(DATABASE_LIBRARIES)!r})))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    loaded: list[str] = json.loads(result.stdout.splitlines()[-1])
    return loaded


@pytest.mark.parametrize(
    "code",
    [
        "import relay.journal, relay.replay",
        "import relay.entry",
        "import relay.store; relay.store.open_store('memory://')",
    ],
)
def test_journals_and_the_store_front_door_load_no_database_library(code: str) -> None:
    assert database_libraries_after(code) == []


def test_a_sql_store_loads_its_backend() -> None:
    """The probe sees a database library when one is loaded (so the check above can fail)."""
    assert database_libraries_after("import relay.store; relay.store.open_store('sqlite://')") == [
        "sqlalchemy",
        "sqlmodel",
    ]


# ------------------------------------------------------------------- clients use the front door

CLIENTS = ROOT / "clients"
BACKEND_MODULES = ("relay.store.sql", "relay.store.memory", "relay.store._common")
"""A store's backends: clients open a store through ``relay.store`` (``open_store``...)."""
DRIVER_INTERNALS = {"relay.sim": {"Intent", "SeatBot"}}
"""Names clients take from their own module (``relay.core.bots``), not from a driver."""


def backdoor_imports(source: str, filename: str) -> list[str]:
    """``file:line: what`` for every import of a store backend or a driver's bot protocol."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        modules: list[str] = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
            taken = {alias.name for alias in node.names} & DRIVER_INTERNALS.get(node.module, set())
            found += [f"{filename}:{node.lineno}: {name} from {node.module}" for name in taken]
            if node.module == "relay.store":
                modules += [f"relay.store.{alias.name}" for alias in node.names]
        for module in modules:
            if any(module == b or module.startswith(b + ".") for b in BACKEND_MODULES):
                found.append(f"{filename}:{node.lineno}: imports {module}")
    return found


def test_clients_go_through_the_front_door() -> None:
    problems = [
        problem
        for path in sorted(CLIENTS.rglob("*.py"))
        for problem in backdoor_imports(path.read_text(encoding="utf-8"), path.name)
    ]
    assert not problems, "clients/ reaches past a facade:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    "source",
    [
        "from relay.store.sql import sqlite_file",
        "import relay.store.sql",
        "from relay.store import sql",
        "def f():\n    from relay.store.memory import MemoryStore",
        "from relay.sim import Intent, simulate",
    ],
)
def test_the_front_door_check_catches(source: str) -> None:
    assert backdoor_imports(source, "x.py")


def test_the_front_door_check_allows() -> None:
    source = "from relay.store import open_store, sqlite_file\nfrom relay.sim import simulate"
    assert backdoor_imports(source, "x.py") == []
