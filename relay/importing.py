"""A journal file as a new exercise: checked whole before anything is stored.

    text --parse_journal--> entries --header, dedupe keys--> --rebuild, check_faithful-->
        a running exercise paused where the file stops --> ImportedJournal (new id)

``ExerciseHub.store_import`` then stores it; ``shuttle import`` checks before it opens the
database, so a bad file leaves none behind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pydantic import ValidationError

from relay.core import Exercise, Phase
from relay.core import commands as cmd
from relay.core import events as ev
from relay.journal import JournalFormatError, parse_journal, to_entry
from relay.recovery import check_faithful
from relay.replay import rebuild
from relay.shares import new_exercise_id
from relay.store import Entry, ExerciseRecord
from schemas import wire
from schemas.scenario import ScenarioError, describe_errors

__all__ = ["ImportedJournal", "check_import"]


@dataclass(frozen=True)
class ImportedJournal:
    """A journal file checked and made ready to store as a new exercise."""

    record: ExerciseRecord
    core: Exercise
    entries: list[Entry]


def check_import(
    text: str,
    where: str,
    wall: Callable[[], float],
    new_id: Callable[[], str] = new_exercise_id,
) -> ImportedJournal:
    """Parse a journal file and check that it replays faithfully, touching no store.

    Raises :class:`JournalFormatError` naming ``where``. An exercise that was running when
    its journal was written comes in paused where the file stops: one ``exercise.paused`` by
    the facilitator, at the last entry's time, is added (after the rest of the last instant's
    step, should the file stop inside one). Left running, it would catch up with the real
    time since that entry as if the relay had been down meanwhile (the mediator walking, the
    deadline passing) before anyone could look at it. The facilitator resumes it when ready.
    """
    journal = parse_journal(text, where)
    try:
        header = wire.JournalHeader.model_validate(journal.exercise)
    except ValidationError as error:
        raise JournalFormatError(f"{where}: header: {describe_errors(error)}") from None
    _check_dedupe_keys(journal.entries)
    try:
        core, produced = rebuild(journal.entries)
    except ScenarioError as error:
        raise JournalFormatError(f"{where}: {error}") from None
    try:
        check_faithful(where, journal.entries, produced)
    except RuntimeError as error:
        raise JournalFormatError(str(error)) from None
    # A file cut in the middle of a step ends before what its last instant made: that rest
    # is stored too (the rebuild made it, at that instant; a load would add it).
    added = produced[len(journal.entries) :]
    if core.phase is Phase.RUNNING:
        core.handle(cmd.Pause(by="facilitator"), core.now)
        added += core.events()
    now = wall()
    record = ExerciseRecord(
        id=new_id(),
        scenario=core.config.document,
        seed=core.seed,
        speed=header.speed or 1.0,
        created_wall=header.created_wall or now,
        status=core.phase.value,
        title=header.title or core.config.title,
    )
    entries = [*journal.entries, *(to_entry(event, now) for event in added)]
    return ImportedJournal(record, core, entries)


def _check_dedupe_keys(entries: list[Entry]) -> None:
    """Refuse, before anything is stored, a journal the store would refuse half-way.

    Every ``note.submitted`` carries ``dedupe_key = "<seat>:<client_id>"`` and no other entry
    carries one; replay does not compare keys, so they are checked here.
    """
    seen: set[str] = set()
    for entry in entries:
        data = entry.data
        wanted = None
        if entry.type == ev.NoteSubmitted.TYPE:
            wanted = f"{data.get('by')}:{data.get('client_id')}"
        if entry.dedupe_key != wanted:
            raise JournalFormatError(
                f"import: entry seq {entry.seq}: dedupe_key {entry.dedupe_key!r}, "
                f"expected {wanted!r}"
            )
        if wanted is not None and wanted in seen:
            raise JournalFormatError(
                f"import: entry seq {entry.seq}: dedupe_key {wanted!r} repeats"
            )
        if wanted is not None:
            seen.add(wanted)
