"""A closed connection is freed by reference counting alone.

The relay freezes its heap now and then (``gc.freeze``, relay/live.py) so that full
collections do not walk every journal. Anything frozen that later becomes *cyclic* garbage is
never freed, so a connection must not leave a reference cycle behind when it closes: with
hundreds of reconnects a day, each would keep its socket, buffers and tasks for good.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from clients.demo import running_relay
from clients.sdk import RelayAPI
from relay import ws as relay_ws
from relay.seat import ServerSeat
from tests.live.test_bundles import join, read_until, submit
from tests.live.test_relay import started

pytestmark = pytest.mark.asyncio


@pytest.fixture
def cyclic_gc_off() -> Iterator[None]:
    """No automatic collection during the test: a cycle stays until we look for it."""
    enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def cyclic_garbage() -> list[object]:
    """What only the cyclic collector would free, now."""
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        gc.collect()
        return list(gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


async def test_a_closed_seat_connection_leaves_no_cycle(
    cyclic_gc_off: None, tmp_path: Path
) -> None:
    async with running_relay(f"sqlite:///{tmp_path / 'relay.db'}") as url:
        async with RelayAPI(url) as api:
            created = await started(api)
        ws = await join(url, created["id"], created["seats"]["iran"], bundle=True)
        await ws.send(submit(1))  # a command in the exercise's inbox, settled by the seat
        await ws.send(json.dumps({"type": "ping", "id": "p"}))
        _, frames = await read_until(ws, lambda fs: any(f.get("id") == "p" for f in fs))
        assert any(f["type"] == "ack" for f in frames)
        await ws.close()
    # The server has stopped: every handler ran to its end and let go of its connection.
    left = [o for o in cyclic_garbage() if isinstance(o, relay_ws.Connection | ServerSeat)]
    assert left == []
