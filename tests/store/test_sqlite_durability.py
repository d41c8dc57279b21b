"""An acknowledged append survives ``kill -9`` of the process (SQLite, WAL, synchronous=NORMAL).

A child process appends in a loop and prints every seq once ``append`` has returned; the
parent kills it with SIGKILL mid-stream, reopens the file and checks that the database is
sound and that every printed (acknowledged) seq is there, with no gap. This is the promise
behind "acknowledge only after the store returned": WAL with synchronous=NORMAL survives a
process crash (not a power cut, which is out of scope).
"""

from __future__ import annotations

import os
import queue
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from contextlib import closing
from pathlib import Path
from typing import IO

import pytest

from relay.store import Entry, ExerciseRecord, SqlStore

ROOT = Path(__file__).resolve().parents[2]
ACKS_BEFORE_KILL = 200
TIMEOUT_S = 30.0

CHILD = textwrap.dedent(
    """
    import asyncio
    import sys

    from relay.store import Entry, ExerciseRecord, SqlStore


    async def main(url: str) -> None:
        store = SqlStore(url)
        await store.open()
        record = ExerciseRecord(id="dur", scenario={}, seed=0, speed=1.0, created_wall=0.0)
        await store.create_exercise(record, [])
        last = 0
        while True:
            size = 1 + last % 3  # batches of 1, 2 and 3 entries
            batch = [
                Entry(seq=seq, at=float(seq), type="tick", data={"n": seq}, dedupe_key=f"k{seq}")
                for seq in range(last + 1, last + 1 + size)
            ]
            await store.append("dur", batch)
            sys.stdout.write("".join(f"{entry.seq}\\n" for entry in batch))
            sys.stdout.flush()
            last += size


    asyncio.run(main(sys.argv[1]))
    """
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX SIGKILL"),
]


def _pump(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    """Reader thread: forward the child's stdout line by line; ``None`` marks EOF."""
    for line in stream:
        lines.put(line)
    lines.put(None)


def _acknowledged(line: str) -> int | None:
    """The seq on a complete line; a line cut by the kill acknowledges nothing."""
    return int(line) if line.endswith("\n") else None


def _run_and_kill(url: str, stderr: IO[bytes]) -> list[int]:
    """Start the child, SIGKILL it after enough acks, return every seq it acknowledged."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    acked: list[int] = []
    lines: queue.Queue[str | None] = queue.Queue()
    with subprocess.Popen(
        [sys.executable, "-c", CHILD, url],
        stdout=subprocess.PIPE,
        stderr=stderr,
        cwd=ROOT,
        env=env,
        text=True,
    ) as child:
        assert child.stdout is not None
        reader = threading.Thread(target=_pump, args=(child.stdout, lines), daemon=True)
        reader.start()
        deadline = time.monotonic() + TIMEOUT_S
        try:
            while len(acked) < ACKS_BEFORE_KILL:
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
                if line is None:
                    break  # the child died on its own; reported below
                seq = _acknowledged(line)
                if seq is not None:
                    acked.append(seq)
        except queue.Empty:
            pass  # timed out; reported below
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=TIMEOUT_S)
            reader.join(timeout=TIMEOUT_S)
        # lines already in the pipe were acknowledged before the kill: they count too
        while (line := lines.get_nowait()) is not None:
            seq = _acknowledged(line)
            if seq is not None:
                acked.append(seq)
    return acked


async def test_acknowledged_appends_survive_sigkill(tmp_path: Path) -> None:
    db = tmp_path / "durable.db"
    url = f"sqlite:///{db}"
    err_path = tmp_path / "child.err"
    with err_path.open("wb") as err:
        acked = _run_and_kill(url, err)
    if len(acked) < ACKS_BEFORE_KILL:
        pytest.fail(
            f"the child acknowledged only {len(acked)} seqs within {TIMEOUT_S} s; its stderr:\n"
            + err_path.read_text(errors="replace"),
            pytrace=False,
        )
    assert acked == list(range(1, len(acked) + 1))  # the child's own view was gap-free

    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)

    store = SqlStore(url)
    await store.open()
    try:
        stored = await store.read("dur")
    finally:
        await store.close()
    seqs = [entry.seq for entry in stored]
    assert seqs == list(range(1, len(seqs) + 1)), "journal has a gap"
    assert len(seqs) >= len(acked), f"acknowledged up to {acked[-1]}, stored up to {len(seqs)}"
    assert all(
        entry.data == {"n": entry.seq} and entry.dedupe_key == f"k{entry.seq}" for entry in stored
    )


async def append_rows(store: SqlStore, exercise: str, rows: int) -> None:
    record = ExerciseRecord(id=exercise, scenario={}, seed=0, speed=1.0, created_wall=0.0)
    await store.create_exercise(record, [])
    for first in range(1, rows + 1, 100):
        batch = [
            Entry(seq=seq, at=float(seq), type="tick", data={"n": seq, "pad": "x" * 200})
            for seq in range(first, first + 100)
        ]
        await store.append(exercise, batch)


async def assert_all_there(url: str, exercise: str, rows: int) -> None:
    reopened = SqlStore(url)
    await reopened.open()
    try:
        assert [entry.seq for entry in await reopened.read(exercise)] == list(range(1, rows + 1))
    finally:
        await reopened.close()


@pytest.mark.asyncio
async def test_load_that_never_pauses_is_checkpointed_every_so_many_rows(tmp_path: Path) -> None:
    """Appends to a SQLite file are written on the loop's thread, whose connection never
    checkpoints; under load without a pause the worker checkpoints every N rows."""
    url = f"sqlite:///{tmp_path / 'long.db'}"
    store = SqlStore(url, checkpoint_idle_s=3600.0, checkpoint_rows=5_000)
    await store.open()
    await append_rows(store, "long", 16_000)
    await store.close()  # waits for a checkpoint still running
    assert store.checkpoint_count >= 2
    await assert_all_there(url, "long", 16_000)


@pytest.mark.asyncio
async def test_a_pause_in_the_appends_is_used_to_checkpoint(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'idle.db'}"
    store = SqlStore(url, checkpoint_idle_s=0.0, checkpoint_rows=10**9)
    await store.open()
    await append_rows(store, "idle", 300)  # every turn between two appends is a pause here
    await store.close()  # waits for a checkpoint still running
    assert store.checkpoint_count >= 1  # the row limit is never reached: the pauses did it
    await assert_all_there(url, "idle", 300)
