"""Fixtures shared by the suites: scenarios built in code, a real relay on loopback."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from typing import Any

import pytest
import yaml

from clients.demo import running_relay
from clients.sdk import RelayAPI
from schemas.scenario import sample_scenario_path


def quick_scenario(**overrides: Any) -> dict[str, Any]:
    """The Muscat sample with constant, short delays (exercise seconds), as a dict."""
    data = yaml.safe_load(sample_scenario_path().read_text(encoding="utf-8"))
    data.pop("delivery", None)  # its preset would override these delays
    data["latency"] = {
        "travel": {"dist": "constant", "value": 2.0},
        "reading": {"dist": "constant", "value": 0.0},
        "drafting": {"dist": "constant", "value": 0.0},
    }
    data["deadline"] = None
    for key, value in overrides.items():
        data[key] = copy.deepcopy(value)
    return data


@pytest.fixture
async def relay_url(tmp_path: Any) -> AsyncIterator[str]:
    async with running_relay(f"sqlite:///{tmp_path / 'relay.db'}") as url:
        yield url


@pytest.fixture
async def api(relay_url: str) -> AsyncIterator[RelayAPI]:
    async with RelayAPI(relay_url) as client:
        yield client
