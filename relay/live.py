"""The live driver: the core of each exercise, run against the wall clock and the journal store.

For every exercise the hub keeps one :class:`LiveExercise`. All its inputs (seat commands and
timer wake-ups) go through one lock, in this order:

    advance/handle the core at clock.now()  ->  drain events  ->  append to the store (durable)
    ->  publish to subscribed seats  ->  acknowledge the sender

so a sender is acknowledged only after its note is committed (DESIGN §journal), and every
subscriber sees events in journal order with no gap. After a restart, even after ``kill -9``,
:meth:`ExerciseHub.load` rebuilds each core by re-executing the journal's inputs and checking
the result against the record, then appends whatever became due while the server was down, so
every acknowledged note is delivered exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import hashlib
import itertools
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from pydantic import ValidationError

from relay.core import Exercise, Phase, ShuttleError, visible_to
from relay.core import commands as cmd
from relay.core import events as ev
from relay.frames import Close, Outgoing, event_frame
from relay.journal import (
    JournalFormatError,
    from_entry,
    journal_header,
    parse_journal,
    to_entry,
)
from relay.replay import first_mismatch, rebuild
from relay.rng import seeded_streams
from relay.shares import WHOLE, Share, new_exercise_id
from relay.store import Entry, ExerciseRecord, JournalStore, SeatRecord, StoreError
from schemas import wire
from schemas.scenario import Scenario, ScenarioError, describe_errors

__all__ = [
    "NO_SEAT",
    "Applied",
    "Close",
    "Outgoing",
    "ExerciseClock",
    "ExerciseHub",
    "ImportedJournal",
    "LiveExercise",
    "Subscriber",
    "check_import",
    "hash_token",
]

log = logging.getLogger("shuttle.live")


def hash_token(token: str) -> str:
    """Tokens are stored and compared only as SHA-256 digests."""
    return hashlib.sha256(token.encode()).hexdigest()


class ExerciseClock:
    """Exercise time from the wall clock: ``at + (wall - anchor) * speed`` while running.

    Frozen before the start and while paused. Anchored on the wall time journalled with the
    start/resume event, so a restarted server continues the same timeline.
    """

    def __init__(self, speed: float, wall: Callable[[], float] = time.time) -> None:
        self.speed = speed
        self.wall = wall
        self._at = 0.0
        self._anchor: float | None = None

    def now(self) -> float:
        if self._anchor is None:
            return self._at
        return self._at + max(0.0, self.wall() - self._anchor) * self.speed

    def run_from(self, at: float, wall: float) -> None:
        self._at, self._anchor = at, wall

    def freeze(self, at: float) -> None:
        self._at, self._anchor = at, None

    def seconds_until(self, at: float) -> float:
        """Wall seconds until exercise time ``at`` (infinite while frozen)."""
        if self._anchor is None:
            return float("inf")
        return max(0.0, (at - self.now()) / self.speed)

    def follow(self, event: ev.Event, wall: float | None) -> None:
        """Track the lifecycle: run from a start/resume, freeze on a pause or the end."""
        kind = type(event)
        if kind is ev.ExerciseStarted or kind is ev.ExerciseResumed:
            self.run_from(event.at, wall if wall is not None else self.wall())
        elif kind is ev.ExercisePaused or kind is ev.ExerciseEnded:
            self.freeze(event.at)


@dataclass(eq=False)
class Subscriber:
    """One connected seat: frames to send, in order, possibly ending with a :class:`Close`."""

    seat: str
    role: str
    queue: asyncio.Queue[Outgoing] = field(default_factory=asyncio.Queue)


@dataclass(slots=True)
class Applied:
    """A command once durable: the journal's last seq then and, for a submit, its note."""

    seq: int = 0
    note: int | None = None
    fresh: bool = True  # False: a repeated submit, answered with the note it made before


Reply = Callable[[Applied | BaseException], None]
"""Told a command's outcome once its step is durable (:meth:`LiveExercise.post`)."""

NO_SEAT = "no such exercise, or the token opens none of its seats (or was revoked)"
"""What a refused token is told, over REST and websockets alike. It names every cause, so
the user checks both the exercise id and the token, and nobody learns which exercises exist
(docs/security.md)."""


