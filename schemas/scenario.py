"""Scenario files: the reusable description of a mediated talk.

A scenario is YAML on disk and a pydantic model in memory. The JSON Schema published with the
package (``shuttle schema scenario``) is generated from these models, so the file format, its
validation and its documentation cannot drift apart.

Times are seconds, or strings with a unit: ``"90s"``, ``"15m"``, ``"4h"``, ``"1d"``.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

__all__ = [
    "AgendaItem",
    "Constant",
    "Duration",
    "Empirical",
    "LatencyModel",
    "LatencySpec",
    "LogNormal",
    "MediatorSeat",
    "Normal",
    "Party",
    "Position",
    "Rules",
    "Scenario",
    "ScenarioError",
    "Uniform",
    "load_scenario",
    "parse_scenario",
    "sample_scenario_path",
]

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|min|m|h|d)?\s*$")


class ScenarioError(ValueError):
    """A scenario file could not be read or is not valid; the message names the field."""


def _parse_duration(value: Any) -> Any:
    if isinstance(value, str):
        match = _DURATION.match(value)
        if not match:
            raise ValueError(f"not a duration: {value!r} (use seconds or e.g. '90s', '15m', '4h')")
        return float(match.group(1)) * _UNITS[match.group(2) or "s"]
    return value


Duration = Annotated[float, BeforeValidator(_parse_duration), Field(ge=0, allow_inf_nan=False)]
"""Seconds (float), accepting unit strings in files."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Clamped(_Model):
    """Every distribution takes ``jitter`` (uniform ±jitter added to each draw) and clamps."""

    jitter: Duration = 0.0
    min: Duration = 0.0
    max: Duration | None = None

    @model_validator(mode="after")
    def _clamps_ordered(self) -> _Clamped:
        if self.max is not None and self.max < self.min:
            raise ValueError(f"max ({self.max}) is below min ({self.min})")
        return self


class Constant(_Clamped):
    dist: Literal["constant"] = "constant"
    value: Duration


class Uniform(_Clamped):
    dist: Literal["uniform"] = "uniform"
    low: Duration
    high: Duration

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high < self.low:
            raise ValueError(f"high ({self.high}) is below low ({self.low})")
        return self


class Normal(_Clamped):
    dist: Literal["normal"] = "normal"
    mean: Duration
    sd: Duration


class LogNormal(_Clamped):
    """Log-normal by its median (``exp(mu)``) and the sd of its logarithm (``sigma``)."""

    dist: Literal["lognormal"] = "lognormal"
    median: Annotated[float, BeforeValidator(_parse_duration), Field(gt=0, allow_inf_nan=False)]
    sigma: float = Field(ge=0, allow_inf_nan=False)

    @property
    def mu(self) -> float:
        return math.log(self.median)


class Empirical(_Clamped):
    """Observed delays, drawn uniformly at random (a bootstrap of the table)."""

    dist: Literal["empirical"] = "empirical"
    values: list[Duration] = Field(min_length=1)


LatencySpec = Annotated[
    Constant | Uniform | Normal | LogNormal | Empirical, Field(discriminator="dist")
]


class LatencyModel(_Model):
    """How long the mediator takes to walk between rooms, read a note, and draft a paraphrase."""

    travel: LatencySpec = Constant(value=300.0)
    reading: LatencySpec = Constant(value=60.0)
    drafting: LatencySpec = Constant(value=120.0)


class Position(_Model):
    """A party's private stance on one numeric agenda term (used by bots and the report)."""

    ideal: float
    reservation: float


class Party(_Model):
    id: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,31}$")
    name: str
    room: str = ""
    brief: str = ""
    positions: dict[str, Position] = Field(default_factory=dict)
    refuses: list[str] = Field(
        default_factory=list, description="agenda items this party declares out of scope"
    )


class AgendaItem(_Model):
    id: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,47}$")
    title: str
    unit: str = ""
    min: float | None = Field(default=None, description="lowest value a term may take")
    max: float | None = Field(default=None, description="highest value a term may take")


class MediatorSeat(_Model):
    name: str = "Mediator"
    mode: Literal["auto", "human"] = "auto"
    start_room: str | None = Field(
        default=None, description="party id whose room the mediator starts in (first party)"
    )


class Rules(_Model):
    """Delivery rules of the exercise (DESIGN §shuttle, "Delivery rules")."""

    scope: Literal["return", "flag", "relay"] = Field(
        default="relay",
        description=(
            "a note tagged with an agenda item its recipient refuses: returned to its sender, "
            "delivered with a flag, or relayed as if nothing were wrong"
        ),
    )
    receipts: Literal["none", "handed_over", "delivered"] = Field(
        default="delivered",
        description=(
            "what a sender is told afterwards: nothing, that the mediator took its note, or "
            "also when it was delivered"
        ),
    )


class Scenario(_Model):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")
    title: str
    description: str = ""
    parties: list[Party] = Field(min_length=2, max_length=2)
    mediator: MediatorSeat = MediatorSeat()
    agenda: list[AgendaItem] = Field(default_factory=list)
    latency: LatencyModel = LatencyModel()
    rules: Rules = Rules()
    deadline: Duration | None = Field(default=None, description="exercise time until it ends")

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        ids = [p.id for p in self.parties]
        reserved = {"mediator", "facilitator", "observer", "auto", "clock", "core"}
        if len(set(ids)) != len(ids):
            raise ValueError(f"parties: ids must differ, got {ids}")
        if reserved & set(ids):
            raise ValueError(f"parties: ids {sorted(reserved & set(ids))} are reserved seat names")
        items = {a.id for a in self.agenda}
        for party in self.parties:
            for name in [*party.positions, *party.refuses]:
                if name not in items:
                    raise ValueError(f"parties.{party.id}: {name!r} is not an agenda item")
        start = self.mediator.start_room
        if start is not None and start not in ids:
            raise ValueError(f"mediator.start_room: {start!r} is not a party id {ids}")
        return self

    def party(self, party_id: str) -> Party:
        for party in self.parties:
            if party.id == party_id:
                return party
        raise KeyError(party_id)

    def other(self, party_id: str) -> str:
        """The id of the party that is not ``party_id``."""
        first, second = (p.id for p in self.parties)
        return second if party_id == first else first

    def room_name(self, party_id: str) -> str:
        return self.party(party_id).room or f"{self.party(party_id).name} room"


def _describe(error: Any) -> str:
    lines = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "(top level)"
        lines.append(f"{where}: {item['msg']}")
    return "; ".join(lines)


def parse_scenario(data: Any, source: str = "scenario") -> Scenario:
    """Validate a decoded scenario, raising :class:`ScenarioError` that names each bad field."""
    from pydantic import ValidationError

    if not isinstance(data, dict):
        raise ScenarioError(f"{source}: expected a mapping at the top level")
    try:
        return Scenario.model_validate(data)
    except ValidationError as error:
        raise ScenarioError(f"{source}: {_describe(error)}") from None


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a YAML (or JSON) scenario file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ScenarioError(f"{path}: cannot read: {error.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ScenarioError(f"{path}: not valid YAML: {error}") from None
    return parse_scenario(data, str(path))


def sample_scenario_path(name: str = "muscat") -> Path:
    """Path of a scenario shipped with the package."""
    return Path(__file__).parent / "scenarios" / f"{name}.yaml"
