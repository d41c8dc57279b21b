"""Replay: feed a journal's inputs into a fresh core, faithfully or under other rules.

A journal is a complete record: its first event holds the scenario and seed, every input names
the seat that caused it, and every random draw a delivery rule made is written into the event
that used it. Because the core is deterministic (time and randomness are inputs):

* **faithful replay** (:func:`rebuild`, :func:`verify`) feeds the recorded inputs at their
  times and the recorded draws (:class:`RecordedDraws`: it draws nothing), and must give the
  same journal, event for event;
* a **counterfactual re-run** (:func:`rerun`) feeds the same party inputs into a core whose
  delivery rules were changed, drawing afresh from the same seed, and gives a new journal.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from relay.core import Exercise, Phase, ShuttleError
from relay.core import commands as cmd
from relay.core import events as ev
from relay.entry import Entry
from relay.gcpause import cyclic_gc_paused
from relay.journal import from_entry, to_entry
from relay.rng import SeededStreams, uniforms
from schemas.scenario import Scenario, parse_scenario
from schemas.translate import command_for, exercise_config

__all__ = [
    "Mismatch",
    "RecordedDraws",
    "Rerun",
    "core_from_created",
    "first_mismatch",
    "rebuild",
    "rerun",
    "verify",
]


class RecordedDraws:
    """The draws written in a journal, handed back in order, stream by stream.

    Past the end of the record (a live exercise rebuilt after a restart goes on from where
    its journal stops) a stream continues with the seeded draws it would have made: the k-th
    draw of a stream depends on (seed, stream, k) alone.
    """

    def __init__(self, seed: int, events: Iterable[ev.Event]) -> None:
        self._seeded = SeededStreams(seed)
        self._recorded: dict[str, deque[float]] = {}
        self._record(getattr(event, "draws", ()) for event in events)

    @classmethod
    def from_entries(cls, seed: int, entries: Iterable[Entry]) -> RecordedDraws:
        """The draws of journal entries, read from their data without decoding the events."""
        draws = cls(seed, ())
        draws._record(entry.data.get("draws", ()) for entry in entries)
        return draws

    def _record(self, records: Iterable[Iterable[ev.Draw]]) -> None:
        for draws in records:
            for _rule, stream, value, _outcome in draws:
                self._recorded.setdefault(stream, deque()).append(value)

    def take(self, stream: str, make: Callable[[float, float], float]) -> float:
        counts = self._seeded.counts
        k = counts.get(stream, 0)
        counts[stream] = k + 1
        recorded = self._recorded.get(stream)
        if recorded:
            return recorded.popleft()
        return make(*uniforms(self._seeded.key(stream), k))

    @property
    def left(self) -> int:
        """Recorded draws not taken (0 after a faithful replay)."""
        return sum(len(values) for values in self._recorded.values())


@dataclass(frozen=True)
class Mismatch:
    seq: int
    expected: Entry | None
    actual: Entry | None
    detail: str

    def __str__(self) -> str:
        return f"event {self.seq}: {self.detail}"


def core_from_created(created: ev.ExerciseCreated, recorded: Iterable[ev.Event] = ()) -> Exercise:
    """A fresh core for the journal that ``created`` opens, drawing what ``recorded`` drew."""
    config = exercise_config(parse_scenario(created.scenario, ev.ExerciseCreated.TYPE))
    return Exercise(config, seed=created.seed, rng=RecordedDraws(created.seed, recorded))


def rebuild(entries: Sequence[Entry]) -> tuple[Exercise, list[ev.Event]]:
    """Re-execute a journal's inputs; returns the core and every event it produced.

    Draws come from the journal, not from the seed. An input the core refuses (possible only
    in an edited journal: a rule broken, time run backwards) stops the re-execution there.
    Only the first entry and the inputs are decoded into events: outputs are compared as data
    (:func:`first_mismatch`), and their draws are read straight from their data.
    """
    if not entries:
        raise ValueError("a journal starts with exercise.created")
    first = from_entry(entries[0])
    if not isinstance(first, ev.ExerciseCreated):
        raise ValueError("a journal starts with exercise.created")
    config = exercise_config(parse_scenario(first.scenario, ev.ExerciseCreated.TYPE))
    draws = RecordedDraws.from_entries(first.seed, entries)
    core = Exercise(config, seed=first.seed, rng=draws)
    produced = core.events()
    for step in input_steps(entry for entry in entries[1:] if entry_is_input(entry)):
        try:
            _apply(core, [from_entry(entry) for entry in step])
        except ShuttleError:
            produced.extend(core.events())
            return core, produced
        produced.extend(core.events())
    core.advance(entries[-1].at)
    produced.extend(core.events())
    return core, produced


_T = TypeVar("_T", Entry, ev.Event)
_TOGETHER = frozenset((ev.NoteSubmitted.TYPE, ev.NoteRelayed.TYPE))
"""Inputs that may have been applied together (:meth:`~relay.core.Exercise.handle_together`):
the live relay puts down the notes that reach an exercise in one step together, and a
mediator's ``batch`` relays its notes together."""


