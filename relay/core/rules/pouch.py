"""The pouch: a courier leaving on a schedule, carrying at most so many notes a trip.

With ``pouch.every`` on a link, the mediator leaves for its room only at
``offset + k * every``; with ``capacity``, one arrival hands out at most that many notes, oldest
first, and the rest wait for the next trip. With a pouch, notes are handed out in a room only at
the moment the courier arrives there.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TypeVar

from ..config import Link, Sittings

__all__ = ["delivers_now", "departure_time", "load"]

_T = TypeVar("_T")


def delivers_now(link: Link, now: float, arrived_at: float) -> bool:
    """Whether notes for the link's room are handed out now: with a pouch, only at the moment
    the courier arrives; without one, whenever the mediator stands there."""
    return link.pouch is None or now == arrived_at


def load(link: Link, notes: Sequence[_T], unpacked: int) -> tuple[Sequence[_T], Sequence[_T]]:
    """What this arrival hands out of ``notes`` (oldest first) and what waits for the next
    trip, when ``unpacked`` notes were already handed out at this arrival."""
    capacity = link.pouch.capacity if link.pouch is not None else None
    if capacity is None:
        return notes, ()
    room_for = max(0, capacity - unpacked)
    return notes[:room_for], notes[room_for:]


def departure_time(link: Link, sittings: Sittings, now: float) -> float | None:
    """The earliest time from ``now`` the courier may leave for the link's room: on the
    pouch's schedule and inside a sitting. None: no sitting is left."""
    pouch = link.pouch
    if pouch is None and sittings.always:
        return now
    at: float | None = now
    for _ in range(64):  # a slot inside a sitting; both are periodic, so this converges
        assert at is not None
        slot = at
        if pouch is not None and pouch.every is not None:
            k = max(0, math.ceil((at - pouch.offset) / pouch.every - 1e-9))
            slot = pouch.offset + k * pouch.every
        at = sittings.next_start(slot)
        if at is None or at == slot:
            return at
    return None
