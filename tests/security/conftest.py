"""Fixtures of the security suite: a relay with chosen settings, an exercise with a human
mediator (so that mediator actions can be tried), started."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from clients.sdk import RelayAPI
from relay.settings import Settings
from tests.conftest import quick_scenario
from tests.live.servers import serving

HUMAN_MEDIATOR = {"name": "Badr", "mode": "human", "start_room": "iran"}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path / 'relay.db'}")


@pytest.fixture
async def relay(settings: Settings) -> AsyncIterator[str]:
    async with serving(settings) as url:
        yield url


@pytest.fixture
async def api(relay: str) -> AsyncIterator[RelayAPI]:
    async with RelayAPI(relay) as client:
        yield client


async def started_exercise(api: RelayAPI) -> dict[str, Any]:
    created = await api.create(quick_scenario(mediator=HUMAN_MEDIATOR), seed=3, speed=1.0)
    await api.control(created["id"], "start", created["seats"]["facilitator"])
    return created
