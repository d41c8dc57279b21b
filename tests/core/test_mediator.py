"""The human mediator's actions, their legal moves, and the automatic mode's refusals."""

from __future__ import annotations

import pytest

from relay.core import (
    InvalidCommand,
    InvalidNote,
    NoteStatus,
    NotPermitted,
    UnknownNote,
    WrongState,
)
from relay.core import commands as cmd
from relay.core import events as ev

from .helpers import PARTIES, make_core, of_type, other, relay, snapshot, submit, travel

M = "mediator"


def collected(sender: str, *, reading: float = 10.0, ready: bool = True, **kw):
    """A human-mediator core in ``sender``'s room, holding note #1 from ``sender``.

    t=0 the note is submitted and handed over; reading takes ``reading`` seconds. With
    ``ready`` the core is advanced to t=reading (the note is readable, no timer pending), so
    a refused command at t >= reading has nothing left to fire on the way.
    """
    core = make_core(mediator="human", start_room=sender, reading=reading, **kw)
    note = submit(
        core, sender, 0.0, kind="proposal", text="original words", terms={"cap": 20.0}, tags=["cap"]
    )
    if ready:
        core.advance(reading)
    core.events()
    return core, note


@pytest.mark.parametrize("sender", PARTIES)
def test_verbatim_relay_is_not_a_paraphrase(sender):
    core, note = collected(sender)
    # t=10 read; relay as written
    relay(core, note, 10.0)
    [relayed] = of_type(core.events(), ev.NoteRelayed)
    assert (relayed.paraphrased, relayed.text, relayed.terms) == (
        False,
        "original words",
        {"cap": 20.0},
    )
    assert relayed.recipient == other(sender)


@pytest.mark.parametrize("sender", PARTIES)
@pytest.mark.parametrize(
    "change",
    [{"text": "softer words"}, {"terms": {"cap": 10.0}}, {"tags": []}],
    ids=["text", "terms", "tags"],
)
def test_paraphrase_is_flagged_and_delivered_while_the_original_is_kept(sender, change):
    core = make_core(mediator="human", start_room=sender, drain=False)
    # t=0 sender proposes; t=10 the mediator relays a paraphrase; t=10 leaves, arrives t=70
    note = submit(
        core, sender, 0.0, kind="proposal", text="original words", terms={"cap": 20.0}, tags=["cap"]
    )
    relay(core, note, 10.0, **change)
    travel(core, other(sender), 10.0)
    core.advance(100.0)
    events = core.events()
    [submitted] = of_type(events, ev.NoteSubmitted)
    [relayed] = of_type(events, ev.NoteRelayed)
    [delivered] = of_type(events, ev.NoteDelivered)
    assert relayed.paraphrased is True
    assert (submitted.text, submitted.terms, submitted.tags) == (
        "original words",
        {"cap": 20.0},
        ["cap"],
    )
    expected = {"text": "original words", "terms": {"cap": 20.0}, "tags": ["cap"], **change}
    assert (delivered.text, delivered.terms, delivered.tags) == (
        expected["text"],
        expected["terms"],
        expected["tags"],
    )


def test_paraphrase_with_identical_content_is_not_flagged():
    core, note = collected("iran")
    relay(core, note, 10.0, text="original words", terms={"cap": 20.0}, tags=["cap"])
    [relayed] = of_type(core.events(), ev.NoteRelayed)
    assert relayed.paraphrased is False


def test_paraphrase_is_validated_like_a_note():
    core, note = collected("iran")
    before = snapshot(core)
    with pytest.raises(InvalidNote):
        relay(core, note, 10.0, terms={"cap": 500.0})  # outside [0, 90]
    with pytest.raises(InvalidNote):
        relay(core, note, 10.0, tags=["not-on-agenda"])
    with pytest.raises(InvalidNote):
        relay(core, note, 10.0, text="   ")
    assert snapshot(core) == before


@pytest.mark.parametrize("sender", PARTIES)
def test_hold_then_release_then_relay(sender):
    core, note = collected(sender)
    # t=10 hold; t=20 release; t=21 relay
    core.handle(cmd.Hold(by=M, note=note), 10.0)
    assert core.notes[note].status is NoteStatus.HELD
    core.handle(cmd.Release(by=M, note=note), 20.0)
    assert core.notes[note].status is NoteStatus.WITH_MEDIATOR
    relay(core, note, 21.0)
    assert [(e.TYPE, e.at) for e in core.events()] == [
        ("note.held", 10.0),
        ("note.released", 20.0),
        ("note.relayed", 21.0),
    ]


