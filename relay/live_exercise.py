"""One exercise, run live: the core against the wall clock and the journal store.

All inputs of an exercise (seat commands from its inbox, timer wake-ups) go through one
lock, in this order:

    advance/handle the core at clock.now()  ->  drain events  ->  append to the store (durable)
    ->  publish to subscribed seats  ->  reply to each command (its ack)

so a sender is acknowledged only after its note is committed (DESIGN §journal), and every
subscriber sees events in journal order with no gap. If the store refuses, the core is
rebuilt from what the journal holds and every input of the step hears the error.

    timers: sleep until core.next_deadline() (or a step's wake-up)  ->  advance  ->  commit
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from relay.clock import ExerciseClock
from relay.core import Exercise, Phase, ShuttleError, visible_to
from relay.core import commands as cmd
from relay.core import events as ev
from relay.frames import Close, Outgoing, event_frame
from relay.gcpause import keep_out_of_full_collections
from relay.inbox import Applied, Inbox, Reply
from relay.journal import from_entry, journal_header, to_entry
from relay.replay import rebuild
from relay.store import Entry, ExerciseRecord, JournalStore

__all__ = ["LiveExercise", "Subscriber"]

log = logging.getLogger("shuttle.live")


@dataclass(eq=False)
class Subscriber:
    """One connected seat: frames to send, in order, possibly ending with a :class:`Close`."""

    seat: str
    role: str
    queue: asyncio.Queue[Outgoing] = field(default_factory=asyncio.Queue)


class LiveExercise:
    """One exercise served live: its core, journal, clock, seats' streams and timers."""

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
        self.inbox = Inbox(self._step, self.lock, f"steps-{record.id}")

    @property
    def id(self) -> str:
        return self.record.id

    def header(self) -> dict[str, Any]:
        return journal_header(self.record)

    # ------------------------------------------------------------------ inputs

    def enqueue(self, command: cmd.Command) -> asyncio.Future[Applied]:
        """Queue a seat's command for the next step; the future tells its outcome
        (:meth:`Inbox.enqueue`)."""
        return self.inbox.enqueue(command)

    def post(self, command: cmd.Command, reply: Reply) -> None:
        """Queue a seat's command for the next step; ``reply`` is told its outcome
        (:meth:`Inbox.post`)."""
        self.inbox.post(command, reply)

    async def command(self, command: cmd.Command) -> Applied:
        """Apply a seat's command and wait until it is durable; raises its refusal."""
        return await self.inbox.command(command)

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

    async def catch_up(self, missed: list[ev.Event]) -> None:
        """Journal what the core made that the journal lacks (``missed``, then any event not
        yet drained), advance a running exercise to the clock's time and journal that, then
        start the timers: how a new, loaded or recovered exercise goes live."""
        async with self.lock:
            await self._commit(missed)
            if self.core.phase is Phase.RUNNING:
                self.core.advance(self.now())
            await self._commit()
        self.start_timers()

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
        keep_out_of_full_collections(len(entries))
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


def _client_key(command: cmd.Submit) -> tuple[str, str]:
    return command.by, command.client_id
