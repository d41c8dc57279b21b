"""The journal's file form: JSON Lines, one event a line, after one header line.

``shuttle demo``, ``simulate`` and ``export`` write this; ``replay`` and ``import`` read it. The
header names the format and the exercise; every other line is an :class:`Entry`. Output is
deterministic (fixed separators, insertion-ordered keys), so equal journals are equal bytes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import orjson

from relay.core import events as ev
from relay.store.base import Entry, ExerciseRecord

__all__ = [
    "FORMAT",
    "JournalFile",
    "JournalFormatError",
    "dumps",
    "dumps_fast",
    "parse_journal",
    "from_entry",
    "journal_header",
    "read_journal",
    "to_entry",
    "write_journal",
]

FORMAT = "shuttle-journal/1"


class JournalFormatError(ValueError):
    """A journal file is malformed; the message names the line and what is wrong."""


@dataclass
class JournalFile:
    entries: list[Entry]
    exercise: dict[str, Any] = field(default_factory=dict)


def journal_header(record: ExerciseRecord) -> dict[str, Any]:
    """What a journal file says about its exercise besides the entries."""
    return {
        "id": record.id,
        "title": record.title,
        "seed": record.seed,
        "speed": record.speed,
        "created_wall": record.created_wall,
    }


def to_entry(event: ev.Event, wall: float | None = None, *, encode: bool = False) -> Entry:
    """The journal entry of ``event``; with ``encode``, its data also as JSON text
    (``Entry.data_json``), for a caller that will store it and send it: encoded once.

    That text comes from :func:`dumps_fast`; journal files are always written by
    :func:`dumps` from the decoded data.
    """
    dedupe = None
    if type(event) is ev.NoteSubmitted:
        dedupe = f"{event.by}:{event.client_id}"
    data = event.to_data()
    return Entry(
        seq=event.seq,
        at=event.at,
        type=event.TYPE,
        data=data,
        wall=wall,
        dedupe_key=dedupe,
        data_json=dumps_fast(data) if encode else None,
    )


def from_entry(entry: Entry) -> ev.Event:
    return ev.event_from_data(entry.type, entry.seq, entry.at, entry.data)


# ``json.dumps`` with options builds a new encoder on every call; this one is built once.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def dumps(obj: Any) -> str:
    """Compact JSON, UTF-8 as is, no NaN: the one encoding of journals and frames."""
    return _ENCODER.encode(obj)


def dumps_fast(obj: Any) -> str:
    """JSON from orjson, six times faster than :func:`dumps` on event data, for the hot path.

    It decodes to what :func:`dumps` would give for the relay's own data (no NaN, no
    non-string keys, no integers beyond 64 bits), and is the same text but for a float's
    exponent, which may be spelled differently (``1e-5``).
    """
    return orjson.dumps(obj).decode()


def write_journal(out: TextIO, entries: Iterable[Entry], exercise: dict[str, Any]) -> None:
    out.write(dumps({"format": FORMAT, "exercise": exercise}) + "\n")
    for entry in entries:
        out.write(dumps(entry.to_json()) + "\n")


def read_journal(path: str | Path) -> JournalFile:
    """Read and check a journal file: known event types, gap-free sequence from 1."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise JournalFormatError(f"{path}: cannot read: {error}") from None
    return parse_journal(text, str(path))


def parse_journal(text: str, where: str = "journal") -> JournalFile:
    """Parse journal text (see :func:`read_journal`)."""
    journal = JournalFile(entries=[])
    lines: list[int] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as error:
            raise JournalFormatError(f"{where}:{number}: not JSON: {error.msg}") from None
        if isinstance(obj, dict) and "format" in obj:
            if obj["format"] != FORMAT:
                raise JournalFormatError(f"{where}:{number}: unknown format {obj['format']!r}")
            journal.exercise = dict(obj.get("exercise") or {})
            continue
        journal.entries.append(_entry(obj, f"{where}:{number}"))
        lines.append(number)
    if not journal.entries:
        raise JournalFormatError(f"{where}: no entries")
    _check_sequence(journal.entries, lines, where)
    return journal


def _entry(obj: Any, where: str) -> Entry:
    try:
        entry = Entry.from_json(obj)
        from_entry(entry)  # the payload must fit its event type
    except KeyError as error:
        raise JournalFormatError(f"{where}: missing or unknown {error}") from None
    except (TypeError, ValueError, AttributeError) as error:
        raise JournalFormatError(f"{where}: malformed entry: {error}") from None
    return entry


def _check_sequence(entries: list[Entry], lines: list[int], where: str) -> None:
    if entries[0].type != ev.ExerciseCreated.TYPE:
        raise JournalFormatError(
            f"{where}:{lines[0]}: the first entry must be {ev.ExerciseCreated.TYPE}"
        )
    for expected, (entry, line) in enumerate(zip(entries, lines, strict=True), start=1):
        if entry.seq != expected:
            raise JournalFormatError(
                f"{where}:{line}: entry seq {entry.seq} where {expected} was due"
            )
