"""Notes put down together (``Exercise.handle_together``): one step, shared trips, and replay
that applies the same notes as one step again, knowing them from the journal alone."""

from __future__ import annotations

from typing import Any

from relay.core import Exercise, UnknownNote
from relay.core import commands as cmd
from relay.core import events as ev
from relay.core.exercise import MEDIATOR
from relay.journal import to_entry
from relay.replay import entry_is_input, input_steps, rebuild, rerun, verify
from schemas.scenario import parse_scenario

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
    refusals = core.handle_together([note("iran", f"c{i}") for i in range(3)], 5.0)
    events = core.events()
    assert refusals == [None, None, None]
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


def test_a_refused_submission_leaves_the_others_standing() -> None:
    core = zero_delay()
    bad = note("iran", "c2", kind="reply", answer="accept", in_reply_to=99)
    refusals = core.handle_together([note("iran", "c1"), bad, note("usa", "c3")], 5.0)
    assert refusals[0] is None and refusals[2] is None
    assert isinstance(refusals[1], UnknownNote)
    submitted = of_type(core.events(), ev.NoteSubmitted)
    assert [(e.client_id, e.note) for e in submitted] == [("c1", 1), ("c3", 2)]
    assert [e.TYPE for e in core.events()] == []  # drained above: all of it in one step


def test_a_single_submission_is_exactly_handle() -> None:
    one, other = zero_delay(), zero_delay()
    assert one.handle_together([note("iran", "c1")], 5.0) == [None]
    other.handle(note("iran", "c1"), 5.0)
    assert [to_entry(e) for e in one.events()] == [to_entry(e) for e in other.events()]


def mixed_journal() -> list[ev.Event]:
    """Steps of one and of several submissions, with reading and travel time between."""
    core = make_core(travel=30.0, reading=5.0, start_room="usa", drain=False)
    core.handle_together([note("iran", "a1"), note("iran", "a2", kind="proposal")], 1.0)
    core.handle(note("usa", "b1"), 2.0)
    core.handle_together([note("usa", "b2"), note("iran", "a3"), note("usa", "b3")], 40.0)
    core.handle_together([note("iran", "a4")], 41.0)
    core.advance(500.0)
    return core.events()


def test_replay_applies_notes_put_down_together_as_one_step() -> None:
    entries = [to_entry(e) for e in mixed_journal()]
    assert verify(entries) is None
    _, produced = rebuild(entries)
    assert [to_entry(e) for e in produced] == entries


def test_replay_knows_a_step_from_the_journal_alone() -> None:
    """The notes of a step sit one right after the other at one time; nothing else does."""
    zero = zero_delay()
    zero.handle_together([note("iran", "a"), note("iran", "b")], 5.0)
    zero.handle(note("iran", "c"), 6.0)
    zero.handle(note("iran", "d"), 6.0)  # the same time, but the first one's trip between
    entries = [to_entry(e) for e in zero.events()]
    inputs = [e for e in entries if entry_is_input(e)]
    steps = [[e.data.get("client_id") for e in step] for step in input_steps(inputs)]
    assert steps == [[None], ["a", "b"], ["c"], ["d"]]  # exercise.started first
    assert verify(entries) is None


def test_notes_one_at_a_time_that_settled_to_nothing_replay_the_same_together() -> None:
    """With the mediator away, notes one at a time follow each other with nothing between:
    replay applies them together, and gets the same journal."""
    core = make_core(travel=30.0, reading=5.0, start_room="usa", drain=False)
    core.handle(note("usa", "u"), 1.0)  # the mediator leaves usa's room at once
    for client_id in ("a", "b", "c"):
        core.handle(note("iran", client_id, kind="proposal"), 2.0)
    core.advance(300.0)
    entries = [to_entry(e) for e in core.events()]
    runs = [len(step) for step in input_steps(e for e in entries if entry_is_input(e))]
    assert 3 in runs
    assert verify(entries) is None


def test_a_rerun_under_the_same_rules_puts_the_same_notes_down_together() -> None:
    events = mixed_journal()
    entries = [to_entry(e) for e in events]
    scenario = parse_scenario(entries[0].data["scenario"])
    again = rerun(entries, scenario)
    assert again.skipped == []
    assert [to_entry(e) for e in again.events] == entries


def test_a_rerun_skips_only_the_note_it_cannot_renumber() -> None:
    core = zero_delay()
    core.handle(note("iran", "p", kind="proposal"), 1.0)
    core.handle_together(
        [
            note("usa", "r", kind="reply", answer="reject", in_reply_to=1),
            note("usa", "s"),
        ],
        2.0,
    )
    core.advance(10.0)
    entries = [to_entry(e) for e in core.events()]
    # without iran's proposal, usa's reply to it cannot be renumbered
    scenario = parse_scenario(entries[0].data["scenario"])
    forged = [e for e in entries if not (e.type == "note.submitted" and e.data["client_id"] == "p")]
    result = rerun(forged, scenario)
    assert [(e.client_id, why) for e, why in result.skipped] == [
        ("r", "note 1 was never submitted in the re-run")
    ]
    (kept,) = of_type(result.events, ev.NoteSubmitted)
    assert kept.client_id == "s"


def test_a_batch_in_the_recipients_room_replays_faithfully() -> None:
    """A mediator's batch relays its notes together; standing in the recipient's room, it
    delivers them after all are relayed, and replay must see one step too."""
    core = make_core(mediator="human", travel=0.0, reading=0.0, start_room="iran", drain=False)
    core.handle_together([note("iran", "a"), note("iran", "b")], 1.0)
    core.handle(cmd.Travel(by=MEDIATOR, destination="usa"), 2.0)
    core.handle(note("usa", "c"), 3.0)
    core.handle(cmd.Travel(by=MEDIATOR, destination="iran"), 4.0)
    core.handle(cmd.Batch(by=MEDIATOR, notes=[3]), 5.0)
    core.handle(cmd.Travel(by=MEDIATOR, destination="usa"), 6.0)
    core.handle(cmd.Batch(by=MEDIATOR, notes=[1, 2]), 7.0)  # standing in usa's room
    events = core.events()
    tail = [e.TYPE for e in events if e.at == 7.0]
    assert tail[:4] == ["note.relayed", "note.relayed", "note.delivered", "note.receipt"]
    entries = [to_entry(e) for e in events]
    assert verify(entries) is None
