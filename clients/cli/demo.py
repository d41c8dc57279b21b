"""``shuttle demo``: a whole exercise through a real relay on loopback, played by bots."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from clients.cli.database import probe_store
from clients.cli.options import ScenarioOpt, SpeedOpt, scenario_at, seed_option, writable
from clients.cli.output import outcome_text

__all__ = ["demo"]


def demo(
    scenario: ScenarioOpt = None,
    seed: Annotated[
        int,
        typer.Option(
            help="Seed of every random draw. The bots play on the live clock, so the timing "
            "of a run can still vary the play; `shuttle simulate` repeats exactly.",
            callback=seed_option,
        ),
    ] = 7,
    speed: SpeedOpt = 1000.0,
    journal: Annotated[
        Path, typer.Option(help="Where to write the journal (JSON Lines).", callback=writable)
    ] = Path("shuttle-demo.jsonl"),
    database: Annotated[
        str | None, typer.Option(help="Journal database (default: a temporary SQLite file).")
    ] = None,
) -> None:
    """Play a whole exercise through a real relay on loopback, with bot delegations."""
    # the relay (uvicorn, FastAPI) and the SDK load only when the demo runs
    from clients.demo import run_demo

    chosen = scenario_at(scenario)
    if database is not None:
        asyncio.run(probe_store(database))
    outcome = asyncio.run(
        run_demo(chosen, seed=seed, speed=speed, journal=journal, database_url=database)
    )
    typer.echo(f"\nOutcome: {outcome_text(outcome)} at exercise time {outcome.at:.0f}s.")
    typer.echo(f"Journal written to {journal} (check it: shuttle replay {journal} --verify)")
