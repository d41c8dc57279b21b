"""Time is an argument and never runs backwards."""

from __future__ import annotations

import pytest

from relay.core import LocalProtocolError, Phase, WrongState
from relay.core import commands as cmd

from .helpers import make_core, snapshot, submit, travel


def test_advance_with_an_earlier_now_raises():
    core = make_core()
    core.advance(100.0)
    with pytest.raises(LocalProtocolError, match="time ran backwards"):
        core.advance(99.0)


def test_handle_with_an_earlier_now_raises_and_changes_nothing():
    core = make_core()
    core.advance(100.0)
    before = snapshot(core)
    with pytest.raises(LocalProtocolError):
        submit(core, "iran", 50.0)
    assert snapshot(core) == before
    assert core.notes == {}
    assert core.events() == []
    assert core.now == 100.0


def test_the_same_now_twice_is_fine():
    core = make_core()
    submit(core, "iran", 10.0)
    submit(core, "usa", 10.0)
    core.advance(10.0)
    assert len(core.notes) == 2


def test_a_refused_command_still_moves_the_clock_and_fires_due_timers():
    core = make_core(mediator="human", travel=60.0)
    # t=0 leave for usa, due t=60; t=100 a refused travel to usa (the mediator is there by
    # then): the arrival, stamped t=60, fired on the way and stands
    travel(core, "usa", 0.0)
    core.events()
    with pytest.raises(WrongState, match="already in usa"):
        travel(core, "usa", 100.0)
    [arrived] = core.events()
    assert (arrived.TYPE, arrived.at) == ("mediator.arrived", 60.0)
    with pytest.raises(LocalProtocolError):
        core.advance(99.0)


def paused_while_travelling():
    """Human mediator, travel 60: t=10 leaves for usa (due t=70); t=20 pause; t=100 resume."""
    core = make_core(mediator="human", travel=60.0)
    travel(core, "usa", 10.0)
    core.handle(cmd.Pause(by="facilitator"), 20.0)
    core.advance(50.0)
    core.handle(cmd.Resume(by="facilitator"), 100.0)
    assert core.phase is Phase.RUNNING
    return core


def test_next_deadline_is_never_in_the_past_after_a_pause():
    core = paused_while_travelling()
    due = core.next_deadline()
    assert due is None or due >= core.now
    # a driver doing what the contract says (wake at next_deadline) must not be refused
    if due is not None:
        core.advance(due)


def test_events_stay_in_time_order_across_a_pause():
    core = make_core(mediator="human", travel=60.0, drain=False)
    # t=10 leave for usa (due t=70); t=20 pause; t=100 resume; t=200 wake up
    travel(core, "usa", 10.0)
    core.handle(cmd.Pause(by="facilitator"), 20.0)
    core.handle(cmd.Resume(by="facilitator"), 100.0)
    core.advance(200.0)
    events = core.events()
    assert "mediator.arrived" in [e.TYPE for e in events]
    stamps = [e.at for e in events]
    assert stamps == sorted(stamps), [(e.TYPE, e.at) for e in events]
