"""Receipts: what a sender is told of its note's progress, by its inbound link's ``receipts``:
``none``, ``handed_over`` (the mediator took it), or ``delivered`` (that too, and when it
reached the other party)."""

from __future__ import annotations

from ..config import Link

__all__ = ["tells"]

_TOLD = {
    "none": frozenset(),
    "handed_over": frozenset({"handed_over"}),
    "delivered": frozenset({"handed_over", "delivered"}),
}


def tells(link: Link, status: str) -> bool:
    """Whether the sender on ``link`` is told that its note reached ``status``."""
    return status in _TOLD[link.receipts]
