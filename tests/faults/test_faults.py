"""Nothing lost, nothing twice: 5,000 uniquely identified notes through a relay that is killed
with SIGKILL five times while clients drop at random moments, then a drain and a count.

Each of several exercises has two party seats, each sending its share of the notes (a window
of submits in flight) through the SDK, which reconnects with backoff, resumes from the last
``seq`` it saw and resends unacknowledged submits. The fault moments are drawn from a seeded
RNG as numbers of acknowledged notes, so a fault waits for progress, never for a clock. The
checker counts, over what each seat's stream delivered:

    lost        acknowledged notes of the other party never delivered to a seat
    twice       notes delivered to a seat more than once (including across resumes)
    unexpected  deliveries of notes nobody had acknowledged, or with the wrong text
    disorder    per-link order violations: a link (sender -> recipient) delivering a note
                before one its sender submitted earlier, or a stream repeating a seq

and every count must be 0.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from clients.sdk import Backoff, RelayAPI, SeatClient
from tests.conftest import quick_scenario
from tests.live.servers import RelayProcess

pytestmark = pytest.mark.slow

SEED = 20_251_121
EXERCISES = 4
NOTES = 5_000
KILLS = 5
DROPS = 24
WINDOW = 16  # submits in flight per seat
PARTIES = ("iran", "usa")


@dataclass
class Seat:
    exercise: int
    party: str
    client: SeatClient
    acked: dict[int, str] = field(default_factory=dict)  # note -> client id
    delivered: list[tuple[int, int, str]] = field(default_factory=list)  # (seq, note, text)
    seqs: list[int] = field(default_factory=list)


@dataclass
class Run:
    seats: list[Seat] = field(default_factory=list)
    acks: int = 0
    progress: asyncio.Condition = field(default_factory=asyncio.Condition)
    drops: int = 0
    kills: int = 0

    async def reached(self, acks: int) -> None:
        async with self.progress:
            await self.progress.wait_for(lambda: self.acks >= acks)

    async def acked(self) -> None:
        async with self.progress:
            self.acks += 1
            self.progress.notify_all()


async def send_share(run: Run, seat: Seat, count: int) -> None:
    window = asyncio.Semaphore(WINDOW)

    async def one(n: int) -> None:
        client_id = f"ex{seat.exercise}-{seat.party}-{n}"
        async with window:
            ack = await seat.client.submit(client_id=client_id, kind="statement", text=client_id)
        assert ack["client_id"] == client_id
        assert seat.acked.setdefault(ack["note"], client_id) == client_id
        await run.acked()

    async with asyncio.TaskGroup() as group:
        for n in range(count):
            group.create_task(one(n))


async def watch(run: Run, seat: Seat) -> None:
    async for frame in seat.client.events():
        seat.seqs.append(frame["seq"])
        data = frame["data"]
        if frame["event"] == "note.delivered" and data["recipient"] == seat.party:
            seat.delivered.append((frame["seq"], data["note"], data["text"]))
            async with run.progress:
                run.progress.notify_all()


async def faults(run: Run, relay: list[RelayProcess], database: str, rng: random.Random) -> None:
    """Kill and restart the relay, and drop clients, at drawn numbers of acknowledgements."""
    moments = [("kill", at) for at in rng.sample(range(NOTES // 10, NOTES * 8 // 10), KILLS)]
    moments += [("drop", at) for at in rng.sample(range(50, NOTES - 50), DROPS)]
    for what, at in sorted(moments, key=lambda m: m[1]):
        await run.reached(at)
        if what == "drop":
            rng.choice(run.seats).client.drop()
            run.drops += 1
            continue
        old = relay[0]
        old.kill()
        run.kills += 1
        relay[0] = await asyncio.to_thread(RelayProcess, database, old.port, env=RELAY_ENV)


RELAY_ENV = {"SHUTTLE_RATE_LIMIT_PER_MINUTE": "0", "SHUTTLE_MAX_SOCKETS_PER_SEAT": "8"}


async def drained(run: Run) -> None:
    """Until every seat has been delivered every note the other party had acknowledged."""
    by = {(s.exercise, s.party): s for s in run.seats}

    def complete() -> bool:
        return all(
            set(by[(s.exercise, other(s.party))].acked) <= {n for _, n, _ in s.delivered}
            for s in run.seats
        )

    async with run.progress:
        await run.progress.wait_for(complete)


def other(party: str) -> str:
    return PARTIES[1 - PARTIES.index(party)]


def count(run: Run) -> Counter[str]:
    by = {(s.exercise, s.party): s for s in run.seats}
    tally: Counter[str] = Counter()
    for seat in run.seats:
        sender = by[(seat.exercise, other(seat.party))]
        seen = Counter(note for _, note, _ in seat.delivered)
        tally["acked"] += len(seat.acked)
        tally["delivered"] += len(seen)
        tally["lost"] += len(set(sender.acked) - set(seen))
        tally["twice"] += sum(n - 1 for n in seen.values())
        tally["unexpected"] += sum(
            1 for _, note, text in seat.delivered if sender.acked.get(note) != text
        )
        notes = [note for _, note, _ in seat.delivered]
        tally["disorder"] += sum(1 for a, b in zip(notes, notes[1:], strict=False) if b <= a)
        tally["disorder"] += len(seat.seqs) - len(set(seat.seqs))
        tally["disorder"] += sum(
            1 for a, b in zip(seat.seqs, seat.seqs[1:], strict=False) if b <= a
        )
        tally["resumes"] += len(seat.client.resumes)
        tally["incomplete resumes"] += sum(not r.complete for r in seat.client.resumes)
    return tally


async def test_five_thousand_notes_through_kills_and_drops(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    database = f"sqlite:///{tmp_path / 'faults.db'}"
    relay = [RelayProcess(database, env=RELAY_ENV)]
    started = time.monotonic()
    run = Run()
    try:
        async with RelayAPI(relay[0].url) as api:
            scenario = quick_scenario(
                latency={
                    "travel": {"dist": "constant", "value": 1.0},
                    "reading": {"dist": "constant", "value": 0.0},
                }
            )
            for index in range(EXERCISES):
                created = await api.create(scenario, seed=index, speed=100.0)
                await api.control(created["id"], "start", created["seats"]["facilitator"])
                for party in PARTIES:
                    client = await SeatClient.connect(
                        relay[0].url,
                        created["id"],
                        created["seats"][party],
                        backoff=Backoff(initial=0.05, maximum=0.5, rng=random.Random(rng.random())),
                    )
                    run.seats.append(Seat(index, party, client))
        share = NOTES // len(run.seats)
        watchers = [asyncio.create_task(watch(run, seat)) for seat in run.seats]
        async with asyncio.timeout(90):
            async with asyncio.TaskGroup() as group:
                group.create_task(faults(run, relay, database, rng))
                for seat in run.seats:
                    group.create_task(send_share(run, seat, share))
            await drained(run)
        for seat in run.seats:
            await seat.client.close()
        await asyncio.gather(*watchers)
    finally:
        relay[0].stop()
        print(
            "".join(line for line in relay[0].log if "WARNING" in line or "ERROR" in line)[-3000:]
        )
    tally = count(run)
    elapsed = time.monotonic() - started
    print(
        f"\nfault run: {tally['acked']} notes acknowledged in {EXERCISES} exercises, "
        f"{tally['delivered']} delivered; {run.kills} SIGKILL restarts, {run.drops} client "
        f"drops, {tally['resumes']} resumes ({tally['incomplete resumes']} incomplete); "
        f"lost {tally['lost']}, twice {tally['twice']}, unexpected {tally['unexpected']}, "
        f"order violations {tally['disorder']}; {elapsed:.1f} s"
    )
    assert tally["acked"] == NOTES and run.kills == KILLS and run.drops == DROPS
    assert tally["resumes"] >= DROPS
    assert (tally["lost"], tally["twice"], tally["unexpected"], tally["disorder"]) == (0, 0, 0, 0)
    assert tally["incomplete resumes"] == 0
