"""Delivery only on the mediator's arrival; collection only in the sender's room."""

from __future__ import annotations

import pytest

from relay.core import NoteStatus
from relay.core import events as ev

from .helpers import PARTIES, make_core, of_type, other, relay, submit, travel


@pytest.mark.parametrize("sender", PARTIES)
def test_human_mediator_in_the_room_takes_the_note_at_once(sender):
    core = make_core(mediator="human", start_room=sender)
    # t=3 sender submits while the mediator stands in its room
    note = submit(core, sender, 3.0)
    events = core.events()
    handed = of_type(events, ev.NoteHandedOver)
    assert [(h.note, h.at, h.ready_at) for h in handed] == [(note, 3.0, 13.0)]
    assert core.notes[note].status is NoteStatus.WITH_MEDIATOR


@pytest.mark.parametrize("sender", PARTIES)
def test_human_relay_is_delivered_only_when_the_mediator_arrives(sender):
    recipient = other(sender)
    core = make_core(mediator="human", start_room=sender, travel=60.0, reading=10.0)
    # t=0 sender submits (handed over at once); t=10 reading done, mediator relays
    note = submit(core, sender, 0.0)
    relay(core, note, 10.0)
    assert of_type(core.events(), ev.NoteDelivered) == []
    assert core.notes[note].status is NoteStatus.OUTBOUND
    # t=20 the mediator leaves for the recipient's room; arrives t=80
    travel(core, recipient, 20.0)
    departed = of_type(core.events(), ev.MediatorDeparted)
    assert [(d.destination, d.arrives_at) for d in departed] == [(recipient, 80.0)]
    assert core.notes[note].destination == recipient
    # t=79.999 still on the way: nothing delivered
    core.advance(79.999)
    assert of_type(core.events(), ev.NoteDelivered) == []
    # the driver wakes late, at t=500: the delivery is stamped with the arrival time
    core.advance(500.0)
    events = core.events()
    arrived = of_type(events, ev.MediatorArrived)
    delivered = of_type(events, ev.NoteDelivered)
    assert [(a.room, a.at) for a in arrived] == [(recipient, 80.0)]
    assert [(d.note, d.recipient, d.at) for d in delivered] == [(note, recipient, 80.0)]
    assert core.notes[note].status is NoteStatus.DELIVERED


@pytest.mark.parametrize("sender", PARTIES)
def test_human_mode_note_in_the_other_room_waits_for_the_mediator(sender):
    core = make_core(mediator="human", start_room=other(sender), travel=60.0)
    # t=5 sender submits while the mediator stands in the other room
    note = submit(core, sender, 5.0)
    # nothing happens by itself, however long we wait
    core.advance(10_000.0)
    assert of_type(core.events(), ev.NoteHandedOver) == []
    assert core.notes[note].status is NoteStatus.WAITING
    # t=10_000 the mediator leaves for the sender's room; arrives t=10_060 and collects it
    travel(core, sender, 10_000.0)
    core.advance(10_059.0)
    assert core.notes[note].status is NoteStatus.WAITING
    core.advance(20_000.0)
    handed = of_type(core.events(), ev.NoteHandedOver)
    assert [(h.note, h.at) for h in handed] == [(note, 10_060.0)]
    assert core.notes[note].status is NoteStatus.WITH_MEDIATOR


@pytest.mark.parametrize("sender", PARTIES)
def test_auto_mediator_delivers_exactly_on_arrival(sender):
    recipient = other(sender)
    core = make_core(mediator="auto", start_room=sender, travel=60.0, reading=10.0)
    # t=0 sender submits, handed over at once; t=10 read, relayed, mediator departs;
    # t=70 arrives in the recipient's room and delivers
    note = submit(core, sender, 0.0)
    core.advance(69.0)
    events = core.events()
    assert of_type(events, ev.NoteDelivered) == []
    [departed] = of_type(events, ev.MediatorDeparted)
    assert (departed.at, departed.destination, departed.arrives_at) == (10.0, recipient, 70.0)
    core.advance(1_000.0)
    delivered = of_type(core.events(), ev.NoteDelivered)
    assert [(d.note, d.recipient, d.at) for d in delivered] == [(note, recipient, 70.0)]


@pytest.mark.parametrize("sender", PARTIES)
def test_auto_mediator_collects_a_note_only_on_entering_its_room(sender):
    core = make_core(mediator="auto", start_room=other(sender), travel=60.0, reading=10.0)
    # t=0 sender submits in its own room; the mediator (elsewhere) departs at once, arrives t=60
    note = submit(core, sender, 0.0)
    core.advance(59.999)
    events = core.events()
    assert of_type(events, ev.NoteHandedOver) == []
    assert [d.destination for d in of_type(events, ev.MediatorDeparted)] == [sender]
    assert core.notes[note].status is NoteStatus.WAITING
    core.advance(60.0)
    handed = of_type(core.events(), ev.NoteHandedOver)
    assert [(h.note, h.at) for h in handed] == [(note, 60.0)]
