"""Sitting hours: the mediator travels between rooms only inside a sitting."""

from __future__ import annotations

from ..config import Sittings

__all__ = ["travel_refusal"]


def travel_refusal(sittings: Sittings, now: float) -> str | None:
    """Why the mediator may not set out at ``now``, or None if it may."""
    start = sittings.next_start(now)
    if start == now:
        return None
    when = "no sitting is left" if start is None else f"the next starts at {start:g}s"
    return f"outside the sitting hours ({when})"
