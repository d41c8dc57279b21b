"""WAL checkpoints beside a SQLite file's inline writer, run on the store's worker thread.

The connection that writes a SQLite file's appends on the event loop's thread never
checkpoints (``wal_autocheckpoint=0``): a checkpoint copies the WAL into the database and
fsyncs it, and while it runs the commits beside it slow from tens of microseconds to
milliseconds. So :class:`WalCheckpointer` runs one on the worker, from its own connection
(PASSIVE: it never blocks the writer), once appends have paused for ``idle_s``
(:data:`CHECKPOINT_IDLE_S`), or after ``rows`` rows (:data:`CHECKPOINT_ROWS`) regardless,
which bounds the WAL under load that never pauses.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy.engine import Engine

__all__ = ["CHECKPOINT_IDLE_S", "CHECKPOINT_ROWS", "WalCheckpointer"]

CHECKPOINT_IDLE_S = 0.05
"""An inline SQLite writer's WAL is checkpointed once appends pause this long..."""
CHECKPOINT_ROWS = 100_000
"""...or at the latest after this many journal rows (a WAL of some 50 MB)."""

log = logging.getLogger("shuttle.store")


class WalCheckpointer:
    """Decides, on the event loop, when to checkpoint; checkpoints on the worker thread.

    ``name`` names the store in log lines. It checkpoints only between :meth:`start` and
    :meth:`stop`; :meth:`release` forgets the worker and engine once the store let them go.
    """

    def __init__(self, name: str, *, idle_s: float, rows: int) -> None:
        self._name = name
        self._idle_s = idle_s
        self._rows = rows
        self._executor: ThreadPoolExecutor | None = None
        self._engine: Engine | None = None
        self._closing = False
        self._rows_since = 0
        self._last_group = 0.0  # loop time of the last inline group
        self._idle_timer: asyncio.TimerHandle | None = None
        self._running = False
        self.count = 0
        """Checkpoints run so far."""

    def start(self, executor: ThreadPoolExecutor, engine: Engine) -> None:
        """Checkpoint on ``executor``'s thread, through ``engine``."""
        self._executor = executor
        self._engine = engine
        self._closing = False

    def stop(self) -> None:
        """Start no more checkpoints (the store is closing); one running may finish."""
        self._closing = True
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None

    def release(self) -> None:
        """Forget the worker and the engine: the store has shut them down."""
        self._executor = None
        self._engine = None
        self._closing = False

    def wrote(self, rows: int) -> None:
        """Called on the event loop after each inline group of ``rows`` journal rows."""
        self._rows_since += rows
        loop = asyncio.get_running_loop()
        self._last_group = loop.time()
        if self._rows_since >= self._rows:
            self._checkpoint()
        elif self._idle_timer is None:
            self._idle_timer = loop.call_later(self._idle_s, self._when_idle)

    def _when_idle(self) -> None:
        self._idle_timer = None
        if self._executor is None or not self._rows_since:
            return
        loop = asyncio.get_running_loop()
        quiet = loop.time() - self._last_group
        if quiet >= self._idle_s:
            self._checkpoint()
        else:  # appends came meanwhile: look again once they may have paused
            self._idle_timer = loop.call_later(self._idle_s - quiet, self._when_idle)

    def _checkpoint(self) -> None:
        if self._running or self._executor is None or self._closing:
            return
        self._rows_since = 0
        self._running = True
        done = asyncio.get_running_loop().run_in_executor(self._executor, self._checkpoint_sync)
        done.add_done_callback(self._checkpointed)

    def _checkpoint_sync(self) -> None:
        assert self._engine is not None
        raw = self._engine.raw_connection()  # autocommit (isolation_level None): no BEGIN
        try:
            cursor = raw.cursor()
            try:
                cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
            finally:
                cursor.close()
        finally:
            raw.close()

    def _checkpointed(self, done: asyncio.Future[None]) -> None:
        self._running = False
        if done.cancelled():
            return
        if done.exception() is not None:
            log.warning("%s: WAL checkpoint failed: %s", self._name, done.exception())
        else:
            self.count += 1
