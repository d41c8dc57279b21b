"""Distortion: a paraphrase's miscalculations on a mediator -> party link.

Per relayed note, each with its own chance: a tag dropped, a term's number moved (by at most
``number_bound``, kept inside its agenda item's range), a firm word softened or a soft one
hardened. Every change is listed with its original, so the report can show what was said
against what was read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..config import AgendaItem, Link
from ..draws import Recorder

__all__ = ["HIT", "TONE_SWAPS", "distort"]

HIT = ("yes", "no")
"""Outcome names of a distortion's chance draw."""

TONE_SWAPS: tuple[tuple[str, str], ...] = (
    ("must", "should"),
    ("should", "must"),
    ("will not", "would rather not"),
    ("demand", "ask"),
    ("ask", "demand"),
    ("never", "not now"),
    ("unacceptable", "difficult"),
    ("insist", "suggest"),
    ("suggest", "insist"),
)
"""Tone markers a distorting paraphrase may swap: a firm word softened, or a soft one hardened."""

Distorted = tuple[str, list[str], dict[str, float], list[dict[str, Any]]]


def distort(
    link: Link,
    text: str,
    tags: list[str],
    terms: dict[str, float],
    agenda: Mapping[str, AgendaItem],
    draws: Recorder,
) -> Distorted:
    """What the recipient will read of a relayed note, and what changed (new lists)."""
    tags, terms = list(tags), dict(terms)
    changes: list[dict[str, Any]] = []
    rules = link.distort
    if rules is None:
        return text, tags, terms, changes
    if tags and rules.tag_drop and draws.chance("distort", link.name, rules.tag_drop, HIT):
        dropped = tags.pop(draws.pick("distort", link.name, len(tags)))
        changes.append({"kind": "tag_dropped", "tag": dropped})
    if terms and rules.number and draws.chance("distort", link.name, rules.number, HIT):
        names = sorted(terms)
        name = names[draws.pick("distort", link.name, len(names))]
        move = draws.spread("distort", link.name, rules.number_bound, "moved")
        item = agenda[name]
        moved = round(terms[name] + move, 2)
        moved = max(moved, item.min) if item.min is not None else moved
        moved = min(moved, item.max) if item.max is not None else moved
        changes.append(
            {"kind": "term_moved", "item": name, "original": terms[name], "relayed": moved}
        )
        terms[name] = moved
    if rules.tone and draws.chance("distort", link.name, rules.tone, HIT):
        markers = [(a, b) for a, b in TONE_SWAPS if re.search(rf"\b{a}\b", text)]
        if markers:
            original, replaced = markers[draws.pick("distort", link.name, len(markers))]
            text = re.sub(rf"\b{original}\b", replaced, text, count=1)
            changes.append({"kind": "tone", "original": original, "relayed": replaced})
    return text, tags, terms, changes
