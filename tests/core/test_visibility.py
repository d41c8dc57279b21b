"""Who knew what, when: ``visible_to`` over whole exercises (simulated and hand-driven)."""

from __future__ import annotations

import json

import pytest

from clients.bots import default_bots
from relay.core import commands as cmd
from relay.core import events as ev
from relay.core import visible_to
from relay.journal import to_entry
from relay.replay import verify
from relay.rng import seeded_streams
from relay.sim import simulate
from schemas.scenario import load_scenario, sample_scenario_path

from .helpers import (
    ORIGINAL,
    PARAPHRASE,
    PARTIES,
    human_exercise,
    make_core,
    of_type,
    other,
    relay,
    submit,
    travel,
)

SECRET_TO_PARTIES = (
    ev.NoteRelayed,
    ev.NoteHeld,
    ev.NoteReleased,
    ev.NoteReturned,
    ev.NoteDeclined,
    ev.ExerciseCreated,
)
SEEDS = range(30)


def simulated(seed: int) -> list[ev.Event]:
    scenario = load_scenario(sample_scenario_path())
    return simulate(scenario, seed, default_bots(scenario, seeded_streams(seed))).events


def view(seat: str, role: str, events: list[ev.Event]) -> list[ev.Event]:
    return [e for e in events if visible_to(seat, role, e)]


def assert_party_blind_spots(events: list[ev.Event], party: str) -> None:
    seen = view(party, "party", events)
    for event in seen:
        assert not isinstance(event, SECRET_TO_PARTIES), event
        if isinstance(event, ev.NoteSubmitted):
            assert event.by == party, event
        if isinstance(event, ev.NoteHandedOver):
            assert event.sender == party, event
    # each delivery addressed to the party, and no other
    assert of_type(seen, ev.NoteDelivered) == [
        e for e in of_type(events, ev.NoteDelivered) if e.recipient == party
    ]


def assert_mediator_blind_to_uncollected_notes(events: list[ev.Event]) -> None:
    handed_at = {e.note: e.seq for e in of_type(events, ev.NoteHandedOver)}
    for event in view("mediator", "mediator", events):
        if isinstance(event, ev.NoteSubmitted | ev.NoteExpired):
            assert event.note in handed_at and handed_at[event.note] < event.seq, event


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("party", ["iran", "usa"])
def test_simulated_party_sees_only_its_own_side(seed, party):
    events = simulated(seed)
    assert_party_blind_spots(events, party)
    # and it is not blind: it sees its own notes and at least one delivery
    seen = view(party, "party", events)
    assert any(isinstance(e, ev.NoteSubmitted) for e in seen)
    assert any(isinstance(e, ev.NoteDelivered) for e in seen)


@pytest.mark.parametrize("seed", SEEDS)
def test_simulated_mediator_never_sees_uncollected_notes(seed):
    events = simulated(seed)
    assert_mediator_blind_to_uncollected_notes(events)
    seen = view("mediator", "mediator", events)
    assert of_type(seen, ev.NoteHandedOver) == of_type(events, ev.NoteHandedOver)


@pytest.mark.parametrize("seed", SEEDS[:10])
@pytest.mark.parametrize(
    ("seat", "role"),
    [("facilitator", "facilitator"), ("observer", "observer"), ("observer-7", "observer")],
)
def test_facilitator_and_observers_see_everything(seed, seat, role):
    events = simulated(seed) + human_exercise()
    assert view(seat, role, events) == events


@pytest.mark.parametrize("party", PARTIES)
def test_hand_driven_party_sees_only_its_own_side(party):
    events = human_exercise()
    # the exercise really used every mediator action
    types = {e.TYPE for e in events}
    assert {"note.held", "note.released", "note.returned", "note.declined"} <= types
    assert any(e.paraphrased for e in of_type(events, ev.NoteRelayed))
    assert_party_blind_spots(events, party)


def test_hand_driven_mediator_never_sees_uncollected_notes():
    events = human_exercise()
    assert_mediator_blind_to_uncollected_notes(events)


def test_paraphrase_never_exposes_the_original_to_the_recipient():
    events = human_exercise()
    [paraphrased] = [e for e in of_type(events, ev.NoteRelayed) if e.paraphrased]
    recipient = paraphrased.recipient
    seen = view(recipient, "party", events)
    [delivered] = [e for e in of_type(seen, ev.NoteDelivered) if e.note == paraphrased.note]
    assert delivered.text == PARAPHRASE
    assert delivered.terms == {"cap": 10.0}
    for event in seen:
        assert ORIGINAL not in json.dumps(event.to_data()), event


def test_returned_and_declined_notes_are_delivered_only_to_their_sender():
    events = human_exercise()
    back = [e for e in of_type(events, ev.NoteDelivered) if e.outcome in ("returned", "declined")]
    assert {(e.note, e.outcome, e.recipient) for e in back} == {
        (2, "declined", "iran"),
        (3, "returned", "iran"),
    }
    assert not any(visible_to("usa", "party", e) for e in back)


