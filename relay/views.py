"""What each seat is told about an exercise outside the event stream (welcome frame, REST)."""

from __future__ import annotations

import copy
from typing import Any

from relay.core import Exercise
from relay.core.exercise import Travelling

__all__ = ["scenario_view", "summary"]


def scenario_view(core: Exercise, seat: str, role: str) -> dict[str, Any]:
    """The scenario as ``seat`` may know it: private briefs and positions only for their owner;
    the delivery rules (latency, delivery, as currently in force) for the mediator, who works
    under them, and not for the parties."""
    full = copy.deepcopy(core.config.document)
    full["delivery"] = copy.deepcopy(core.rules.written)
    if role in ("facilitator", "observer"):
        return full
    for party in full["parties"]:
        if party["id"] != seat:
            party["brief"] = ""
            party["positions"] = {}
    if role != "mediator":
        full.pop("latency", None)
        full.pop("delivery", None)
    return full


def summary(core: Exercise, exercise_id: str, title: str, role: str) -> dict[str, Any]:
    location = core.location
    where: dict[str, Any]
    if isinstance(location, Travelling):
        where = {
            "travelling": True,
            "origin": location.origin,
            "destination": location.destination,
            "arrives_at": location.arrives_at,
        }
    else:
        where = {"travelling": False, "room": location}
    out: dict[str, Any] = {
        "id": exercise_id,
        "title": title,
        "phase": core.phase.value,
        "now": core.now,
        "last_seq": core.last_seq,
        "outcome": core.outcome.to_data() if core.outcome else None,
    }
    if role in ("facilitator", "observer", "mediator"):
        out["mediator"] = where
    if role in ("facilitator", "observer"):
        out["in_flight"] = [
            {
                "note": n.id,
                "sender": n.sender,
                "status": n.status.value,
                "destination": n.destination,
                "ready_at": n.ready_at if n.ready_at != float("inf") else None,
            }
            for n in core.in_flight()
        ]
        out["next_deadline"] = core.next_deadline()
    return out
