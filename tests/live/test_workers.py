"""A relay of several worker processes behind one port (relay/workers.py, relay/shares.py)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
from pathlib import Path
from typing import Any

import httpx
import pytest

from clients.sdk import RelayAPI, SeatClient
from relay.app import create_app
from relay.settings import Settings
from relay.shares import Share, exercise_in_path, request_target
from relay.workers import Front, _peek
from tests.conftest import quick_scenario
from tests.live.servers import RelayProcess

ZERO_TRAVEL = {step: {"dist": "constant", "value": 0} for step in ("travel", "reading", "drafting")}
ADMIN = "admin-token-for-the-workers-test"


@pytest.mark.parametrize(
    ("head", "target"),
    [
        (b"GET /ws/ex-0123456789 HTTP/1.1\r\nHost: x\r\n", "/ws/ex-0123456789"),
        (b"POST /exercises HTTP/1.1\r\n", "/exercises"),
        (
            b"GET http://relay:8000/exercises/ex-0123456789/journal?after=3 HTTP/1.1\r\n",
            "/exercises/ex-0123456789/journal",
        ),
        (b"GET http://relay:8000 HTTP/1.1\r\n", "/"),
        # decoded as uvicorn decodes scope["path"], so the front and the worker agree
        (b"GET /exercises/ex-012345678%39 HTTP/1.1\r\n", "/exercises/ex-0123456789"),
        (b"\x16\x03\x01\x02\x00", None),  # a TLS hello is no request line
        (b"GET /health\r\n", None),
    ],
)
def test_the_request_target_is_read_from_the_first_line(head: bytes, target: str | None) -> None:
    assert request_target(head) == target


@pytest.mark.parametrize(
    ("path", "exercise"),
    [
        ("/ws/ex-0123456789", "ex-0123456789"),
        ("/exercises/ex-0123456789/journal?after=1", "ex-0123456789"),
        ("/exercises/ex-0123456789", "ex-0123456789"),
        ("/exercises/import", None),
        ("/exercises", None),
        ("/exercises/ex-0123456789abc", None),  # not an id: the app answers 422 anywhere
        ("/docs", None),
    ],
)
def test_the_exercise_a_path_names(path: str, exercise: str | None) -> None:
    assert exercise_in_path(path) == exercise


def test_each_exercise_has_one_owner_and_new_ids_are_the_makers_own() -> None:
    shares = [Share(i, 3) for i in range(3)]
    for share in shares:
        for _ in range(20):
            made = share.new_id()
            assert [other.owns(made) for other in shares].count(True) == 1
            assert share.owns(made) and Share.owner(made, 3) == share.index
    assert Share().owns("ex-0123456789")  # alone, a process owns everything
    with pytest.raises(ValueError, match="share 2 of 2"):
        Share(2, 2)


def test_the_front_routes_by_exercise_and_takes_turns_with_the_rest() -> None:
    front = Front(Settings(workers=3, database_url="sqlite:///unused.db"))
    owned = Share(2, 3).new_id()
    assert {front.route_of(f"GET /ws/{owned} HTTP/1.1\r\n".encode()) for _ in range(5)} == {2}
    turns = [front.route_of(b"POST /exercises HTTP/1.1\r\n") for _ in range(6)]
    assert turns == [0, 1, 2, 0, 1, 2]
    assert front.route_of(b"garbage") in (0, 1, 2)


async def test_a_worker_refuses_another_workers_exercise_and_keeps_no_connection_alive() -> None:
    app = create_app(Settings(database_url="memory://"), share=Share(0, 2))
    theirs = Share(1, 2).new_id()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://relay") as http:
        refused = await http.get(f"/exercises/{theirs}/journal")
        health = await http.get("/health")
    assert refused.status_code == 421
    assert refused.json()["detail"].startswith("another relay process serves this exercise")
    assert health.status_code == 200 and health.headers["connection"] == "close"


async def _relay_a_note(url: str, created: dict[str, Any], client_id: str) -> int:
    exercise, seats = created["id"], created["seats"]
    async with (
        await SeatClient.connect(url, exercise, seats["iran"]) as iran,
        await SeatClient.connect(url, exercise, seats["usa"]) as usa,
    ):
        ack = await iran.submit(client_id=client_id, kind="statement", text="from Muscat")
        async for frame in usa.events():
            if frame["event"] == "note.delivered" and frame["data"]["note"] == ack["note"]:
                return int(ack["note"])
    raise AssertionError("the stream ended before the note was delivered")


async def test_two_workers_share_the_exercises_and_one_that_dies_is_replaced(
    tmp_path: Path,
) -> None:
    relay = RelayProcess(
        f"sqlite:///{tmp_path / 'relay.db'}", workers=2, env={"SHUTTLE_ADMIN_TOKEN": ADMIN}
    )
    try:
        assert len(relay.worker_pids) == 2
        async with RelayAPI(relay.url, admin_token=ADMIN) as api:
            scenario = quick_scenario(latency=ZERO_TRAVEL)
            created = [await api.create(scenario, seed=n) for n in range(4)]
            owners = [Share.owner(made["id"], 2) for made in created]
            # creations go to the workers in turn, and each makes an id of its own
            assert sorted(owners) == [0, 0, 1, 1]
            assert {made["id"] for made in created} <= {e["id"] for e in await api.list_exercises()}
            for made in created:
                await api.control(made["id"], "start", made["seats"]["facilitator"])
            notes = [await _relay_a_note(relay.url, made, "first") for made in created]

        victim = created[0]
        os.kill(relay.worker_pids[owners[0]], signal.SIGKILL)
        relay.wait_for_log(f"relay worker {owners[0]} exited")
        async with RelayAPI(relay.url) as api:
            # served again by the worker that replaces it, from the journal
            journal = await api.journal(victim["id"], victim["seats"]["facilitator"])
            delivered = {e["data"]["note"] for e in journal if e["type"] == "note.delivered"}
            assert notes[0] in delivered
            await _relay_a_note(relay.url, victim, "second")
            for made in created[1:]:
                state = await api.get(made["id"], made["seats"]["facilitator"])
                assert state["phase"] == "running"
    finally:
        relay.stop()
    assert relay.proc.returncode == 0
    assert "starting it again" in "".join(relay.log)
    for pid in relay.worker_pids:
        assert not Path(f"/proc/{pid}").exists(), "no worker outlives the relay"


class _CountingSocket(socket.socket):
    peeks = 0

    def recv(self, size: int, flags: int = 0) -> bytes:
        self.peeks += 1
        return super().recv(size, flags)


async def test_the_front_waits_for_the_rest_of_a_request_line_without_spinning() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    with listener, socket.create_connection(listener.getsockname()) as client:
        accepted, _ = listener.accept()
        with _CountingSocket(fileno=accepted.detach()) as conn:
            conn.setblocking(False)
            client.sendall(b"GET /hea")
            peeking = asyncio.ensure_future(_peek(conn))
            # Half a line: no answer yet, and the socket is looked at again only when more
            # comes (its low-water mark is raised past what it holds), not every few ms.
            done, _ = await asyncio.wait({peeking}, timeout=0.2)
            assert not done and conn.peeks == 1
            client.sendall(b"lth HTTP/1.1\r\n")
            assert await peeking == b"GET /health HTTP/1.1\r\n"
            assert conn.getsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT) == 1  # put back

            client.sendall(b"GET /more")  # unread bytes stay; a peer that stops half-way
            conn.recv(64)
            client.sendall(b"GET /x")
            client.shutdown(socket.SHUT_WR)
            assert await _peek(conn) == b"GET /x"  # is routed as it is, not waited for


async def test_a_burst_of_connections_is_handed_over_whole(tmp_path: Path) -> None:
    """More connections at once than the kernel queues on a worker's channel (ten)."""
    relay = RelayProcess(f"sqlite:///{tmp_path / 'relay.db'}", workers=2)

    async def health() -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", relay.port)
        writer.write(b"GET /health HTTP/1.1\r\nHost: relay\r\n\r\n")
        answer = await reader.read()  # the worker closes after its response
        writer.close()
        return answer.split(b"\r\n", 1)[0]

    try:
        async with asyncio.timeout(60):
            answers = await asyncio.gather(*(health() for _ in range(1000)))
    finally:
        relay.stop()
    assert answers == [b"HTTP/1.1 200 OK"] * 1000
