"""Notes put down together (``Exercise.handle_submits``): one step, shared trips, and replay
that applies the same notes as one step again."""

from __future__ import annotations

from typing import Any

from relay.core import Exercise, UnknownNote
from relay.core import commands as cmd
from relay.core import events as ev
from relay.journal import to_entry
from relay.replay import rebuild, rerun, verify

from .helpers import make_core, of_type


def note(seat: str, client_id: str, **kw: Any) -> cmd.Submit:
    kw.setdefault("kind", "statement")
    kw.setdefault("text", f"{client_id} from {seat}")
    return cmd.Submit(by=seat, client_id=client_id, **kw)


def zero_delay() -> Exercise:
    """The automatic mediator, no travel or reading time, starting in usa's room."""
    return make_core(travel=0.0, reading=0.0, start_room="usa", drain=False)


def trips(events: list[ev.Event]) -> int:
    return len(of_type(events, ev.MediatorDeparted))


def test_notes_put_down_together_share_the_mediators_trips() -> None:
    core = zero_delay()
    refusals = core.handle_submits([note("iran", f"c{i}") for i in range(3)], 5.0)
    events = core.events()
    assert refusals == [None, None, None]
    submitted = of_type(events, ev.NoteSubmitted)
    assert [e.with_previous for e in submitted] == [False, True, True]
    assert [e.TYPE for e in events[2:5]] == ["note.submitted"] * 3  # put down before anything
    # one trip to iran's room and one back to usa with all three
    assert [(e.origin, e.destination) for e in of_type(events, ev.MediatorDeparted)] == [
        ("usa", "iran"),
        ("iran", "usa"),
    ]
    assert [e.note for e in of_type(events, ev.NoteDelivered)] == [1, 2, 3]
    assert {e.at for e in events[2:]} == {5.0}


def test_one_at_a_time_each_note_takes_a_trip_of_its_own() -> None:
    core = zero_delay()
    for i in range(3):
        core.handle(note("iran", f"c{i}"), 5.0)
    events = core.events()
    assert trips(events) == 6
    assert not any(e.with_previous for e in of_type(events, ev.NoteSubmitted))


def test_a_refused_submission_leaves_the_others_standing() -> None:
    core = zero_delay()
    bad = note("iran", "c2", kind="reply", answer="accept", in_reply_to=99)
    refusals = core.handle_submits([note("iran", "c1"), bad, note("usa", "c3")], 5.0)
    assert refusals[0] is None and refusals[2] is None
    assert isinstance(refusals[1], UnknownNote)
    submitted = of_type(core.events(), ev.NoteSubmitted)
    assert [(e.client_id, e.note, e.with_previous) for e in submitted] == [
        ("c1", 1, False),
        ("c3", 2, True),
    ]


def test_the_first_note_put_down_is_not_marked_even_after_a_refusal() -> None:
    core = zero_delay()
    bad = note("iran", "c1", kind="reply", answer="accept", in_reply_to=99)
    core.handle_submits([bad, note("iran", "c2")], 5.0)
    (submitted,) = of_type(core.events(), ev.NoteSubmitted)
    assert not submitted.with_previous


def test_a_single_submission_is_exactly_handle() -> None:
    one, other = zero_delay(), zero_delay()
    assert one.handle_submits([note("iran", "c1")], 5.0) == [None]
    other.handle(note("iran", "c1"), 5.0)
    assert [to_entry(e) for e in one.events()] == [to_entry(e) for e in other.events()]


def test_with_previous_is_journalled_only_when_true() -> None:
    core = zero_delay()
    core.handle_submits([note("iran", "c1"), note("iran", "c2")], 5.0)
    first, second = (to_entry(e) for e in of_type(core.events(), ev.NoteSubmitted))
    assert "with_previous" not in first.data  # journals written before it read the same
    assert second.data["with_previous"] is True


def mixed_journal() -> list[ev.Event]:
    """Steps of one and of several submissions, with reading and travel time between."""
    core = make_core(travel=30.0, reading=5.0, start_room="usa", drain=False)
    core.handle_submits([note("iran", "a1"), note("iran", "a2", kind="proposal")], 1.0)
    core.handle(note("usa", "b1"), 2.0)
    core.handle_submits([note("usa", "b2"), note("iran", "a3"), note("usa", "b3")], 40.0)
    core.handle_submits([note("iran", "a4")], 41.0)
    core.advance(500.0)
    return core.events()


def test_replay_applies_notes_put_down_together_as_one_step() -> None:
    entries = [to_entry(e) for e in mixed_journal()]
    assert sum(bool(e.data.get("with_previous")) for e in entries) == 3
    assert verify(entries) is None
    core, produced = rebuild(entries)
    assert [to_entry(e) for e in produced] == entries


def test_a_forged_with_previous_is_found_by_verification() -> None:
    entries = [to_entry(e) for e in mixed_journal()]
    lone = next(e for e in entries if e.type == "note.submitted" and e.data["client_id"] == "b1")
    lone.data["with_previous"] = True  # b1 was put down alone, at another time
    mismatch = verify(entries)
    assert mismatch is not None
    assert mismatch.seq == lone.seq  # replayed alone, at its own time: not marked


def test_with_previous_after_an_input_that_is_not_a_submission_is_found_by_verification() -> None:
    entries = [to_entry(e) for e in mixed_journal()]
    started = next(i for i, e in enumerate(entries) if e.type == "exercise.started")
    submitted = entries[started + 1]
    assert submitted.type == "note.submitted"
    submitted.data["with_previous"] = True  # as if put down with the start
    mismatch = verify(entries)
    assert mismatch is not None
    assert mismatch.seq == submitted.seq


def test_a_rerun_under_the_same_rules_puts_the_same_notes_down_together() -> None:
    events = mixed_journal()
    entries = [to_entry(e) for e in events]
    scenario = rebuild(entries)[0].scenario
    again = rerun(entries, scenario)
    assert again.skipped == []
    assert [to_entry(e) for e in again.events] == entries


def test_a_rerun_skips_only_the_note_it_cannot_renumber() -> None:
    core = zero_delay()
    core.handle(note("iran", "p", kind="proposal"), 1.0)
    core.handle_submits(
        [
            note("usa", "r", kind="reply", answer="reject", in_reply_to=1),
            note("usa", "s"),
        ],
        2.0,
    )
    core.advance(10.0)
    entries = [to_entry(e) for e in core.events()]
    # under rules where iran's proposal is refused, usa's reply to it cannot be renumbered
    scenario = rebuild(entries)[0].scenario
    forged = [e for e in entries if not (e.type == "note.submitted" and e.data["client_id"] == "p")]
    result = rerun(forged, scenario)
    assert [(e.client_id, why) for e, why in result.skipped] == [
        ("r", "note 1 was never submitted in the re-run")
    ]
    (kept,) = of_type(result.events, ev.NoteSubmitted)
    assert kept.client_id == "s" and not kept.with_previous
