"""The quality bar lives in config (pyproject.toml) and is checked with the tests."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_finds_nothing() -> None:
    ruff = shutil.which("ruff")
    command = [ruff] if ruff else [sys.executable, "-m", "ruff"]
    packages = [
        p for p in ("relay", "clients", "schemas", "tests", "benchmarks") if (ROOT / p).is_dir()
    ]
    result = subprocess.run(
        [*command, "check", *packages],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_package_type_checks_strictly() -> None:
    """``mypy`` with the project's config (strict everywhere) on relay, clients and schemas."""
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "relay", "clients", "schemas"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
