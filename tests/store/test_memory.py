"""What is specific to :class:`MemoryStore`; the contract is in ``test_contract.py``."""

from __future__ import annotations

from relay.store import Entry, ExerciseRecord, MemoryStore


async def test_the_same_object_can_be_closed_and_reopened() -> None:
    """Tests simulate a relay restart by handing one store to a second app."""
    store = MemoryStore()
    await store.open()
    record = ExerciseRecord(id="ex", scenario={}, seed=1, speed=1.0, created_wall=0.0)
    await store.create_exercise(record, [])
    await store.append("ex", [Entry(1, 0.0, "t", {"k": 1})])
    await store.close()
    await store.open()
    assert await store.get_exercise("ex") == record
    assert await store.read("ex") == [Entry(1, 0.0, "t", {"k": 1})]
    await store.close()
