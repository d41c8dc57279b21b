"""Relays for tests: in this event loop (any settings), or ``shuttle serve`` in a child process.

Neither waits by polling. The in-process relay listens on a socket bound before uvicorn starts,
so a client that connects early waits in the backlog. The child process is ready when its own
start-up line says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

import uvicorn

from relay.app import create_app
from relay.settings import Settings
from relay.store import JournalStore
from relay.workers import uvicorn_config

__all__ = ["RelayProcess", "serving"]

READY = re.compile(r"(?:Uvicorn running|Shuttle relay) on http://127\.0\.0\.1:(\d+)")
WORKER_PIDS = re.compile(r"worker processes \(([\d, ]+)\)")


@contextlib.asynccontextmanager
async def serving(
    settings: Settings,
    *,
    store: JournalStore | None = None,
    clock: Callable[[], float] | None = None,
    log_level: str = "warning",
) -> AsyncIterator[str]:
    """The relay app with ``settings``, served as ``shuttle serve`` serves it; yields its URL."""
    extra: dict[str, Any] = {"clock": clock} if clock is not None else {}
    app = create_app(settings, store, **extra)
    server = uvicorn.Server(uvicorn_config(app, settings, log_level=log_level, lifespan="on"))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        sock.close()


class RelayProcess:
    """``shuttle serve`` in a child process; the port is read from its start-up line.

    ``env`` adds ``SHUTTLE_*`` settings; the whole log (stderr) is kept in :attr:`log`.
    With ``workers`` above 1, :attr:`worker_pids` lists the worker processes, in share order.
    """

    def __init__(
        self,
        database: str,
        port: int = 0,
        *,
        env: dict[str, str] | None = None,
        log_level: str = "info",
        workers: int = 1,
    ) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "clients.cli",
                "serve",
                "--port",
                str(port),
                "--database",
                database,
                "--log-level",
                log_level,
                "--workers",
                str(workers),
            ],
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        )
        self.log: list[str] = []
        self._logged = threading.Condition()
        self.port = self._wait_ready()
        self.url = f"http://127.0.0.1:{self.port}"
        # Keep reading its log so that a full pipe never blocks the relay.
        self._drain = threading.Thread(target=self._read_rest, daemon=True)
        self._drain.start()

    def _read_rest(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._logged:
                self.log.append(line)
                self._logged.notify_all()
        with self._logged:
            self._logged.notify_all()

    def wait_for_log(self, text: str, timeout: float = 30.0) -> None:
        """Block until a line of the log holds ``text`` (woken by each new line)."""
        with self._logged:
            if not self._logged.wait_for(lambda: any(text in line for line in self.log), timeout):
                raise AssertionError(f"the relay never logged {text!r}:\n" + "".join(self.log))

    def _wait_ready(self) -> int:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:  # blocks on the child's own output, no polling
            self.log.append(line)
            match = READY.search(line)
            if match:
                pids = WORKER_PIDS.search(line)
                self.worker_pids = [int(p) for p in pids.group(1).split(", ")] if pids else []
                return int(match.group(1))
        self.proc.wait(timeout=10)
        self.proc.stderr.close()
        raise AssertionError("relay exited before it was ready:\n" + "".join(self.log))

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self._close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
        self._close()

    def _close(self) -> None:
        self.proc.wait(timeout=10)
        self._drain.join(timeout=10)
        if self.proc.stderr:
            self.proc.stderr.close()