class LiveExercise:
    def __init__(
        self,
        record: ExerciseRecord,
        core: Exercise,
        store: JournalStore,
        entries: list[Entry],
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.record = record
        self.core = core
        self.store = store
        self.entries = entries
        self.clock = ExerciseClock(record.speed, wall)
        for entry in entries:
            self.clock.follow(from_entry(entry), entry.wall)
        self.lock = asyncio.Lock()
        self._unsaved: list[ev.Event] = []  # produced, not yet durable (after a failed append)
        self.subscribers: set[Subscriber] = set()
        self.revoked: set[str] = set()  # seats revoked while loaded (the store keeps it too)
        self._wake = asyncio.Event()
        self._timer: asyncio.Task[None] | None = None
        self._status = core.phase.value
        self._inbox: list[tuple[cmd.Command, Reply]] = []
        self._stepper: asyncio.Task[None] | None = None

    @property
    def id(self) -> str:
        return self.record.id

    def header(self) -> dict[str, Any]:
        return journal_header(self.record)

    # ------------------------------------------------------------------ inputs

    def enqueue(self, command: cmd.Command) -> asyncio.Future[Applied]:
        """Queue a seat's command for the exercise's next step.

        The future resolves once the command's events are durable, or raises its refusal
        (:class:`~relay.core.ShuttleError`) or the store's error. Commands queued while a step
        is being committed are applied together in the next one, in arrival order, at the
        clock's time, with one commit and one message per seat for them all: each command by
        itself, exactly as one at a time, but for consecutive submissions, which are put down
        together and share the mediator's trips (:meth:`_submit_all`). The step runs to its
        end even if the caller leaves.
        """
        done: asyncio.Future[Applied] = asyncio.get_running_loop().create_future()
        done.add_done_callback(_retrieve)
        self.post(command, functools.partial(_settle, done))
        return done

    def post(self, command: cmd.Command, reply: Reply) -> None:
        """Queue a seat's command for the next step, as :meth:`enqueue` does; ``reply`` is
        called with its outcome (:class:`Applied`, or the refusal or error) in the step
        that makes it durable, after its events are published, on the step's own task."""
        self._inbox.append((command, reply))
        if self._stepper is None:
            self._stepper = asyncio.get_running_loop().create_task(
                self._run_steps(), name=f"steps-{self.id}"
            )

    async def command(self, command: cmd.Command) -> Applied:
        """Apply a seat's command and wait until it is durable; raises its refusal."""
        return await asyncio.shield(self.enqueue(command))

    async def _run_steps(self) -> None:
        try:
            while self._inbox:
                async with self.lock:
                    inputs, self._inbox = self._inbox, []
                    await self._step(inputs)
        finally:
            self._stepper = None
            for _, reply in self._inbox:  # only if cancelled (shutdown): nothing will apply them
                reply(StoreError("the relay is shutting down; send it again"))
            self._inbox = []

    async def _step(self, inputs: list[tuple[cmd.Command, Reply]]) -> None:
        outcomes: list[Applied | Exception] = []
        for submits, run in itertools.groupby(
            (command for command, _ in inputs), lambda command: isinstance(command, cmd.Submit)
        ):
            if submits:
                outcomes += self._submit_all(cast(list[cmd.Submit], list(run)))
            else:
                outcomes += [self._apply(command) for command in run]
        try:
            # Timers that fired on the way to now stand even when a command was refused.
            await self._commit()
        except Exception as error:  # nothing of this step is durable: every input hears it
            for _, reply in inputs:
                reply(error)
            return
        self._wake.set()
        seq = self.core.last_seq
        for (_, reply), outcome in zip(inputs, outcomes, strict=True):
            if isinstance(outcome, Applied):
                outcome.seq = seq
            reply(outcome)

    def _apply(self, command: cmd.Command) -> Applied | Exception:
        """Apply one command to the core (not yet durable); a refusal is returned, not raised."""
        try:
            self.core.handle(command, self.now())
            return Applied()
        except Exception as refused:  # a rule broken (ShuttleError), or a bug: this input only
            if not isinstance(refused, ShuttleError):
                log.exception("exercise %s: %r failed", self.id, command)
            return refused

    def _submit_all(self, submits: list[cmd.Submit]) -> list[Applied | Exception]:
        """Put down notes that arrived together (not yet durable); refusals are returned.

        A note is submitted once per client id: a repeat is answered with the note the first
        one made. A client id repeated within the run starts a new step there, so that the
        repeat meets the first one's outcome, as it would one at a time.
        """
        outcomes: list[Applied | Exception] = []
        start = 0
        while start < len(submits):
            seen: set[tuple[str, str]] = set()
            end = start
            while end < len(submits) and (key := _client_key(submits[end])) not in seen:
                seen.add(key)
                end += 1
            outcomes += self._put_down(submits[start:end])
            start = end
        return outcomes

    def _put_down(self, submits: list[cmd.Submit]) -> list[Applied | Exception]:
        """One step of submissions, no client id twice among them."""
        outcomes: list[Applied | Exception | None] = []
        fresh: list[cmd.Submit] = []
        for command in submits:
            known = self.core.note_for_client(*_client_key(command))
            outcomes.append(None if known is None else Applied(note=known, fresh=False))
            if known is None:
                fresh.append(command)
        try:
            refusals: list[Exception | None] = list(self.core.handle_together(fresh, self.now()))
        except Exception as failed:  # a bug: these inputs only
            log.exception("exercise %s: submissions failed: %r", self.id, fresh)
            refusals = [failed] * len(fresh)
        answers = iter(refusals)
        for i, command in enumerate(submits):
            if outcomes[i] is None:
                note = self.core.note_for_client(*_client_key(command))
                outcomes[i] = next(answers) or Applied(note=note)
        return cast(list[Applied | Exception], outcomes)

    def now(self) -> float:
        """Exercise time for the next input: the clock, never behind what the core has seen.

        (A timer that ends or pauses the talks freezes the clock at its due time, which can be
        a moment before the wake-up the core was advanced to.)
        """
        return max(self.clock.now(), self.core.now)

    async def _commit(self, events: list[ev.Event] | None = None) -> list[ev.Event]:
        """Make the core's new events durable, then publish them. Call with the lock held.

        If the store refuses, the core is rebuilt from the entries already committed, so it
        never runs ahead of the journal; what the rebuild produces beyond them (timers due
        meanwhile) is offered again on the next commit, and the caller gets the error.
        """
        events = self._unsaved + (self.core.events() if events is None else events)
        self._unsaved = []
        if not events:
            return events
        wall = self.clock.wall()
        entries = [to_entry(event, wall, encode=True) for event in events]
        try:
            await self.store.append(self.id, entries)
        except Exception:
            # The journal is the truth: start again from what it holds, if it can be read.
            with contextlib.suppress(Exception):
                self.entries = await self.store.read(self.id)
            self.core, produced = rebuild(self.entries)
            self._unsaved = produced[len(self.entries) :]
            raise
        self.entries.extend(entries)
        _keep_out_of_full_collections(len(entries))
        for event in events:
            self.clock.follow(event, wall)
        self._publish(events, entries)
        if self.core.phase.value != self._status:
            self._status = self.core.phase.value
            await self.store.set_status(self.id, self._status)
        return events

    def _publish(self, events: list[ev.Event], entries: list[Entry]) -> None:
        """Queue each subscriber the frames of the events it may see: one item per commit."""
        texts: list[str | None] = [None] * len(entries)  # each frame built once, if seen
        for sub in self.subscribers:
            frames = []
            for i, event in enumerate(events):
                if visible_to(sub.seat, sub.role, event):
                    text = texts[i]
                    if text is None:
                        text = texts[i] = event_frame(entries[i])
                    frames.append(text)
            if frames:
                sub.queue.put_nowait(frames)

    # ------------------------------------------------------------------ readers

    async def subscribe(self, seat: str, role: str, after_seq: int) -> tuple[Subscriber, int]:
        """Queue the seat's visible history after ``after_seq``, then live events, gap-free.

        Returns the subscriber and the journal's last seq when the history was read: every
        event up to it is in the queue (if visible), every later one will follow.
        """
        sub = Subscriber(seat, role)
        async with self.lock:
            for entry in self.visible(seat, role, after_seq):
                sub.queue.put_nowait(event_frame(entry))
            self.subscribers.add(sub)
            return sub, self.core.last_seq

    def unsubscribe(self, sub: Subscriber) -> None:
        self.subscribers.discard(sub)

    def disconnect(self, seat: str, close: Close) -> int:
        """Close every socket of ``seat`` (after what is already queued); returns how many."""
        subs = [sub for sub in self.subscribers if sub.seat == seat]
        for sub in subs:
            sub.queue.put_nowait(close)
            self.subscribers.discard(sub)
        return len(subs)

    def visible(self, seat: str, role: str, after_seq: int = 0) -> list[Entry]:
        return [
            entry for entry in self.entries[after_seq:] if visible_to(seat, role, from_entry(entry))
        ]

    # ------------------------------------------------------------------ timers

    def start_timers(self) -> None:
        if self._timer is None:
            self._timer = asyncio.create_task(self._run_timers(), name=f"timers-{self.id}")

    async def stop_timers(self) -> None:
        task, self._timer = self._timer, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run_timers(self) -> None:
        me = asyncio.current_task()
        # The loop also ends once it is no longer the exercise's timer task: on Python 3.11,
        # ``wait_for`` swallows a cancellation that arrives as the event it waits on is set
        # (a step's ``_wake``), and returns as if woken, so ``cancel`` alone could be lost and
        # leave ``stop_timers`` waiting for ever.
        while self._timer is me and self.core.phase is not Phase.ENDED:
            deadline = self.core.next_deadline()
            delay = float("inf") if deadline is None else self.clock.seconds_until(deadline)
            if delay > 0:
                self._wake.clear()
                timeout = None if delay == float("inf") else delay
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout)
                # Re-check the clock: uvloop may wake us a little early (DESIGN §3).
                continue
            try:
                async with self.lock:
                    self.core.advance(self.now())
                    await self._commit()
            except Exception:  # a store outage must not kill the timeline silently
                log.exception("exercise %s: timer step failed; retrying", self.id)
                await asyncio.sleep(0.5)


