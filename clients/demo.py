"""``shuttle demo``: a whole exercise through a real relay on loopback, played by bots.

It starts the relay (uvicorn, websockets, the SQLite journal) in this process on a free port,
creates an exercise from the scenario, connects one concession bot per party as a real
websocket client, starts the exercise as the facilitator, prints the facilitator's view of
the journal as a transcript while it happens, and writes the journal file when it ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import uvicorn

from clients.bots import ConcessionBot
from clients.sdk import ConnectionLost, Refused, RelayAPI, SeatClient, event_of
from clients.transcript import Transcript
from relay.app import create_app
from relay.core import events as ev
from relay.rng import seeded_streams
from relay.settings import Settings
from relay.workers import uvicorn_config
from schemas.scenario import Scenario

__all__ = ["play_bot", "run_demo", "running_relay"]


@contextlib.asynccontextmanager
async def running_relay(database_url: str):  # type: ignore[no-untyped-def]
    """A relay served by uvicorn on 127.0.0.1 (free port) in this event loop; yields its URL."""
    settings = Settings(database_url=database_url, host="127.0.0.1", port=0, log_level="warning")
    server = uvicorn.Server(uvicorn_config(create_app(settings), settings, lifespan="on"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # raises the start-up error
            raise RuntimeError("the relay stopped during start-up")
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def play_bot(seat: SeatClient, bot: ConcessionBot, speed: float) -> None:
    """Drive a bot over a live connection: observe visible events, act after thinking."""
    moves: set[asyncio.Task[Any]] = set()

    async def later(delay: float, command: Any) -> None:
        await asyncio.sleep(delay / speed)
        fields = {k: v for k, v in dataclasses.asdict(command).items() if k != "by"}
        with contextlib.suppress(Refused, ConnectionLost):  # e.g. the talks ended meanwhile
            await seat.submit(**fields)

    try:
        async for frame in seat.events():
            event = event_of(frame)
            if isinstance(event, ev.ExerciseEnded):
                return
            intents = bot.on_start(event.at) if isinstance(event, ev.ExerciseStarted) else []
            for intent in [*intents, *bot.observe(event)]:
                task = asyncio.create_task(later(intent.delay, intent.command))
                moves.add(task)
                task.add_done_callback(moves.discard)
    finally:
        for task in moves:
            task.cancel()
        await seat.close()


async def run_demo(
    scenario: Scenario,
    *,
    seed: int,
    speed: float,
    journal: Path,
    database_url: str | None = None,
    echo: Callable[[str], None] = print,
) -> ev.ExerciseEnded:
    with tempfile.TemporaryDirectory(prefix="shuttle-demo-") as tmp:
        url = database_url or f"sqlite:///{Path(tmp) / 'demo.db'}"
        async with running_relay(url) as base, RelayAPI(base) as api:
            echo(f"Relay listening on {base} (journal: {url})")
            created = await api.create(scenario.model_dump(mode="json"), seed=seed, speed=speed)
            exercise, tokens = created["id"], created["seats"]
            echo(f"Exercise {exercise}: {scenario.title} — seed {seed}, clock ×{speed:g}\n")
            streams = seeded_streams(seed)
            watcher = await SeatClient.connect(base, exercise, tokens["facilitator"])
            bots = []
            for index, party in enumerate(scenario.parties):
                seat = await SeatClient.connect(base, exercise, tokens[party.id])
                bot = ConcessionBot(
                    scenario, party.id, streams(f"bot:{party.id}"), opens=index == 0
                )
                bots.append(asyncio.create_task(play_bot(seat, bot, speed)))
            await watcher.control("start")
            outcome = await _watch(watcher, Transcript(scenario.model_dump(mode="json")), echo)
            await asyncio.gather(*bots)
            text = await api.export(exercise, tokens["facilitator"])
            await watcher.close()
    journal.parent.mkdir(parents=True, exist_ok=True)
    journal.write_text(text, encoding="utf-8")
    return outcome


async def _watch(
    watcher: SeatClient, transcript: Transcript, echo: Callable[[str], None]
) -> ev.ExerciseEnded:
    async for frame in watcher.events():
        event = event_of(frame)
        for line in transcript.render(event):
            echo(line)
        if isinstance(event, ev.ExerciseEnded):
            return event
    raise RuntimeError("the relay closed the facilitator's connection before the end")
