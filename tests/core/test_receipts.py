"""Receipts: what a sender is told about its note afterwards, per ``rules.receipts``."""

from __future__ import annotations

import pytest

from relay.core import Exercise, visible_to
from relay.core import commands as cmd
from relay.core import events as ev
from relay.rng import seeded_streams
from schemas.scenario import Scenario
from schemas.translate import exercise_config

from .helpers import make_scenario, submit


def core_with(receipts: str | None) -> Exercise:
    data = make_scenario(start_room="iran", travel=60.0, reading=10.0).model_dump(mode="json")
    if receipts is not None:
        data["rules"] = {"receipts": receipts}
    core = Exercise(exercise_config(Scenario.model_validate(data)), seed=1, rng=seeded_streams(1))
    core.handle(cmd.Start(by="facilitator"), 0.0)
    core.events()
    return core


@pytest.mark.parametrize(
    "receipts, told",
    [
        ("none", []),
        ("handed_over", [("handed_over", 0.0)]),
        ("delivered", [("handed_over", 0.0), ("delivered", 70.0)]),
        (None, [("handed_over", 0.0), ("delivered", 70.0)]),  # the default
    ],
)
def test_the_sender_is_told_what_the_rule_says(receipts: str | None, told: list) -> None:
    core = core_with(receipts)
    # t=0 iran hands over; t=10 read and carried; t=70 delivered in the U.S. room
    note = submit(core, "iran", 0.0)
    core.advance(500.0)
    events = core.events()
    receipts_seen = [
        (e.status, e.at)
        for e in events
        if isinstance(e, ev.NoteReceipt) and visible_to("iran", "party", e)
    ]
    assert receipts_seen == told
    assert all(e.note == note for e in events if isinstance(e, ev.NoteReceipt))
    assert not any(isinstance(e, ev.NoteReceipt) and visible_to("usa", "party", e) for e in events)
