"""Kill the relay with SIGKILL while notes are in flight; after a restart every acknowledged
note is delivered exactly once (DESIGN §journal: durable before acknowledged)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from clients.sdk import Refused, RelayAPI, SeatClient
from relay.settings import Settings
from tests.conftest import quick_scenario
from tests.live.servers import RelayProcess, serving

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]


@pytest.fixture
def database(tmp_path: Path) -> Iterator[str]:
    yield f"sqlite:///{tmp_path / 'crash.db'}"


async def test_sigkill_with_notes_in_flight_loses_and_duplicates_nothing(database: str) -> None:
    relay = RelayProcess(database)
    try:
        async with RelayAPI(relay.url) as api:
            # Travel takes 30 exercise seconds at 10x: 3 s of wall time per leg.
            scenario = quick_scenario(latency={"travel": {"dist": "constant", "value": 30}})
            created = await api.create(scenario, seed=5, speed=10.0)
            exercise, seats = created["id"], created["seats"]
            await api.control(exercise, "start", seats["facilitator"])
            acked: dict[str, set[int]] = {"iran": set(), "usa": set()}
            for party in ("iran", "usa"):
                async with await SeatClient.connect(relay.url, exercise, seats[party]) as seat:
                    for n in range(15):
                        ack = await seat.submit(
                            client_id=f"{party}-{n}", kind="statement", text=f"{party} note {n}"
                        )
                        acked[party].add(ack["note"])
        # t=0: the mediator, in Iran's room, took Iran's 15 notes and walks to the U.S. room;
        # the U.S. notes wait on the table. Kill the relay mid-walk.
        relay.kill()
        relay = RelayProcess(database, relay.port)
        expected = {"usa": acked["iran"], "iran": acked["usa"]}
        seen: Counter[tuple[str, int]] = Counter()
        async with asyncio.timeout(60):
            for recipient, notes in expected.items():
                async with await SeatClient.connect(relay.url, exercise, seats[recipient]) as seat:
                    async for frame in seat.events():
                        if frame["event"] == "note.delivered":
                            seen[(recipient, frame["data"]["note"])] += 1
                        if {n for (r, n) in seen if r == recipient} >= notes:
                            break
        async with RelayAPI(relay.url) as api:
            journal = await api.journal(exercise, seats["facilitator"])
    finally:
        relay.stop()
    delivered = Counter(
        (e["data"]["recipient"], e["data"]["note"])
        for e in journal
        if e["type"] == "note.delivered"
    )
    wanted = {(r, n) for r, notes in expected.items() for n in notes}
    assert set(delivered) == wanted, "every acknowledged note is delivered"
    assert max(delivered.values()) == 1, "and none twice in the journal"
    assert max(seen.values()) == 1, "nor twice on a seat's stream"
    assert [e["seq"] for e in journal] == sorted(e["seq"] for e in journal)
    assert "recovered 1 unfinished exercise" in "".join(relay.log)


async def test_an_exercise_whose_journal_no_longer_replays_is_refused_and_logged(
    database: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(database_url=database)
    async with serving(settings) as url, RelayAPI(url) as api:
        created = await api.create(quick_scenario(), seed=3)
        exercise, seats = created["id"], created["seats"]
        await api.control(exercise, "start", seats["facilitator"])
        async with await SeatClient.connect(url, exercise, seats["iran"]) as seat:
            await seat.submit(client_id="a", kind="statement", text="one")
    # Tamper with what the core made: replay now makes another reading time.
    with sqlite3.connect(database.removeprefix("sqlite:///")) as db:
        changed = db.execute(
            "UPDATE journal SET data = json_set(data, '$.reading_s', 12345.0)"
            " WHERE type = 'note.handed_over'"
        ).rowcount
    assert changed == 1
    async with serving(settings) as url, RelayAPI(url) as api:
        with pytest.raises(Refused) as refused:
            await api.get(exercise, seats["facilitator"])
        assert (refused.value.code, refused.value.message) == (
            "http_503",
            "this exercise cannot be served",
        )
        logged = [r for r in caplog.records if "cannot be served" in r.getMessage()]
        assert logged and logged[0].exc_info is not None  # the log says why
        with pytest.raises(Refused) as refused:
            await SeatClient.connect(url, exercise, seats["usa"])
        assert refused.value.code == "unavailable"
