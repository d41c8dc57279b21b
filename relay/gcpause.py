"""The cyclic garbage collector, tuned: paused around long, allocation-heavy pure computations
(simulation, replay), and kept away from the live relay's long-lived state (its journals)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["cyclic_gc_paused", "keep_out_of_full_collections"]


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Run the block with the cyclic GC off, restoring its state afterwards.

    A simulation or a replay allocates an event per step and keeps them all: every few
    thousand allocations the collector walks the whole growing journal, which costs about as
    much as the simulation itself. Nothing they build is cyclic garbage (reference counting
    frees it), so the collector has nothing to find until the block ends. Nested use is fine.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


_FREEZE_EVERY = 200
_appended_since_freeze = 0


def keep_out_of_full_collections(appended: int) -> None:
    """Move the journal (and everything else long-lived) out of the cyclic GC's reach.

    Full collections walk every tracked object; with hundreds of live journals that pauses
    every timer for 100+ ms (docs/performance.md). What the live relay keeps in memory lives
    as long as its exercise, so it is frozen every ``_FREEZE_EVERY`` entries: often, so that
    the objects made between two freezes, which every collection walks, stay few (every 2,000
    entries gave timer p99s of 4-9 ms with 500 exercises; every 200 gives about 2 ms).

    A frozen object is never collected by the cyclic GC, only by reference counting, so
    what is frozen must not die in a reference cycle: a closed connection, for one, must
    leave none (``relay.ws._stream``, tests/live/test_connection_memory.py).
    """
    global _appended_since_freeze
    _appended_since_freeze += appended
    if _appended_since_freeze >= _FREEZE_EVERY:
        _appended_since_freeze = 0
        gc.freeze()
