"""The exercise lifecycle: its transition table, who controls it, deadline and agreement."""

from __future__ import annotations

import pytest

from relay.core import NotPermitted, Phase, WrongState
from relay.core import commands as cmd
from relay.core import events as ev
from relay.core.lifecycle import LIFECYCLE

from .helpers import PARTIES, make_core, of_type, other, relay, snapshot, submit, travel

F = "facilitator"
CONTROLS = {"start": cmd.Start, "pause": cmd.Pause, "resume": cmd.Resume, "end": cmd.End}
ALLOWED = {
    (Phase.DRAFT, "start"): (Phase.RUNNING, ev.ExerciseStarted),
    (Phase.RUNNING, "pause"): (Phase.PAUSED, ev.ExercisePaused),
    (Phase.PAUSED, "resume"): (Phase.RUNNING, ev.ExerciseResumed),
    (Phase.RUNNING, "end"): (Phase.ENDED, ev.ExerciseEnded),
    (Phase.PAUSED, "end"): (Phase.ENDED, ev.ExerciseEnded),
}


def core_in(phase: Phase, **kw):
    """A core brought to ``phase`` by the facilitator: start t=0, pause/end t=1."""
    if phase is Phase.DRAFT:
        return make_core(start_at=None, **kw)
    core = make_core(**kw)
    if phase is Phase.PAUSED:
        core.handle(cmd.Pause(by=F), 1.0)
    elif phase is Phase.ENDED:
        core.handle(cmd.End(by=F), 1.0)
    core.events()
    assert core.phase is phase
    return core


def test_the_table_is_the_documented_one():
    assert {(p, c.__name__.lower()): t for (p, c), t in LIFECYCLE.items()} == {
        key: target for key, (target, _) in ALLOWED.items()
    }


@pytest.mark.parametrize("phase", list(Phase))
@pytest.mark.parametrize("control", CONTROLS)
def test_lifecycle_transition(phase, control):
    core = core_in(phase)
    before = snapshot(core)
    command = CONTROLS[control](by=F)
    if (phase, control) in ALLOWED:
        target, event_cls = ALLOWED[(phase, control)]
        core.handle(command, 5.0)
        assert core.phase is target
        [event] = core.events()
        assert isinstance(event, event_cls)
        assert (event.by, event.at) == (F, 5.0)
    else:
        with pytest.raises(WrongState, match=f"cannot {control}: the exercise is {phase}"):
            core.handle(command, 5.0)
        assert snapshot(core) == before
        assert core.events() == []


def test_the_full_path_draft_running_paused_running_ended():
    core = make_core(start_at=None)
    # t=0 start; t=10 pause; t=20 resume; t=30 end
    for now, command in [(0.0, cmd.Start), (10.0, cmd.Pause), (20.0, cmd.Resume), (30.0, cmd.End)]:
        core.handle(command(by=F), now)
    events = core.events()
    assert [(e.TYPE, e.at) for e in events] == [
        ("exercise.started", 0.0),
        ("exercise.paused", 10.0),
        ("exercise.resumed", 20.0),
        ("exercise.ended", 30.0),
    ]
    assert events[-1].reason == "facilitator"
    assert core.outcome == events[-1]


@pytest.mark.parametrize("seat", [*PARTIES, "mediator", "observer", "observer-1", "stranger"])
@pytest.mark.parametrize("control", CONTROLS)
def test_only_the_facilitator_controls_the_exercise(seat, control):
    core = core_in(Phase.RUNNING if control != "start" else Phase.DRAFT)
    before = snapshot(core)
    with pytest.raises(NotPermitted, match="only the facilitator"):
        core.handle(CONTROLS[control](by=seat), 5.0)
    assert snapshot(core) == before


@pytest.mark.parametrize("phase", [Phase.DRAFT, Phase.PAUSED, Phase.ENDED])
@pytest.mark.parametrize("sender", PARTIES)
def test_submissions_are_refused_unless_running(phase, sender):
    core = core_in(phase)
    before = snapshot(core)
    with pytest.raises(WrongState, match=f"the exercise is {phase}"):
        submit(core, sender, 5.0)
    assert snapshot(core) == before
    assert core.notes == {}


@pytest.mark.parametrize("phase", [Phase.DRAFT, Phase.PAUSED, Phase.ENDED])
def test_mediator_is_idle_unless_running(phase):
    core = core_in(phase, mediator="human")
    with pytest.raises(WrongState):
        travel(core, "usa", 5.0)
    assert core.location == "iran"


