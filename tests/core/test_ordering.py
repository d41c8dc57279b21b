"""Ties keep submission order; timers due at the same time fire in insertion order."""

from __future__ import annotations

import pytest

from relay.core import commands as cmd
from relay.core import events as ev

from .helpers import PARTIES, make_core, of_type, other, relay, submit, travel


@pytest.mark.parametrize("sender", PARTIES)
def test_auto_mediator_keeps_submission_order_for_simultaneous_notes(sender):
    core = make_core(mediator="auto", start_room=other(sender), travel=60.0, reading=10.0)
    # t=0 sender submits five notes at the same instant, in a room the mediator is not in;
    # t=60 arrival, all handed over; t=70 all read and relayed; t=130 all delivered
    notes = [submit(core, sender, 0.0, text=f"point {i}") for i in range(5)]
    core.advance(1_000.0)
    events = core.events()
    handed = of_type(events, ev.NoteHandedOver)
    relayed = of_type(events, ev.NoteRelayed)
    delivered = of_type(events, ev.NoteDelivered)
    assert [h.note for h in handed] == notes
    assert {h.at for h in handed} == {60.0}
    assert [r.note for r in relayed] == notes
    assert {r.at for r in relayed} == {70.0}
    assert [d.note for d in delivered] == notes
    assert [d.text for d in delivered] == [f"point {i}" for i in range(5)]
    assert {d.at for d in delivered} == {130.0}


@pytest.mark.parametrize("sender", PARTIES)
def test_human_mediator_delivers_in_relay_order(sender):
    core = make_core(mediator="human", start_room=other(sender), travel=60.0, reading=10.0)
    # t=0 sender submits three notes at once; t=0 the mediator leaves for the sender's room
    notes = [submit(core, sender, 0.0, text=f"point {i}") for i in range(3)]
    travel(core, sender, 0.0)
    # t=60 arrival: handed over in submission order, read by t=70
    core.advance(60.0)
    assert [h.note for h in of_type(core.events(), ev.NoteHandedOver)] == notes
    # t=70 the mediator relays them in submission order; t=70 leaves, t=130 delivers
    for note in notes:
        relay(core, note, 70.0)
    travel(core, other(sender), 70.0)
    core.advance(130.0)
    delivered = of_type(core.events(), ev.NoteDelivered)
    assert [d.note for d in delivered] == notes
    assert {d.at for d in delivered} == {130.0}


def test_timers_due_together_fire_in_insertion_order():
    core = make_core(mediator="human", reading=10.0)
    # t=0 iran submits #1 and #2 (handed over at once, read by t=10)
    first = submit(core, "iran", 0.0)
    second = submit(core, "iran", 0.0)
    # t=10 hold #2 until t=50, then t=11 hold #1 until t=50: #2's timer was set first
    core.handle(cmd.Hold(by="mediator", note=second, until=50.0), 10.0)
    core.handle(cmd.Hold(by="mediator", note=first, until=50.0), 11.0)
    core.events()
    core.advance(50.0)
    released = of_type(core.events(), ev.NoteReleased)
    assert [(r.note, r.by, r.at) for r in released] == [
        (second, "clock", 50.0),
        (first, "clock", 50.0),
    ]


def test_arrival_and_unhold_due_together_fire_in_insertion_order():
    core = make_core(mediator="human", travel=40.0, reading=10.0)
    # t=0 iran submits #1; t=10 the mediator holds it until t=50 and (t=10) leaves: arrives t=50
    note = submit(core, "iran", 0.0)
    core.handle(cmd.Hold(by="mediator", note=note, until=50.0), 10.0)
    travel(core, "usa", 10.0)
    core.events()
    core.advance(50.0)
    assert [e.TYPE for e in core.events()] == ["note.released", "mediator.arrived"]


def test_timers_fire_before_an_input_stamped_at_the_same_time():
    core = make_core(mediator="human", travel=40.0)
    # t=0 the mediator leaves for usa, due t=40; t=40 usa submits: the arrival comes first,
    # so the note is handed over at once
    travel(core, "usa", 0.0)
    core.events()
    submit(core, "usa", 40.0)
    assert [e.TYPE for e in core.events()] == [
        "mediator.arrived",
        "note.submitted",
        "note.handed_over",
        "note.receipt",
    ]
