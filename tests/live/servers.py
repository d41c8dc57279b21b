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

__all__ = ["RelayProcess", "serving"]

READY = re.compile(r"Uvicorn running on http://127\.0\.0\.1:(\d+)")


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
    config = uvicorn.Config(
        app,
        log_level=log_level,
        ws_per_message_deflate=False,
        ws_max_size=settings.max_frame_bytes,
        lifespan="on",
    )
    server = uvicorn.Server(config)
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
    """

    def __init__(
        self,
        database: str,
        port: int = 0,
        *,
        env: dict[str, str] | None = None,
        log_level: str = "info",
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
            ],
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        )
        self.log: list[str] = []
        self.port = self._wait_ready()
        self.url = f"http://127.0.0.1:{self.port}"
        # Keep reading its log so that a full pipe never blocks the relay.
        self._drain = threading.Thread(target=self._read_rest, daemon=True)
        self._drain.start()

    def _read_rest(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.log.append(line)

    def _wait_ready(self) -> int:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:  # blocks on the child's own output, no polling
            self.log.append(line)
            match = READY.search(line)
            if match:
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