def test_deadline_ends_by_the_clock_at_exactly_start_plus_deadline():
    core = make_core(deadline=500.0, start_at=100.0)
    # t=100 start; deadline 500 s: due t=600
    assert core.next_deadline() == 600.0
    core.advance(599.999)
    assert core.events() == []
    assert core.phase is Phase.RUNNING
    # the driver wakes late, at t=10_000: the end is stamped t=600
    core.advance(10_000.0)
    [ended] = core.events()
    assert isinstance(ended, ev.ExerciseEnded)
    assert (ended.by, ended.reason, ended.at, ended.note, ended.terms) == (
        "clock",
        "deadline",
        600.0,
        None,
        None,
    )
    assert core.phase is Phase.ENDED
    assert core.next_deadline() is None


@pytest.mark.parametrize("sender", PARTIES)
def test_deadline_fires_before_an_input_stamped_at_the_same_time(sender):
    core = make_core(deadline="15m")
    # t=0 start, deadline t=900; t=900 a submission arrives: too late
    with pytest.raises(WrongState, match="ended"):
        submit(core, sender, 900.0)
    [ended] = core.events()
    assert (ended.reason, ended.at) == ("deadline", 900.0)


@pytest.mark.parametrize("proposer", PARTIES)
def test_agreement_carries_the_terms_as_delivered_to_the_acceptor(proposer):
    acceptor = other(proposer)
    core = make_core(mediator="human", start_room=proposer, travel=60.0, reading=10.0)
    # t=0 proposer offers cap 20 (handed over at once, read by t=10)
    offer = submit(
        core, proposer, 0.0, kind="proposal", text="cap 20", terms={"cap": 20.0}, tags=["cap"]
    )
    # t=10 the mediator paraphrases it as cap 10 and leaves; t=70 delivered to the acceptor
    relay(core, offer, 10.0, text="they could live with cap 10", terms={"cap": 10.0})
    travel(core, acceptor, 10.0)
    core.advance(70.0)
    [delivered] = of_type(core.events(), ev.NoteDelivered)
    assert delivered.terms == {"cap": 10.0}
    # t=80 the acceptor accepts what it was shown (handed over at once, read by t=90)
    submit(
        core,
        acceptor,
        80.0,
        kind="reply",
        answer="accept",
        in_reply_to=offer,
        text="accepted",
        terms=delivered.terms,
        tags=["cap"],
    )
    # t=90 relayed and carried back: no agreement while the accept is on the way
    reply_note = max(core.notes)
    relay(core, reply_note, 90.0)
    travel(core, proposer, 90.0)
    core.advance(149.999)
    assert core.phase is Phase.RUNNING
    assert of_type(core.events(), ev.ExerciseEnded) == []
    # t=150 the accept is delivered to the proposer: agreement on the paraphrased terms
    core.advance(1_000.0)
    events = core.events()
    ended = events[-1]
    assert isinstance(ended, ev.ExerciseEnded)
    assert (ended.reason, ended.by, ended.note, ended.at) == ("agreement", "core", offer, 150.0)
    assert ended.terms == {"cap": 10.0} != core.notes[offer].terms
    assert [d.note for d in of_type(events, ev.NoteDelivered)] == [reply_note]
    assert core.phase is Phase.ENDED
    assert core.outcome == ended
    with pytest.raises(WrongState):
        submit(core, proposer, 1_000.0)


@pytest.mark.parametrize("proposer", PARTIES)
def test_automatic_mediator_agreement_is_by_core(proposer):
    acceptor = other(proposer)
    core = make_core(mediator="auto", start_room=proposer, travel=60.0, reading=10.0)
    # t=0 proposal handed over; t=10 read, relayed, mediator departs; t=70 delivered;
    # t=100 accept handed over (the mediator waits in the acceptor's room); t=110 relayed and
    # departs; t=170 delivered to the proposer: agreement
    offer = submit(core, proposer, 0.0, kind="proposal", text="cap 20", terms={"cap": 20.0})
    core.advance(100.0)
    submit(core, acceptor, 100.0, kind="reply", answer="accept", in_reply_to=offer, text="yes")
    core.advance(1_000.0)
    ended = core.events()[-1]
    assert isinstance(ended, ev.ExerciseEnded)
    assert (ended.reason, ended.by, ended.terms, ended.at) == (
        "agreement",
        "core",
        {"cap": 20.0},
        170.0,
    )
