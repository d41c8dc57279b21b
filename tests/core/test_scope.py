"""Agenda scope: a note tagged with an item its recipient refuses is returned to its sender,
flagged to the recipient, or relayed anyway, as the scenario's ``rules.scope`` says.

Here the U.S. side presses missiles on Iran, which refuses them (the Muscat story)."""

from __future__ import annotations

import pytest

from relay.core import Exercise, InvalidNote, OutOfScope
from relay.core import commands as cmd
from relay.core import events as ev
from relay.rng import seeded_streams
from schemas.scenario import Scenario
from schemas.translate import exercise_config

from .helpers import make_scenario, of_type, relay, submit, travel


def scoped_core(scope: str, mediator: str) -> Exercise:
    data = make_scenario(mediator=mediator, start_room="usa", travel=60.0, reading=10.0)
    data = data.model_dump(mode="json")
    data["parties"][0]["refuses"] = ["missiles"]  # iran
    data["rules"] = {"scope": scope}
    core = Exercise(exercise_config(Scenario.model_validate(data)), seed=1, rng=seeded_streams(1))
    core.handle(cmd.Start(by="facilitator"), 0.0)
    core.events()
    return core


def press_missiles(core: Exercise) -> int:
    # t=0 the U.S. side, with the mediator in its room, asks about missiles (read by t=10)
    return submit(core, "usa", 0.0, kind="question", text="And missiles?", tags=["missiles"])


def test_auto_mediator_returns_an_out_of_scope_note_to_its_sender() -> None:
    core = scoped_core("return", "auto")
    note = press_missiles(core)
    core.advance(500.0)
    events = core.events()
    assert of_type(events, ev.NoteRelayed) == []
    returned = of_type(events, ev.NoteReturned)
    assert [(r.note, r.by) for r in returned] == [(note, ev.AUTO)]
    assert "iran refuses to discuss missiles" in returned[0].comment
    delivered = of_type(events, ev.NoteDelivered)
    # the mediator is still in the U.S. room: the note comes straight back, at t=10
    assert [(d.recipient, d.outcome, d.at) for d in delivered] == [("usa", "returned", 10.0)]


def test_human_mediator_cannot_relay_out_of_scope_but_may_return_or_rephrase() -> None:
    core = scoped_core("return", "human")
    note = press_missiles(core)
    with pytest.raises(OutOfScope, match=r"note 1 is tagged missiles, which iran refuses"):
        relay(core, note, 10.0)
    assert of_type(core.events(), ev.NoteRelayed) == []
    # t=11 the mediator paraphrases without the refused tag: that may be carried
    relay(core, note, 11.0, text="They ask about your wider security posture.", tags=[])
    travel(core, "iran", 12.0)
    core.advance(100.0)
    delivered = of_type(core.events(), ev.NoteDelivered)
    assert [(d.recipient, d.tags, d.flags) for d in delivered] == [("iran", [], [])]


@pytest.mark.parametrize("mediator", ["auto", "human"])
def test_flag_delivers_the_note_with_a_flag(mediator: str) -> None:
    core = scoped_core("flag", mediator)
    note = press_missiles(core)
    if mediator == "human":
        relay(core, note, 10.0)
        travel(core, "iran", 10.0)
    core.advance(500.0)
    events = core.events()
    relayed = of_type(events, ev.NoteRelayed)
    assert [r.flags for r in relayed] == [["iran refuses to discuss missiles"]]
    delivered = of_type(events, ev.NoteDelivered)
    assert [(d.recipient, d.flags, d.at) for d in delivered] == [
        ("iran", ["iran refuses to discuss missiles"], 70.0)
    ]


@pytest.mark.parametrize("mediator", ["auto", "human"])
def test_relay_setting_carries_it_as_if_nothing_were_wrong(mediator: str) -> None:
    core = scoped_core("relay", mediator)
    note = press_missiles(core)
    if mediator == "human":
        relay(core, note, 10.0)
        travel(core, "iran", 10.0)
    core.advance(500.0)
    delivered = of_type(core.events(), ev.NoteDelivered)
    assert [(d.recipient, d.tags, d.flags) for d in delivered] == [("iran", ["missiles"], [])]


def test_notes_within_scope_are_never_touched() -> None:
    core = scoped_core("return", "auto")
    submit(core, "usa", 0.0, kind="proposal", text="cap 3", tags=["cap"], terms={"cap": 3.0})
    core.advance(500.0)
    delivered = of_type(core.events(), ev.NoteDelivered)
    assert [(d.recipient, d.outcome, d.flags) for d in delivered] == [("iran", "relayed", [])]


def test_a_term_off_the_agenda_is_named_as_a_term_even_when_it_also_tags_the_note() -> None:
    core = scoped_core("return", "auto")
    with pytest.raises(InvalidNote, match=r"term 'bogus' is not an agenda item \['cap', "):
        submit(core, "iran", 1.0, kind="proposal", terms={"bogus": 3.0}, tags=["bogus"])
