"""What a module drags in when imported: reading and replaying journals loads no database
library, and the store package loads its SQL backend only when a SQL store is asked for.

Each check imports in a fresh interpreter (a child process) and looks at ``sys.modules``,
since in this process the other tests have long loaded everything.
"""

from __future__ import annotations

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
