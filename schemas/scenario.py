"""Scenario files: the reusable description of a mediated talk.

A scenario is YAML on disk and a pydantic model in memory. The JSON Schema published with the
package (``shuttle schema scenario``) is generated from these models, so the file format, its
validation and its documentation cannot drift apart.

Times are seconds, or strings with a unit: ``"90s"``, ``"15m"``, ``"4h"``, ``"1d"``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, model_validator

from schemas.delivery import Delivery, LinkRules
from schemas.latency import (
    Constant,
    Duration,
    Empirical,
    LatencySpec,
    LogNormal,
    Model,
    Normal,
    Uniform,
)

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
    "describe_errors",
    "load_scenario",
    "parse_scenario",
    "sample_scenario_path",
]


class ScenarioError(ValueError):
    """A scenario file could not be read or is not valid; the message names the field."""


class LatencyModel(Model):
    """How long the mediator takes to walk between rooms, read a note, and draft a paraphrase."""

    travel: LatencySpec = Constant(value=300.0)
    reading: LatencySpec = Constant(value=60.0)
    drafting: LatencySpec = Constant(value=120.0)


class Position(Model):
    """A party's private stance on one numeric agenda term (used by bots and the report)."""

    ideal: float
    reservation: float


class Party(Model):
    id: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,31}$")
    name: str
    room: str = ""
    brief: str = ""
    positions: dict[str, Position] = Field(default_factory=dict)
    refuses: list[str] = Field(
        default_factory=list, description="agenda items this party declares out of scope"
    )


class AgendaItem(Model):
    id: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,47}$")
    title: str
    unit: str = ""
    min: float | None = Field(default=None, description="lowest value a term may take")
    max: float | None = Field(default=None, description="highest value a term may take")

    @model_validator(mode="after")
    def _ordered(self) -> AgendaItem:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min:g} is above max {self.max:g}")
        return self

    def outside(self, value: float) -> bool:
        """Whether ``value`` lies outside the range this item's terms may take."""
        return (self.min is not None and value < self.min) or (
            self.max is not None and value > self.max
        )

    def range_text(self) -> str:
        low = "-inf" if self.min is None else f"{self.min:g}"
        high = "inf" if self.max is None else f"{self.max:g}"
        return f"[{low}, {high}]"


class MediatorSeat(Model):
    name: str = "Mediator"
    mode: Literal["auto", "human"] = "auto"
    start_room: str | None = Field(
        default=None, description="party id whose room the mediator starts in (first party)"
    )


class Rules(Model):
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


class Scenario(Model):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")
    title: str
    description: str = ""
    parties: list[Party] = Field(min_length=2, max_length=2)
    mediator: MediatorSeat = MediatorSeat()
    agenda: list[AgendaItem] = Field(default_factory=list)
    latency: LatencyModel = LatencyModel()
    rules: Rules = Rules()
    delivery: Delivery = Field(
        default_factory=Delivery,
        description="delivery rules per link and named presets (docs/delivery-rules.md)",
    )
    deadline: Duration | None = Field(default=None, description="exercise time until it ends")

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        ids = [p.id for p in self.parties]
        reserved = {"mediator", "facilitator", "observer", "auto", "clock", "core"}
        if len(set(ids)) != len(ids):
            raise ValueError(f"parties: ids must differ, got {ids}")
        taken = sorted(i for i in ids if i in reserved or i.startswith("observer-"))
        if taken:
            raise ValueError(
                f"parties: ids {taken} are reserved seat names (observers are observer-N)"
            )
        items = {a.id: a for a in self.agenda}
        if len(items) != len(self.agenda):
            ids = [a.id for a in self.agenda]
            repeated = sorted({i for i in ids if ids.count(i) > 1})
            raise ValueError(f"agenda: ids must differ, got {repeated} more than once")
        for party in self.parties:
            for name in [*party.positions, *party.refuses]:
                if name not in items:
                    raise ValueError(f"parties.{party.id}: {name!r} is not an agenda item")
            for name, position in party.positions.items():
                item = items[name]
                for which in ("ideal", "reservation"):
                    value = getattr(position, which)
                    if item.outside(value):
                        raise ValueError(
                            f"parties.{party.id}.positions.{name}: {which} {value:g} is outside "
                            f"the agenda item's range {item.range_text()}"
                        )
        start = self.mediator.start_room
        if start is not None and start not in ids:
            raise ValueError(f"mediator.start_room: {start!r} is not a party id {ids}")
        links = {f"{p}->mediator" for p in ids} | {f"mediator->{p}" for p in ids}
        unknown = sorted(set(self.delivery.links) - links)
        if unknown:
            raise ValueError(f"delivery.links: {unknown} name no link; links are {sorted(links)}")
        return self

    def under(
        self, *, preset: str | None = None, delivery: dict[str, Any] | None = None
    ) -> Scenario:
        """This scenario under other delivery rules (for simulate and counterfactual replay).

        ``preset`` replaces the ``delivery`` section with that named preset alone;
        ``delivery`` replaces it with the one given. Either way the delivery section overrides
        the exercise-wide ``latency`` and ``rules``. Raises :class:`ScenarioError`.
        """
        data = self.model_dump(mode="json", exclude_unset=True)
        if preset is not None:
            data["delivery"] = {"preset": preset}
        if delivery is not None:
            data["delivery"] = delivery
        return parse_scenario(data, "delivery rules")

    def exercise_wide_rules(self) -> LinkRules:
        """What the ``latency`` and ``rules`` sections set, as one layer of link rules."""
        fields: dict[str, Any] = {}
        for section in (self.latency, self.rules):
            for name in section.model_fields_set:
                fields[name] = getattr(section, name)
        return LinkRules.model_validate(fields)

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


def describe_errors(error: Any, limit: int = 10, top: str = "(top level)") -> str:
    """A pydantic ``ValidationError`` as ``field.path: message; ...`` (the first ``limit``);
    an error of the whole value is named ``top``."""
    lines = []
    for item in error.errors()[:limit]:
        where = ".".join(str(part) for part in item["loc"]) or top
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
        raise ScenarioError(f"{source}: {describe_errors(error)}") from None


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a YAML (or JSON) scenario file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ScenarioError(f"{path}: cannot read: {error.strerror}") from None
    except UnicodeDecodeError:
        raise ScenarioError(f"{path}: not a text file (UTF-8)") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ScenarioError(f"{path}: not valid YAML: {error}") from None
    return parse_scenario(data, str(path))


def sample_scenario_path(name: str = "muscat") -> Path:
    """Path of a scenario shipped with the package."""
    return Path(__file__).parent / "scenarios" / f"{name}.yaml"
