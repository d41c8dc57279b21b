"""No direct channel: a party hands notes only to the mediator; only parties write notes."""

from __future__ import annotations

import pytest

from relay.core import DirectChannel, InvalidNote, NotPermitted
from relay.core import commands as cmd

from .helpers import PARTIES, make_core, other, snapshot, submit


@pytest.mark.parametrize("sender", PARTIES)
@pytest.mark.parametrize("mediator", ["auto", "human"])
def test_addressing_the_other_party_raises_direct_channel_and_changes_nothing(sender, mediator):
    core = make_core(mediator=mediator)
    before = snapshot(core)
    # t=5 the sender addresses the other party directly
    with pytest.raises(DirectChannel, match="no direct channel"):
        submit(core, sender, 5.0, to=other(sender))
    assert core.events() == []
    assert core.notes == {}
    assert snapshot(core) == before


@pytest.mark.parametrize("sender", PARTIES)
def test_direct_channel_is_refused_even_after_earlier_notes(sender):
    core = make_core()
    # t=0 a legitimate note; t=1 an attempt at a direct one
    submit(core, sender, 0.0)
    core.events()
    before = snapshot(core)
    with pytest.raises(DirectChannel):
        submit(core, sender, 1.0, to=other(sender))
    assert snapshot(core) == before
    assert len(core.notes) == 1


@pytest.mark.parametrize("sender", PARTIES)
@pytest.mark.parametrize("address", ["facilitator", "observer", "nobody", ""])
def test_addressing_an_unknown_seat_raises_invalid_note(sender, address):
    core = make_core()
    before = snapshot(core)
    with pytest.raises(InvalidNote, match="addressed to the mediator"):
        submit(core, sender, 0.0, to=address)
    assert core.events() == []
    assert snapshot(core) == before


@pytest.mark.parametrize("sender", PARTIES)
def test_addressing_the_mediator_is_accepted(sender):
    core = make_core()
    note = submit(core, sender, 0.0, to="mediator")
    assert core.notes[note].sender == sender
    assert "note.submitted" in [e.TYPE for e in core.events()]


@pytest.mark.parametrize("seat", ["mediator", "facilitator", "observer", "observer-2", "stranger"])
def test_only_parties_may_submit(seat):
    core = make_core(mediator="human")
    before = snapshot(core)
    with pytest.raises(NotPermitted):
        core.handle(cmd.Submit(by=seat, client_id="x", kind="statement", text="hi"), 0.0)
    assert core.events() == []
    assert snapshot(core) == before
