"""What several ``shuttle`` commands print: how an exercise ended, a run's transcript and
journal, and the join command of each seat."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import typer

from clients.transcript import Transcript
from relay.core import events as ev
from relay.journal import to_entry, write_journal

__all__ = ["echo_seats", "outcome_text", "report"]


def outcome_text(outcome: ev.ExerciseEnded | None) -> str:
    """How an exercise ended (its ``exercise.ended`` event, or None), in a few words."""
    if outcome is None:
        return "unfinished"
    if outcome.reason == "agreement":
        return f"agreement on note #{outcome.note}"
    if outcome.reason == "deadline":
        return "deadline passed without agreement"
    if outcome.reason == "facilitator":
        return "ended by the facilitator"
    return str(outcome.reason)


def report(
    events: Sequence[ev.Event],
    outcome: ev.ExerciseEnded | None,
    title: str,
    seed: int,
    journal: Path | None,
    quiet: bool,
) -> None:
    """Print the transcript (unless quiet), write the journal, and say how it ended."""
    if not quiet:
        for line in Transcript().render_all(events):
            typer.echo(line)
    if journal is not None:
        with journal.open("w", encoding="utf-8") as out:
            header = {"title": title, "seed": seed, "speed": None}
            write_journal(out, (to_entry(e) for e in events), header)
    typer.echo(
        f"Outcome: {outcome_text(outcome)}; "
        f"{len(events)} events" + (f"; journal: {journal}" if journal else "")
    )


def echo_seats(url: str, created: dict[str, Any]) -> None:
    """Each seat of a new exercise, with the command that joins it on the relay at ``url``."""
    for seat, token in created["seats"].items():
        typer.echo(f"  {seat:<12} shuttle join {url} --exercise {created['id']} --token {token}")
