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
import sys

import uvicorn


def build_app(kind: str, database_url: str | None):  # type: ignore[no-untyped-def]
    if kind == "relay":
        from relay.app import create_app
        from relay.settings import Settings

        # No per-seat frame rate limit (0): it exists to stop abuse (docs/security.md), and
        # at its default of 100 frames a minute it would cap every load benchmark.
        return create_app(Settings(database_url=database_url, rate_limit_per_minute=0))
    if kind == "forwarder":
        from benchmarks.forwarder import create_forwarder_app

        return create_forwarder_app()
    raise SystemExit(f"unknown server kind {kind!r}")


async def serve(kind: str, database_url: str | None) -> None:
    config = uvicorn.Config(
        build_app(kind, database_url),
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
    parser.add_argument("--cprofile", default=None, help="write cProfile stats here at exit")
    args = parser.parse_args(argv)
    # uvicorn's own loop choice ("auto": uvloop when installed), as in production
    loop_setup = uvicorn.Config(app=None, loop="auto")  # type: ignore[arg-type]
    loop_factory = (
        loop_setup.get_loop_factory() if hasattr(loop_setup, "get_loop_factory") else None
    )
    if args.cprofile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    try:
        if loop_factory is not None:
            with asyncio.Runner(loop_factory=loop_factory) as runner:
                runner.run(serve(args.kind, args.db))
        else:
            loop_setup.setup_event_loop()
            asyncio.run(serve(args.kind, args.db))
    except KeyboardInterrupt:
        pass
    finally:
        if args.cprofile:
            profiler.disable()
            profiler.dump_stats(args.cprofile)
    sys.exit(0)


if __name__ == "__main__":
    main()
