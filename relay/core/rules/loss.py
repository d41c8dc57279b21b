"""Loss (miscalculation): a relayed note falls out of the pouch with the link's ``loss``
chance, drawn and recorded per note."""

from __future__ import annotations

from ..config import Link
from ..draws import Recorder

__all__ = ["OUTCOMES", "lost"]

OUTCOMES = ("lost", "kept")


def lost(link: Link, draws: Recorder) -> bool:
    """Whether a relayed note on ``link`` never arrives."""
    return link.loss > 0.0 and draws.chance("loss", link.name, link.loss, OUTCOMES)
