"""Who knew what, when: the one function that decides which seat may see which event.

Every reader of the journal goes through :func:`visible_to`: the websocket streams, REST reads,
resume, exports and per-seat replay. A party's knowledge is what was *delivered* to it, not what
was sent (DESIGN §1 "Who knew what, when"). Each event class declares its audience where it is
defined (``SEEN_BY``, an :class:`~relay.core.events.Audience`), so a new event type says who
sees it in the one place it is written; this module only reads the declarations:

* the facilitator and observers see everything;
* the mediator sees what happens in the room it stands in and its own decisions: notes handed
  over, deliveries, movements, rule changes; never a note still lying in a room it has not
  visited, nor a note it lost (a miscalculation is for the debrief), nor an offer that lapsed
  on its sender's table;
* a party sees its own notes, what was delivered to it, receipts addressed to it, the mediator
  entering and leaving its own room, its offers lapsing (and the other party's, once delivered),
  and the lifecycle of the exercise. It never sees the other party's notes before their
  delivery, nor the mediator's decisions (relay, hold, paraphrase), nor rule changes, nor the
  scenario with the other party's brief.
"""

from __future__ import annotations

from . import events as ev

__all__ = ["visible_to"]


def _party_sees(party: str, event: ev.Event, audience: ev.Audience) -> bool:
    if audience.party is None:
        return False
    if audience.party == ev.EVERY_PARTY or getattr(event, audience.party) == party:
        return True
    if audience.also is None:
        return False
    shown = audience.also_when is None or bool(getattr(event, audience.also_when))
    return shown and getattr(event, audience.also) == party


def visible_to(seat: str, role: str, event: ev.Event) -> bool:
    """Whether ``seat`` (whose role is ``role``) may see ``event``."""
    if role in ("facilitator", "observer"):
        return True
    audience = getattr(event, "SEEN_BY", None)
    if audience is None:  # a class that declares no audience is for the control room only
        return False
    if role == "party":
        return _party_sees(seat, event, audience)
    if role == "mediator":
        return audience.mediator and not getattr(event, "unseen", False)
    return False
