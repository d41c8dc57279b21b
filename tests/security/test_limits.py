"""The limits of docs/security.md: frame size, frame rate, sockets per seat, Origin, deflate,
protocol version, revocation and the admin token. Time for the rate limit is a manual clock."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest
import websockets

from clients.sdk import Refused, RelayAPI, SeatClient
from relay.settings import Settings
from tests.conftest import quick_scenario
from tests.live.servers import serving
from tests.security.conftest import started_exercise
from tests.security.raw import answer, closed_with, hello, raw_seat

pytestmark = pytest.mark.asyncio


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'relay.db'}"


async def test_a_frame_over_64_kib_is_closed_with_1009_and_one_at_the_limit_is_not(
    api: RelayAPI, relay: str
) -> None:
    created = await started_exercise(api)
    ws = await raw_seat(relay, created["id"])
    assert (await hello(ws, created["seats"]["iran"]))["type"] == "welcome"
    at_limit = '{"type":"ping","pad":"' + "x" * (65536 - 24) + '"}'
    assert len(at_limit.encode()) == 65536
    await ws.send(at_limit)
    assert (await answer(ws))["code"] == "invalid_frame"  # read, and refused for its field
    await ws.send(at_limit[:-2] + 'x"}')
    assert await closed_with(ws) == 1009


async def test_a_frame_over_the_limit_is_refused_by_the_endpoint_too(tmp_path: Path) -> None:
    """The endpoint checks the size itself, whatever the server in front of it allows."""
    settings = Settings(database_url=db(tmp_path), max_frame_bytes=1000)
    async with serving(settings) as url, RelayAPI(url) as api:
        created = await started_exercise(api)
        ws = await raw_seat(url, created["id"])
        await hello(ws, created["seats"]["iran"])
        await ws.send(json.dumps({"type": "ping", "id": "x" * 990}))
        assert await closed_with(ws) == 1009


async def test_over_the_rate_an_error_then_sustained_excess_closes_1008(tmp_path: Path) -> None:
    clock = Clock()
    settings = Settings(database_url=db(tmp_path), rate_limit_per_minute=5, rate_limit_strikes=3)
    async with serving(settings, clock=clock) as url, RelayAPI(url) as api:
        created = await started_exercise(api)
        iran = await raw_seat(url, created["id"])
        await hello(iran, created["seats"]["iran"])
        for n in range(5):
            await iran.send(json.dumps({"type": "ping", "id": str(n)}))
            assert (await answer(iran))["type"] == "pong"
        await iran.send(json.dumps({"type": "ping", "id": "6"}))
        refused = await answer(iran)
        # the dropped frame's id, so that a client waiting for its answer gets one
        assert (refused["type"], refused["code"], refused["id"]) == ("error", "rate_limited", "6")
        clock.t += 12.0  # 5 a minute: one frame's worth comes back in 12 s
        await iran.send(json.dumps({"type": "ping", "id": "7"}))
        assert (await answer(iran))["type"] == "pong"
        # a new socket of the same seat shares the budget
        again = await raw_seat(url, created["id"])
        await hello(again, created["seats"]["iran"])
        await again.send(json.dumps({"type": "ping", "id": "8"}))
        assert (await answer(again))["code"] == "rate_limited"
        # another seat has its own budget
        usa = await raw_seat(url, created["id"])
        await hello(usa, created["seats"]["usa"])
        await usa.send(json.dumps({"type": "ping", "id": "u"}))
        assert (await answer(usa))["type"] == "pong"
        for n in range(3):
            await iran.send(json.dumps({"type": "ping", "id": f"x{n}"}))
        codes = [(await answer(iran))["code"] for _ in range(3)]
        assert codes == ["rate_limited"] * 3
        assert await closed_with(iran) == 1008
        await usa.close()
        await again.close()


async def test_a_seat_holds_at_most_the_configured_sockets(tmp_path: Path) -> None:
    settings = Settings(database_url=db(tmp_path), max_sockets_per_seat=2)
    async with serving(settings) as url, RelayAPI(url) as api:
        created = await started_exercise(api)
        token = created["seats"]["usa"]
        held = [await SeatClient.connect(url, created["id"], token) for _ in range(2)]
        with pytest.raises(Refused) as refused:
            await SeatClient.connect(url, created["id"], token, reconnect=False)
        assert refused.value.code == "too_many_sockets"
        ws = await raw_seat(url, created["id"])
        assert (await hello(ws, token))["code"] == "too_many_sockets"
        assert await closed_with(ws) == 1008
        async with await SeatClient.connect(url, created["id"], created["seats"]["iran"]):
            pass  # another seat is not affected
        for seat in held:
            await seat.close()


async def test_browser_origins_are_checked_and_other_clients_pass(tmp_path: Path) -> None:
    settings = Settings(database_url=db(tmp_path), allowed_origins=["https://shuttle.example"])
    async with serving(settings) as url, RelayAPI(url) as api:
        created = await started_exercise(api)
        with pytest.raises(websockets.InvalidStatus) as refused:
            await raw_seat(url, created["id"], origin="https://evil.example")
        assert refused.value.response.status_code == 403
        allowed = await raw_seat(url, created["id"], origin="https://shuttle.example")
        assert (await hello(allowed, created["seats"]["iran"]))["type"] == "welcome"
        await allowed.close()
        plain = await raw_seat(url, created["id"])  # no Origin: not a browser
        assert (await hello(plain, created["seats"]["iran"]))["type"] == "welcome"
        await plain.close()
        async with httpx.AsyncClient(base_url=url) as http:
            evil = await http.get("/health", headers={"Origin": "https://evil.example"})
            good = await http.get("/health", headers={"Origin": "https://shuttle.example"})
        assert (evil.status_code, good.status_code) == (403, 200)


async def test_permessage_deflate_is_not_negotiated(api: RelayAPI, relay: str) -> None:
    created = await started_exercise(api)
    ws = await raw_seat(relay, created["id"], compression="deflate")  # the client offers it
    assert ws.response.headers.get("Sec-WebSocket-Extensions") is None
    await ws.close()


async def test_another_protocol_version_is_refused(api: RelayAPI, relay: str) -> None:
    created = await started_exercise(api)
    ws = await raw_seat(relay, created["id"])
    refused = await hello(ws, created["seats"]["iran"], version=2)
    assert (refused["type"], refused["code"]) == ("error", "unsupported_version")
    assert await closed_with(ws) == 1008


async def test_a_silent_client_is_closed_after_the_hello_timeout(tmp_path: Path) -> None:
    settings = Settings(database_url=db(tmp_path), hello_timeout_s=0.2)
    async with serving(settings) as url, RelayAPI(url) as api:
        created = await api.create(quick_scenario())
        ws = await raw_seat(url, created["id"])
        assert await closed_with(ws) == 1008


async def test_revoking_a_seat_closes_its_sockets_at_once(api: RelayAPI, relay: str) -> None:
    created = await started_exercise(api)
    exercise, seats = created["id"], created["seats"]
    usa = [await SeatClient.connect(relay, exercise, seats["usa"]) for _ in range(2)]
    iran = await SeatClient.connect(relay, exercise, seats["iran"])
    with pytest.raises(Refused) as refused:
        await api.revoke(exercise, "usa", seats["iran"])
    assert refused.value.code == "http_403"
    done = await api.revoke(exercise, "usa", seats["facilitator"])
    assert done == {"seat": "usa", "revoked": True, "closed": 2}
    for seat in usa:  # the SDK sees 1008 and does not reconnect: its stream ends
        async with asyncio.timeout(10):
            async for _frame in seat.events():
                pass
        assert seat.close_code == 1008 and seat.resumes == []
    with pytest.raises(Refused) as refused:
        await SeatClient.connect(relay, exercise, seats["usa"])
    assert refused.value.code == "unauthorized"
    with pytest.raises(Refused) as refused:
        await api.get(exercise, seats["usa"])
    assert refused.value.code == "http_403"
    ack = await iran.submit(client_id="still", kind="statement", text="the others go on")
    assert ack["note"] == 1
    await iran.close()
    for seat, code in (("nobody", "http_404"), ("facilitator", "http_409")):
        with pytest.raises(Refused) as refused:
            await api.revoke(exercise, seat, seats["facilitator"])
        assert refused.value.code == code


async def test_the_admin_token_guards_the_relays_own_endpoints(tmp_path: Path) -> None:
    admin = "a-long-admin-token-for-tests"
    settings = Settings(database_url=db(tmp_path), admin_token=admin)
    async with serving(settings) as url:
        async with RelayAPI(url) as anyone:
            for call in (anyone.create(quick_scenario()), anyone.list_exercises()):
                with pytest.raises(Refused) as refused:
                    await call
                assert refused.value.code == "http_401"
                assert "needs the relay's admin token" in refused.value.message
                assert "--admin-token" in refused.value.message
        async with RelayAPI(url, admin_token="not-the-admin-token") as wrong:
            with pytest.raises(Refused) as refused:
                await wrong.create(quick_scenario())
            assert refused.value.code == "http_403"
        async with RelayAPI(url, admin_token=admin) as operator:
            created = await operator.create(quick_scenario())
            listed = await operator.list_exercises()
            assert [e["id"] for e in listed] == [created["id"]]
        async with RelayAPI(url, admin_token=created["seats"]["facilitator"]) as seat:
            with pytest.raises(Refused) as refused:  # a seat token is not the admin token
                await seat.list_exercises()
            assert refused.value.code == "http_403"


async def test_without_an_admin_token_nobody_lists_the_exercises(api: RelayAPI) -> None:
    created = await api.create(quick_scenario())
    for token in (None, created["seats"]["facilitator"]):
        async with RelayAPI(api.base_url, admin_token=token) as caller:
            with pytest.raises(Refused) as refused:
                await caller.list_exercises()
        assert refused.value.code == "http_403"