@pytest.mark.parametrize("sender", PARTIES)
def test_hold_until_is_released_by_the_clock_at_exactly_that_time(sender):
    core, note = collected(sender)
    # t=10 hold until t=45; the driver next wakes at t=45 (from next_deadline) but even a late
    # wake-up (t=900) stamps the release t=45
    core.handle(cmd.Hold(by=M, note=note, until=45.0), 10.0)
    [held] = of_type(core.events(), ev.NoteHeld)
    assert held.until == 45.0
    assert core.next_deadline() == 45.0
    core.advance(44.999)
    assert core.events() == []
    assert core.notes[note].status is NoteStatus.HELD
    core.advance(900.0)
    [released] = of_type(core.events(), ev.NoteReleased)
    assert (released.note, released.by, released.at) == (note, "clock", 45.0)
    assert core.notes[note].status is NoteStatus.WITH_MEDIATOR


def test_an_early_manual_release_cancels_the_timed_release():
    core, note = collected("iran")
    # t=10 hold until 45; t=20 release by hand; t=30 hold again without limit; t=45 nothing
    core.handle(cmd.Hold(by=M, note=note, until=45.0), 10.0)
    core.handle(cmd.Release(by=M, note=note), 20.0)
    core.handle(cmd.Hold(by=M, note=note), 30.0)
    core.events()
    core.advance(100.0)
    assert core.events() == []
    assert core.notes[note].status is NoteStatus.HELD


def test_hold_until_a_past_time_is_refused():
    core, note = collected("iran")
    before = snapshot(core)
    with pytest.raises(InvalidCommand, match="has passed"):
        core.handle(cmd.Hold(by=M, note=note, until=10.0), 10.0)
    assert snapshot(core) == before


@pytest.mark.parametrize("sender", PARTIES)
@pytest.mark.parametrize(
    ("command", "outcome", "words"),
    [
        (
            lambda n: cmd.Return(by=M, note=n, comment="please rephrase"),
            "returned",
            "please rephrase",
        ),
        (
            lambda n: cmd.Decline(by=M, note=n, reason="not acceptable"),
            "declined",
            "not acceptable",
        ),
    ],
    ids=["return", "decline"],
)
@pytest.mark.parametrize("held_first", [False, True])
def test_return_and_decline_are_delivered_back_to_the_sender_in_its_room(
    sender, command, outcome, words, held_first
):
    core, note = collected(sender)
    # t=15 (optionally) hold; t=16 return/decline standing in the sender's room: delivered at once
    if held_first:
        core.handle(cmd.Hold(by=M, note=note), 15.0)
    core.handle(command(note), 16.0)
    events = core.events()
    [delivered] = of_type(events, ev.NoteDelivered)
    assert (delivered.note, delivered.recipient, delivered.outcome, delivered.comment) == (
        note,
        sender,
        outcome,
        words,
    )
    assert delivered.at == 16.0
    assert delivered.text == "original words"
    assert of_type(events, ev.NoteReceipt) == []  # nothing reached the other party
    assert core.notes[note].status is NoteStatus.DELIVERED


@pytest.mark.parametrize("sender", PARTIES)
def test_decline_away_from_the_sender_waits_for_the_mediator_to_return(sender):
    core, note = collected(sender, travel=60.0)
    # t=10 leave for the other room (arrive t=70); t=80 decline: the sender is not there
    travel(core, other(sender), 10.0)
    core.handle(cmd.Decline(by=M, note=note, reason="no"), 80.0)
    core.advance(139.0)
    assert of_type(core.events(), ev.NoteDelivered) == []
    assert core.notes[note].status is NoteStatus.OUTBOUND
    # t=139 go back, arrive t=199: delivered to the sender then
    travel(core, sender, 139.0)
    core.advance(500.0)
    [delivered] = of_type(core.events(), ev.NoteDelivered)
    assert (delivered.recipient, delivered.outcome, delivered.at) == (sender, "declined", 199.0)


@pytest.mark.parametrize("words", ["", "   "])
def test_return_and_decline_must_say_why(words):
    core, note = collected("iran")
    before = snapshot(core)
    with pytest.raises(InvalidCommand):
        core.handle(cmd.Return(by=M, note=note, comment=words), 10.0)
    with pytest.raises(InvalidCommand):
        core.handle(cmd.Decline(by=M, note=note, reason=words), 10.0)
    assert snapshot(core) == before


def test_relay_of_a_held_note_names_the_note_and_its_state():
    core, note = collected("iran")
    core.handle(cmd.Hold(by=M, note=note), 10.0)
    before = snapshot(core)
    with pytest.raises(WrongState, match=rf"note {note} is held"):
        relay(core, note, 11.0)
    assert snapshot(core) == before


def test_release_of_a_note_that_is_not_held_names_the_note_and_its_state():
    core, note = collected("iran")
    before = snapshot(core)
    with pytest.raises(WrongState, match=rf"cannot release: note {note} is with_mediator"):
        core.handle(cmd.Release(by=M, note=note), 10.0)
    assert snapshot(core) == before