class ExerciseHub:
    """Every exercise this process serves, loaded from the store on demand."""

    def __init__(
        self, store: JournalStore, wall: Callable[[], float] = time.time, share: Share = WHOLE
    ) -> None:
        self.store = store
        self.wall = wall
        self.share = share  # the exercises this process serves (relay/shares.py)
        self._live: dict[str, LiveExercise] = {}
        self._loading = asyncio.Lock()

    async def create(
        self,
        scenario: Scenario,
        *,
        seed: int | None = None,
        speed: float = 1.0,
        title: str | None = None,
        observers: int = 1,
    ) -> tuple[LiveExercise, dict[str, str]]:
        """A new exercise in ``draft``; returns it and one fresh token per seat."""
        seed = secrets.randbits(48) if seed is None else seed
        core = Exercise(scenario, seed=seed, rng=seeded_streams(seed))
        exercise_id = self.share.new_id()
        record = ExerciseRecord(
            id=exercise_id,
            scenario=scenario.model_dump(mode="json"),
            seed=seed,
            speed=speed,
            created_wall=self.wall(),
            status=Phase.DRAFT.value,
            title=title or scenario.title,
        )
        tokens = await self._store_new(record, core, observers)
        live = LiveExercise(record, core, self.store, [], self.wall)
        async with live.lock:
            await live._commit()
        self._live[exercise_id] = live
        live.start_timers()
        gc.freeze()  # see relay/app.py: long-lived state stays out of full collections
        return live, tokens

    async def import_journal(
        self, text: str, where: str = "import"
    ) -> tuple[LiveExercise, dict[str, str]]:
        """A journal file as a new exercise (same entries, new id and tokens), checked first
        (see :func:`check_import`)."""
        return await self.store_import(check_import(text, where, self.wall, self.share.new_id))

    async def store_import(self, imported: ImportedJournal) -> tuple[LiveExercise, dict[str, str]]:
        """Store a journal :func:`check_import` accepted; returns the exercise and its tokens."""
        tokens = await self._store_new(imported.record, imported.core, 1)
        await self.store.append(imported.record.id, imported.entries)
        return await self.get(imported.record.id), tokens  # type: ignore[return-value]

    async def _store_new(
        self, record: ExerciseRecord, core: Exercise, observers: int
    ) -> dict[str, str]:
        seats = [*core.parties, "mediator", "facilitator"]
        seats += ["observer"] if observers == 1 else [f"observer-{i + 1}" for i in range(observers)]
        tokens = {seat: secrets.token_urlsafe(24) for seat in seats}
        await self.store.create_exercise(
            record,
            [
                SeatRecord(record.id, seat, core.role_of(seat), hash_token(token))
                for seat, token in tokens.items()
            ],
        )
        return tokens

    async def get(self, exercise_id: str) -> LiveExercise | None:
        live = self._live.get(exercise_id)
        if live is not None:
            return live
        if not self.share.owns(exercise_id):
            # The front process routes by path (relay/workers.py), so this is a bug: serving
            # it here too would give the exercise two cores writing one journal.
            raise RuntimeError(f"exercise {exercise_id} belongs to another relay process")
        async with self._loading:
            if exercise_id not in self._live:
                record = await self.store.get_exercise(exercise_id)
                if record is None:
                    return None
                try:
                    self._live[exercise_id] = await self.load(record)
                except Exception:  # every caller refuses to serve it; the log says why
                    log.exception("exercise %s cannot be served", exercise_id)
                    raise
                gc.freeze()
        return self._live[exercise_id]

    async def load(self, record: ExerciseRecord) -> LiveExercise:
        """Rebuild an exercise from its journal and catch up with the time spent down."""
        entries = await self.store.read(record.id)
        if not entries:  # created, but the first append never committed
            scenario = Scenario.model_validate(record.scenario)
            core = Exercise(scenario, seed=record.seed, rng=seeded_streams(record.seed))
            missed = core.events()
        else:
            core, produced = rebuild(entries)
            _check_faithful(record.id, entries, produced)
            missed = produced[len(entries) :]
        live = LiveExercise(record, core, self.store, entries, self.wall)
        async with live.lock:
            await live._commit(missed)
            if core.phase is Phase.RUNNING:
                core.advance(live.now())
            await live._commit()
        live.start_timers()
        return live

    async def recover(self) -> int:
        """Load every unfinished exercise so its timers run again; returns how many."""
        count = 0
        for record in await self.store.list_exercises():
            if record.status == Phase.ENDED.value or record.id in self._live:
                continue
            if not self.share.owns(record.id):  # another relay process recovers it
                continue
            try:
                await self.get(record.id)
            except Exception:  # one bad journal must not keep the relay from serving the rest
                log.exception("exercise %s could not be recovered; it stays stopped", record.id)
                continue
            count += 1
        return count

    async def authenticate(self, exercise_id: str, token: str) -> SeatRecord | None:
        """The seat ``token`` opens in the exercise, or None (see :data:`NO_SEAT`)."""
        seat = await self.store.find_seat(exercise_id, hash_token(token))
        if seat is None or seat.revoked:
            return None
        return seat

    async def revoke(self, live: LiveExercise, seat: str, close: Close) -> int:
        """Revoke a seat's token for good and close its sockets at once; returns how many.

        The seat is marked in memory first, so a socket that authenticated a moment before
        cannot subscribe after the sockets were closed.
        """
        live.revoked.add(seat)
        await self.store.revoke_seat(live.id, seat)
        return live.disconnect(seat, close)

    async def close(self) -> None:
        for live in list(self._live.values()):
            await live.stop_timers()
        self._live.clear()


