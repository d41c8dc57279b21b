"""Behaviours that plausible bugs broke without any test noticing.

Each test here was written against a bug injected into the core by hand: a lapsed offer left in
its room's queue (the mediator later collected an offer that had expired), the pause shift of
timers halved, and a rules change silently not applied. Today's core behaves correctly in all
three; these tests say so, and fail under each bug. Time is explicit throughout.
"""

from __future__ import annotations

import pytest

from relay.core import WrongState
from relay.core import commands as cmd
from relay.core import events as ev
from relay.core.exercise import FACILITATOR, MEDIATOR

from .helpers import make_core, of_type, rules, submit, travel


def test_an_offer_that_lapsed_in_its_room_is_never_collected() -> None:
    # the mediator (human) stands in usa's room; iran's offer lapses on iran's table
    core = make_core(mediator="human", start_room="usa", delivery={"inbound": {"expiry": 100}})
    offer = submit(core, "iran", 0.0, kind="proposal", text="p", terms={"cap": 5.0})
    statement = submit(core, "iran", 1.0)
    core.advance(100.0)
    (expired,) = of_type(core.events(), ev.NoteExpired)
    assert (expired.note, expired.unseen) == (offer, True)
    # t=150 the mediator walks to iran (60 s): only the statement is there to collect
    travel(core, "iran", 150.0)
    core.advance(400.0)
    handed = [e.note for e in of_type(core.events(), ev.NoteHandedOver)]
    assert handed == [statement]
    assert core.notes[offer].status == "expired"
    with pytest.raises(Exception, match="expired|handed"):
        core.handle(cmd.Relay(by=MEDIATOR, note=offer), 401.0)


@pytest.mark.parametrize("pause", [30.0, 7.5])
def test_every_timer_shifts_by_exactly_the_length_of_a_pause(pause: float) -> None:
    core = make_core(
        mediator="human",
        reading=20.0,
        deadline=1_000.0,
        delivery={"inbound": {"expiry": 500}},
    )
    # t=0 iran offers (#1, read by t=20) and asks (#2, read by t=20)
    offer = submit(core, "iran", 0.0, kind="proposal", text="p", terms={"cap": 5.0})
    question = submit(core, "iran", 0.0, kind="question", text="q")
    # t=20 the mediator holds the question until t=90; t=25 walks to usa (60 s: t=85)
    core.handle(cmd.Hold(by=MEDIATOR, note=question, until=90.0), 20.0)
    travel(core, "usa", 25.0)
    core.events()
    # t=40 the facilitator pauses; everything pending is due `pause` later on resume
    core.handle(cmd.Pause(by=FACILITATOR), 40.0)
    core.handle(cmd.Resume(by=FACILITATOR), 40.0 + pause)
    assert core.next_deadline() == 85.0 + pause
    core.advance(85.0 + pause - 0.001)
    assert of_type(core.events(), ev.MediatorArrived) == []
    core.advance(1_000.0 + pause)
    events = core.events()
    (arrived,) = of_type(events, ev.MediatorArrived)
    (released,) = of_type(events, ev.NoteReleased)
    (lapsed,) = of_type(events, ev.NoteExpired)
    (ended,) = of_type(events, ev.ExerciseEnded)
    assert arrived.at == 85.0 + pause
    assert (released.note, released.at) == (question, 90.0 + pause)
    assert (lapsed.note, lapsed.at) == (offer, 500.0 + pause)
    assert (ended.reason, ended.at) == ("deadline", 1_000.0 + pause)


def test_a_rules_change_takes_effect_for_what_comes_next() -> None:
    core = make_core(mediator="human", reading=10.0, travel=60.0)
    core.handle(rules(core, {"preset": "direct"}), 5.0)
    core.events()
    # direct: no reading, no travel; the mediator stands in iran's room
    note = submit(core, "iran", 6.0)
    (handed,) = of_type(core.events(), ev.NoteHandedOver)
    assert (handed.note, handed.reading_s, handed.ready_at) == (note, 0.0, 6.0)
    core.handle(cmd.Relay(by=MEDIATOR, note=note), 6.0)
    travel(core, "usa", 7.0)
    events = core.events()
    (departed,) = of_type(events, ev.MediatorDeparted)
    (delivered,) = of_type(events, ev.NoteDelivered)
    assert (departed.travel_s, departed.arrives_at) == (0.0, 7.0)
    assert (delivered.note, delivered.at) == (note, 7.0)


def test_a_pause_shifts_what_notes_are_waiting_for_as_well_as_the_timers() -> None:
    # a human mediator in iran's room; reading 20 s, drafting 30 s, travel 60 s
    core = make_core(mediator="human", reading=20.0, drafting=30.0, travel=60.0)
    read = submit(core, "iran", 0.0)  # read by t=20
    drafted = submit(core, "iran", 0.0)  # read by t=20 too, then paraphrased at t=20
    core.handle(cmd.Relay(by=MEDIATOR, note=drafted, text="a paraphrase"), 20.0)  # ready t=50
    later = submit(core, "iran", 21.0)  # read by t=41
    core.handle(cmd.Travel(by=MEDIATOR, destination="usa"), 25.0)  # arrives t=85
    core.events()
    # t=30 a pause of 100 s: every wait still running is 100 s longer
    core.handle(cmd.Pause(by=FACILITATOR), 30.0)
    core.handle(cmd.Resume(by=FACILITATOR), 130.0)
    assert core.location.arrives_at == 185.0  # type: ignore[union-attr]
    assert (core.notes[later].ready_at, core.notes[drafted].drafted_at) == (141.0, 150.0)
    assert core.notes[read].ready_at == 20.0  # read before the pause: nothing to shift
    with pytest.raises(WrongState, match="still being read"):
        core.handle(cmd.Relay(by=MEDIATOR, note=later), 131.0)
    core.advance(185.0)  # arrives in usa with the paraphrase, written up at t=150
    arrived = [(e.note, e.at) for e in of_type(core.events(), ev.NoteDelivered)]
    assert arrived == [(drafted, 185.0)]
    core.handle(cmd.Travel(by=MEDIATOR, destination="iran"), 186.0)  # back at t=246
    core.advance(246.0)
    core.handle(cmd.Relay(by=MEDIATOR, note=later), 246.0)
    core.handle(cmd.Travel(by=MEDIATOR, destination="usa"), 247.0)  # arrives t=307
    core.advance(307.0)
    delivered = [(e.note, e.at) for e in of_type(core.events(), ev.NoteDelivered)]
    assert delivered == [(later, 307.0)]