@pytest.mark.parametrize("party", PARTIES)
def test_party_never_sees_ids_of_the_other_partys_undelivered_notes(party):
    core = make_core(
        mediator="human", start_room=other(party), travel=60.0, reading=10.0, drain=False
    )
    # t=0 the other party submits #1 (handed over at once, read by t=10)
    note = submit(core, other(party), 0.0)
    # t=10 the mediator leaves for the party's room (arrives t=70)
    travel(core, party, 10.0)
    # t=80 the mediator decides to return #1 to its sender; t=90 it leaves the party's room
    core.handle(cmd.Return(by="mediator", note=note, comment="rephrase"), 80.0)
    travel(core, other(party), 90.0)
    core.advance(200.0)
    events = core.events()
    delivered_to_party = {e.note for e in of_type(events, ev.NoteDelivered) if e.recipient == party}
    assert note not in delivered_to_party
    for event in view(party, "party", events):
        # the party must not learn that the other side's note exists and is being returned
        assert note not in event.to_data().values(), event
        assert getattr(event, "note", None) != note, event


@pytest.mark.parametrize("party", PARTIES)
def test_party_cannot_tell_relay_from_hold_before_delivery(party):
    def party_view(decide) -> list[tuple[str, dict]]:
        core = make_core(mediator="human", start_room=party, travel=60.0, reading=10.0)
        # t=0 the party submits #1; t=10 the mediator decides; t=20 it leaves the room
        note = submit(core, party, 0.0, client_id="same")
        decide(core, note)
        travel(core, other(party), 20.0)
        core.advance(50.0)  # before any arrival
        return [(e.TYPE, e.to_data()) for e in core.events() if visible_to(party, "party", e)]

    relayed = party_view(lambda core, note: relay(core, note, 10.0))
    held = party_view(lambda core, note: core.handle(cmd.Hold(by="mediator", note=note), 10.0))
    # the mediator's decision is its own: the party sees the same thing either way
    assert relayed == held


def lapsed_on_the_table() -> tuple[list[ev.Event], int, int]:
    """Human mediator: Iran's first offer is collected; the second lapses on Iran's table
    while the mediator is away. Returns the events and the two offers."""
    core = make_core(
        mediator="human",
        reading=0.0,
        travel=10.0,
        delivery={"inbound": {"expiry": 100}},
        drain=False,
    )
    room = core.location
    assert room == "iran"
    seen = submit(core, "iran", 0.0, kind="proposal", text="p", terms={"cap": 5.0})
    travel(core, other(room), 1.0)
    unseen = submit(core, "iran", 20.0, kind="proposal", text="q", terms={"cap": 6.0})
    core.advance(120.0)
    return core.events(), seen, unseen


def test_an_offer_that_lapses_uncollected_is_not_shown_to_the_mediator():
    events, seen, unseen = lapsed_on_the_table()
    expired = {e.note: e for e in of_type(events, ev.NoteExpired)}
    assert (expired[seen].unseen, expired[unseen].unseen) == (False, True)
    assert "unseen" not in expired[seen].to_data()  # left out when false, as before the flag
    assert [e.note for e in of_type(view("mediator", "mediator", events), ev.NoteExpired)] == [seen]
    assert {e.note for e in of_type(view("iran", "party", events), ev.NoteExpired)} == {
        seen,
        unseen,
    }
    # neither offer reached usa: it learns of neither lapsing
    assert of_type(view("usa", "party", events), ev.NoteExpired) == []
    assert_mediator_blind_to_uncollected_notes(events)


def test_an_offer_that_lapses_after_it_arrived_is_shown_to_its_recipient_too():
    core = make_core(reading=0.0, travel=10.0, delivery={"inbound": {"expiry": 100}}, drain=False)
    offer = submit(core, "iran", 0.0, kind="proposal", text="p", terms={"cap": 5.0})
    core.advance(100.0)
    events = core.events()
    (lapsed,) = of_type(events, ev.NoteExpired)
    assert (lapsed.note, lapsed.delivered) == (offer, True)
    for party in ("iran", "usa"):
        assert of_type(view(party, "party", events), ev.NoteExpired) == [lapsed]


def test_a_journal_written_before_the_unseen_flag_still_verifies():
    events, _, unseen = lapsed_on_the_table()
    entries = [to_entry(e) for e in events]
    for entry in entries:
        entry.data.pop("unseen", None)  # as release 0.1.0 wrote it
    assert verify(entries) is None
    tampered = [to_entry(e) for e in events]
    [lapsed] = [e for e in tampered if e.type == "note.expired" and e.data["note"] == unseen]
    lapsed.data["unseen"] = False  # present, and wrong
    assert verify(tampered) is not None
