"""The server under test, in its own process: ``python -m benchmarks._server relay|forwarder``.

Serves on 127.0.0.1 and a free port with uvicorn (its default event loop and websocket
implementation, permessage-deflate off, as DESIGN §3 asks of production), then prints one line
``LISTENING <port>`` on stdout for the parent. Stops on SIGTERM/SIGINT.

``--cprofile PATH`` runs the whole server under :mod:`cProfile` and dumps the stats to PATH at
exit (a fallback when py-spy cannot attach).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Iterator

import uvicorn


def relay_settings(database_url: str | None, workers: int):  # type: ignore[no-untyped-def]
    from relay.settings import Settings

    # No per-seat frame rate limit (0): it exists to stop abuse (docs/security.md), and at
    # its default of 100 frames a minute it would cap every load benchmark.
    return Settings(
        database_url=database_url,
        rate_limit_per_minute=0,
        host="127.0.0.1",
        port=0,
        log_level="warning",
        access_log=False,
        workers=workers,
    )


def serve_relay(database_url: str | None, workers: int) -> int:
    """The relay as ``shuttle serve`` runs it (relay.workers.serve), on a free port, without
    an access log."""
    from relay.workers import serve

    return serve(
        relay_settings(database_url, workers),
        on_ready=lambda port: print(f"LISTENING {port}", flush=True),
    )


async def serve_forwarder() -> None:
    from benchmarks.forwarder import create_forwarder_app

    config = uvicorn.Config(
        create_forwarder_app(),
        host="127.0.0.1",
        port=0,
        log_level="warning",
        ws_per_message_deflate=False,
        ws_max_size=64 * 1024,
        lifespan="on",
        access_log=False,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise SystemExit("the server stopped during start-up")
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    print(f"LISTENING {port}", flush=True)
    await task


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks._server")
    parser.add_argument("kind", choices=["relay", "forwarder"])
    parser.add_argument("--db", default=None, help="journal URL for the relay (sqlite:///...)")
    parser.add_argument(
        "--workers", type=int, default=1, help="relay processes (relay/workers.py); default 1"
    )
    parser.add_argument(
        "--cprofile",
        default=None,
        help="write cProfile stats here at exit (with --workers above 1: the front process's)",
    )
    args = parser.parse_args(argv)
    if args.kind == "relay":
        with _profiled(args.cprofile):
            status = serve_relay(args.db, args.workers)
        sys.exit(status)
    # uvicorn's own loop choice ("auto": uvloop when installed), as in production
    loop_setup = uvicorn.Config(app=None, loop="auto")  # type: ignore[arg-type]
    loop_factory = (
        loop_setup.get_loop_factory() if hasattr(loop_setup, "get_loop_factory") else None
    )
    with _profiled(args.cprofile), contextlib.suppress(KeyboardInterrupt):
        if loop_factory is not None:
            with asyncio.Runner(loop_factory=loop_factory) as runner:
                runner.run(serve_forwarder())
        else:
            loop_setup.setup_event_loop()
            asyncio.run(serve_forwarder())
    sys.exit(0)


@contextlib.contextmanager
def _profiled(path: str | None) -> Iterator[None]:
    """Run the block under cProfile and dump its stats to ``path`` (nothing if None)."""
    if path is None:
        yield
        return
    import cProfile

    profiler = cProfile.Profile()
    profiler.enable()
    try:
        yield
    finally:
        profiler.disable()
        profiler.dump_stats(path)


if __name__ == "__main__":
    main()
