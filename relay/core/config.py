"""What the core is told about an exercise: frozen dataclasses, standard library only.

Scenario files are YAML validated by pydantic models in ``schemas/``; ``schemas/translate.py``
turns a validated scenario into these, once, at the edge. The core never sees a pydantic model
or a raw dict of rules, so ``import relay.core`` loads neither pydantic nor yaml, and the same
configuration object serves every run of a study.

    ExerciseConfig
    ├── parties: (Party, Party)         ids, names, the agenda items each refuses
    ├── agenda: (AgendaItem, ...)       the terms a note may carry, with their bounds
    ├── auto_mediator, start_room, deadline
    ├── rules: Rules                    the delivery rules in force (a rules change replaces them)
    │   ├── links: {name: Link}         one per direction between each party and the mediator
    │   └── sittings: Sittings          when the mediator may travel
    └── written                         the scenario as its author wrote it (exercise.created)

Every latency is one of :data:`LatencySpec`; ``fixed`` is its value when it leaves nothing to
chance (a constant without jitter), worked out once here so the rules need not draw for it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "MAX_DURATION",
    "AgendaItem",
    "Constant",
    "Distortion",
    "Empirical",
    "ExerciseConfig",
    "HoldPolicy",
    "LatencySpec",
    "Link",
    "LogNormal",
    "Normal",
    "Party",
    "Pouch",
    "Rules",
    "Sittings",
    "Uniform",
    "inbound",
    "outbound",
]

MAX_DURATION = 1e9
"""The longest delay a draw can make, in seconds (about 31 years): always finite."""


def inbound(party: str) -> str:
    """The name of the link on which ``party`` hands notes to the mediator."""
    return f"{party}->mediator"


def outbound(party: str) -> str:
    """The name of the link on which the mediator brings notes to ``party``."""
    return f"mediator->{party}"


# ---------------------------------------------------------------------- latency


@dataclass(frozen=True, slots=True)
class _Clamped:
    """Every distribution adds uniform ``jitter`` (±) to a draw and clamps it to [min, max].

    ``fixed`` is the delay when nothing is left to chance (a constant without jitter), else
    None; it is worked out once, here, since the rules ask it at every delay."""

    jitter: float = 0.0
    min: float = 0.0
    max: float | None = None
    fixed: float | None = field(default=None, init=False, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class Constant(_Clamped):
    value: float = 0.0

    def __post_init__(self) -> None:
        if not self.jitter:
            top = MAX_DURATION if self.max is None else self.max
            object.__setattr__(self, "fixed", min(max(self.value, self.min, 0.0), top))


@dataclass(frozen=True, slots=True)
class Uniform(_Clamped):
    low: float = 0.0
    high: float = 0.0


@dataclass(frozen=True, slots=True)
class Normal(_Clamped):
    mean: float = 0.0
    sd: float = 0.0


@dataclass(frozen=True, slots=True)
class LogNormal(_Clamped):
    """By its median (``exp(mu)``) and the sd of its logarithm (``sigma``)."""

    median: float = 1.0
    sigma: float = 0.0

    @property
    def mu(self) -> float:
        return math.log(self.median)


@dataclass(frozen=True, slots=True)
class Empirical(_Clamped):
    """Observed delays, drawn uniformly at random (a bootstrap of the table)."""

    values: tuple[float, ...] = (0.0,)


LatencySpec = Constant | Uniform | Normal | LogNormal | Empirical


# ---------------------------------------------------------------------- links


@dataclass(frozen=True, slots=True)
class Pouch:
    """Batching: departures at ``offset + k * every`` only; at most ``capacity`` notes an
    arrival."""

    every: float | None = None
    offset: float = 0.0
    capacity: int | None = None


@dataclass(frozen=True, slots=True)
class Distortion:
    """Paraphrase miscalculation on a mediator -> party link: chances per relayed note."""

    tag_drop: float | None = None
    number: float | None = None
    number_bound: float = 1.0
    tone: float | None = None


@dataclass(frozen=True, slots=True)
class HoldPolicy:
    """The automatic mediator's holds on a party -> mediator link."""

    delay: LatencySpec | None = None
    until_answered: bool = False


@dataclass(frozen=True, slots=True)
class Link:
    """The concrete rules of one link, every layer of the scenario applied. Fields its
    direction does not use keep their defaults and are never read."""

    name: str
    travel: LatencySpec = Constant(value=300.0)
    reading: LatencySpec = Constant(value=60.0)
    drafting: LatencySpec = Constant(value=120.0)
    order: str = "preserve"  # preserve | any
    hold: HoldPolicy | None = None
    pouch: Pouch | None = None
    loss: float = 0.0
    duplicate: float = 0.0
    distort: Distortion | None = None
    scope: str = "relay"  # return | flag | relay
    receipts: str = "delivered"  # none | handed_over | delivered
    expiry: float | None = None


@dataclass(frozen=True, slots=True)
class Sittings:
    """Windows ``(start, end)`` of exercise time in which the mediator may travel, repeating
    every ``cycle`` seconds if set. No windows: always."""

    windows: tuple[tuple[float, float], ...] = ()
    cycle: float | None = None

    @property
    def always(self) -> bool:
        return not self.windows

    def next_start(self, now: float) -> float | None:
        """The earliest time at or after ``now`` inside a sitting (``now`` if always)."""
        if not self.windows:
            return now
        base = 0.0
        if self.cycle is not None:
            base = math.floor(now / self.cycle) * self.cycle
        for cycle in range(2):
            start_of_cycle = base + cycle * (self.cycle or 0.0)
            candidates = [
                max(start_of_cycle + start, now)
                for start, end in self.windows
                if start_of_cycle + end > now
            ]
            if candidates:
                return min(candidates)
            if self.cycle is None:
                return None
        return None


@dataclass(frozen=True, slots=True)
class Rules:
    """The delivery rules in force: one :class:`Link` per link name, and the sittings.
    ``written`` is the scenario's ``delivery`` section as its author set it (journalled)."""

    links: Mapping[str, Link]
    sittings: Sittings = Sittings()
    written: Mapping[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------- the exercise


@dataclass(frozen=True, slots=True)
class Party:
    id: str
    name: str
    refuses: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class AgendaItem:
    id: str
    title: str = ""
    unit: str = ""
    min: float | None = None
    max: float | None = None

    @property
    def low(self) -> float:
        return -math.inf if self.min is None else self.min

    @property
    def high(self) -> float:
        return math.inf if self.max is None else self.max

    def outside(self, value: float) -> bool:
        """Whether ``value`` lies outside the range this item's terms may take."""
        return not self.low <= value <= self.high

    def range_text(self) -> str:
        low = "-inf" if self.min is None else f"{self.min:g}"
        high = "inf" if self.max is None else f"{self.max:g}"
        return f"[{low}, {high}]"


@dataclass(frozen=True, slots=True)
class ExerciseConfig:
    """Everything the core needs to run one exercise (any number of times, any seed).

    ``written`` is the scenario as its author wrote it, without defaults, so a journal stays
    valid when a later version adds a defaulted field; ``document`` is the whole scenario with
    its defaults, as seats are shown it. Both are JSON data the core only passes on.
    """

    parties: tuple[Party, Party]
    agenda: tuple[AgendaItem, ...]
    rules: Rules
    auto_mediator: bool = True
    start_room: str | None = None
    deadline: float | None = None
    title: str = ""
    written: dict[str, Any] = field(default_factory=dict)
    document: dict[str, Any] = field(default_factory=dict)

    @property
    def party_ids(self) -> tuple[str, str]:
        return (self.parties[0].id, self.parties[1].id)
