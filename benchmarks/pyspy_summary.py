"""Summarise a py-spy ``--format raw`` profile: ``python -m benchmarks.pyspy_summary FILE``.

Raw lines are ``frame;frame;...;leaf COUNT`` (root first). The summary gives each thread's
share, the top frames by self samples, and the inclusive share of the relay's own functions
along the write path (what a note costs, by stage).
"""

from __future__ import annotations

import collections
import sys
from pathlib import Path

__all__ = ["STAGES", "summarise"]

# (label, substring of a frame); inclusive: a sample counts for every stage on its stack
STAGES = [
    ("store worker thread (GroupWriter.write)", "GroupWriter.write "),
    ("  executemany insert", "do_executemany"),
    ("  commit", "do_commit"),
    ("ws._read: frame -> command -> ack", "_read (relay/ws.py"),
    ("  parse_frame (json + pydantic)", "parse_frame"),
    ("  LiveExercise.submit_once", "LiveExercise.submit_once"),
    ("LiveExercise._run_timers (timer steps)", "LiveExercise._run_timers"),
    ("LiveExercise._commit", "LiveExercise._commit "),
    ("  core: Exercise.handle/advance", "Exercise.handle "),
    ("  core: Exercise.advance", "Exercise.advance "),
    ("  to_entry (Event.to_data)", "to_entry "),
    ("  SqlStore.append (rows: json.dumps of data)", "SqlStore.append "),
    ("  LiveExercise._publish (visible_to, frames)", "LiveExercise._publish"),
    ("ws._write: queue -> websocket.send", "_write (relay/ws.py"),
    ("uvicorn websocket send (transport.write)", "WebSocketsSansIOProtocol.send "),
    ("json encoding (all callers)", "json/encoder.py"),
]


def _parse(path: Path) -> tuple[int, list[tuple[list[str], int]]]:
    total = 0
    samples: list[tuple[list[str], int]] = []
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples.append((stack.split(";"), int(count)))
        total += int(count)
    return total, samples


def summarise(path: Path | str, top: int = 20) -> str:
    total, samples = _parse(Path(path))
    if not total:
        return "no samples\n"
    own: collections.Counter[str] = collections.Counter()
    stages: collections.Counter[str] = collections.Counter()
    threads = 0
    for frames, count in samples:
        own[frames[-1]] += count
        if frames[0].startswith("Thread._bootstrap"):
            threads += count
        joined = ";".join(frames)
        for label, needle in STAGES:
            if needle in joined:
                stages[label] += count
    lines = [
        f"{total} samples (threads holding the GIL)",
        f"  {100 * (total - threads) / total:5.1f}%  event loop thread",
        f"  {100 * threads / total:5.1f}%  other threads (the store's worker)",
        "",
        "inclusive share by stage:",
    ]
    lines += [f"  {100 * stages[label] / total:5.1f}%  {label}" for label, _ in STAGES]
    lines += ["", f"top {top} frames by self samples:"]
    lines += [f"  {100 * n / total:5.1f}%  {frame}" for frame, n in own.most_common(top)]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(summarise(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 20))
