"""Regressions of the live driver and replay, driven with a manual wall clock (no sleeps)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from typing import Any

import pytest

from relay.core import UnknownNote, WrongState
from relay.core import commands as cmd
from relay.journal import to_entry
from relay.live import ExerciseHub
from relay.replay import verify
from relay.store import Entry, MemoryStore
from relay.store.base import StoreError
from schemas.scenario import parse_scenario
from schemas.translate import exercise_config
from tests.conftest import quick_scenario


class Wall:
    def __init__(self) -> None:
        self.t = 1_000_000.0

    def __call__(self) -> float:
        return self.t


class FlakyStore(MemoryStore):
    """Refuses the next ``fail`` appends, as a database outage would."""

    def __init__(self) -> None:
        super().__init__()
        self.fail = 0

    async def append(self, exercise_id: str, entries: Sequence[Entry]) -> None:
        if self.fail:
            self.fail -= 1
            raise StoreError("database unavailable")
        await super().append(exercise_id, entries)


async def hub_with(store: MemoryStore, wall: Wall, **scenario: object) -> tuple:
    hub = ExerciseHub(store, wall)
    live, tokens = await hub.create(parse_scenario(quick_scenario(**scenario)), seed=1)
    await live.stop_timers()  # the test wakes the exercise by hand
    await live.command(cmd.Start(by="facilitator"))
    return hub, live


@pytest.mark.asyncio
async def test_commands_after_a_timer_ended_the_talks_are_refused_not_crashed() -> None:
    wall = Wall()
    hub, live = await hub_with(MemoryStore(), wall, deadline=100.0)
    wall.t += 150.0  # the deadline (t=100) is woken late, at t=150
    async with live.lock:
        live.core.advance(live.now())
        await live._commit()
    assert live.core.outcome is not None and live.core.outcome.at == 100.0
    with pytest.raises(WrongState, match="ended"):
        await live.command(cmd.Pause(by="facilitator"))
    await hub.close()


@pytest.mark.asyncio
async def test_a_failed_append_acknowledges_nothing_and_loses_nothing() -> None:
    store, wall = FlakyStore(), Wall()
    hub, live = await hub_with(store, wall)
    note = cmd.Submit(by="iran", client_id="n1", kind="statement", text="hello")
    store.fail = 1
    with pytest.raises(StoreError):
        await live.command(note)
    # the core did not run ahead of the journal: the retry is a fresh, stored note
    applied = await live.command(note)
    number, fresh = applied.note, applied.fresh
    assert (number, fresh) == (1, True)
    stored = await store.read(live.id)
    assert [e.type for e in stored].count("note.submitted") == 1
    assert [e.seq for e in stored] == list(range(1, len(stored) + 1))
    assert verify(stored) is None
    await hub.close()


@pytest.mark.asyncio
async def test_an_unrecoverable_exercise_does_not_stop_the_others() -> None:
    store, wall = MemoryStore(), Wall()
    hub, good = await hub_with(store, wall)
    await hub.close()
    # a second exercise whose journal records an arrival no re-execution can produce
    created = good.entries[0]
    record = dataclasses.replace(good.record, id="ex-broken", status="running")
    await store.create_exercise(record, [])
    await store.append(
        "ex-broken", [created, Entry(seq=2, at=5.0, type="mediator.arrived", data={"room": "usa"})]
    )
    again = ExerciseHub(store, wall)
    assert await again.recover() == 1  # the good one; the broken one is logged and left
    assert await again.get(good.id) is not None
    await again.close()


def test_a_journal_without_later_scenario_fields_still_verifies() -> None:
    from relay.core import Exercise
    from relay.rng import seeded_streams

    data = quick_scenario()
    del data["rules"]
    scenario = parse_scenario(data)
    core = Exercise(exercise_config(scenario), seed=3, rng=seeded_streams(3))
    core.handle(cmd.Start(by="facilitator"), 0.0)
    core.handle(cmd.Submit(by="iran", client_id="a", kind="statement", text="x"), 1.0)
    core.advance(100.0)
    entries = [to_entry(e) for e in core.events()]
    created = entries[0].data["scenario"]
    assert "rules" not in created and "jitter" not in str(created), "defaults are not written"
    assert verify(entries) is None


def test_an_input_moved_back_in_time_is_a_mismatch_not_a_crash() -> None:
    from relay.core import Exercise
    from relay.rng import seeded_streams

    core = Exercise(
        exercise_config(parse_scenario(quick_scenario())), seed=3, rng=seeded_streams(3)
    )
    core.handle(cmd.Start(by="facilitator"), 0.0)
    core.handle(cmd.Submit(by="iran", client_id="a", kind="statement", text="x"), 5.0)
    core.handle(cmd.Submit(by="iran", client_id="b", kind="statement", text="y"), 9.0)
    entries = [to_entry(e) for e in core.events()]
    index = max(i for i, e in enumerate(entries) if e.type == "note.submitted")
    entries[index] = dataclasses.replace(entries[index], at=1.0)
    mismatch = verify(entries)
    # re-execution stops at the impossible input; the first event it cannot reproduce is named
    assert mismatch is not None and mismatch.seq <= entries[index].seq


ZERO_DELAY = {
    "travel": {"dist": "constant", "value": 0.0},
    "reading": {"dist": "constant", "value": 0.0},
    "drafting": {"dist": "constant", "value": 0.0},
}


@pytest.mark.asyncio
async def test_notes_queued_together_are_put_down_together_and_share_trips() -> None:
    store, wall = MemoryStore(), Wall()
    hub, live = await hub_with(store, wall, latency=ZERO_DELAY)

    def note(client_id: str, **kw: Any) -> cmd.Submit:
        kw.setdefault("kind", "statement")
        return cmd.Submit(by="iran", client_id=client_id, text=client_id, **kw)

    before = len(live.entries)
    # queued without yielding to the loop: one step applies them all
    queued = [
        live.enqueue(note("a")),
        live.enqueue(note("b")),
        live.enqueue(note("a")),  # a repeat inside the step: the note "a" made
        live.enqueue(note("c", kind="reply", answer="accept", in_reply_to=99)),  # refused
        live.enqueue(cmd.Pause(by="facilitator")),  # not a submission: applied after them
        live.enqueue(note("d")),  # refused: the talks are paused
    ]
    outcomes = await asyncio.gather(*queued, return_exceptions=True)
    a, b, again, reply, paused, late = outcomes
    assert (a.note, a.fresh, b.note, b.fresh) == (1, True, 2, True)
    assert (again.note, again.fresh) == (1, False)
    assert isinstance(reply, UnknownNote) and isinstance(late, WrongState)
    assert a.seq == b.seq == paused.seq == live.core.last_seq  # one commit
    stored = await store.read(live.id)
    step = stored[before:]
    assert [e.type for e in step[:2]] == ["note.submitted"] * 2  # put down together
    departures = [e.data["destination"] for e in step if e.type == "mediator.departed"]
    assert departures == ["usa"]  # both notes on one trip
    assert [e.data["note"] for e in step if e.type == "note.delivered"] == [1, 2]
    assert step[-1].type == "exercise.paused"
    assert verify(stored) is None
    await hub.close()


@pytest.mark.asyncio
async def test_a_client_id_resent_after_its_refusal_in_one_step_is_a_new_note() -> None:
    """A refused submission uses up nothing: its client id sent again in the same step, now
    right, makes a note, as it would one at a time."""
    store, wall = MemoryStore(), Wall()
    hub, live = await hub_with(store, wall, latency=ZERO_DELAY)
    wrong = cmd.Submit(
        by="iran", client_id="z", kind="reply", answer="accept", in_reply_to=99, text="yes"
    )
    right = cmd.Submit(by="iran", client_id="z", kind="statement", text="hello")
    again = cmd.Submit(by="iran", client_id="z", kind="statement", text="hello")
    other = cmd.Submit(by="iran", client_id="y", kind="statement", text="and this")
    queued = [live.enqueue(c) for c in (other, wrong, right, again)]
    y, refused, z, repeat = await asyncio.gather(*queued, return_exceptions=True)
    assert isinstance(refused, UnknownNote)
    assert (y.note, y.fresh, z.note, z.fresh) == (1, True, 2, True)
    assert (repeat.note, repeat.fresh) == (2, False)
    assert verify(await store.read(live.id)) is None
    await hub.close()
