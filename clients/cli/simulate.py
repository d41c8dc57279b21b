"""``shuttle simulate`` and ``shuttle study``: exercises played headless by bots, on a
virtual clock; one run with its transcript, or many seeded runs with a summary."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Annotated

import typer

from clients.bots import default_bots
from clients.cli.options import (
    DeliveryOpt,
    PresetOpt,
    ScenarioOpt,
    SeedOpt,
    fail,
    scenario_at,
    seed_option,
    under,
    writable,
)
from clients.cli.output import report
from relay.rng import seeded_streams
from relay.sim import RunSummary, simulate_many
from relay.sim import simulate as run_simulation
from schemas.wire import MAX_SEED

__all__ = ["simulate", "study"]


def simulate(
    scenario: ScenarioOpt = None,
    seed: SeedOpt = 7,
    journal: Annotated[
        Path | None, typer.Option(help="Write the journal here (JSON Lines).", callback=writable)
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No transcript.")] = False,
    preset: PresetOpt = None,
    delivery: DeliveryOpt = None,
) -> None:
    """Play an exercise headless on a virtual clock (no network); same seed, same journal."""
    chosen = under(scenario_at(scenario), preset, delivery)
    result = run_simulation(chosen, seed, default_bots(chosen, seeded_streams(seed)))
    report(result.events, result.outcome, chosen.title, seed, journal, quiet)


def study(
    scenario: ScenarioOpt = None,
    runs: Annotated[int, typer.Option(min=1, help="How many exercises to simulate.")] = 100,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Worker processes (default: one per CPU).")
    ] = None,
    seed: Annotated[
        int, typer.Option(help="Seed of the first run; run i uses seed + i.", callback=seed_option)
    ] = 1,
    preset: PresetOpt = None,
    delivery: DeliveryOpt = None,
    json_path: Annotated[
        Path | None,
        typer.Option(
            "--json",
            help="Write the summary and every run's result here (JSON).",
            callback=writable,
        ),
    ] = None,
) -> None:
    """A batch study: simulate many seeded exercises headless, spread over worker processes.

    Each run is exactly `shuttle simulate --seed S` (same bots, same journal); the number of
    workers changes only how fast the study finishes, never its results.
    """
    if seed + runs - 1 > MAX_SEED:
        raise fail(f"--seed {seed} with --runs {runs} goes past the largest seed, {MAX_SEED}")
    chosen = under(scenario_at(scenario), preset, delivery)
    count = workers or os.cpu_count() or 1

    def progress(done: int, total: int) -> None:
        if done == total or done % max(1, total // 20) == 0:
            typer.echo(f"\rstudy: {done}/{total} runs", err=True, nl=done == total)

    started = time.perf_counter()
    results = simulate_many(
        chosen, range(seed, seed + runs), default_bots, workers=count, progress=progress
    )
    elapsed = time.perf_counter() - started
    outcomes: dict[str, int] = {}
    for result in results:
        outcomes[result.outcome] = outcomes.get(result.outcome, 0) + 1
    agreed = [r.ended_at for r in results if r.outcome == "agreement" and r.ended_at]
    mean_offers = sum(result.offers for result in results) / len(results)
    mean_agreement = sum(agreed) / len(agreed) if agreed else None
    workers_said = f"{count} worker" + ("s" if count != 1 else "")
    typer.echo(f"{chosen.title}: {runs} runs (seeds {seed}..{seed + runs - 1}), {workers_said}")
    typer.echo("outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))
    typer.echo(f"mean offers per run: {mean_offers:.1f}")
    typer.echo(
        "mean time to agreement: "
        + ("none" if mean_agreement is None else f"{mean_agreement / 3600:.2f} h")
    )
    typer.echo(f"wall time: {elapsed:.2f} s ({runs / elapsed:.1f} runs/s)")
    if json_path is not None:
        summary = {
            "scenario": chosen.title,
            "first_seed": seed,
            "runs": runs,
            "workers": count,
            "outcomes": outcomes,
            "mean_offers": mean_offers,
            "mean_time_to_agreement_s": mean_agreement,
            "results": [_summarised(result) for result in results],
        }
        json_path.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")


def _summarised(run: RunSummary) -> dict[str, object]:
    """One run's line in the study's JSON."""
    return {k: getattr(run, k) for k in ("seed", "outcome", "ended_at", "events", "offers")}
