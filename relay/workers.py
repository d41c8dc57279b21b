"""One port, several relay processes: each serves its own share of the exercises.

A relay process spends one core at most (CPython's GIL), so a relay started with
``--workers N`` (``SHUTTLE_WORKERS``) runs N *worker* processes behind one *front* process:

- The front process listens on the port. For each new connection it peeks at the request
  line (``MSG_PEEK``: the bytes stay in the socket), finds the exercise the path names
  (relay/shares.py), and passes the connection's file descriptor to the worker that owns that
  exercise (``SCM_RIGHTS`` over a Unix socket pair). A path that names no exercise goes to the
  workers in turn. The front process never reads or writes a byte of the traffic, so it costs
  nothing per frame.
- A worker is uvicorn serving ``create_app(settings, share=Share(i, N))`` on the connections
  it is handed instead of on a listening socket of its own. It creates, loads and recovers
  only exercises it owns, and closes every HTTP connection after its response, so that each
  request is routed afresh (relay.app.OwnExercisesOnly).
- The journal store is shared: a SQLite file (WAL: one writer at a time, readers alongside)
  or PostgreSQL. The front process opens it once first, so the schema exists (or is migrated)
  before any worker starts.
- A worker that dies is started again (it recovers its exercises from the journal, as after
  a restart of the whole relay), unless it died before it was ready to serve: then the relay
  stops, since starting it again would fail the same way (a database it cannot open...).

With ``workers == 1`` (the default) none of this runs: :func:`serve` runs uvicorn alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable, Coroutine
from typing import Any

import uvicorn

from relay.settings import Settings
from relay.shares import Share, exercise_in_path, request_target

__all__ = ["Front", "configure_logging", "serve", "uvicorn_config"]

log = logging.getLogger("shuttle.relay")

_SETTINGS_ENV = "SHUTTLE_WORKER_SETTINGS"  # the worker's settings, as JSON
_HEAD_BYTES = 4096  # a request line longer than this is routed as naming no exercise
_STOP_TIMEOUT_S = 20.0
_LOG_FORMAT = "%(levelname)s:     %(name)s: %(message)s"


def configure_logging(level: str) -> None:
    """The relay's own loggers at ``level`` (uvicorn configures its own)."""
    from uvicorn.config import LOG_LEVELS

    logging.basicConfig(level=LOG_LEVELS[level.lower()], format=_LOG_FORMAT)


def uvicorn_config(app: Any, settings: Settings, **options: Any) -> uvicorn.Config:
    """uvicorn as the relay runs it: websocket frames up to the relay's limit, no
    permessage-deflate (DESIGN §3), ``settings``' interface, port and log level."""
    return uvicorn.Config(
        app,
        **{
            "host": settings.host,
            "port": settings.port,
            "log_level": settings.log_level,
            "access_log": settings.access_log,
            "ws_per_message_deflate": False,
            "ws_max_size": settings.max_frame_bytes,
            **options,
        },
    )


def check_shareable(settings: Settings) -> None:
    """Refuse ``workers > 1`` on a database that lives inside one process."""
    from relay.store import default_database_url, process_local

    if settings.workers == 1:
        return
    url = settings.database_url or default_database_url()
    if process_local(url):
        raise ValueError(
            f"{settings.workers} workers need a database they can share (a SQLite file or "
            f"PostgreSQL), not {url}"
        )


def serve(settings: Settings, on_ready: Callable[[int], None] | None = None) -> int:
    """Run the relay until SIGINT or SIGTERM; returns the exit status.

    ``on_ready(port)`` is called once the relay takes connections (with the port it got,
    should ``settings.port`` be 0).
    """
    if settings.workers == 1:
        from relay.app import create_app

        server = uvicorn.Server(uvicorn_config(create_app(settings), settings))
        if on_ready is not None:
            _call_when_started(server, on_ready)
        server.run()
        return 0 if server.started else 1
    check_shareable(settings)
    front = Front(settings, on_ready)
    return asyncio.run(front.run())


def _call_when_started(server: uvicorn.Server, on_ready: Callable[[int], None]) -> None:
    startup = server.startup

    async def startup_then_tell(sockets: list[socket.socket] | None = None) -> None:
        await startup(sockets=sockets)
        if server.started:
            on_ready(server.servers[0].sockets[0].getsockname()[1])

    server.startup = startup_then_tell  # type: ignore[method-assign]


# ------------------------------------------------------------------------- the front process


