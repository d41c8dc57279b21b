"""The baseline: a bare FastAPI websocket forwarder.

``/ws/{pair}/{side}`` (side ``a`` or ``b``): every text frame received on one side is parsed
(``json.loads``) and forwarded (``json.dumps``) to the other side of the same pair. No
validation, no state, no journal, no ack: the least a JSON relay on FastAPI + uvicorn can do,
so the relay's figures are read as a ratio to it (same server stack, same load generator).
"""

from __future__ import annotations

import json

from fastapi import FastAPI, WebSocket, WebSocketDisconnect

__all__ = ["create_forwarder_app"]

_OTHER = {"a": "b", "b": "a"}


def create_forwarder_app() -> FastAPI:
    app = FastAPI(title="bare websocket forwarder (benchmark baseline)")
    pairs: dict[str, dict[str, WebSocket]] = {}

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.websocket("/ws/{pair}/{side}")
    async def forward(websocket: WebSocket, pair: str, side: str) -> None:
        if side not in _OTHER:
            await websocket.close(1008)
            return
        await websocket.accept()
        sockets = pairs.setdefault(pair, {})
        sockets[side] = websocket
        other = _OTHER[side]
        try:
            while True:
                raw = await websocket.receive_text()
                peer = sockets.get(other)
                if peer is not None:
                    await peer.send_text(json.dumps(json.loads(raw)))
        except WebSocketDisconnect:
            pass
        finally:
            if sockets.get(side) is websocket:
                del sockets[side]
            if not sockets:
                pairs.pop(pair, None)

    return app
