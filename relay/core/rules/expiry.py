"""Expiry: an offer (a proposal or a counter) lapses its inbound link's ``expiry`` after it was
made. Undelivered, it is withdrawn; delivered, it can no longer be accepted."""

from __future__ import annotations

from ..config import Link

__all__ = ["expires_at"]


def expires_at(link: Link, is_offer: bool, now: float) -> float | None:
    """When a note written at ``now`` on ``link`` lapses, or None if it never does."""
    if link.expiry is None or not is_offer:
        return None
    return now + link.expiry
