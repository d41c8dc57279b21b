"""``shuttle replay``: a journal's transcript, a check that it re-executes identically, or a
re-run of its party inputs under other delivery rules (a counterfactual)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from clients.cli.options import DeliveryOpt, PresetOpt, fail, under, writable
from clients.cli.output import report
from clients.transcript import Transcript
from relay.core import events as ev
from relay.entry import Entry
from relay.journal import JournalFormatError, from_entry, read_journal
from relay.replay import rerun
from relay.replay import verify as check
from schemas.scenario import Scenario, ScenarioError

__all__ = ["replay"]


def replay(
    journal: Annotated[Path, typer.Argument(help="A journal file (JSON Lines).")],
    verify: Annotated[
        bool, typer.Option("--verify", help="Re-execute the inputs and compare every event.")
    ] = False,
    preset: PresetOpt = None,
    delivery: DeliveryOpt = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="With --preset/--delivery: write the new journal here.",
            callback=writable,
        ),
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="With --preset/--delivery: no transcript.")
    ] = False,
) -> None:
    """Replay a journal: its transcript, a --verify check, or a counterfactual re-run.

    With --preset or --delivery the journal's party inputs are re-run under other delivery
    rules, and the new journal is printed and can be written with -o.
    """
    try:
        loaded = read_journal(journal)
    except JournalFormatError as error:
        raise fail(str(error)) from None
    if preset is not None or delivery is not None:
        if verify:
            raise fail("--verify checks the journal as recorded; drop --preset/--delivery")
        _counterfactual(loaded.entries, preset, delivery, out, quiet)
        return
    if out is not None or quiet:
        raise fail("--out and --quiet go with --preset/--delivery (a counterfactual re-run)")
    if verify:
        try:
            mismatch = check(loaded.entries)
        except ScenarioError as error:
            raise fail(f"{journal}: {error}") from None
        if mismatch is not None:
            raise fail(f"replay differs at {mismatch}", code=1)
        typer.echo(f"OK: {len(loaded.entries)} events replayed identically")
        return
    for line in Transcript().render_all(from_entry(e) for e in loaded.entries):
        typer.echo(line)


def _counterfactual(
    entries: list[Entry], preset: str | None, delivery: Path | None, out: Path | None, quiet: bool
) -> None:
    created = from_entry(entries[0])
    assert isinstance(created, ev.ExerciseCreated)
    try:
        original = Scenario.model_validate(created.scenario)
    except ValueError as error:
        raise fail(f"the journal's scenario is not valid: {error}") from None
    scenario = under(original, preset, delivery)
    result = rerun(entries, scenario)
    for event, why in result.skipped:
        by = getattr(event, "by", "?")
        typer.echo(f"skipped {event.TYPE} #{event.seq} by {by}: {why}", err=True)
    inputs = result.inputs
    typer.echo(
        f"Re-ran {inputs} recorded inputs under the new rules; "
        f"{inputs - len(result.skipped)} applied, {len(result.skipped)} skipped.",
        err=True,
    )
    report(result.events, result.outcome, scenario.title, created.seed, out, quiet)
