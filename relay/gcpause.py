"""Pausing the cyclic garbage collector around long, allocation-heavy pure computations."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["cyclic_gc_paused"]


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
