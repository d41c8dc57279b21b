"""What the ``shuttle`` commands share: their options, the checks on them, and one-line
failures.

A bad value is refused before any work is done, in one line that names it (``fail``); a
scenario or a delivery section that cannot be read likewise.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from schemas.scenario import Scenario, ScenarioError, load_scenario, sample_scenario_path
from schemas.wire import MAX_SEED, MAX_SPEED, unstorable

__all__ = [
    "DEFAULT_URL",
    "DatabaseOpt",
    "DeliveryOpt",
    "ExerciseOpt",
    "FacilitatorTokenOpt",
    "PresetOpt",
    "ScenarioOpt",
    "SeedOpt",
    "SpeedOpt",
    "UrlOpt",
    "delivery_section",
    "fail",
    "scenario_at",
    "seed_option",
    "under",
    "writable",
]

DEFAULT_URL = "http://127.0.0.1:8000"  # where `shuttle serve` listens by default


def fail(message: str, code: int = 2) -> typer.Exit:
    """Say ``message`` on stderr as ``shuttle: ...``; the exit to raise (status ``code``)."""
    typer.echo(f"shuttle: {message}", err=True)
    return typer.Exit(code)


def seed_option(value: int | None) -> int | None:
    """A seed given on the command line, refused outside 0..MAX_SEED."""
    if value is not None and not 0 <= value <= MAX_SEED:
        raise typer.BadParameter(f"a seed is a whole number from 0 to {MAX_SEED}")
    return value


def _speed(value: float) -> float:
    if not 0 < value <= MAX_SPEED:  # NaN fails this too
        raise typer.BadParameter(f"above 0 and at most {MAX_SPEED:g} (exercise s per wall s)")
    return value


def writable(path: Path | None) -> Path | None:
    """Refuse an output path that cannot be written, before any work is done."""
    if path is None:
        return None
    if path.is_dir():
        raise typer.BadParameter(f"{path} is a directory")
    existed = path.exists()
    try:
        with path.open("a", encoding="utf-8"):
            pass
    except OSError as error:
        raise typer.BadParameter(f"cannot write {path}: {error.strerror}") from None
    if not existed:
        path.unlink()
    return path


ScenarioOpt = Annotated[
    Path | None,
    typer.Option("--scenario", "-s", help="Scenario YAML file (default: the Muscat sample)."),
]
DatabaseOpt = Annotated[
    str | None,
    typer.Option(
        "--database",
        envvar="SHUTTLE_DATABASE_URL",
        help="sqlite:///PATH or postgresql://... (default: sqlite:///./shuttle.db).",
    ),
]
SeedOpt = Annotated[int, typer.Option(help="Seed of every random draw.", callback=seed_option)]
SpeedOpt = Annotated[float, typer.Option(help="Exercise seconds per wall second.", callback=_speed)]
ExerciseOpt = Annotated[str, typer.Option(help="Exercise id.")]
FacilitatorTokenOpt = Annotated[
    str, typer.Option(help="The facilitator's token.", envvar="SHUTTLE_TOKEN")
]
UrlOpt = Annotated[str, typer.Option(help="Relay base URL.")]
PresetOpt = Annotated[
    str | None,
    typer.Option(
        "--preset",
        help="Deliver under a named preset: muscat-indirect, overnight-courier, phone-line, "
        "direct (replaces the scenario's delivery section).",
    ),
]
DeliveryOpt = Annotated[
    Path | None,
    typer.Option(
        "--delivery",
        help="A YAML/JSON file holding a 'delivery' section that replaces the scenario's.",
    ),
]


def scenario_at(path: Path | None) -> Scenario:
    """The scenario file at ``path`` (the Muscat sample if None), or a one-line failure."""
    try:
        return load_scenario(path or sample_scenario_path())
    except ScenarioError as error:
        raise fail(str(error)) from None


def delivery_section(path: Path) -> dict[str, Any]:
    """A delivery section from a YAML/JSON file (bare, or under a ``delivery`` key)."""
    try:
        section = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise fail(f"{path}: cannot read delivery rules: {error}") from None
    if isinstance(section, dict) and set(section) == {"delivery"}:
        section = section["delivery"]
    if not isinstance(section, dict):
        raise fail(f"{path}: expected a mapping (a delivery section)")
    problem = unstorable(section, "delivery")  # YAML has .nan and .inf; JSON does not
    if problem:
        raise fail(f"{path}: {problem}")
    return section


def under(scenario: Scenario, preset: str | None, delivery: Path | None) -> Scenario:
    """``scenario`` under the rules that --preset / --delivery name (a clear error if bad)."""
    if preset is not None and delivery is not None:
        raise fail("give one of --preset NAME or --delivery FILE, not both")
    section = delivery_section(delivery) if delivery is not None else None
    if preset is None and section is None:
        return scenario
    try:
        return scenario.under(preset=preset, delivery=section)
    except ScenarioError as error:
        raise fail(str(error)) from None
