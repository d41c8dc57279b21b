"""A journal writer to kill: ``python -m tests.faults.writer sqlite:///PATH``.

It imports the store once, then for every line on stdin forks a child that appends through
:class:`relay.store.SqlStore` (the relay's own write path: group commit, WAL, dedupe keys) to
several exercises at once, printing ``acked EXERCISE SEQ`` after each append returns, that
is, once the batch up to ``SEQ`` is committed. It prints ``child PID`` after the fork and
``reaped PID`` once that child is dead, so the test knows whom to kill and when it is gone.
Forking keeps fifty restarts fast: a child starts in milliseconds, not in an interpreter's
half second.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys

from relay.store import Entry, ExerciseRecord, SqlStore

EXERCISES = ("ex-000000000a", "ex-000000000b", "ex-000000000c")


def say(line: str) -> None:
    """One whole line in one write: a kill can come between ``print``'s text and newline."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def append_forever(store: SqlStore, exercise: str, rng: random.Random) -> None:
    if await store.get_exercise(exercise) is None:
        record = ExerciseRecord(exercise, {}, seed=0, speed=1.0, created_wall=0.0)
        await store.create_exercise(record, [])
    seq = await store.last_seq(exercise)
    while True:
        batch = [
            Entry(
                seq=n,
                at=float(n),
                type="note.submitted",
                data={"by": "iran", "note": n, "text": "x" * rng.randrange(10, 2000)},
                wall=float(n),
                dedupe_key=f"iran:{n}" if n % 2 else None,
            )
            for n in range(seq + 1, seq + 1 + rng.randint(1, 8))
        ]
        await store.append(exercise, batch)
        seq = batch[-1].seq
        say(f"acked {exercise} {seq}")


async def write(url: str, seed: int) -> None:
    store = SqlStore(url)
    await store.open()
    rng = random.Random(seed)
    await asyncio.gather(*(append_forever(store, ex, rng) for ex in EXERCISES))


def main() -> None:
    url = sys.argv[1]
    for n, _line in enumerate(sys.stdin):
        pid = os.fork()
        if pid == 0:
            try:
                asyncio.run(write(url, n))
            finally:
                os._exit(1)
        say(f"child {pid}")
        os.waitpid(pid, 0)
        say(f"reaped {pid}")


if __name__ == "__main__":
    main()
