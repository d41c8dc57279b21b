"""Agenda scope: a note tagged with an item its recipient refuses to discuss is returned to its
sender (``scope: return``), delivered with a flag (``flag``), or relayed as if nothing were
wrong (``relay``), as the recipient's outbound link says."""

from __future__ import annotations

from collections.abc import Iterable

from ..config import Link

__all__ = ["blocking", "flags", "refused", "return_comment"]


def refused(refuses: frozenset[str], tags: Iterable[str]) -> list[str]:
    """The tags among ``tags`` that the recipient (who ``refuses`` those items) refuses."""
    if not refuses:
        return []
    return [tag for tag in tags if tag in refuses]


def blocking(link: Link, refuses: frozenset[str], tags: Iterable[str]) -> list[str]:
    """The tags that stop a note from being relayed on ``link`` (under ``scope: return``)."""
    if link.scope != "return":
        return []
    return refused(refuses, tags)


def flags(link: Link, recipient: str, refuses: frozenset[str], tags: Iterable[str]) -> list[str]:
    """The flags a note carries to ``recipient`` (under ``scope: flag``)."""
    if link.scope != "flag":
        return []
    return [f"{recipient} refuses to discuss {tag}" for tag in refused(refuses, tags)]


def return_comment(recipient: str, tags: list[str]) -> str:
    """What the automatic mediator says when it returns a note out of scope."""
    return f"Out of scope: {recipient} refuses to discuss {', '.join(tags)}."
