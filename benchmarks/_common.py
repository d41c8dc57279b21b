"""Shared plumbing: progress lines, statistics, server subprocesses, spawned load generators."""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "REPO",
    "ServerProcess",
    "log",
    "median",
    "percentile",
    "rss_kib",
    "run_in_process",
    "running_server",
    "zero_delay_scenario",
]

REPO = Path(__file__).resolve().parent.parent
_T0 = time.monotonic()


def log(message: str) -> None:
    """A progress line on stderr (the table goes to stdout)."""
    print(f"[bench +{time.monotonic() - _T0:6.1f}s] {message}", file=sys.stderr, flush=True)


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    if not ordered:
        return math.nan
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile, ``q`` in [0, 100]."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    k = (len(ordered) - 1) * q / 100.0
    lo, hi = math.floor(k), math.ceil(k)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def rss_kib(pid: int) -> int:
    """Resident set size of ``pid`` in KiB (``VmRSS`` of /proc/PID/status)."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


# --------------------------------------------------------------------------- scenarios


def zero_delay_scenario(travel: float = 0.0, reading: float = 0.0) -> dict[str, Any]:
    """Two parties, automatic mediator, Constant latencies, no deadline (JSON form)."""
    return {
        "id": "bench",
        "title": "Benchmark talks",
        "parties": [{"id": "iran", "name": "Iran"}, {"id": "usa", "name": "USA"}],
        "mediator": {"mode": "auto", "start_room": "iran"},
        "agenda": [{"id": "cap", "title": "Enrichment cap", "unit": "%", "min": 0, "max": 90}],
        "latency": {
            "travel": {"dist": "constant", "value": travel},
            "reading": {"dist": "constant", "value": reading},
            "drafting": {"dist": "constant", "value": 0.0},
        },
        "deadline": None,
    }


# --------------------------------------------------------------------------- processes


@dataclass
class ServerProcess:
    kind: str
    process: subprocess.Popen[str]
    port: int
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@contextlib.contextmanager
def running_server(
    kind: str, *, durable: bool = True, extra_args: Sequence[str] = (), start_timeout: float = 60.0
) -> Iterator[ServerProcess]:
    """Start ``python -m benchmarks._server KIND`` (relay: SQLite journal in a temp dir)."""
    with tempfile.TemporaryDirectory(prefix=f"shuttle-bench-{kind}-") as tmp:
        args = [sys.executable, "-m", "benchmarks._server", kind, *extra_args]
        if kind == "relay":
            db = f"sqlite:///{Path(tmp) / 'journal.db'}" if durable else "memory://"
            args += ["--db", db]
        log_path = Path(tmp) / "server.log"
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        with open(log_path, "w") as err:
            process = subprocess.Popen(
                args, cwd=tmp, env=env, stdout=subprocess.PIPE, stderr=err, text=True
            )
        try:
            port = _read_port(process, start_timeout)
            if port is None:
                raise RuntimeError(
                    f"{kind} server did not start:\n{log_path.read_text(errors='replace')}"
                )
            server = ServerProcess(kind, process, port, log_path)
            try:
                yield server
            except Exception as error:  # whatever failed, the server may say why
                tail = server.log_tail()
                if tail:
                    error.add_note(f"{kind} server log, last lines:\n{tail}")
                raise
        finally:
            _stop(process)


def _read_port(process: subprocess.Popen[str], timeout: float) -> int | None:
    found: list[int] = []

    def reader() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("LISTENING "):
                found.append(int(line.split()[1]))
                return

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    thread.join(timeout)
    return found[0] if found else None


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    if process.stdout is not None:
        process.stdout.close()


def run_in_process(
    fn: Callable[..., Any], /, *, timeout: float, daemon: bool = True, **kwargs: Any
) -> Any:
    """Run ``fn(**kwargs)`` in a fresh spawned process and return its (picklable) result.

    Bounded: the child is killed if it has not answered within ``timeout`` seconds.
    ``daemon=False`` lets the child start processes of its own (a daemon may not).
    """
    context = multiprocessing.get_context("spawn")
    answers = context.Queue()
    child = context.Process(target=_child_main, args=(answers, fn, kwargs), daemon=daemon)
    child.start()
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                ok, value = answers.get(timeout=0.5)
                break
            except queue.Empty:
                if not child.is_alive():
                    raise RuntimeError(f"{fn.__name__}: process died ({child.exitcode})") from None
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{fn.__name__}: no answer in {timeout:.0f}s") from None
    finally:
        child.join(timeout=10)
        if child.is_alive():
            child.kill()
            child.join(timeout=5)
    if not ok:
        raise RuntimeError(f"{fn.__name__} failed in its process:\n{value}")
    return value


def _child_main(answers: Any, fn: Callable[..., Any], kwargs: dict[str, Any]) -> None:
    try:
        answers.put((True, fn(**kwargs)))
    except BaseException:  # noqa: BLE001 - reported to the parent
        answers.put((False, traceback.format_exc()))
