"""Replay re-executes a journal's inputs and finds the first event that differs."""

from __future__ import annotations

import dataclasses

import pytest

from clients.bots import default_bots
from relay.core import events as ev
from relay.journal import to_entry
from relay.replay import Mismatch, verify
from relay.rng import seeded_streams
from relay.sim import simulate
from schemas.scenario import ScenarioError, load_scenario, parse_scenario, sample_scenario_path

from .helpers import human_exercise, make_scenario

SCENARIO = load_scenario(sample_scenario_path())


def simulated_entries(seed: int):
    result = simulate(SCENARIO, seed, default_bots(SCENARIO, seeded_streams(seed)))
    return [to_entry(event) for event in result.events]


def edited(entries, index: int, **data):
    entries = list(entries)
    entry = entries[index]
    entries[index] = dataclasses.replace(entry, data={**entry.data, **data})
    return entries


def first_index(entries, type_: str) -> int:
    return next(i for i, e in enumerate(entries) if e.type == type_)


@pytest.mark.parametrize("seed", range(20))
def test_a_simulated_journal_verifies(seed):
    entries = simulated_entries(seed)
    assert entries[-1].type == "exercise.ended"
    assert verify(entries) is None


def test_a_hand_driven_journal_with_every_mediator_action_verifies():
    events = human_exercise()
    types = {e.TYPE for e in events}
    assert {
        "note.held",
        "note.released",
        "note.returned",
        "note.declined",
        "note.relayed",
        "mediator.departed",
        "exercise.paused",
        "exercise.resumed",
    } <= types
    assert any(isinstance(e, ev.NoteReleased) and e.by == "clock" for e in events)
    assert isinstance(events[-1], ev.ExerciseEnded) and events[-1].reason == "agreement"
    assert verify([to_entry(e) for e in events]) is None


@pytest.mark.parametrize("seed", [0, 5, 11])
def test_an_edited_delivery_is_found_at_its_seq(seed):
    entries = simulated_entries(seed)
    index = first_index(entries, "note.delivered")
    tampered = edited(entries, index, text="something nobody wrote")
    mismatch = verify(tampered)
    assert isinstance(mismatch, Mismatch)
    assert mismatch.seq == entries[index].seq
    assert "text" in str(mismatch)
    assert "something nobody wrote" in str(mismatch)
    assert str(mismatch).startswith(f"event {entries[index].seq}:")


def test_an_edited_hand_driven_delivery_is_found():
    entries = [to_entry(e) for e in human_exercise()]
    index = max(i for i, e in enumerate(entries) if e.type == "note.delivered")
    mismatch = verify(edited(entries, index, comment="forged"))
    assert mismatch is not None
    assert mismatch.seq == entries[index].seq
    assert "comment" in str(mismatch)


@pytest.mark.parametrize("seed", [0, 5, 11])
def test_an_edited_input_is_detected(seed):
    entries = simulated_entries(seed)
    index = first_index(entries, "note.submitted")
    mismatch = verify(edited(entries, index, text="a different opening"))
    assert mismatch is not None
    assert mismatch.seq > entries[index].seq  # the consequences no longer match
    assert "text" in str(mismatch)


def test_an_edited_input_in_a_hand_driven_journal_is_detected():
    entries = [to_entry(e) for e in human_exercise()]
    # the mediator reads the note as written when it is handed over: that copy no longer matches
    index = next(
        i for i, e in enumerate(entries) if e.type == "note.submitted" and e.data["note"] == 4
    )
    mismatch = verify(edited(entries, index, text="a different statement"))
    assert mismatch is not None
    handed = next(e for e in entries if e.type == "note.handed_over" and e.data["note"] == 4)
    assert mismatch.seq == handed.seq
    assert "text" in str(mismatch)


def test_an_edited_time_is_detected():
    entries = simulated_entries(0)
    index = first_index(entries, "note.delivered")
    entries[index] = dataclasses.replace(entries[index], at=entries[index].at + 1.0)
    mismatch = verify(entries)
    assert mismatch is not None and mismatch.seq == entries[index].seq


def test_a_dropped_tail_event_is_reported_missing_or_extra():
    entries = simulated_entries(0)
    # an invented extra event after the end cannot be reproduced
    extra = dataclasses.replace(entries[-1], seq=entries[-1].seq + 1)
    mismatch = verify([*entries, extra])
    assert mismatch is not None and mismatch.seq == extra.seq


@pytest.mark.parametrize("party_id", ["auto", "clock"])
def test_party_ids_cannot_be_mistaken_for_the_core_itself(party_id):
    """``auto``/``clock`` mark events the core made; a party of that name must not exist,
    or, if it may, its notes must still replay."""
    scenario = make_scenario().model_dump(mode="json")
    scenario["parties"][0]["id"] = party_id
    scenario["mediator"]["start_room"] = None
    with pytest.raises(ScenarioError, match="reserved"):
        parse_scenario(scenario)


def test_inputs_are_told_from_entry_data_as_from_events():
    """Replay decodes only inputs; it must pick exactly those :func:`ev.is_input` picks."""
    from relay.journal import from_entry
    from relay.replay import entry_is_input

    entries = [to_entry(e) for e in human_exercise()] + simulated_entries(3)
    assert {e.type for e in entries} >= {"note.relayed", "note.held", "mediator.departed"}
    for entry in entries:
        assert entry_is_input(entry) == ev.is_input(from_entry(entry)), entry


def test_an_edited_draw_in_an_output_is_detected():
    scenario = make_scenario(travel={"dist": "uniform", "low": 30, "high": 90})
    result = simulate(scenario, 4, default_bots(scenario, seeded_streams(4)))
    entries = [to_entry(event) for event in result.events]
    index = first_index(entries, "mediator.departed")
    draws = [list(d) for d in entries[index].data["draws"]]
    draws[0][2] += 1.0
    mismatch = verify(edited(entries, index, draws=draws))
    assert mismatch is not None and mismatch.seq == entries[index].seq
