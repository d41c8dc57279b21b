"""Bad scenarios and bad imports are refused whole, with a message naming the field, and
leave nothing behind."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from clients.sdk import Refused, RelayAPI
from relay.settings import Settings
from tests.conftest import quick_scenario
from tests.live.servers import serving

ADMIN = "an-admin-token-to-list-with"


@pytest.fixture
async def operator(tmp_path: Path) -> AsyncIterator[RelayAPI]:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'r.db'}", admin_token=ADMIN)
    async with serving(settings) as url, RelayAPI(url, admin_token=ADMIN) as api:
        yield api


@pytest.mark.parametrize(
    "change, field",
    [
        ({"latency": {"travel": {"dist": "uniform", "low": 5, "high": 1}}}, "latency.travel"),
        ({"parties": []}, "parties"),
        ({"deadline": "soon"}, "deadline"),
    ],
)
async def test_a_bad_scenario_is_refused_naming_the_field(
    operator: RelayAPI, change: dict, field: str
) -> None:
    with pytest.raises(Refused) as refused:
        await operator.create(quick_scenario(**change))
    assert refused.value.code == "http_422" and field in refused.value.message
    assert await operator.list_exercises() == []


async def test_a_bad_import_is_refused_whole(operator: RelayAPI) -> None:
    created = await operator.create(quick_scenario(), seed=1)
    token = created["seats"]["facilitator"]
    await operator.control(created["id"], "start", token)
    await operator.control(created["id"], "end", token)
    text = await operator.export(created["id"], token)
    lines = text.splitlines()
    entry = json.loads(lines[2])
    entry["dedupe_key"] = "iran:forged"  # only note.submitted may carry a key
    forged = "\n".join([*lines[:2], json.dumps(entry), *lines[3:]])
    for bad, names in (
        (forged, "dedupe_key"),
        (text.replace('"seq":2', '"seq":7', 1), "seq"),
        ("not a journal", "import:1"),
    ):
        with pytest.raises(Refused) as refused:
            await operator.import_journal(bad)
        assert refused.value.code == "http_422" and names in refused.value.message, bad[:80]
    assert [e["id"] for e in await operator.list_exercises()] == [created["id"]]


async def test_numbers_and_text_the_journal_cannot_hold_are_refused(operator: RelayAPI) -> None:
    """Python's JSON reader takes NaN and lone surrogates; the relay does not."""
    scenario = json.dumps(quick_scenario())
    for body, field in (
        ('{"scenario": ' + scenario + ', "title": "\\ud800"}', "title"),
        ('{"scenario": ' + scenario + ', "speed": NaN}', "speed"),
        (
            scenario.replace('"value": 2.0', '"value": Infinity', 1).join(['{"scenario": ', "}"]),
            "scenario",
        ),
    ):
        answer = await operator._http.post(
            "/exercises",
            content=body,
            headers={"Authorization": f"Bearer {ADMIN}", "Content-Type": "application/json"},
        )
        assert answer.status_code == 422 and field in answer.text, (body[-60:], answer.text)
    assert await operator.list_exercises() == []