def input_steps(inputs: Iterable[_T]) -> Iterator[list[_T]]:
    """A journal's inputs (entries or events, in journal order), step by step.

    An input is a step of its own, but for a run of submissions, or of one seat's relays,
    journalled one right after the other at one time: nothing happened between them, so they
    were applied together (and if they were not, nothing followed from each until the next,
    which comes to the same). Such a run is one step.
    """
    step: list[_T] = []
    for item in inputs:
        if step and not _joins(step[-1], item):
            yield step
            step = []
        step.append(item)
    if step:
        yield step


def _joins(previous: Entry | ev.Event, item: Entry | ev.Event) -> bool:
    """Whether ``item`` was applied in the step of ``previous``, the input before it."""
    kind = _type(item)
    return (
        kind in _TOGETHER
        and kind == _type(previous)
        and item.seq == previous.seq + 1
        and item.at == previous.at
        and (kind == ev.NoteSubmitted.TYPE or _by(item) == _by(previous))
    )


def _type(item: Entry | ev.Event) -> str:
    return item.type if isinstance(item, Entry) else item.TYPE


def _by(item: Entry | ev.Event) -> Any:
    return item.data.get("by") if isinstance(item, Entry) else getattr(item, "by", None)


def _apply(core: Exercise, step: list[ev.Event]) -> None:
    """Apply one step's recorded inputs at their time; raises the first refusal."""
    if len(step) == 1:
        core.handle(command_for(step[0], core.config), step[0].at)
        return
    commands = [command_for(event, core.config) for event in step]
    outcomes = core.handle_together(commands, step[0].at)
    refused = next(filter(None, outcomes), None)
    if refused is not None:
        raise refused


_INPUT_TYPES = frozenset(
    cls.TYPE for cls in ev.EVENT_TYPES.values() if "by" in ev.payload_fields(cls)
)


def entry_is_input(entry: Entry) -> bool:
    """:func:`relay.core.events.is_input` of the entry's event, decided on its type and data."""
    if entry.type not in _INPUT_TYPES:
        return False
    by = entry.data.get("by")
    return by is not None and by not in ev.RESERVED


def verify(entries: Sequence[Entry]) -> Mismatch | None:
    """The first event where re-execution differs from the record, or ``None``."""
    with cyclic_gc_paused():
        _, produced = rebuild(entries)
        return first_mismatch(entries, produced)


ADDED_FIELDS: dict[str, frozenset[str]] = {ev.NoteExpired.TYPE: frozenset({"unseen"})}
"""Payload fields added since release 0.1.0, by event type. A journal written before one was
added lacks it, so an entry without it is compared without it."""


def _same_payload(recorded: dict[str, Any], event: ev.Event) -> bool:
    data = event.to_data()
    if recorded == data:
        return True
    added = ADDED_FIELDS.get(event.TYPE)
    if not added:
        return False
    return recorded == {
        name: value for name, value in data.items() if name in recorded or name not in added
    }


def first_mismatch(entries: Sequence[Entry], produced: Sequence[ev.Event]) -> Mismatch | None:
    """Compare recorded entries with re-executed events (extra produced events are fine)."""
    for recorded, event in zip(entries, produced, strict=False):
        if (
            recorded.seq != event.seq
            or recorded.at != event.at
            or recorded.type != event.TYPE
            or not _same_payload(recorded.data, event)
        ):
            actual = to_entry(event)
            return Mismatch(recorded.seq, recorded, actual, _describe(recorded, actual))
    if len(produced) < len(entries):
        missing = entries[len(produced)]
        return Mismatch(missing.seq, missing, None, f"recorded {missing.type} was not reproduced")
    return None


@dataclass
class Rerun:
    """A counterfactual re-run: its events, and the recorded inputs it could not apply."""

    events: list[ev.Event]
    skipped: list[tuple[ev.Event, str]] = field(default_factory=list)
    inputs: int = 0  # recorded inputs offered to the re-run, skipped ones included

    @property
    def outcome(self) -> ev.ExerciseEnded | None:
        last = self.events[-1] if self.events else None
        return last if isinstance(last, ev.ExerciseEnded) else None


