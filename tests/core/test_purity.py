"""The core is sans-I/O: no module under relay/core imports clocks, sockets, I/O or randomness."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "relay" / "core"
FORBIDDEN = frozenset(
    {
        "asyncio",
        "fastapi",
        "starlette",
        "sqlmodel",
        "sqlalchemy",
        "time",
        "random",
        "socket",
        "threading",
        "uvicorn",
        "websockets",
        "httpx",
        "os",
        "datetime",
    }
)
DYNAMIC = frozenset({"importlib", "__import__", "import_module"})


def violations(source: str, filename: str) -> list[str]:
    """``file:line: what`` for every forbidden or dynamic import in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif isinstance(node, ast.Call):
            func = node.func
            called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if called in DYNAMIC:
                found.append(f"{filename}:{node.lineno}: dynamic import via {called}()")
        elif isinstance(node, ast.Name | ast.Attribute):
            name = node.id if isinstance(node, ast.Name) else node.attr
            if name in DYNAMIC - {"import_module"} and not isinstance(
                getattr(node, "ctx", None), ast.Store
            ):
                found.append(f"{filename}:{node.lineno}: uses {name}")
        for name in names:
            root = name.split(".")[0]
            if root in FORBIDDEN:
                found.append(f"{filename}:{node.lineno}: imports {name}")
            elif root in DYNAMIC:
                found.append(f"{filename}:{node.lineno}: imports {name} (dynamic imports)")
    return sorted(set(found), key=lambda line: int(line.split(":")[1]))


def core_files() -> list[Path]:
    return sorted(CORE.rglob("*.py"))


def test_the_core_package_is_found():
    names = {path.name for path in core_files()}
    assert {"exercise.py", "events.py", "commands.py", "visibility.py", "latency.py"} <= names


@pytest.mark.parametrize("path", core_files(), ids=lambda p: p.name)
def test_core_module_imports_nothing_impure(path):
    rel = path.relative_to(CORE.parents[1])
    problems = violations(path.read_text(encoding="utf-8"), str(rel))
    assert not problems, "relay/core must stay sans-I/O:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import asyncio", "x.py:1: imports asyncio"),
        ("import json\nimport asyncio.events", "x.py:2: imports asyncio.events"),
        ("from asyncio.events import get_event_loop", "x.py:1: imports asyncio.events"),
        ("import os.path as p", "x.py:1: imports os.path"),
        ("from time import monotonic", "x.py:1: imports time"),
        ("from datetime import datetime", "x.py:1: imports datetime"),
        ("import math, random", "x.py:1: imports random"),
        ("def f():\n    import socket", "x.py:2: imports socket"),
        ("import sqlalchemy.orm", "x.py:1: imports sqlalchemy.orm"),
        ("from starlette.requests import Request", "x.py:1: imports starlette.requests"),
        ("import importlib", "x.py:1: imports importlib (dynamic imports)"),
        ("from importlib import import_module", "x.py:1: imports importlib (dynamic imports)"),
        ("m = __import__('os')", "x.py:1: dynamic import via __import__()"),
        (
            "x = 1\nm = importlib.import_module('time')",
            "x.py:2: dynamic import via import_module()",
        ),
        ("f = __import__", "x.py:1: uses __import__"),
    ],
)
def test_the_checker_catches(source, expected):
    assert expected in violations(source, "x.py")


@pytest.mark.parametrize(
    "source",
    [
        "import heapq\nimport math\nfrom dataclasses import dataclass",
        "from . import events as ev\nfrom .errors import WrongState",
        "from schemas.scenario import Scenario",
        "from typing import Any\nimport collections.abc",
        "timeout = 3  # the word time is fine\nrandomness = None",
    ],
)
def test_the_checker_allows(source):
    assert violations(source, "x.py") == []


WIRE_AND_FILES = ("pydantic", "yaml", "schemas")
"""What the core must not load: wire and file models live at the edge (schemas/translate.py)."""


def loaded_by(module: str) -> set[str]:
    """Top-level packages a fresh interpreter has loaded after ``import module``."""
    script = (
        f"import sys, {module}; print(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        cwd=CORE.parents[1],
    )
    return set(result.stdout.split())


def test_importing_the_core_loads_no_wire_or_file_models():
    assert loaded_by("relay.core").isdisjoint(WIRE_AND_FILES)
    # the check can see them: the edge that translates into the core does load them
    assert {"pydantic", "yaml", "schemas"} <= loaded_by("schemas.translate")