def _client_key(command: cmd.Submit) -> tuple[str, str]:
    return command.by, command.client_id


def _retrieve(done: asyncio.Future[Any]) -> None:
    if not done.cancelled():
        done.exception()  # its caller left: the error (a refusal) is nobody's to see


def _settle(done: asyncio.Future[Applied], outcome: Applied | BaseException) -> None:
    if done.done():
        return
    if isinstance(outcome, BaseException):
        done.set_exception(outcome)
    else:
        done.set_result(outcome)


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
        _check_faithful(where, journal.entries, produced)
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
        scenario=core.scenario.model_dump(mode="json"),
        seed=core.seed,
        speed=header.speed or 1.0,
        created_wall=header.created_wall or now,
        status=core.phase.value,
        title=header.title or core.scenario.title,
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


def _check_faithful(exercise_id: str, entries: list[Entry], produced: list[ev.Event]) -> None:
    mismatch = first_mismatch(entries, produced)
    if mismatch is not None:
        raise RuntimeError(f"exercise {exercise_id}: the journal does not replay: {mismatch}")


_FREEZE_EVERY = 200
_appended_since_freeze = 0


def _keep_out_of_full_collections(appended: int) -> None:
    """Move the journal (and everything else long-lived) out of the cyclic GC's reach.

    Full collections walk every tracked object; with hundreds of live journals that pauses
    every timer for 100+ ms (docs/performance.md). What is in memory here lives as long as its
    exercise, so it is frozen every ``_FREEZE_EVERY`` entries: often, so that the objects
    made between two freezes, which every collection walks, stay few (every 2,000 entries
    gave timer p99s of 4-9 ms with 500 exercises; every 200 gives about 2 ms).

    A frozen object is never collected by the cyclic GC, only by reference counting, so
    what is frozen must not die in a reference cycle: a closed connection, for one, must
    leave none (``relay.ws._stream``, tests/live/test_connection_memory.py).
    """
    global _appended_since_freeze
    _appended_since_freeze += appended
    if _appended_since_freeze >= _FREEZE_EVERY:
        _appended_since_freeze = 0
        gc.freeze()