@pytest.mark.parametrize(
    "command",
    [
        lambda n: cmd.Relay(by=M, note=n),
        lambda n: cmd.Hold(by=M, note=n),
        lambda n: cmd.Release(by=M, note=n),
        lambda n: cmd.Return(by=M, note=n, comment="c"),
        lambda n: cmd.Decline(by=M, note=n, reason="r"),
    ],
    ids=["relay", "hold", "release", "return", "decline"],
)
def test_no_action_on_a_note_already_decided(command):
    core, note = collected("iran")
    # t=10 relayed: outbound; any further action is refused naming the state
    relay(core, note, 10.0)
    before = snapshot(core)
    with pytest.raises(WrongState, match=rf"note {note} is outbound"):
        core.handle(command(note), 11.0)
    assert snapshot(core) == before


def test_relaying_before_reading_is_finished_is_refused():
    core, note = collected("iran", reading=30.0, ready=False)
    before = snapshot(core)
    # t=29.9 still reading (ready at t=30)
    with pytest.raises(WrongState, match=rf"note {note} is still being read \(0s more\)"):
        relay(core, note, 29.9)
    assert snapshot(core) == before
    relay(core, note, 30.0)
    assert core.notes[note].status is NoteStatus.OUTBOUND


def test_mediator_only_notes_cannot_be_relayed():
    core = make_core(mediator="human")
    # t=0 iran writes for the mediator only; read by t=10; t=100 an attempt to carry it on
    note = submit(core, "iran", 0.0, kind="mediator_only", text="for your ears only")
    core.advance(100.0)
    before = snapshot(core)
    with pytest.raises(WrongState, match="for the mediator only"):
        relay(core, note, 100.0)
    assert snapshot(core) == before


def test_acting_on_a_note_not_yet_collected_is_unknown_note():
    core = make_core(mediator="human", start_room="usa")
    # t=0 iran submits in its room; the mediator is in usa's room
    note = submit(core, "iran", 0.0)
    with pytest.raises(UnknownNote):
        relay(core, note, 100.0)
    with pytest.raises(UnknownNote):
        relay(core, 99, 100.0)


@pytest.mark.parametrize("seat", ["iran", "usa", "facilitator", "observer"])
def test_only_the_mediator_may_act_on_notes(seat):
    core, note = collected("iran")
    before = snapshot(core)
    with pytest.raises(NotPermitted):
        core.handle(cmd.Relay(by=seat, note=note), 10.0)
    with pytest.raises(NotPermitted):
        core.handle(cmd.Travel(by=seat, destination="usa"), 10.0)
    assert snapshot(core) == before


@pytest.mark.parametrize(
    "command",
    [
        cmd.Relay(by=M, note=1),
        cmd.Hold(by=M, note=1),
        cmd.Release(by=M, note=1),
        cmd.Return(by=M, note=1, comment="c"),
        cmd.Decline(by=M, note=1, reason="r"),
        cmd.Travel(by=M, destination="usa"),
    ],
    ids=["relay", "hold", "release", "return", "decline", "travel"],
)
def test_automatic_mode_refuses_human_mediator_commands(command):
    core = make_core(mediator="auto", reading=100.0)
    submit(core, "iran", 0.0)
    core.events()
    before = snapshot(core)
    with pytest.raises(NotPermitted, match="automatic"):
        core.handle(command, 1.0)
    assert snapshot(core) == before


def test_travel_rules():
    core = make_core(mediator="human", travel=60.0)
    with pytest.raises(WrongState, match="already in iran"):
        travel(core, "iran", 0.0)
    with pytest.raises(InvalidCommand, match="no room"):
        travel(core, "atlantis", 0.0)
    travel(core, "usa", 0.0)
    with pytest.raises(WrongState, match="already on the way to usa"):
        travel(core, "iran", 30.0)


@pytest.mark.parametrize(
    "command",
    [
        cmd.Travel(by=M, destination="mars"),
        cmd.Hold(by=M, note=1, condition="delivered:99"),
        cmd.Hold(by=M, note=1, until=5.0),
        cmd.Decline(by=M, note=1, reason=" "),
        cmd.Return(by=M, note=1, comment=""),
    ],
    ids=["travel", "hold-condition", "hold-until", "decline", "return"],
)
def test_malformed_commands_are_invalid_commands_not_invalid_notes(command):
    core, _ = collected("iran")
    before = snapshot(core)
    with pytest.raises(InvalidCommand) as refused:
        core.handle(command, 10.0)
    assert not isinstance(refused.value, InvalidNote)
    assert (refused.value.code, refused.value.status) == ("invalid_command", 422)
    assert snapshot(core) == before