class Front:
    """The front process: listen, route each connection to its worker, keep workers alive."""

    def __init__(self, settings: Settings, on_ready: Callable[[int], None] | None = None) -> None:
        self.settings = settings
        self.on_ready = on_ready
        self.workers = [
            _Worker(settings, Share(i, settings.workers)) for i in range(settings.workers)
        ]
        self._turns = itertools.cycle(range(settings.workers))
        self._routing: set[asyncio.Task[None]] = set()
        self._stop: asyncio.Event | None = None
        self._failed = False

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._stop.set)
        try:
            await self._prepare_store()
            listener = _listen(self.settings.host, self.settings.port)
        except Exception as error:  # noqa: BLE001 - said in one line, as uvicorn does
            log.error("the relay cannot start: %s", error)
            return 1
        watchers: list[asyncio.Task[None]] = []
        try:
            for worker in self.workers:
                await worker.start()
            if not await self._first(self._all_ready()):
                return 1
            watchers = [loop.create_task(self._watch(worker)) for worker in self.workers]
            accepting = loop.create_task(self._accept(listener))
            port = listener.getsockname()[1]
            log.info(
                "Shuttle relay on http://%s:%d: %d worker processes (%s)",
                self.settings.host,
                port,
                len(self.workers),
                ", ".join(str(worker.pid) for worker in self.workers),
            )
            if self.on_ready is not None:
                self.on_ready(port)
            await self._stop.wait()
            accepting.cancel()
        finally:
            listener.close()
            for task in [*watchers, *self._routing]:
                task.cancel()
            await asyncio.gather(*(worker.stop() for worker in self.workers))
        return 1 if self._failed else 0

    async def _prepare_store(self) -> None:
        """Open the store once, so its schema exists before several processes open it."""
        from relay.store import default_database_url, open_store

        store = open_store(self.settings.database_url or default_database_url())
        await store.open()
        await store.close()

    async def _first(self, work: Coroutine[Any, Any, bool]) -> bool:
        """``work``'s answer, or False if the relay is told to stop first."""
        assert self._stop is not None
        task = asyncio.ensure_future(work)
        stopped = asyncio.ensure_future(self._stop.wait())
        await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        if not task.done():
            task.cancel()
            return False
        return task.result()

    async def _all_ready(self) -> bool:
        for worker in self.workers:
            if not await worker.ready():
                log.error("relay worker %d stopped while starting", worker.share.index)
                return False
        return True

    async def _watch(self, worker: _Worker) -> None:
        """Start a worker again when it dies, unless it died before it served."""
        assert self._stop is not None
        while True:
            status = await worker.exited()
            if self._stop.is_set():
                return
            if not worker.served:
                log.error(
                    "relay worker %d exited (%s) while starting: stopping the relay",
                    worker.share.index,
                    status,
                )
                self._failed = True
                self._stop.set()
                return
            log.error("relay worker %d exited (%s): starting it again", worker.share.index, status)
            await worker.start()
            await worker.ready()  # False if it exited again: the next turn sees that

    async def _accept(self, listener: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                conn, _ = await loop.sock_accept(listener)
            except OSError as error:  # e.g. out of file descriptors: shed load, go on
                log.warning("accepting a connection failed: %s", error)
                await asyncio.sleep(0.1)
                continue
            task = loop.create_task(self._route(conn))
            self._routing.add(task)
            task.add_done_callback(self._routing.discard)

    async def _route(self, conn: socket.socket) -> None:
        with conn:  # the worker holds its own copy once handed over
            conn.setblocking(False)
            try:
                head = await asyncio.wait_for(_peek(conn), self.settings.hello_timeout_s)
            except (TimeoutError, OSError):
                return
            if not head:  # closed before a byte came
                return
            await self.workers[self.route_of(head)].hand(conn)

    def route_of(self, head: bytes) -> int:
        """The worker for a connection whose first bytes are ``head``."""
        path = request_target(head)
        exercise_id = exercise_in_path(path) if path is not None else None
        if exercise_id is None:
            return next(self._turns)
        return Share.owner(exercise_id, len(self.workers))


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.create_server((host, port), family=family, backlog=2048)
    listener.setblocking(False)
    return listener


async def _peek(conn: socket.socket) -> bytes:
    """The first bytes of a connection, up to its first line, left unread in the socket.

    A peek leaves the socket readable, so after part of a line the socket's low-water mark
    (``SO_RCVLOWAT``) is raised past what it holds: the next wake-up comes when more bytes
    arrive, or the peer shuts its side, never before. The mark is put back before the socket
    is handed over.
    """
    waiting_for = 1
    try:
        while True:
            await _wait_until(conn, readable=True)
            head = conn.recv(_HEAD_BYTES, socket.MSG_PEEK)
            if not head or b"\n" in head or len(head) >= _HEAD_BYTES:
                return head
            if len(head) < waiting_for:  # readable with nothing new: the peer shut its side
                return head
            waiting_for = len(head) + 1
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, waiting_for)
    finally:
        if waiting_for > 1:
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, 1)


async def _wait_until(sock: socket.socket, *, readable: bool) -> None:
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[None] = loop.create_future()

    def wake() -> None:
        if not ready.done():
            ready.set_result(None)

    fd = sock.fileno()
    if readable:
        loop.add_reader(fd, wake)
    else:
        loop.add_writer(fd, wake)
    try:
        await ready
    finally:
        (loop.remove_reader if readable else loop.remove_writer)(fd)


