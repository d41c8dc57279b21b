"""An exercise's inbox: seat commands queued for its next step, and how each hears back.

    post(command, reply) / enqueue(command) -> Future
        | (the inbox's own task, started by the first command, ends when the inbox is empty)
        v
    under the exercise's lock: every command queued so far, in arrival order, is one step
        v
    the step (``LiveExercise._step``) applies, commits, publishes, then replies to each

Commands that arrive while a step commits wait for the next one, so a busy exercise commits
many commands at once. A reply is a plain callable, called on the step's task once the
command's events are durable (or with its refusal, or the store's error): the seat protocol
settles its ticket that way without a task of its own (docs/architecture.md, "The live
seam"); REST callers wait on a future.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from relay.core import commands as cmd
from relay.store import StoreError

__all__ = ["Applied", "Inbox", "Reply", "Step"]


@dataclass(slots=True)
class Applied:
    """A command once durable: the journal's last seq then and, for a submit, its note."""

    seq: int = 0
    note: int | None = None
    fresh: bool = True  # False: a repeated submit, answered with the note it made before


Reply = Callable[[Applied | BaseException], None]
"""Told a command's outcome once its step is durable (:meth:`Inbox.post`)."""

Step = Callable[[list[tuple[cmd.Command, Reply]]], Awaitable[None]]
"""Applies one step's commands and replies to each (called with the exercise's lock held)."""


class Inbox:
    """The commands waiting for one exercise's next step (see the module)."""

    def __init__(self, step: Step, lock: asyncio.Lock, name: str) -> None:
        self._step = step
        self._lock = lock
        self._name = name
        self._queued: list[tuple[cmd.Command, Reply]] = []
        self._stepper: asyncio.Task[None] | None = None

    def enqueue(self, command: cmd.Command) -> asyncio.Future[Applied]:
        """Queue a seat's command for the exercise's next step.

        The future resolves once the command's events are durable, or raises its refusal
        (:class:`~relay.core.ShuttleError`) or the store's error. Commands queued while a step
        is being committed are applied together in the next one, in arrival order, at the
        clock's time, with one commit and one message per seat for them all: each command by
        itself, exactly as one at a time, but for consecutive submissions, which are put down
        together and share the mediator's trips (``LiveExercise._submit_all``). The step runs to its
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
        self._queued.append((command, reply))
        if self._stepper is None:
            self._stepper = asyncio.get_running_loop().create_task(self._run(), name=self._name)

    async def command(self, command: cmd.Command) -> Applied:
        """Apply a seat's command and wait until it is durable; raises its refusal."""
        return await asyncio.shield(self.enqueue(command))

    async def _run(self) -> None:
        try:
            while self._queued:
                async with self._lock:
                    inputs, self._queued = self._queued, []
                    await self._step(inputs)
        finally:
            self._stepper = None
            for _, reply in self._queued:  # only if cancelled (shutdown): nothing will apply them
                reply(StoreError("the relay is shutting down; send it again"))
            self._queued = []


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
