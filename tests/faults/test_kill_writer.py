"""Fifty SIGKILLs at random moments of a write-heavy run leave a SQLite journal that passes
``PRAGMA integrity_check`` and holds every acknowledged entry, gap-free, keys unique.

The writer (tests/faults/writer.py) appends through the relay's own store and prints each
acknowledged seq; the test kills it after a random number of acknowledgements drawn from a
seeded RNG (sometimes none: during start-up), fifty times, then checks.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from relay.store import SqlStore
from tests.faults.writer import EXERCISES

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
KILLS = 50


def test_fifty_sigkills_lose_no_acknowledged_entry(tmp_path: Path) -> None:
    database = tmp_path / "journal.db"
    rng = random.Random(1121)
    acked = dict.fromkeys(EXERCISES, 0)
    writer = subprocess.Popen(
        [sys.executable, "-m", "tests.faults.writer", f"sqlite:///{database}"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert writer.stdin is not None and writer.stdout is not None
    killed_during_start = 0
    try:
        for _ in range(KILLS):
            writer.stdin.write("go\n")
            writer.stdin.flush()
            wanted = rng.choice([0, *range(1, 60)])
            child, seen = None, 0
            for line in writer.stdout:  # every read blocks on the writer's own output
                word, *rest = line.split()
                if word == "acked":
                    acked[rest[0]] = max(acked[rest[0]], int(rest[1]))
                    seen += 1
                elif word == "child":
                    child = int(rest[0])
                if child is not None and seen >= wanted:
                    break
            assert child is not None, "the writer stopped"
            os.kill(child, signal.SIGKILL)
            killed_during_start += wanted == 0
            for line in writer.stdout:  # what the child printed before it died counts too
                word, *rest = line.split()
                if word == "acked":
                    acked[rest[0]] = max(acked[rest[0]], int(rest[1]))
                if word == "reaped":
                    assert int(rest[0]) == child
                    break
    finally:
        writer.stdin.close()
        writer.wait(timeout=10)
        writer.stdout.close()

    with sqlite3.connect(database) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        rows = db.execute("SELECT exercise_id, dedupe_key FROM journal").fetchall()
    keys = [(ex, key) for ex, key in rows if key is not None]
    assert len(keys) == len(set(keys))
    entries = asyncio.run(_read_all(f"sqlite:///{database}"))
    for exercise in EXERCISES:
        seqs = [e.seq for e in entries[exercise]]
        assert seqs == list(range(1, len(seqs) + 1)), f"{exercise}: a gap"
        assert len(seqs) >= acked[exercise], f"{exercise}: acknowledged entries lost"
    print(
        f"\n{KILLS} SIGKILLs ({killed_during_start} during start-up): integrity ok; "
        + ", ".join(
            f"{ex}: {acked[ex]} acknowledged, {len(entries[ex])} stored" for ex in EXERCISES
        )
    )
    assert sum(acked.values()) > 1000, "the run was write-heavy"


async def _read_all(url: str) -> dict:
    store = SqlStore(url)
    await store.open()
    try:
        return {exercise: await store.read(exercise) for exercise in EXERCISES}
    finally:
        await store.close()
