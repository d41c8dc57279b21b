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

from collections.abc import Callable

from . import events as ev

__all__ = ["visible_to"]

_EVERYONE = (ev.ExerciseStarted, ev.ExercisePaused, ev.ExerciseResumed, ev.ExerciseEnded)
_MEDIATOR_BLIND = (ev.ExerciseCreated, ev.NoteSubmitted, ev.NoteReceipt, ev.NoteLost)

_PartyRule = Callable[[str, ev.Event], bool]


def _never(party: str, event: ev.Event) -> bool:
    return False


def _always(party: str, event: ev.Event) -> bool:
    return True


def _expired(party: str, event: ev.Event) -> bool:
    # its sender, and its recipient if it got there
    assert isinstance(event, ev.NoteExpired)
    return event.sender == party or (event.delivered and event.recipient == party)


def _field_is(name: str) -> _PartyRule:
    def sees(party: str, event: ev.Event) -> bool:
        return bool(getattr(event, name) == party)

    return sees


# One rule per event class, looked up by exact type: what a party sees of it.
_PARTY_RULES: dict[type[ev.Event], _PartyRule] = {
    **{cls: _always for cls in _EVERYONE},
    ev.NoteSubmitted: _field_is("by"),
    ev.NoteHandedOver: _field_is("sender"),  # it happened in the sender's own room
    ev.NoteDelivered: _field_is("recipient"),
    ev.NoteReceipt: _field_is("recipient"),
    ev.MediatorArrived: _field_is("room"),
    ev.MediatorDeparted: _field_is("origin"),
    ev.NoteExpired: _expired,
}
_MEDIATOR_SEES: dict[type[ev.Event], bool] = {
    cls: not issubclass(cls, _MEDIATOR_BLIND) for cls in ev.EVENT_TYPES.values()
}


def visible_to(seat: str, role: str, event: ev.Event) -> bool:
    """Whether ``seat`` (whose role is ``role``) may see ``event``."""
    if role == "party":
        return _PARTY_RULES.get(type(event), _never)(seat, event)
    if role in ("facilitator", "observer"):
        return True
    if role == "mediator":
        seen = _MEDIATOR_SEES.get(type(event))
        if seen is None:  # a class outside the vocabulary: decide as for its base classes
            seen = isinstance(event, _EVERYONE) or not isinstance(event, _MEDIATOR_BLIND)
        # an offer that lapsed on its sender's table: a note the mediator never saw
        return seen and not getattr(event, "unseen", False)
    return False
