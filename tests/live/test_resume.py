"""Resume and idempotent submission across dropped connections, against a live relay; and
input steps that run to completion when the seat that asked for them goes away."""

from __future__ import annotations

import asyncio
import io
import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import websockets

from clients.sdk import Backoff, RelayAPI, SeatClient, ws_url
from relay.core import Phase
from relay.core import commands as cmd
from relay.journal import write_journal
from relay.live import ExerciseHub
from relay.replay import verify
from relay.store import Entry, MemoryStore
from schemas.scenario import parse_scenario
from tests.conftest import quick_scenario

pytestmark = pytest.mark.asyncio

FAST = {"backoff": Backoff(initial=0.01, maximum=0.05)}


async def started(api: RelayAPI) -> dict[str, Any]:
    created = await api.create(quick_scenario(), seed=1, speed=1000.0)
    await api.control(created["id"], "start", created["seats"]["facilitator"])
    return created


async def raw_hello(url: str, exercise: str, token: str, last_seq: int = 0) -> tuple[Any, dict]:
    ws = await websockets.connect(ws_url(url, exercise), compression=None)
    await ws.send(json.dumps({"type": "hello", "token": token, "last_seq": last_seq}))
    return ws, json.loads(await ws.recv())


async def test_the_sdk_resumes_after_a_drop_without_gap_or_repeat(
    api: RelayAPI, relay_url: str
) -> None:
    created = await started(api)
    exercise, seats = created["id"], created["seats"]
    iran = await SeatClient.connect(relay_url, exercise, seats["iran"], **FAST)
    seen: list[int] = []
    await iran.submit(client_id="a", kind="statement", text="before")
    iran.drop()
    # sent while the connection is down or coming back: waits, then goes through once
    await iran.submit(client_id="b", kind="statement", text="after")
    await iran.submit(client_id="c", kind="statement", text="after, too")
    journal = await api.journal(exercise, seats["iran"])
    async with asyncio.timeout(10):
        async for frame in iran.events():
            seen.append(frame["seq"])
            if frame["seq"] == journal[-1]["seq"]:
                break
    await iran.close()
    assert seen == [e["seq"] for e in journal], "every visible event once, in order"
    assert len(iran.resumes) == 1 and iran.resumes[0].complete
    assert iran.resumes[0].after >= 1
    submitted = [e for e in journal if e["type"] == "note.submitted"]
    assert [e["data"]["client_id"] for e in submitted] == ["a", "b", "c"]


async def test_welcome_says_whether_the_resume_is_complete(api: RelayAPI, relay_url: str) -> None:
    created = await started(api)
    exercise, token = created["id"], created["seats"]["facilitator"]
    last = (await api.get(exercise, token))["last_seq"]
    for claimed, complete in ((0, True), (last, True), (last + 50, False)):
        ws, welcome = await raw_hello(relay_url, exercise, token, claimed)
        assert welcome["resumed_after"] == claimed and welcome["last_seq"] == last
        assert welcome["resume_complete"] is complete
        await ws.close()


async def test_a_resubmission_after_a_drop_before_the_ack_is_stored_once(
    api: RelayAPI, relay_url: str
) -> None:
    created = await started(api)
    exercise, token = created["id"], created["seats"]["iran"]
    note = {"type": "submit", "id": "1", "client_id": "once", "kind": "statement", "text": "x"}
    ws, _ = await raw_hello(relay_url, exercise, token)
    await ws.send(json.dumps(note))
    ws.transport.abort()  # gone before any answer could arrive
    ws, welcome = await raw_hello(relay_url, exercise, token)
    await ws.send(json.dumps(note))
    async with asyncio.timeout(10):
        while (ack := json.loads(await ws.recv()))["type"] != "ack":
            pass
    await ws.close()
    journal = await api.journal(exercise, created["seats"]["facilitator"])
    stored = [e for e in journal if e["type"] == "note.submitted"]
    assert len(stored) == 1 and stored[0]["dedupe_key"] == "iran:once"
    assert ack["note"] == stored[0]["data"]["note"] and ack["client_id"] == "once"


async def test_the_database_itself_refuses_a_second_entry_with_the_same_key(
    api: RelayAPI, relay_url: str, tmp_path: Path
) -> None:
    created = await started(api)
    async with await SeatClient.connect(relay_url, created["id"], created["seats"]["iran"]) as s:
        await s.submit(client_id="k", kind="statement", text="x")
    db = sqlite3.connect(tmp_path / "relay.db")
    with db, pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        db.execute(
            "INSERT INTO journal (exercise_id, seq, at, type, data, dedupe_key) "
            "VALUES (?, 99999, 0, 'note.submitted', '{}', 'iran:k')",
            (created["id"],),
        )
    db.close()


class GatedStore(MemoryStore):
    """Holds every append until the test opens the gate."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.waiting = asyncio.Event()

    async def append(self, exercise_id: str, entries: Sequence[Entry]) -> None:
        self.waiting.set()
        await self.gate.wait()
        await super().append(exercise_id, entries)


async def test_a_step_whose_caller_is_cancelled_still_commits_and_publishes() -> None:
    store = GatedStore()
    store.gate.set()
    hub = ExerciseHub(store)
    live, _ = await hub.create(parse_scenario(quick_scenario()), seed=1)
    await live.stop_timers()
    await live.command(cmd.Start(by="facilitator"))
    store.gate.clear()
    store.waiting.clear()
    note = cmd.Submit(by="iran", client_id="n1", kind="statement", text="hello")
    caller = asyncio.create_task(live.command(note))
    await store.waiting.wait()
    caller.cancel()  # the seat disconnected while its note was being committed
    store.gate.set()
    with pytest.raises(asyncio.CancelledError):
        await caller
    applied = await live.command(note)
    number, fresh = applied.note, applied.fresh  # resent after the reconnection
    assert (number, fresh) == (1, False)
    again = await live.command(cmd.Submit(by="iran", client_id="n2", kind="statement", text="next"))
    assert (again.note, again.fresh) == (2, True)
    stored = await store.read(live.id)
    assert [e.seq for e in stored] == list(range(1, len(stored) + 1))
    assert stored == live.entries and verify(stored) is None
    await hub.close()


async def test_an_unfinished_journal_is_imported_paused_where_it_stops() -> None:
    wall = [1_000.0]
    hub = ExerciseHub(MemoryStore(), wall=lambda: wall[0])
    live, _ = await hub.create(parse_scenario(quick_scenario(deadline=600)), seed=3)
    await live.command(cmd.Start(by="facilitator"))
    await live.command(cmd.Submit(by="iran", client_id="n1", kind="statement", text="hello"))
    await live.stop_timers()
    buffer = io.StringIO()
    write_journal(buffer, live.entries, live.header())
    wall[0] += 3_600  # imported an hour later: past the deadline, had the clock run on

    copy, _ = await hub.import_journal(buffer.getvalue())

    stored = await hub.store.read(copy.id)
    assert stored[: len(live.entries)] == live.entries
    (paused,) = stored[len(live.entries) :]
    assert (paused.type, paused.data["by"]) == ("exercise.paused", "facilitator")
    assert paused.at == live.entries[-1].at
    assert copy.core.phase is Phase.PAUSED and copy.entries == stored
    assert verify(stored) is None
    await hub.close()
