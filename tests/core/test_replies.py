"""Replies answer only what was delivered to the replier; refused notes change nothing."""

from __future__ import annotations

import math

import pytest

from relay.core import InvalidNote, UnknownNote
from relay.core import events as ev

from .helpers import PARTIES, make_core, of_type, other, snapshot, submit


def offer_delivered(proposer: str, kind: str = "proposal"):
    """Auto mediator, travel 60, reading 10, starting in the proposer's room.

    t=0 the proposer submits #1 (``kind``); t=10 read and relayed; t=70 delivered to the other
    party; the core is then advanced to t=100 and drained.
    """
    core = make_core(mediator="auto", start_room=proposer, travel=60.0, reading=10.0)
    note = submit(core, proposer, 0.0, kind=kind, text="cap 20", terms={"cap": 20.0}, tags=["cap"])
    core.advance(100.0)
    delivered = of_type(core.events(), ev.NoteDelivered)
    assert [(d.note, d.recipient, d.at) for d in delivered] == [(note, other(proposer), 70.0)]
    return core, note


def refused(core, exc, seat, now, **kw):
    before = snapshot(core)
    with pytest.raises(exc):
        submit(core, seat, now, **kw)
    assert snapshot(core) == before
    assert core.events() == []


@pytest.mark.parametrize("proposer", PARTIES)
@pytest.mark.parametrize("answer", ["accept", "reject", "counter", "clarify"])
def test_a_delivered_note_can_be_answered(proposer, answer):
    core, note = offer_delivered(proposer)
    # t=100 the recipient answers #1
    reply = submit(
        core,
        other(proposer),
        100.0,
        kind="reply",
        answer=answer,
        in_reply_to=note,
        text="our answer",
    )
    assert core.notes[reply].in_reply_to == note


@pytest.mark.parametrize("proposer", PARTIES)
def test_a_party_cannot_reply_to_its_own_note(proposer):
    core, note = offer_delivered(proposer)
    refused(
        core,
        UnknownNote,
        proposer,
        100.0,
        kind="reply",
        answer="accept",
        in_reply_to=note,
        text="we accept ourselves",
    )


@pytest.mark.parametrize("proposer", PARTIES)
def test_a_party_cannot_reply_to_a_note_not_yet_delivered_to_it(proposer):
    core = make_core(mediator="auto", start_room=proposer, travel=60.0, reading=10.0)
    # t=0 proposal #1; t=10 relayed, on its way; t=30 the recipient tries to answer it
    note = submit(core, proposer, 0.0, kind="proposal", text="cap 20", terms={"cap": 20.0})
    core.advance(30.0)
    assert core.notes[note].status.value == "outbound"
    core.events()
    refused(
        core,
        UnknownNote,
        other(proposer),
        30.0,
        kind="reply",
        answer="accept",
        in_reply_to=note,
        text="yes",
    )


@pytest.mark.parametrize("replier", PARTIES)
@pytest.mark.parametrize("target", [None, 99])
def test_a_reply_to_no_note_is_unknown(replier, target):
    core = make_core()
    refused(
        core,
        UnknownNote,
        replier,
        0.0,
        kind="reply",
        answer="reject",
        in_reply_to=target,
        text="no",
    )


@pytest.mark.parametrize("proposer", PARTIES)
@pytest.mark.parametrize("kind", ["question", "statement"])
def test_only_offers_can_be_accepted(proposer, kind):
    core, note = offer_delivered(proposer, kind=kind)
    refused(
        core,
        InvalidNote,
        other(proposer),
        100.0,
        kind="reply",
        answer="accept",
        in_reply_to=note,
        text="we accept",
    )


@pytest.mark.parametrize("proposer", PARTIES)
def test_a_counter_offer_can_be_accepted(proposer):
    core, note = offer_delivered(proposer)
    # t=100 counter (#2); t=110 relayed; t=170 delivered to the proposer; t=200 accepted
    counter = submit(
        core,
        other(proposer),
        100.0,
        kind="reply",
        answer="counter",
        in_reply_to=note,
        text="cap 5",
        terms={"cap": 5.0},
    )
    core.advance(200.0)
    submit(core, proposer, 200.0, kind="reply", answer="accept", in_reply_to=counter, text="agreed")
    core.advance(1_000.0)
    ended = core.events()[-1]
    assert isinstance(ended, ev.ExerciseEnded)
    assert (ended.reason, ended.note, ended.terms) == ("agreement", counter, {"cap": 5.0})


@pytest.mark.parametrize("proposer", PARTIES)
@pytest.mark.parametrize("answer", ["reject", "clarify"])
def test_a_reply_that_is_not_an_offer_cannot_be_accepted(proposer, answer):
    core, note = offer_delivered(proposer)
    # t=100 the recipient rejects/asks for clarification (#2, no terms); t=170 delivered back;
    # t=200 the proposer "accepts" it: that is no offer, and must not end in an agreement
    answered = submit(
        core, other(proposer), 100.0, kind="reply", answer=answer, in_reply_to=note, text="no deal"
    )
    core.advance(200.0)
    assert answered in {d.note for d in of_type(core.events(), ev.NoteDelivered)}
    refused(
        core,
        InvalidNote,
        proposer,
        200.0,
        kind="reply",
        answer="accept",
        in_reply_to=answered,
        text="we accept your answer",
    )


@pytest.mark.parametrize(
    "bad",
    [
        {"kind": "reply", "answer": "maybe", "in_reply_to": 1},
        {"kind": "reply", "answer": None, "in_reply_to": 1},
        {"kind": "statement", "answer": "accept"},
        {"kind": "statement", "in_reply_to": 42},
        {"kind": "telegram"},
        {"text": ""},
        {"text": "   "},
        {"text": "x" * 20_001},
        {"client_id": ""},
        {"client_id": "c" * 129},
        {"tags": ["weather"]},
        {"tags": ["cap"] * 33},
        {"terms": {"weather": 1.0}},
        {"terms": {"cap": 91.0}},
        {"terms": {"cap": -1.0}},
        {"terms": {"cap": True}},
        {"terms": {"cap": "20"}},
        {"terms": {"cap": math.nan}},
        {"terms": {"missiles": math.inf}},
    ],
    ids=lambda bad: ",".join(f"{k}={str(v)[:12]}" for k, v in bad.items()),
)
@pytest.mark.parametrize("proposer", PARTIES)
def test_malformed_notes_are_refused_and_change_nothing(proposer, bad):
    core, note = offer_delivered(proposer)
    kw = {"kind": "statement", "text": "ok", **bad}
    exc = UnknownNote if bad.get("in_reply_to") == 42 else InvalidNote
    refused(core, exc, other(proposer), 100.0, **kw)


def test_a_term_out_of_range_is_refused_with_the_range():
    core, _ = offer_delivered("iran")
    with pytest.raises(InvalidNote, match=r"term 'cap'=91\.5 is outside \[0, 90\]$"):
        submit(core, "usa", 100.0, kind="proposal", text="p", terms={"cap": 91.5})


@pytest.mark.parametrize("sender", PARTIES)
def test_a_client_id_can_be_used_once_per_seat(sender):
    core = make_core()
    submit(core, sender, 0.0, client_id="k1")
    core.events()
    refused(core, InvalidNote, sender, 1.0, client_id="k1")
    # the other seat may use the same client id
    note = submit(core, other(sender), 1.0, client_id="k1")
    assert core.note_for_client(other(sender), "k1") == note
