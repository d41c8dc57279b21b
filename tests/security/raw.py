"""A raw websocket seat for tests that must send what the SDK never would."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import websockets

from clients.sdk import ws_url

__all__ = ["answer", "closed_with", "hello", "raw_seat"]


async def raw_seat(url: str, exercise: str, **connect: Any) -> Any:
    connect.setdefault("compression", None)
    return await websockets.connect(ws_url(url, exercise), **connect)


async def hello(ws: Any, token: str, **fields: Any) -> dict[str, Any]:
    await ws.send(json.dumps({"type": "hello", "token": token, **fields}))
    return json.loads(await asyncio.wait_for(ws.recv(), 10))


async def answer(ws: Any) -> dict[str, Any]:
    """The next frame that is not an event (events of the exercise may come in between)."""
    async with asyncio.timeout(10):
        while True:
            frame = json.loads(await ws.recv())
            if frame["type"] != "event":
                return frame


async def closed_with(ws: Any) -> int | None:
    """Read until the relay closes the socket; its close code."""
    async with asyncio.timeout(10):
        try:
            while True:
                await ws.recv()
        except websockets.ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd is not None else None
