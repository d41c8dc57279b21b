"""The journal's file form: JSON Lines, one event a line, after one header line.

``shuttle demo``, ``simulate`` and ``export`` write this; ``replay`` and ``import`` read it. The
header names the format and the exercise; every other line is an :class:`Entry`. Output is
deterministic (fixed separators, insertion-ordered keys), so equal journals are equal bytes.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, cast

from pydantic import TypeAdapter, ValidationError

from relay.core import events as ev
from relay.entry import Entry
from relay.jsontext import dumps, dumps_fast, loads
from schemas.scenario import describe_errors
from schemas.wire import MAX_SEED

if TYPE_CHECKING:
    from relay.store.base import ExerciseRecord

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
    text = dumps_fast(data) if encode else None
    # positionally, in Entry's field order: a keyword call takes twice as long (one per event)
    return Entry(event.seq, event.at, event.TYPE, data, wall, dedupe, text)


def from_entry(entry: Entry) -> ev.Event:
    return ev.event_from_data(entry.type, entry.seq, entry.at, entry.data)


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
    headed = False
    # Lines end at "\n" only: str.splitlines() also splits at U+2028, U+2029, U+0085 and
    # others, which JSON leaves unescaped inside a note's text.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            obj = loads(line)
        except ValueError as error:
            raise JournalFormatError(f"{where}:{number}: not JSON: {error}") from None
        if isinstance(obj, dict) and "format" in obj:
            if lines or headed:
                raise JournalFormatError(
                    f"{where}:{number}: a header (format) belongs on the first line only"
                )
            if obj["format"] != FORMAT:
                raise JournalFormatError(f"{where}:{number}: unknown format {obj['format']!r}")
            header = obj.get("exercise")
            if not isinstance(header, dict | None):
                raise JournalFormatError(f"{where}:{number}: exercise: not an object")
            journal.exercise = dict(header or {})
            headed = True
            continue
        journal.entries.append(_entry(obj, f"{where}:{number}"))
        lines.append(number)
    if not journal.entries:
        raise JournalFormatError(f"{where}: no entries")
    _check_sequence(journal.entries, lines, where)
    return journal


@functools.cache
def _payload(type_: str) -> TypeAdapter[Any]:
    """The validator of an event type's payload (made once per type)."""
    return TypeAdapter(ev.EVENT_TYPES[type_])


def _entry(obj: Any, where: str) -> Entry:
    if not isinstance(obj, dict):
        raise JournalFormatError(f"{where}: an entry is a JSON object, not {type(obj).__name__}")
    try:
        entry = Entry.from_json(obj)
        _check_fields(entry)
        event = from_entry(entry)  # the payload must have its event type's fields...
        # ... each of its type: the core trusts a recorded input as it trusts a validated frame
        _payload(event.TYPE).validate_python({**entry.data, "seq": entry.seq, "at": entry.at})
    except KeyError as error:
        raise JournalFormatError(f"{where}: missing or unknown {error}") from None
    except ValidationError as error:
        raise JournalFormatError(f"{where}: {entry.type}: {describe_errors(error)}") from None
    except (TypeError, ValueError, AttributeError, OverflowError) as error:
        raise JournalFormatError(f"{where}: malformed entry: {error}") from None
    if not (math.isfinite(entry.at) and (entry.wall is None or math.isfinite(entry.wall))):
        raise JournalFormatError(f"{where}: malformed entry: at and wall must be finite")
    return entry


def _check_fields(entry: Entry) -> None:
    """Name a payload field its event type lacks, or one it needs that is missing."""
    cls = ev.EVENT_TYPES.get(entry.type)
    if cls is None:
        return  # from_entry names it
    names, needed = _fields(entry.type)
    unknown = [name for name in entry.data if name not in names]
    if unknown:
        raise ValueError(f"{entry.type} has no field {', '.join(map(repr, unknown))}")
    missing = [name for name in needed if name not in entry.data]
    if missing:
        raise ValueError(f"{entry.type} needs {', '.join(map(repr, missing))}")


@functools.cache
def _fields(type_: str) -> tuple[frozenset[str], tuple[str, ...]]:
    """An event type's payload fields, and those without a default, in journal order."""
    cls = ev.EVENT_TYPES[type_]
    names = ev.payload_fields(cls)
    optional = {
        f.name
        for f in dataclasses.fields(cast(Any, cls))
        if f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
    }
    return frozenset(names), tuple(name for name in names if name not in optional)


def _check_sequence(entries: list[Entry], lines: list[int], where: str) -> None:
    if entries[0].type != ev.ExerciseCreated.TYPE:
        raise JournalFormatError(
            f"{where}:{lines[0]}: the first entry must be {ev.ExerciseCreated.TYPE}"
        )
    seed = entries[0].data.get("seed")
    if type(seed) is not int or not 0 <= seed <= MAX_SEED:
        raise JournalFormatError(
            f"{where}:{lines[0]}: seed: {seed!r} is not a whole number from 0 to {MAX_SEED}"
        )
    for expected, (entry, line) in enumerate(zip(entries, lines, strict=True), start=1):
        if entry.seq != expected:
            raise JournalFormatError(
                f"{where}:{line}: entry seq {entry.seq} where {expected} was due"
            )
