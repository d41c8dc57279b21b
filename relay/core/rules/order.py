"""Order: with ``order: preserve``, a note is never ready before the one ahead of it on its link,
whatever its own draw; with ``any``, jitter may reorder notes."""

from __future__ import annotations

from ..config import Link

__all__ = ["in_order"]


def in_order(link: Link, ready_at: float, ahead: float | None) -> tuple[float, bool]:
    """When the note is ready, given when the note ahead of it on ``link`` is (``ahead``), and
    whether the link must remember it as the note ahead of the next one."""
    if link.order != "preserve":
        return ready_at, False
    if ahead is not None and ahead > ready_at:
        return ahead, True
    return ready_at, True