class _Worker:
    """The front's handle on one worker process and the Unix socket it hands connections on."""

    def __init__(self, settings: Settings, share: Share) -> None:
        self.settings = settings
        self.share = share
        self.process: asyncio.subprocess.Process | None = None
        self.channel: socket.socket | None = None
        self.served = False  # whether the process now running said it was ready
        self._sending = asyncio.Lock()  # one hand-over at a time: one writer waits on the channel
        self._serving = asyncio.Event()  # set while the worker takes connections

    @property
    def pid(self) -> int | None:
        return None if self.process is None else self.process.pid

    async def start(self) -> None:
        self._serving.clear()
        self.served = False
        if self.channel is not None:
            self.channel.close()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        ours.setblocking(False)
        env = {**os.environ, _SETTINGS_ENV: self.settings.model_dump_json()}
        with theirs:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "relay.workers",
                str(self.share.index),
                str(self.share.count),
                str(theirs.fileno()),
                pass_fds=[theirs.fileno()],
                env=env,
            )
        self.channel = ours

    async def ready(self) -> bool:
        """Wait for the worker's word that it serves; False if it exited first."""
        assert self.channel is not None
        loop = asyncio.get_running_loop()
        try:
            ready = await loop.sock_recv(self.channel, 16) == b"ready"
        except OSError:
            return False
        if ready:
            self.served = True
            self._serving.set()
        return ready

    async def exited(self) -> int:
        assert self.process is not None
        return await self.process.wait()

    async def hand(self, conn: socket.socket) -> None:
        """Pass ``conn`` to the worker. While its queue of handed sockets is full (the kernel
        keeps a few), or while it starts again after dying, the connection waits: the client
        sees a slow answer, not a reset. After ``hello_timeout_s`` it is closed."""
        try:
            await asyncio.wait_for(self._hand(conn), self.settings.hello_timeout_s)
        except TimeoutError:
            log.warning("relay worker %d took no connection in time: closed", self.share.index)

    async def _hand(self, conn: socket.socket) -> None:
        async with self._sending:
            while True:
                await self._serving.wait()
                channel = self.channel
                assert channel is not None
                try:
                    socket.send_fds(channel, [b"c"], [conn.fileno()])
                    return
                except BlockingIOError:
                    await _wait_until(channel, readable=False)
                except OSError:  # it died: wait for the worker that replaces it
                    if channel is self.channel:
                        self._serving.clear()

    async def stop(self) -> None:
        process = self.process
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), _STOP_TIMEOUT_S)
            except TimeoutError:
                log.warning("relay worker %d did not stop: killing it", self.share.index)
                process.kill()
                await process.wait()
        if self.channel is not None:
            self.channel.close()
            self.channel = None


# ------------------------------------------------------------------------ a worker process


class WorkerServer(uvicorn.Server):
    """uvicorn serving the connections handed over ``channel`` instead of a listening socket."""

    def __init__(self, config: uvicorn.Config, channel: socket.socket) -> None:
        super().__init__(config)
        self.channel = channel
        self._accepting: set[asyncio.Task[Any]] = set()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=[])  # no listening socket: lifespan and state only
        if not self.started:
            return
        self.channel.setblocking(False)
        asyncio.get_running_loop().add_reader(self.channel.fileno(), self._take)
        self.channel.send(b"ready")

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        with contextlib.suppress(ValueError, OSError):
            asyncio.get_running_loop().remove_reader(self.channel.fileno())
        await super().shutdown(sockets=[])

    def _take(self) -> None:
        """Serve every connection the front process has handed over since the last call."""
        loop = asyncio.get_running_loop()
        while True:
            try:
                data, fds, _flags, _address = socket.recv_fds(self.channel, 16, 8)
            except BlockingIOError:
                return
            except OSError:
                data, fds = b"", []
            if not data and not fds:  # the front process is gone: so is the port
                loop.remove_reader(self.channel.fileno())
                self.should_exit = True
                return
            for fd in fds:
                conn = socket.socket(fileno=fd)
                conn.setblocking(False)
                task = loop.create_task(self._serve_handed(conn))
                self._accepting.add(task)
                task.add_done_callback(self._accepting.discard)

    async def _serve_handed(self, conn: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        try:
            await loop.connect_accepted_socket(self._protocol, conn)
        except OSError as error:  # the client left in between
            log.info("a handed-over connection could not be served: %s", error)
            conn.close()

    def _protocol(self) -> asyncio.Protocol:
        # as uvicorn.Server.startup builds one for each connection it accepts
        protocol: asyncio.Protocol = self.config.http_protocol_class(  # type: ignore[call-arg]
            config=self.config,
            server_state=self.server_state,
            app_state=self.lifespan.state,
        )
        return protocol


def _worker_main(argv: list[str]) -> None:
    from relay.app import create_app

    index, count, fd = (int(arg) for arg in argv)
    settings = Settings.model_validate_json(os.environ.pop(_SETTINGS_ENV))
    configure_logging(settings.log_level)
    share = Share(index, count)
    config = uvicorn_config(create_app(settings, share=share), settings)
    WorkerServer(config, socket.socket(fileno=fd)).run()


if __name__ == "__main__":
    _worker_main(sys.argv[1:])
