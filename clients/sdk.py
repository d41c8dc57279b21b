"""The Python SDK: REST through httpx, one websocket per seat through ``websockets``.

    api = RelayAPI("http://127.0.0.1:8000")
    created = await api.create(scenario_dict, seed=7, speed=60)
    seat = await SeatClient.connect(api.base_url, created["id"], created["seats"]["iran"])
    await seat.submit(kind="proposal", text="...", terms={"enrichment_cap": 3.67})
    async for frame in seat.events():      # event frames visible to this seat, in order
        ...

Every request frame gets an id; :meth:`SeatClient.request` waits for its ``ack`` and raises
:class:`Refused` (with the server's code and message) on an ``error``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import websockets

from relay.core import events as ev

__all__ = ["ConnectionLost", "Refused", "RelayAPI", "SeatClient", "event_of", "ws_url"]


class Refused(Exception):
    """The relay refused a request; ``code`` is machine-readable, the message is for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class ConnectionLost(Exception):
    """The websocket closed while a request was waiting for its answer."""


def event_of(frame: dict[str, Any]) -> ev.Event:
    """The core event an ``event`` frame carries."""
    return ev.event_from_data(frame["event"], frame["seq"], frame["at"], frame["data"])


def ws_url(base_url: str, exercise_id: str) -> str:
    base = base_url.rstrip("/")
    if base.startswith("http"):
        base = "ws" + base[4:]
    return f"{base}/ws/{exercise_id}"


class RelayAPI:
    def __init__(self, base_url: str, *, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.AsyncClient(base_url=self.base_url, timeout=timeout)

    async def __aenter__(self) -> RelayAPI:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _call(self, method: str, path: str, token: str | None = None, **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await self._http.request(method, path, headers=headers, **kw)
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail", response.text)
            except ValueError:
                detail = response.text
            raise Refused(f"http_{response.status_code}", str(detail))
        if response.headers.get("content-type", "").startswith("application/json"):
            return response.json()
        return response.text

    async def create(
        self,
        scenario: dict[str, Any],
        *,
        seed: int | None = None,
        speed: float = 1.0,
        title: str | None = None,
    ) -> dict[str, Any]:
        body = {"scenario": scenario, "seed": seed, "speed": speed, "title": title}
        result: dict[str, Any] = await self._call("POST", "/exercises", json=body)
        return result

    async def control(self, exercise_id: str, action: str, token: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._call(
            "POST", f"/exercises/{exercise_id}/{action}", token
        )
        return result

    async def get(self, exercise_id: str, token: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("GET", f"/exercises/{exercise_id}", token)
        return result

    async def journal(self, exercise_id: str, token: str, after: int = 0) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await self._call(
            "GET", f"/exercises/{exercise_id}/journal", token, params={"after": after}
        )
        return result

    async def export(self, exercise_id: str, token: str) -> str:
        return str(await self._call("GET", f"/exercises/{exercise_id}/export", token))

    async def import_journal(self, text: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("POST", "/exercises/import", content=text)
        return result


class SeatClient:
    """One seat's live connection: send requests, iterate over visible events."""

    def __init__(self, ws: Any, welcome: dict[str, Any]) -> None:
        self._ws = ws
        self.welcome = welcome
        self.seat: str = welcome["seat"]
        self.role: str = welcome["role"]
        self.last_seq: int = welcome["resumed_after"]
        self._ids = itertools.count(1)
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._events: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self.notices: list[dict[str, Any]] = []  # errors not tied to a request
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def connect(
        cls, base_url: str, exercise_id: str, token: str, *, last_seq: int = 0
    ) -> SeatClient:
        # permessage-deflate off: it triples CPU per frame for short JSON (DESIGN §3).
        ws = await websockets.connect(
            ws_url(base_url, exercise_id), compression=None, max_size=2**20
        )
        await ws.send(json.dumps({"type": "hello", "token": token, "last_seq": last_seq}))
        first = json.loads(await ws.recv())
        if first.get("type") != "welcome":
            await ws.close()
            raise Refused(first.get("code", "refused"), first.get("message", str(first)))
        return cls(ws, first)

    async def close(self) -> None:
        await self._ws.close()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader

    async def __aenter__(self) -> SeatClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def events(self) -> AsyncIterator[dict[str, Any]]:
        """Event frames in journal order; ends when the connection closes."""
        while True:
            frame = await self._events.get()
            if frame is None:
                return
            yield frame

    async def request(self, frame: dict[str, Any]) -> dict[str, Any]:
        frame_id = str(next(self._ids))
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[frame_id] = future
        try:
            await self._ws.send(json.dumps({**frame, "id": frame_id}))
        except websockets.ConnectionClosed as error:
            self._pending.pop(frame_id, None)
            raise ConnectionLost(str(error)) from None
        answer = await future
        if answer["type"] == "error":
            raise Refused(answer["code"], answer["message"])
        return answer

    # ------------------------------------------------------------------ seat actions

    async def submit(
        self,
        *,
        client_id: str,
        kind: str,
        text: str,
        tags: list[str] | None = None,
        terms: dict[str, float] | None = None,
        in_reply_to: int | None = None,
        answer: str | None = None,
        to: str = "mediator",
    ) -> dict[str, Any]:
        return await self.request(
            {
                "type": "submit",
                "client_id": client_id,
                "kind": kind,
                "text": text,
                "tags": tags or [],
                "terms": terms or {},
                "in_reply_to": in_reply_to,
                "answer": answer,
                "to": to,
            }
        )

    async def relay(
        self,
        note: int,
        *,
        text: str | None = None,
        tags: list[str] | None = None,
        terms: dict[str, float] | None = None,
    ) -> dict[str, Any]:
        return await self.request(
            {"type": "relay", "note": note, "text": text, "tags": tags, "terms": terms}
        )

    async def hold(self, note: int, until: float | None = None) -> dict[str, Any]:
        return await self.request({"type": "hold", "note": note, "until": until})

    async def release(self, note: int) -> dict[str, Any]:
        return await self.request({"type": "release", "note": note})

    async def return_note(self, note: int, comment: str) -> dict[str, Any]:
        return await self.request({"type": "return", "note": note, "comment": comment})

    async def decline(self, note: int, reason: str) -> dict[str, Any]:
        return await self.request({"type": "decline", "note": note, "reason": reason})

    async def travel(self, destination: str) -> dict[str, Any]:
        return await self.request({"type": "travel", "destination": destination})

    async def control(self, action: str) -> dict[str, Any]:
        return await self.request({"type": "control", "action": action})

    # ------------------------------------------------------------------ reading

    async def _read(self) -> None:
        try:
            async for raw in self._ws:
                self._dispatch(json.loads(raw))
        except websockets.ConnectionClosed:
            pass
        finally:
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(ConnectionLost("connection closed"))
            self._pending.clear()
            self._events.put_nowait(None)

    def _dispatch(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "event":
            self.last_seq = frame["seq"]
            self._events.put_nowait(frame)
            return
        future = self._pending.pop(str(frame.get("id")), None)
        if future is not None and not future.done():
            future.set_result(frame)
        elif kind == "error":
            self.notices.append(frame)
