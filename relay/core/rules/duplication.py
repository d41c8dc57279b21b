"""Duplication: a relayed note is delivered twice with the link's ``duplicate`` chance, drawn
and recorded per note (the copy is journalled with ``duplicate: true``)."""

from __future__ import annotations

from ..config import Link
from ..draws import Recorder

__all__ = ["OUTCOMES", "copies"]

OUTCOMES = ("twice", "once")


def copies(link: Link, draws: Recorder) -> int:
    """How many times a relayed note on ``link`` is delivered: 1, or 2."""
    twice = link.duplicate > 0.0 and draws.chance("duplicate", link.name, link.duplicate, OUTCOMES)
    return 2 if twice else 1
