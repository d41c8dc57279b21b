"""Who knew what, when: the one function that decides which seat may see which event.

Every reader of the journal goes through :func:`visible_to`: the websocket streams, REST reads,
resume, exports and per-seat replay. A party's knowledge is what was *delivered* to it, not what
was sent (DESIGN §1 "Who knew what, when"):

* the facilitator and observers see everything;
* the mediator sees what happens in the room it stands in and its own decisions: notes handed
  over, deliveries, movements, rule changes; never a note still lying in a room it has not
  visited, nor a note it lost (a miscalculation is for the debrief);
* a party sees its own notes, what was delivered to it, receipts addressed to it, the mediator
  entering and leaving its own room, its offers lapsing (and the other party's, once delivered),
  and the lifecycle of the exercise. It never sees the other party's notes before their
  delivery, nor the mediator's decisions (relay, hold, paraphrase), nor rule changes, nor the
  scenario with the other party's brief.
"""

from __future__ import annotations

from . import events as ev

__all__ = ["visible_to"]

_EVERYONE = (ev.ExerciseStarted, ev.ExercisePaused, ev.ExerciseResumed, ev.ExerciseEnded)
_MEDIATOR_BLIND = (ev.ExerciseCreated, ev.NoteSubmitted, ev.NoteReceipt, ev.NoteLost)


def visible_to(seat: str, role: str, event: ev.Event) -> bool:
    """Whether ``seat`` (whose role is ``role``) may see ``event``."""
    if role in ("facilitator", "observer") or isinstance(event, _EVERYONE):
        return True
    if role == "mediator":
        return not isinstance(event, _MEDIATOR_BLIND)
    if role != "party":
        return False
    return _party_sees(seat, event)


def _party_sees(party: str, event: ev.Event) -> bool:
    if isinstance(event, ev.NoteSubmitted):
        return event.by == party
    if isinstance(event, ev.NoteHandedOver):
        return event.sender == party  # it happened in the sender's own room
    if isinstance(event, ev.NoteDelivered | ev.NoteReceipt):
        return event.recipient == party
    if isinstance(event, ev.MediatorArrived):
        return event.room == party
    if isinstance(event, ev.MediatorDeparted):
        return event.origin == party
    if isinstance(event, ev.NoteExpired):  # its sender, and its recipient if it got there
        return event.sender == party or (event.delivered and event.recipient == party)
    return False
