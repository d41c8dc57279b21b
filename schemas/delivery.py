"""Delivery rules: how a note travels on each link, as a scenario states them.

Every exercise has four links, one per direction between each party and the mediator::

    iran -> mediator      (inbound: the party hands its note over; the mediator reads it)
    mediator -> usa       (outbound: the mediator drafts, packs the pouch, walks, delivers)
    usa -> mediator
    mediator -> iran

Each link has its own :class:`LinkRules`. A scenario states them in layers, each layer
overriding only the fields it sets, most general first:

1. the defaults (:data:`BASE`);
2. the exercise-wide ``latency`` and ``rules`` sections of the scenario;
3. a named preset (``delivery.preset``, one of :data:`PRESETS`);
4. ``delivery.inbound`` (every party -> mediator link) and ``delivery.outbound``
   (every mediator -> party link);
5. ``delivery.links["iran->mediator"]`` and the like, for one link.

:func:`resolve` works out every rule of every link; ``schemas/translate.py`` turns that into
the core's configuration, which is all the core reads. ``docs/delivery-rules.md`` documents
every field with an example.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from schemas.latency import Constant, Duration, LatencySpec, Model, PositiveDuration

__all__ = [
    "BASE",
    "INBOUND_FIELDS",
    "OUTBOUND_FIELDS",
    "PRESETS",
    "Delivery",
    "Distortion",
    "HoldPolicy",
    "LinkRules",
    "Pouch",
    "Sitting",
    "inbound",
    "outbound",
    "resolve",
]

Probability = float
_P = Field(default=None, ge=0.0, le=1.0, allow_inf_nan=False)


def inbound(party: str) -> str:
    """The name of the link on which ``party`` hands notes to the mediator."""
    return f"{party}->mediator"


def outbound(party: str) -> str:
    """The name of the link on which the mediator brings notes to ``party``."""
    return f"mediator->{party}"


class Pouch(Model):
    """Batching: the courier leaves for this link's room on a schedule, carrying the pouch.

    With ``every`` set, departures happen only at ``offset + k * every`` (exercise time); with
    ``capacity`` set, one arrival delivers at most that many notes, oldest first, and the rest
    travel on the next trip. Notes that become ready at the very moment of a departure travel.
    """

    every: PositiveDuration | None = Field(default=None, description="time between departures")
    offset: Duration = Field(default=0.0, description="time of the first departure")
    capacity: int | None = Field(default=None, ge=1, description="notes per trip at most")


class Distortion(Model):
    """Paraphrase miscalculation on a mediator -> party link, drawn per relayed note."""

    tag_drop: Probability | None = _P
    number: Probability | None = _P
    number_bound: float = Field(
        default=1.0, ge=0.0, allow_inf_nan=False, description="largest move of a term, in its unit"
    )
    tone: Probability | None = _P


class HoldPolicy(Model):
    """The automatic mediator's holds on a party -> mediator link.

    ``delay``: after reading, hold each note for a drawn time before relaying it.
    ``until_answered``: hold a party's offer while its previous offer is still unanswered.
    """

    delay: LatencySpec | None = None
    until_answered: bool = False


class LinkRules(Model):
    """The rules of one link. Unset fields inherit from the layer below (see the module doc)."""

    travel: LatencySpec | None = Field(
        default=None, description="outbound: the mediator's walk into the recipient's room"
    )
    reading: LatencySpec | None = Field(
        default=None, description="inbound: the mediator reading a note handed over"
    )
    drafting: LatencySpec | None = Field(
        default=None, description="outbound: writing up a paraphrase before it can travel"
    )
    order: Literal["preserve", "any"] | None = Field(
        default=None,
        description="preserve: notes keep their order on the link despite jitter; any: jitter "
        "may reorder them",
    )
    hold: HoldPolicy | None = Field(default=None, description="inbound: automatic holds")
    pouch: Pouch | None = Field(default=None, description="outbound: schedule and capacity")
    loss: Probability | None = Field(
        default=None, ge=0.0, le=1.0, description="outbound: chance a note is lost on the way"
    )
    duplicate: Probability | None = Field(
        default=None, ge=0.0, le=1.0, description="outbound: chance a note is delivered twice"
    )
    distort: Distortion | None = Field(default=None, description="outbound: paraphrase errors")
    scope: Literal["return", "flag", "relay"] | None = Field(
        default=None,
        description="outbound: a note tagged with an item the recipient refuses is returned to "
        "its sender, delivered with a flag, or relayed as if nothing were wrong",
    )
    receipts: Literal["none", "handed_over", "delivered"] | None = Field(
        default=None, description="inbound: what the sender is told of its note's progress"
    )
    expiry: PositiveDuration | None = Field(
        default=None, description="inbound: an offer lapses this long after it was made"
    )


INBOUND_FIELDS = frozenset({"reading", "order", "hold", "receipts", "expiry"})
OUTBOUND_FIELDS = frozenset(
    {"travel", "drafting", "order", "pouch", "loss", "duplicate", "distort", "scope"}
)


def _given(rules: LinkRules) -> set[str]:
    """The fields a layer sets: given, and not ``None`` (``None`` inherits from below)."""
    return {name for name in rules.model_fields_set if getattr(rules, name) is not None}


def _check_direction(rules: LinkRules, allowed: frozenset[str], where: str) -> None:
    wrong = sorted(_given(rules) - allowed)
    if wrong:
        raise ValueError(
            f"{where}: {', '.join(wrong)} cannot be set on this direction "
            f"(it takes {', '.join(sorted(allowed))})"
        )


class Sitting(Model):
    """A window of exercise time in which the mediator may travel between rooms."""

    start: Duration
    end: Duration

    @model_validator(mode="after")
    def _ordered(self) -> Sitting:
        if self.end <= self.start:
            raise ValueError(f"end ({self.end}) must be after start ({self.start})")
        return self


class Delivery(Model):
    preset: str | None = Field(
        default=None,
        description="a named preset: muscat-indirect, overnight-courier, phone-line, direct",
    )
    inbound: LinkRules = LinkRules()
    outbound: LinkRules = LinkRules()
    links: dict[str, LinkRules] = Field(
        default_factory=dict, description='per link, e.g. "iran->mediator" or "mediator->usa"'
    )
    sittings: list[Sitting] = Field(
        default_factory=list, description="when the mediator may travel (empty: always)"
    )
    sitting_cycle: PositiveDuration | None = Field(
        default=None, description="the sittings repeat with this period (e.g. 24h)"
    )

    @model_validator(mode="after")
    def _valid(self) -> Delivery:
        if self.preset is not None and self.preset not in PRESETS:
            raise ValueError(f"preset: {self.preset!r} is not one of {', '.join(PRESETS)}")
        _check_direction(self.inbound, INBOUND_FIELDS, "inbound")
        _check_direction(self.outbound, OUTBOUND_FIELDS, "outbound")
        for name, rules in self.links.items():
            sender, _, receiver = name.partition("->")
            if receiver == "mediator" and sender:
                _check_direction(rules, INBOUND_FIELDS, f"links.{name}")
            elif sender == "mediator" and receiver:
                _check_direction(rules, OUTBOUND_FIELDS, f"links.{name}")
            else:
                raise ValueError(f"links: {name!r} is not 'PARTY->mediator' or 'mediator->PARTY'")
        if self.sitting_cycle is not None:
            late = [s.end for s in self.sittings if s.end > self.sitting_cycle]
            if late:
                raise ValueError(f"sittings end after the sitting_cycle ({self.sitting_cycle})")
        return self


def _latency(**spec: Any) -> dict[str, Any]:
    return spec


PRESETS: dict[str, dict[str, Any]] = {
    "muscat-indirect": {
        "inbound": {
            "reading": _latency(dist="lognormal", median=180, sigma=0.4, max=900),
            "receipts": "handed_over",
        },
        "outbound": {
            "travel": _latency(dist="uniform", low=240, high=540),
            "drafting": _latency(dist="normal", mean=300, sd=60, min=60),
        },
    },
    "overnight-courier": {
        "inbound": {
            "reading": _latency(dist="uniform", low=1200, high=3600),
            "receipts": "delivered",
        },
        "outbound": {
            "travel": _latency(dist="lognormal", median=6 * 3600, sigma=0.25, max=12 * 3600),
            "drafting": _latency(dist="uniform", low=1800, high=7200),
            "pouch": {"every": 12 * 3600, "offset": 0},
        },
    },
    "phone-line": {
        "inbound": {
            "reading": _latency(dist="uniform", low=5, high=20),
            "receipts": "delivered",
        },
        "outbound": {
            "travel": _latency(dist="constant", value=0),
            "drafting": _latency(dist="normal", mean=20, sd=5, min=5),
        },
    },
    "direct": {
        "inbound": {"reading": _latency(dist="constant", value=0), "receipts": "delivered"},
        "outbound": {
            "travel": _latency(dist="constant", value=0),
            "drafting": _latency(dist="constant", value=0),
        },
    },
}
"""Named presets, each a ``delivery`` section (``docs/delivery-rules.md`` has the table)."""


BASE = LinkRules(
    travel=Constant(value=300.0),
    reading=Constant(value=60.0),
    drafting=Constant(value=120.0),
    order="preserve",
    loss=0.0,
    duplicate=0.0,
    scope="relay",
    receipts="delivered",
)
"""The defaults under every other layer."""


def _layer(below: dict[str, Any], rules: LinkRules, allowed: frozenset[str]) -> None:
    for name in _given(rules) & allowed:
        below[name] = getattr(rules, name)


def resolve(
    parties: tuple[str, str],
    delivery: Delivery,
    exercise_wide: LinkRules,
) -> dict[str, dict[str, Any]]:
    """Per link name, the value of every rule, the layers applied in order
    (``schemas/translate.py`` makes the core's ``Link`` of it)."""
    preset = Delivery.model_validate(PRESETS[delivery.preset]) if delivery.preset else Delivery()
    links: dict[str, dict[str, Any]] = {}
    for party in parties:
        for name, allowed, general in (
            (inbound(party), INBOUND_FIELDS, "inbound"),
            (outbound(party), OUTBOUND_FIELDS, "outbound"),
        ):
            fields = {key: getattr(BASE, key) for key in LinkRules.model_fields}
            for rules in (
                exercise_wide,
                getattr(preset, general),
                getattr(delivery, general),
                delivery.links.get(name, LinkRules()),
            ):
                _layer(fields, rules, allowed)
            links[name] = fields
    return links
