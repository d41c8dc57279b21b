"""A human mediator's batch and conditional holds, and rule changes, replay faithfully."""

from __future__ import annotations

from relay.core import commands as cmd
from relay.core import events as ev
from relay.core.exercise import MEDIATOR
from relay.journal import to_entry
from relay.replay import verify

from .helpers import make_core, of_type, rules, submit


def test_batches_conditional_holds_and_rule_changes_verify() -> None:
    core = make_core(
        mediator="human",
        reading={"dist": "uniform", "low": 1, "high": 9},
        travel={"dist": "lognormal", "median": 60, "sigma": 0.3},
        drafting={"dist": "normal", "mean": 30, "sd": 5},
        delivery={"outbound": {"loss": 0.3, "duplicate": 0.3, "pouch": {"capacity": 2}}},
        drain=False,
    )
    offer = submit(core, "iran", 0.0, kind="proposal", text="We must cap", terms={"cap": 5.0})
    aside = submit(core, "iran", 1.0)
    later = submit(core, "iran", 2.0)
    core.handle(cmd.Hold(by=MEDIATOR, note=later, condition=f"delivered:{offer}"), 3.0)
    core.handle(cmd.Batch(by=MEDIATOR), 20.0)  # relays offer and aside, leaves for usa
    core.advance(200.0)
    core.handle(rules(core, {"preset": "phone-line"}), 201.0)
    core.handle(cmd.Relay(by=MEDIATOR, note=later, text="A softer line"), 202.0)
    core.handle(cmd.Travel(by=MEDIATOR, destination="iran"), 203.0)
    core.advance(10_000.0)
    events = core.events()
    assert [e.note for e in of_type(events, ev.NoteRelayed)] == [offer, aside, later]
    assert of_type(events, ev.NoteReleased)[0].by == ev.CORE
    assert of_type(events, ev.RulesChanged)
    assert verify([to_entry(e) for e in events]) is None
