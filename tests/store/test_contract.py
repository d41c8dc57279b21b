"""The behavioural contract of :class:`relay.store.JournalStore`, run against every backend.

Each invariant in ``relay/store/base.py`` has a test here; a backend is correct when this
whole file passes for it. The fixtures (``store``, ``stores``, ``backend``) are in
``conftest.py`` beside this file.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from contextlib import closing
from typing import Any

import pytest

from relay.store import (
    DuplicateKey,
    Entry,
    ExerciseExists,
    ExerciseRecord,
    JournalStore,
    SeatRecord,
    SequenceConflict,
    SqlStore,
    StoreError,
    UnknownExercise,
)
from relay.store.sql import SCHEMA_VERSION

PERSISTENT = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


# --------------------------------------------------------------------------- builders


def record(
    exercise_id: str = "ex", created_wall: float = 1_700_000_000.0, **kw: Any
) -> ExerciseRecord:
    fields: dict[str, Any] = {"scenario": {"name": "demo"}, "seed": 7, "speed": 1.0}
    fields.update(kw)
    return ExerciseRecord(id=exercise_id, created_wall=created_wall, **fields)


def seat(exercise_id: str, name: str, role: str = "party") -> SeatRecord:
    return SeatRecord(exercise_id, name, role, token_hash=f"hash-{exercise_id}-{name}")


def entries(first: int, count: int, *, key_prefix: str | None = None) -> list[Entry]:
    """``count`` contiguous entries from seq ``first``, keyed ``prefix-seq`` given a prefix."""
    return [
        Entry(
            seq=seq,
            at=seq / 10,
            type="tick",
            data={"n": seq},
            dedupe_key=None if key_prefix is None else f"{key_prefix}-{seq}",
        )
        for seq in range(first, first + count)
    ]


def keyed(seq: int, key: str) -> Entry:
    return Entry(seq, seq / 10, "t", {}, dedupe_key=key)


async def new_exercise(
    store: JournalStore, exercise_id: str = "ex", seats: Sequence[SeatRecord] = ()
) -> str:
    await store.create_exercise(record(exercise_id), seats)
    return exercise_id


async def seqs(store: JournalStore, exercise_id: str) -> list[int]:
    return [entry.seq for entry in await store.read(exercise_id)]


# --------------------------------------------------------------------------- exercises


async def test_create_and_get_round_trip(store: JournalStore) -> None:
    original = record(
        "ex-1",
        created_wall=1_731_000_000.123456,
        scenario={"zeta": 1, "alpha": [1, 2.5, {"nested": None}], "name": "Évian ✓"},
        seed=2**62,
        speed=0.1 + 0.2,
        title="Water rights — round 1",
        extra={"b": True, "a": "x"},
        status="running",
    )
    await store.create_exercise(original, [])
    got = await store.get_exercise("ex-1")
    assert got == original
    assert got is not None and list(got.scenario) == ["zeta", "alpha", "name"]  # key order kept


async def test_defaults_round_trip(store: JournalStore) -> None:
    await new_exercise(store, "plain")
    got = await store.get_exercise("plain")
    assert got is not None
    assert (got.status, got.title, got.extra) == ("draft", "", {})


async def test_get_unknown_exercise_is_none(store: JournalStore) -> None:
    assert await store.get_exercise("nope") is None


async def test_list_exercises_oldest_first(store: JournalStore) -> None:
    assert await store.list_exercises() == []
    await store.create_exercise(record("b", created_wall=30.0), [])
    await store.create_exercise(record("c", created_wall=10.0), [])
    await store.create_exercise(record("a", created_wall=20.0), [])
    await store.create_exercise(record("d", created_wall=10.0), [])
    listed = await store.list_exercises()
    assert [r.id for r in listed] == ["c", "d", "a", "b"]  # equal times: by id
    assert listed[0] == record("c", created_wall=10.0)


async def test_duplicate_create_raises_and_keeps_the_original(store: JournalStore) -> None:
    await store.create_exercise(record("ex", title="first"), [seat("ex", "A")])
    with pytest.raises(ExerciseExists):
        await store.create_exercise(record("ex", title="second"), [seat("ex", "B")])
    got = await store.get_exercise("ex")
    assert got is not None and got.title == "first"
    assert [s.seat for s in await store.seats("ex")] == ["A"]


async def test_create_with_a_foreign_seat_is_refused(store: JournalStore) -> None:
    with pytest.raises(ValueError, match="belongs to"):
        await store.create_exercise(record("ex"), [seat("other", "A")])
    assert await store.get_exercise("ex") is None


async def test_create_is_atomic_when_a_token_hash_is_taken(store: JournalStore) -> None:
    await new_exercise(store, "one", [SeatRecord("one", "A", "party", "shared-hash")])
    clash = [
        SeatRecord("two", "A", "party", "fresh"),
        SeatRecord("two", "B", "party", "shared-hash"),
    ]
    with pytest.raises(StoreError):
        await store.create_exercise(record("two"), clash)
    assert await store.get_exercise("two") is None
    assert await store.find_seat("two", "fresh") is None
    await store.create_exercise(record("two"), [SeatRecord("two", "A", "party", "fresh")])


async def test_set_status(store: JournalStore) -> None:
    await new_exercise(store)
    await store.set_status("ex", "running")
    got = await store.get_exercise("ex")
    assert got is not None and got.status == "running"
    with pytest.raises(UnknownExercise):
        await store.set_status("nope", "running")


# --------------------------------------------------------------------------- seats


async def test_seats_round_trip_sorted_by_name(store: JournalStore) -> None:
    given = [seat("ex", "mediator", "mediator"), seat("ex", "blue"), seat("ex", "amber")]
    await new_exercise(store, "ex", given)
    await new_exercise(store, "empty")
    assert await store.seats("ex") == sorted(given, key=lambda s: s.seat)
    assert await store.seats("empty") == []
    with pytest.raises(UnknownExercise):
        await store.seats("nope")


async def test_find_seat_by_exercise_and_token_hash(store: JournalStore) -> None:
    blue = seat("ex", "blue")
    await new_exercise(store, "ex", [blue, seat("ex", "amber")])
    await new_exercise(store, "other", [seat("other", "blue")])
    assert await store.find_seat("ex", blue.token_hash) == blue
    assert await store.find_seat("other", blue.token_hash) is None  # right hash, wrong exercise
    assert await store.find_seat("ex", "no-such-hash") is None
    assert await store.find_seat("nope", blue.token_hash) is None


async def test_revoke_seat(store: JournalStore) -> None:
    blue, amber = seat("ex", "blue"), seat("ex", "amber")
    await new_exercise(store, "ex", [blue, amber])
    await store.revoke_seat("ex", "blue")
    revoked = await store.find_seat("ex", blue.token_hash)
    assert revoked is not None and revoked.revoked
    assert {s.seat: s.revoked for s in await store.seats("ex")} == {"amber": False, "blue": True}
    await store.revoke_seat("ex", "blue")  # idempotent
    with pytest.raises(StoreError):
        await store.revoke_seat("ex", "nobody")
    with pytest.raises(UnknownExercise):
        await store.revoke_seat("nope", "blue")


# --------------------------------------------------------------------------- append and read


TRICKY = [
    Entry(1, 0.0, "open", {}, wall=None),
    Entry(
        2,
        0.1 + 0.2,
        "note",
        {"z": 1, "a": [1, 2.5, None, True], "m": {"k": {"deep": []}}},
        wall=1_731_000_000.987654321,
        dedupe_key="note-1",
    ),
    Entry(3, 1e-300, "unicode", {"text": "Ölkonzern → 合意 🤝", "quote": "\"'\\\n"}, wall=0.0),
    Entry(4, 1.7976931348623157e308, "big", {"int": 2**62, "neg": -5, "float": 5e-324}),
]


async def test_append_then_read_round_trips_exactly(store: JournalStore) -> None:
    await new_exercise(store)
    await store.append("ex", TRICKY[:1])
    await store.append("ex", TRICKY[1:])
    got = await store.read("ex")
    assert got == TRICKY
    assert [e.to_json() for e in got] == [e.to_json() for e in TRICKY]
    assert list(got[1].data) == ["z", "a", "m"]  # key order survives
    assert got[0].wall is None and got[2].wall == 0.0


async def test_read_after_seq_and_limit(store: JournalStore) -> None:
    await new_exercise(store)
    await store.append("ex", entries(1, 10))
    assert [e.seq for e in await store.read("ex", after_seq=7)] == [8, 9, 10]
    assert [e.seq for e in await store.read("ex", after_seq=2, limit=3)] == [3, 4, 5]
    assert [e.seq for e in await store.read("ex", limit=2)] == [1, 2]
    assert await store.read("ex", after_seq=10) == []
    assert await store.read("ex", after_seq=99) == []
    assert await store.read("ex", limit=0) == []
    with pytest.raises(ValueError):
        await store.read("ex", limit=-1)


async def test_read_gives_copies(store: JournalStore) -> None:
    await new_exercise(store)
    data: dict[str, Any] = {"items": [1]}
    await store.append("ex", [Entry(1, 0.0, "t", data)])
    data["items"].append(2)  # the caller's dict changes after the append...
    (first,) = await store.read("ex")
    first.data["items"].append(3)  # ...and a reader scribbles on its copy
    assert (await store.read("ex"))[0].data == {"items": [1]}


async def test_pre_encoded_data_is_stored_as_given(store: JournalStore) -> None:
    """``data_json`` spares the store an encoding; it is what gets stored and decoded."""
    await new_exercise(store)
    text = '{"z":1,"text":"合意","a":[1.5,null]}'
    given = Entry(1, 0.5, "note", {"z": 1, "text": "合意", "a": [1.5, None]}, data_json=text)
    await store.append("ex", [given, Entry(2, 0.6, "plain", {"n": 2})])
    got = await store.read("ex")
    assert got == [given, Entry(2, 0.6, "plain", {"n": 2})]
    assert list(got[0].data) == ["z", "text", "a"]
    assert got[0].data_json is None  # never exported or handed back


async def test_last_seq(store: JournalStore) -> None:
    await new_exercise(store)
    assert await store.last_seq("ex") == 0
    await store.append("ex", entries(1, 3))
    assert await store.last_seq("ex") == 3
    await store.append("ex", entries(4, 1))
    assert await store.last_seq("ex") == 4


async def test_empty_batch_is_a_no_op(store: JournalStore) -> None:
    await new_exercise(store)
    await store.append("ex", [])
    await store.append("ex", entries(1, 2))
    await store.append("ex", [])
    assert await seqs(store, "ex") == [1, 2]


async def test_unknown_exercise(store: JournalStore) -> None:
    with pytest.raises(UnknownExercise):
        await store.append("nope", entries(1, 1))
    with pytest.raises(UnknownExercise):
        await store.append("nope", [])
    with pytest.raises(UnknownExercise):
        await store.read("nope")
    with pytest.raises(UnknownExercise):
        await store.last_seq("nope")


async def test_unserialisable_data_is_refused_and_nothing_written(store: JournalStore) -> None:
    await new_exercise(store)
    bad = [Entry(1, 0.0, "ok", {}), Entry(2, 0.0, "bad", {"when": object()})]
    with pytest.raises(TypeError):
        await store.append("ex", bad)
    assert await store.last_seq("ex") == 0
    await store.append("ex", entries(1, 1))
    assert await seqs(store, "ex") == [1]


# --------------------------------------------------------------------------- sequence rules


@pytest.mark.parametrize(
    ("first", "count"),
    [(2, 1), (5, 3), (0, 1), (-1, 2)],
    ids=["skip-one", "gap", "zero", "negative"],
)
async def test_first_batch_must_start_at_one(store: JournalStore, first: int, count: int) -> None:
    await new_exercise(store)
    with pytest.raises(SequenceConflict):
        await store.append("ex", entries(first, count))
    assert await store.last_seq("ex") == 0


async def test_gap_is_refused_and_nothing_written(store: JournalStore) -> None:
    await new_exercise(store)
    await store.append("ex", entries(1, 3))
    with pytest.raises(SequenceConflict):
        await store.append("ex", entries(5, 2))
    assert await seqs(store, "ex") == [1, 2, 3]
    await store.append("ex", entries(4, 1))  # the right continuation still works
    assert await store.last_seq("ex") == 4


@pytest.mark.parametrize(
    ("first", "count"), [(3, 2), (1, 1), (2, 4)], ids=["last", "first", "straddle"]
)
async def test_overlap_is_refused(store: JournalStore, first: int, count: int) -> None:
    await new_exercise(store)
    await store.append("ex", entries(1, 3))
    with pytest.raises(SequenceConflict):
        await store.append("ex", entries(first, count))
    assert await store.read("ex") == entries(1, 3)


@pytest.mark.parametrize(
    "order",
    [[1, 2, 4], [2, 1], [1, 1], [1, 3, 2]],
    ids=["hole", "reversed", "repeated", "shuffled"],
)
async def test_batch_must_be_contiguous(store: JournalStore, order: list[int]) -> None:
    await new_exercise(store)
    batch = [Entry(seq, 0.0, "t", {"n": seq}) for seq in order]
    with pytest.raises(SequenceConflict):
        await store.append("ex", batch)
    assert await store.last_seq("ex") == 0


# --------------------------------------------------------------------------- dedupe keys


async def test_duplicate_key_across_batches_writes_nothing(store: JournalStore) -> None:
    await new_exercise(store)
    await store.append("ex", entries(1, 2, key_prefix="note"))  # note-1, note-2
    repeat = [
        Entry(3, 0.3, "t", {}, dedupe_key="fresh"),
        Entry(4, 0.4, "t", {}, dedupe_key="note-2"),
    ]
    with pytest.raises(DuplicateKey) as caught:
        await store.append("ex", repeat)
    assert caught.value.key == "note-2"
    assert await seqs(store, "ex") == [1, 2]
    await store.append("ex", [Entry(3, 0.3, "t", {}, dedupe_key="fresh")])  # 'fresh' was not kept


async def test_duplicate_key_within_a_batch_writes_nothing(store: JournalStore) -> None:
    await new_exercise(store)
    batch = [
        Entry(1, 0.1, "t", {}, dedupe_key="same"),
        Entry(2, 0.2, "t", {}),
        Entry(3, 0.3, "t", {}, dedupe_key="same"),
    ]
    with pytest.raises(DuplicateKey) as caught:
        await store.append("ex", batch)
    assert caught.value.key == "same"
    assert await store.last_seq("ex") == 0


async def test_dedupe_keys_are_per_exercise_and_none_never_collides(store: JournalStore) -> None:
    await new_exercise(store, "one")
    await new_exercise(store, "two")
    await store.append("one", [Entry(1, 0.0, "t", {}, dedupe_key="k"), Entry(2, 0.0, "t", {})])
    await store.append("two", [Entry(1, 0.0, "t", {}, dedupe_key="k")])  # same key, other exercise
    await store.append("one", [Entry(3, 0.0, "t", {}), Entry(4, 0.0, "t", {})])  # many None keys
    assert await seqs(store, "one") == [1, 2, 3, 4]
    assert await seqs(store, "two") == [1]


# --------------------------------------------------------------------------- concurrency


async def test_concurrent_appends_land_gap_free(store: JournalStore) -> None:
    """50 tasks over 5 exercises; the tasks of one exercise take turns, the exercises race."""
    exercises = [await new_exercise(store, f"ex{i}") for i in range(5)]
    tasks_per_exercise, batches_per_task, batch_size = 10, 3, 2
    per_task = batches_per_task * batch_size
    done = {ex: [asyncio.Event() for _ in range(tasks_per_exercise)] for ex in exercises}

    async def writer(exercise_id: str, turn: int) -> None:
        if turn:
            await done[exercise_id][turn - 1].wait()
        for batch in range(batches_per_task):
            first = turn * per_task + batch * batch_size + 1
            await store.append(exercise_id, entries(first, batch_size, key_prefix=exercise_id))
        done[exercise_id][turn].set()

    # started last turn first, so most tasks really do wait for their predecessor
    jobs = [writer(ex, turn) for turn in reversed(range(tasks_per_exercise)) for ex in exercises]
    assert len(jobs) == 50
    await asyncio.gather(*jobs)
    total = tasks_per_exercise * per_task
    for ex in exercises:
        assert await store.read(ex) == entries(1, total, key_prefix=ex)
        assert await store.last_seq(ex) == total


async def test_a_bad_batch_among_concurrent_ones_fails_alone(store: JournalStore) -> None:
    for ex in ("good1", "good2", "gap", "dup", "inner", "cross"):
        await new_exercise(store, ex)
    await store.append("dup", [Entry(1, 0.0, "t", {}, dedupe_key="taken")])
    calls = {
        "good1": store.append("good1", entries(1, 3)),
        "gap": store.append("gap", entries(2, 2)),
        "dup": store.append(
            "dup", [Entry(2, 0.0, "t", {}), Entry(3, 0.0, "t", {}, dedupe_key="taken")]
        ),
        # queued right behind the refused batch: it continues from what is really stored
        "dup-next": store.append("dup", [Entry(2, 0.5, "t", {"after": "refusal"})]),
        "inner": store.append("inner", [keyed(1, "x"), keyed(2, "x")]),
        "cross-1": store.append("cross", [keyed(1, "y")]),  # a key first used in this group...
        "cross-2": store.append("cross", [keyed(2, "y")]),  # ...and repeated in the same group
        "good2": store.append("good2", entries(1, 1)),
    }
    results = dict(
        zip(calls, await asyncio.gather(*calls.values(), return_exceptions=True), strict=True)
    )
    assert results["good1"] is None and results["good2"] is None and results["dup-next"] is None
    assert isinstance(results["gap"], SequenceConflict)
    assert isinstance(results["dup"], DuplicateKey) and results["dup"].key == "taken"
    assert isinstance(results["inner"], DuplicateKey)
    assert await seqs(store, "good1") == [1, 2, 3]
    assert await seqs(store, "good2") == [1]
    assert await seqs(store, "gap") == []
    assert [(e.seq, e.data) for e in await store.read("dup")] == [
        (1, {}),
        (2, {"after": "refusal"}),
    ]
    assert await seqs(store, "inner") == []
    assert results["cross-1"] is None and isinstance(results["cross-2"], DuplicateKey)
    assert await seqs(store, "cross") == [1]


async def test_concurrent_claims_on_the_same_seq_one_wins(store: JournalStore) -> None:
    await new_exercise(store)
    first = [Entry(1, 0.0, "t", {"by": "first"}), Entry(2, 0.0, "t", {"by": "first"})]
    second = [Entry(1, 0.0, "t", {"by": "second"})]
    results = await asyncio.gather(
        store.append("ex", first), store.append("ex", second), return_exceptions=True
    )
    assert results[0] is None and isinstance(results[1], SequenceConflict)
    assert await store.read("ex") == first


# --------------------------------------------------------------------------- persistence


@pytest.mark.parametrize("backend", PERSISTENT, indirect=True)
async def test_data_survives_close_and_reopen(stores: Any) -> None:
    first = await stores.open()
    blue = seat("ex", "blue")
    await first.create_exercise(record("ex", title="kept"), [blue, seat("ex", "amber")])
    await first.append("ex", TRICKY)
    await first.set_status("ex", "finished")
    await first.revoke_seat("ex", "amber")
    await first.close()

    second = await stores.open()
    got = await second.get_exercise("ex")
    assert got == record("ex", title="kept", status="finished")
    assert await second.read("ex") == TRICKY
    assert await second.find_seat("ex", blue.token_hash) == blue
    assert [s.revoked for s in await second.seats("ex")] == [True, False]  # amber, blue
    # the reopened store knows where the journal ends, and the stored keys
    with pytest.raises(SequenceConflict):
        await second.append("ex", entries(1, 1))
    with pytest.raises(DuplicateKey):
        await second.append("ex", [Entry(5, 0.0, "t", {}, dedupe_key="note-1")])
    await second.append("ex", entries(5, 1))
    assert await second.last_seq("ex") == 5


@pytest.mark.parametrize("backend", PERSISTENT, indirect=True)
async def test_two_stores_on_one_database_stay_consistent(stores: Any) -> None:
    """A second writer makes the first one's last_seq cache stale; it must recover, not lie."""
    one = await stores.open()
    two = await stores.open()
    await new_exercise(one)
    await one.append("ex", entries(1, 2))
    await two.append("ex", entries(3, 2))  # behind one's back
    await new_exercise(one, "side")
    # one's cache says 3 comes next; the database refuses, and only that batch may fail
    results = await asyncio.gather(
        one.append("ex", entries(3, 1)),
        one.append("side", entries(1, 2)),
        return_exceptions=True,
    )
    assert isinstance(results[0], SequenceConflict) and results[1] is None
    await one.append("ex", entries(5, 1))  # and it learned the truth
    assert await seqs(two, "ex") == [1, 2, 3, 4, 5]
    assert await seqs(two, "side") == [1, 2]


@pytest.mark.parametrize(
    ("version", "said"),
    [
        (SCHEMA_VERSION + 1, "newer than this code"),
        (0, f"older than this code's {SCHEMA_VERSION}, and no migration"),
    ],
)
async def test_a_schema_version_without_a_way_here_is_refused(
    tmp_path: Any, version: int, said: str
) -> None:
    path = tmp_path / "versioned.db"
    store = SqlStore(f"sqlite:///{path}")
    await store.open()
    await store.close()
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
        conn.execute("UPDATE schema_version SET version = ?", (version,))
        conn.commit()
    other = SqlStore(f"sqlite:///{path}")
    with pytest.raises(StoreError, match=said):
        await other.open()
    await other.close()  # harmless after a failed open
    with pytest.raises(StoreError, match="not open"):
        await other.last_seq("ex")
    with closing(sqlite3.connect(path)) as conn:  # and the database is left as it was
        assert conn.execute("SELECT version FROM schema_version").fetchall() == [(version,)]
