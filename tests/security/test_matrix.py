"""The role × action matrix of docs/security.md, one test per cell, against a live relay.

Each action returns whether the relay allowed it. A refusal must be the documented one (HTTP
401/403, error code ``forbidden`` or ``unauthorized``); anything else fails the cell. The table
below is the one in the document, and a test checks that they agree.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from clients.sdk import Refused, RelayAPI, SeatClient
from relay.core import visible_to
from relay.journal import from_entry
from relay.replay import verify
from relay.store import Entry
from tests.security.conftest import started_exercise

ROLES = {
    "party A": "iran",
    "party B": "usa",
    "mediator": "mediator",
    "facilitator": "facilitator",
    "observer": "observer",
}
ROLE_OF = {"iran": "party", "usa": "party"}

Y, N = True, False
#                          party A  party B  mediator  facilitator  observer
MATRIX: dict[str, tuple[bool, bool, bool, bool, bool]] = {
    "open socket": (Y, Y, Y, Y, Y),
    "submit": (Y, Y, N, N, N),
    "mediator actions": (N, N, Y, N, N),
    "facilitator controls": (N, N, N, Y, N),
    "read journal": (Y, Y, Y, Y, Y),
    "export": (N, N, N, Y, N),
    "replay": (N, N, N, Y, Y),
    "read another exercise": (N, N, N, N, N),
}


class Cell:
    """What one cell acts on: a started exercise, a relay URL and the seat playing."""

    def __init__(self, api: RelayAPI, url: str, created: dict[str, Any], seat: str) -> None:
        self.api, self.url, self.created, self.seat = api, url, created, seat
        self.exercise: str = created["id"]
        self.token: str = created["seats"][seat]

    async def connect(self) -> SeatClient:
        return await SeatClient.connect(self.url, self.exercise, self.token, reconnect=False)


def refused_as(error: Refused, *codes: str) -> bool:
    assert error.code in codes, f"refused, but as {error.code}: {error.message}"
    return False


async def open_socket(cell: Cell) -> bool:
    async with await cell.connect() as seat:
        assert (seat.seat, seat.role) == (cell.seat, ROLE_OF.get(cell.seat, cell.seat))
        assert seat.welcome["exercise"] == cell.exercise
    return True


async def submit(cell: Cell) -> bool:
    async with await cell.connect() as seat:
        try:
            ack = await seat.submit(client_id="m1", kind="statement", text="for the record")
        except Refused as error:
            return refused_as(error, "forbidden")
    assert ack["note"] == 1 and ack["duplicate"] is False
    return True


async def mediator_actions(cell: Cell) -> bool:
    async with await cell.connect() as seat:
        try:
            ack = await seat.travel("usa")
        except Refused as error:
            return refused_as(error, "forbidden")
    assert ack["type"] == "ack"
    return True


async def facilitator_controls(cell: Cell) -> bool:
    """Both ways of controlling the talks must agree: REST and the websocket."""
    try:
        state = await cell.api.control(cell.exercise, "pause", cell.token)
        over_rest = state["phase"] == "paused"
    except Refused as error:
        over_rest = refused_as(error, "http_403")
    async with await cell.connect() as seat:
        try:
            await seat.control("resume" if over_rest else "pause")
            over_ws = True
        except Refused as error:
            over_ws = refused_as(error, "forbidden")
    assert over_rest == over_ws
    return over_rest


async def _full_journal(cell: Cell) -> list[dict[str, Any]]:
    return await cell.api.journal(cell.exercise, cell.created["seats"]["facilitator"])


async def read_journal(cell: Cell) -> bool:
    """Allowed to all, but each seat reads exactly what ``visible_to`` lets it see."""
    async with await SeatClient.connect(
        cell.url, cell.exercise, cell.created["seats"]["iran"], reconnect=False
    ) as iran:
        await iran.submit(client_id="secret", kind="statement", text="for the mediator")
    full = await _full_journal(cell)
    role = ROLE_OF.get(cell.seat, cell.seat)
    wanted = [e for e in full if visible_to(cell.seat, role, from_entry(Entry.from_json(e)))]
    got = await cell.api.journal(cell.exercise, cell.token)
    assert got == wanted
    if role != "facilitator" and role != "observer":
        assert "exercise.created" not in {e["type"] for e in got}, "it holds every brief"
    return True


async def export(cell: Cell) -> bool:
    try:
        text = await cell.api.export(cell.exercise, cell.token)
    except Refused as error:
        return refused_as(error, "http_403")
    assert text.startswith('{"format":"shuttle-journal/1"')
    return True


async def replay(cell: Cell) -> bool:
    """Replaying needs the whole journal: ``exercise.created`` holds the seed and every
    party's brief and positions, so only the seats that may read all of it can replay."""
    entries = [Entry.from_json(e) for e in await cell.api.journal(cell.exercise, cell.token)]
    try:
        mismatch = verify(entries)
    except ValueError as error:
        assert "exercise.created" in str(error)
        return False
    assert mismatch is None
    return True


async def read_another_exercise(cell: Cell) -> bool:
    other = await started_exercise(cell.api)
    allowed = []
    for call in (cell.api.get, cell.api.journal):
        try:
            await call(other["id"], cell.token)
            allowed.append(True)
        except Refused as error:
            allowed.append(refused_as(error, "http_403"))
    try:
        await SeatClient.connect(cell.url, other["id"], cell.token, reconnect=False)
        allowed.append(True)
    except Refused as error:
        allowed.append(refused_as(error, "unauthorized"))
    assert len(set(allowed)) == 1, allowed
    return allowed[0]


ACTIONS: dict[str, Callable[[Cell], Awaitable[bool]]] = {
    "open socket": open_socket,
    "submit": submit,
    "mediator actions": mediator_actions,
    "facilitator controls": facilitator_controls,
    "read journal": read_journal,
    "export": export,
    "replay": replay,
    "read another exercise": read_another_exercise,
}

CELLS = [
    pytest.param(role, action, MATRIX[action][i], id=f"{role}-{action}".replace(" ", "_"))
    for action in MATRIX
    for i, role in enumerate(ROLES)
]


@pytest.mark.parametrize("role, action, allowed", CELLS)
async def test_cell(api: RelayAPI, relay: str, role: str, action: str, allowed: bool) -> None:
    created = await started_exercise(api)
    cell = Cell(api, relay, created, ROLES[role])
    assert await ACTIONS[action](cell) is allowed


def test_the_document_states_the_same_matrix() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "security.md").read_text("utf-8")
    for action, row in MATRIX.items():
        line = re.search(rf"^\| {re.escape(action)} \|(.*)$", text, re.MULTILINE)
        assert line, f"docs/security.md has no row for {action!r}"
        cells = [c.strip() for c in line.group(1).split("|")[: len(ROLES)]]
        assert [c.startswith("yes") for c in cells] == list(row), action
