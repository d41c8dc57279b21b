"""From validated scenario models to the core's configuration, once, at the edge.

The core (``relay/core``) owns its configuration as frozen dataclasses
(:mod:`relay.core.config`) and never sees pydantic. Every driver that builds a core (the live
relay, the simulator, replay) and every adapter that changes its rules in flight (REST, the
websocket) translates here:

* :func:`exercise_config`: a :class:`~schemas.scenario.Scenario` to an
  :class:`~relay.core.config.ExerciseConfig`, the delivery layers resolved into one
  :class:`~relay.core.config.Link` per link (``schemas/delivery.py`` says how they stack);
* :func:`change_rules`: a facilitator's new ``delivery`` section, as JSON, to the
  :class:`~relay.core.commands.ChangeRules` command, refused with
  :class:`~relay.core.errors.InvalidCommand` naming the field when it is not valid;
* :func:`command_for`: the command an input event records, for replay.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from relay.core import commands as cmd
from relay.core import config as core
from relay.core import events as ev
from relay.core.errors import InvalidCommand
from schemas import latency as spec
from schemas.delivery import Delivery, resolve
from schemas.scenario import Scenario, describe_errors

__all__ = ["change_rules", "command_for", "exercise_config", "latency", "rules"]


def latency(model: spec.LatencySpec) -> core.LatencySpec:
    """One latency spec of a scenario file as the core's."""
    clamps: dict[str, Any] = {"jitter": model.jitter, "min": model.min, "max": model.max}
    if isinstance(model, spec.Constant):
        return core.Constant(value=model.value, **clamps)
    if isinstance(model, spec.Uniform):
        return core.Uniform(low=model.low, high=model.high, **clamps)
    if isinstance(model, spec.Normal):
        return core.Normal(mean=model.mean, sd=model.sd, **clamps)
    if isinstance(model, spec.LogNormal):
        return core.LogNormal(median=model.median, sigma=model.sigma, **clamps)
    if isinstance(model, spec.Empirical):
        return core.Empirical(values=tuple(model.values), **clamps)
    raise TypeError(f"unknown latency spec {model!r}")


def _link(name: str, fields: Mapping[str, Any]) -> core.Link:
    hold, pouch, distort = fields["hold"], fields["pouch"], fields["distort"]
    return core.Link(
        name=name,
        travel=latency(fields["travel"]),
        reading=latency(fields["reading"]),
        drafting=latency(fields["drafting"]),
        order=fields["order"],
        hold=None
        if hold is None
        else core.HoldPolicy(
            delay=None if hold.delay is None else latency(hold.delay),
            until_answered=hold.until_answered,
        ),
        pouch=None
        if pouch is None
        else core.Pouch(every=pouch.every, offset=pouch.offset, capacity=pouch.capacity),
        loss=fields["loss"],
        duplicate=fields["duplicate"],
        distort=None
        if distort is None
        else core.Distortion(
            tag_drop=distort.tag_drop,
            number=distort.number,
            number_bound=distort.number_bound,
            tone=distort.tone,
        ),
        scope=fields["scope"],
        receipts=fields["receipts"],
        expiry=fields["expiry"],
    )


def rules(scenario: Scenario, delivery: Delivery | None = None) -> core.Rules:
    """The delivery rules of ``scenario`` (or ``delivery`` in place of its own section)."""
    delivery = scenario.delivery if delivery is None else delivery
    parties = (scenario.parties[0].id, scenario.parties[1].id)
    resolved = resolve(parties, delivery, scenario.exercise_wide_rules())
    return core.Rules(
        links={name: _link(name, fields) for name, fields in resolved.items()},
        sittings=core.Sittings(
            windows=tuple((s.start, s.end) for s in delivery.sittings),
            cycle=delivery.sitting_cycle,
        ),
        written=delivery.model_dump(mode="json", exclude_unset=True),
    )


def exercise_config(scenario: Scenario) -> core.ExerciseConfig:
    """What the core needs to run ``scenario``."""
    first, second = (
        core.Party(id=p.id, name=p.name, refuses=frozenset(p.refuses)) for p in scenario.parties
    )
    return core.ExerciseConfig(
        parties=(first, second),
        agenda=tuple(
            core.AgendaItem(id=a.id, title=a.title, unit=a.unit, min=a.min, max=a.max)
            for a in scenario.agenda
        ),
        rules=rules(scenario),
        auto_mediator=scenario.mediator.mode == "auto",
        start_room=scenario.mediator.start_room,
        deadline=scenario.deadline,
        title=scenario.title,
        written=scenario.model_dump(mode="json", exclude_unset=True),
        document=scenario.model_dump(mode="json"),
    )


def change_rules(config: core.ExerciseConfig, by: str, delivery: Any) -> cmd.ChangeRules:
    """The command that puts ``delivery`` (a scenario's ``delivery`` section, as JSON) in
    force; :class:`InvalidCommand` names what is wrong with it."""
    try:
        section = Delivery.model_validate(delivery)
        scenario = Scenario.model_validate({**config.written, "delivery": delivery})
    except ValidationError as error:
        raise InvalidCommand(f"delivery rules: {describe_errors(error)}") from None
    return cmd.ChangeRules(by=by, rules=rules(scenario, section))


def command_for(event: ev.Event, config: core.ExerciseConfig) -> cmd.Command:
    """The command an input event records (see :func:`relay.core.events.is_input`)."""
    if isinstance(event, ev.RulesChanged):
        return change_rules(config, event.by, event.delivery)
    return cmd.command_for(event)
