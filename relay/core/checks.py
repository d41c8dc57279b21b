"""What makes a note well formed: its text, kind, tags, terms and what it replies to.

Checked in full before the core touches any state, so a refused note changes nothing. Terms are
checked before tags: a term names its agenda item, and clients tag a note with its terms.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from . import commands as cmd
from .config import AgendaItem
from .errors import InvalidNote, UnknownNote
from .notes import Note

__all__ = ["MAX_TAGS", "MAX_TEXT", "NoteChecks"]

MAX_TEXT = 20_000
MAX_TAGS = 32
_PLAIN_NUMBERS = frozenset({float, int})
"""Classes of a term's value that need no closer look than a bounds check (not bool)."""


class NoteChecks:
    """The checks of one exercise's agenda."""

    __slots__ = ("_agenda", "_bounds")

    def __init__(self, agenda: Mapping[str, AgendaItem]) -> None:
        self._agenda = agenda
        self._bounds = {item.id: (item.low, item.high) for item in agenda.values()}

    def note(
        self,
        sender: str,
        note: cmd.Submit,
        used: bool,
        known: set[int],
        notes: Mapping[int, Note],
    ) -> None:
        """A party's new note; ``used``: its client id was used before; ``known``: the notes
        ``sender`` wrote or was delivered."""
        if not note.client_id or len(note.client_id) > 128:
            raise InvalidNote("client_id must be 1 to 128 characters")
        if used:
            raise InvalidNote(f"client_id {note.client_id!r} was already used by {sender}")
        if note.kind not in cmd.KINDS:
            raise InvalidNote(f"kind {note.kind!r} is not one of {', '.join(cmd.KINDS)}")
        self.text(note.text)
        self.terms(note.terms)
        self.tags(note.tags)
        self._reply(sender, note, known, notes)

    @staticmethod
    def text(text: str) -> None:
        if not text.strip() or len(text) > MAX_TEXT:
            raise InvalidNote(f"text must be 1 to {MAX_TEXT} characters")

    def tags(self, tags: list[str]) -> None:
        agenda = self._agenda
        if len(tags) > MAX_TAGS:
            raise InvalidNote(f"at most {MAX_TAGS} tags")
        unknown = [tag for tag in tags if tag not in agenda]
        if unknown:
            raise InvalidNote(f"tags {unknown} are not agenda items {sorted(agenda)}")

    def terms(self, terms: dict[str, float]) -> None:
        bounds = self._bounds
        for name, value in terms.items():
            # the common case, a plain number inside its item's bounds, in one test
            within = bounds.get(name)
            if (
                within is not None
                and value.__class__ in _PLAIN_NUMBERS
                and within[0] <= value <= within[1]
                and math.isfinite(value)
            ):
                continue
            self._term_refusal(name, value)

    def _term_refusal(self, name: str, value: object) -> None:
        item = self._agenda.get(name)
        if item is None:
            raise InvalidNote(f"term {name!r} is not an agenda item {sorted(self._agenda)}")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidNote(f"term {name!r} must be a number, got {value!r}")
        if not math.isfinite(value):
            raise InvalidNote(f"term {name!r} must be finite")
        if item.outside(value):
            raise InvalidNote(f"term {name!r}={value:g} is outside {item.range_text()}")

    @staticmethod
    def _reply(sender: str, note: cmd.Submit, known: set[int], notes: Mapping[int, Note]) -> None:
        if note.kind != "reply":
            if note.answer is not None:
                raise InvalidNote("only a reply carries an answer")
            if note.in_reply_to is not None and note.in_reply_to not in known:
                raise UnknownNote(f"{sender} knows no note {note.in_reply_to}")
            return
        if note.answer not in cmd.ANSWERS:
            raise InvalidNote(f"a reply's answer must be one of {', '.join(cmd.ANSWERS)}")
        target = notes.get(note.in_reply_to) if note.in_reply_to is not None else None
        # A party answers only what was delivered to it: knowledge is what arrived.
        if target is None or target.id not in known or target.sender == sender:
            raise UnknownNote(f"a reply must answer a note delivered to {sender}")
        if note.answer == "accept":
            if not target.is_offer:
                what = target.kind if target.answer is None else f"{target.answer} reply"
                raise InvalidNote(f"note {target.id} is a {what}; only offers can be accepted")
            if target.lapsed:
                raise InvalidNote(f"offer {target.id} lapsed at {target.expires_at:g}s")
