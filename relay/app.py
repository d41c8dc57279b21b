"""The relay service: ``create_app(settings)`` builds a FastAPI app with its own resources.

Nothing lives at module level: the store and the exercise hub are built in ``lifespan`` and
kept on ``app.state``, so tests can build as many independent apps as they like.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, WebSocket

from relay.api import router
from relay.live import ExerciseHub
from relay.settings import Settings
from relay.store import JournalStore, default_database_url, open_store
from relay.ws import serve_seat

__all__ = ["create_app"]

log = logging.getLogger("shuttle.relay")


def create_app(settings: Settings | None = None, store: JournalStore | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        journal = store or open_store(settings.database_url or default_database_url())
        await journal.open()
        hub = ExerciseHub(journal)
        app.state.hub = hub
        recovered = await hub.recover()
        if recovered:
            log.info("recovered %d unfinished exercise(s) from the journal", recovered)
        # Journals and cores are long-lived: keep them out of the cyclic collector's full
        # passes, which otherwise pause every timer for 100+ ms (docs/performance.md).
        gc.freeze()
        try:
            yield
        finally:
            await hub.close()
            await journal.close()

    app = FastAPI(
        title="Shuttle relay",
        version="0.1.0",
        summary="A message-relay simulator for mediated (shuttle) negotiations",
        lifespan=lifespan,
    )
    app.include_router(router)

    @app.websocket("/ws/{exercise_id}")
    async def seat_socket(websocket: WebSocket, exercise_id: str) -> None:
        await serve_seat(websocket, app.state.hub, exercise_id, settings.hello_timeout_s)

    return app