def rerun(entries: Sequence[Entry], scenario: Scenario, *, max_events: int = 1_000_000) -> Rerun:
    """Re-run the journal's inputs, at their recorded times, in ``scenario``.

    Party submissions, facilitator controls and a human mediator's actions are fed as
    recorded, with note numbers mapped through each note's client id (a note may get another
    number, or none if its submission is refused). The original's rule changes are left out:
    the new rules hold throughout. An input the new rules refuse (a reply to a note that has
    not arrived yet, say) is skipped and listed. After the last input the exercise runs on
    until it ends or nothing is left to happen.
    """
    with cyclic_gc_paused():
        return _rerun(entries, scenario, max_events)


def _rerun(entries: Sequence[Entry], scenario: Scenario, max_events: int) -> Rerun:
    events = [from_entry(entry) for entry in entries]
    created = events[0]
    if not isinstance(created, ev.ExerciseCreated):
        raise ValueError("a journal starts with exercise.created")
    core = Exercise(exercise_config(scenario), seed=created.seed, rng=SeededStreams(created.seed))
    produced = core.events()
    skipped: list[tuple[ev.Event, str]] = []
    numbers: dict[int, int] = {}  # original note number -> re-run note number
    inputs = [event for event in events[1:] if ev.is_input(event)]
    for step in input_steps(inputs):
        _rerun_step(core, step, numbers, skipped)
        produced.extend(core.events())
    while core.phase is Phase.RUNNING and len(produced) < max_events:
        deadline = core.next_deadline()
        if deadline is None:
            break
        core.advance(deadline)
        produced.extend(core.events())
    return Rerun(produced, skipped, len(inputs))


def _rerun_step(
    core: Exercise,
    step: list[ev.Event],
    numbers: dict[int, int],
    skipped: list[tuple[ev.Event, str]],
) -> None:
    """One step of the original's inputs, applied together again (one input: as ``handle``)."""
    if core.phase is Phase.ENDED:
        skipped.extend((event, "the exercise had already ended") for event in step)
        return
    why: dict[int, str] = {}  # index in step -> why it was skipped
    offered: list[tuple[int, cmd.Command]] = []
    for i, event in enumerate(step):
        if isinstance(event, ev.RulesChanged):
            why[i] = "the counterfactual's rules hold throughout"
            continue
        try:
            offered.append((i, _renumbered(command_for(event, core.config), numbers)))
        except LookupError as error:
            why[i] = str(error)
    if offered:
        commands = [command for _, command in offered]
        refusals = core.handle_together(commands, max(step[0].at, core.now))
        for (i, _), refused in zip(offered, refusals, strict=True):
            event = step[i]
            if refused is not None:
                why[i] = str(refused)
            elif isinstance(event, ev.NoteSubmitted):
                _number(core, event, numbers)
    skipped.extend((step[i], why[i]) for i in sorted(why))


def _number(core: Exercise, event: ev.NoteSubmitted, numbers: dict[int, int]) -> None:
    new = core.note_for_client(event.by, event.client_id)
    assert new is not None
    numbers[event.note] = new


def _renumbered(command: cmd.Command, numbers: dict[int, int]) -> cmd.Command:
    """The command with every original note number replaced (``LookupError``: no such note)."""

    def mapped(number: int) -> int:
        if number not in numbers:
            raise LookupError(f"note {number} was never submitted in the re-run")
        return numbers[number]

    changes: dict[str, Any] = {}
    for name in ("note", "in_reply_to"):
        number = getattr(command, name, None)
        if number is not None:
            changes[name] = mapped(number)
    condition = getattr(command, "condition", None)
    if condition:
        kind, _, number = condition.partition(":")
        if number.isdigit():
            changes["condition"] = f"{kind}:{mapped(int(number))}"
    return dataclasses.replace(command, **changes) if changes else command


def _describe(recorded: Entry, actual: Entry) -> str:
    if recorded.type != actual.type:
        return f"recorded {recorded.type}, replay produced {actual.type}"
    if recorded.at != actual.at:
        return f"{recorded.type} recorded at {recorded.at}, replayed at {actual.at}"
    fields = sorted(
        key
        for key in recorded.data.keys() | actual.data.keys()
        if recorded.data.get(key) != actual.data.get(key)
    )
    details = ", ".join(
        f"{key}: recorded {recorded.data.get(key)!r}, replayed {actual.data.get(key)!r}"
        for key in fields
    )
    return f"{recorded.type} differs in {details}"
