"""The relay service: ``create_app(settings)`` builds a FastAPI app with its own resources.

Nothing lives at module level: the store, the exercise hub and the seat gate (the limits of
docs/security.md) are built in ``lifespan`` and kept on ``app.state``, so tests can build as
many independent apps as they like. The one process-wide thing is the log record factory that
blanks seat tokens (:func:`redact_tokens_in_logs`), because logging itself is process-wide.
"""

from __future__ import annotations

import gc
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response, WebSocket
from fastapi.exceptions import RequestValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from relay.api import router
from relay.live import ExerciseHub
from relay.settings import Settings
from relay.shares import WHOLE, Share, exercise_in_path
from relay.store import JournalStore, default_database_url, open_store
from relay.ws import SeatGate, serve_seat

__all__ = ["OriginAllowlist", "OwnExercisesOnly", "create_app", "redact_tokens_in_logs"]

log = logging.getLogger("shuttle.relay")

# A token in a hello frame (even one cut short by a library's debug log) or a bearer header.
_TOKEN_PATTERNS = [
    (re.compile(r'("token"\s*:\s*")[^"\\]*'), r"\1[redacted]"),
    (re.compile(r"(\b[Bb]earer\s+)[^\s'\",]+"), r"\1[redacted]"),
    (re.compile(r"(--token[= ])\S+"), r"\1[redacted]"),
    (re.compile(r"([?&]token=)[^&#\s\"']+"), r"\1[redacted]"),  # a client that put it in a URL
]


def _redact(text: str) -> str:
    for pattern, replacement in _TOKEN_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact_tokens_in_logs() -> None:
    """Blank seat tokens in every log record of this process, whatever logger or handler.

    Seat tokens never go into a URL (docs/security.md), but a library's debug log may print a
    whole hello frame; the record factory sees every record before any handler does.
    """
    previous = logging.getLogRecordFactory()
    if getattr(previous, "redacts_tokens", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        message = record.getMessage()
        cleaned = _redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return record

    factory.redacts_tokens = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


class OriginAllowlist:
    """Refuse browser requests (REST and websocket) from an Origin not on the allowlist.

    A request without ``Origin`` is not from a browser page and passes: the token is the
    authentication. This stops a page on another site from using a visitor's network position
    (cross-site websocket hijacking of a relay on loopback or an intranet).
    """

    def __init__(self, app: ASGIApp, allowed: list[str]) -> None:
        self.app = app
        self.allowed = {origin.rstrip("/") for origin in allowed}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            origin = dict(scope.get("headers") or []).get(b"origin")
            if origin is not None and origin.decode("latin-1").rstrip("/") not in self.allowed:
                refusal = (403, "this Origin is not allowed"), (1008, "origin not allowed")
                await _refuse(scope, receive, send, *refusal)
                return
        await self.app(scope, receive, send)


async def _refuse(
    scope: Scope,
    receive: Receive,
    send: Send,
    http: tuple[int, str],
    websocket: tuple[int, str],
    headers: tuple[tuple[bytes, bytes], ...] = (),
) -> None:
    """Answer a request before the app sees it: ``http`` (status, detail) as a JSON body, or
    on a websocket, ``websocket`` (close code, reason) instead of accepting it."""
    if scope["type"] == "websocket":
        await receive()  # websocket.connect
        code, reason = websocket
        await send({"type": "websocket.close", "code": code, "reason": reason})
        return
    status, detail = http
    body = json.dumps({"detail": detail}, separators=(",", ":")).encode()
    start = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": [*start, *headers]})
    await send({"type": "http.response.body", "body": body})


class OwnExercisesOnly:
    """In one of several relay processes: refuse a request for an exercise another owns, and
    close every HTTP connection after its response.

    The front process hands each new connection to a worker by the path of its first request
    (relay/workers.py). A kept-alive connection could carry a second request for an exercise
    of another worker, so none is kept alive; this refusal (421, or close code 1013 on a
    websocket) is the backstop that keeps one exercise in one process.
    """

    def __init__(self, app: ASGIApp, share: Share) -> None:
        self.app = app
        self.share = share

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        exercise_id = exercise_in_path(scope["path"])
        if exercise_id is not None and not self.share.owns(exercise_id):
            reason = "another relay process serves this exercise: connect again"
            await _refuse(
                scope, receive, send, (421, reason), (1013, reason), ((b"connection", b"close"),)
            )
            return
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return

        async def send_and_close(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", []), (b"connection", b"close")]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_and_close)


async def refused_request(request: Request, error: Exception) -> Response:
    """422 for a request that does not validate, naming each field once, without echoing
    input; 400 for a body that is not JSON at all.

    FastAPI's own answer repeats the input, and fails (500) when that input holds what JSON
    text cannot (a lone surrogate); the message is enough, and ASCII JSON always encodes. A
    path parameter that several dependencies read is reported by each of them: once is enough.
    """
    assert isinstance(error, RequestValidationError)
    detail: list[dict[str, Any]] = []
    for item in error.errors():
        if item["type"] == "json_invalid":
            at = item["loc"][-1]
            return _json_response({"detail": f"the body is not JSON (at character {at})"}, 400)
        loc = list(item["loc"])
        msg = _PLAIN_MESSAGES.get((item["type"], *loc), item["msg"])
        refusal = {"loc": loc, "msg": msg, "type": item["type"]}
        if refusal not in detail:
            detail.append(refusal)
    return _json_response({"detail": detail}, 422)


_PLAIN_MESSAGES = {
    ("string_pattern_mismatch", "path", "exercise_id"): (
        "not an exercise id: ex- and ten hex digits, like ex-5979b09543"
    ),
}
"""Pydantic's messages that say less than they could, by (error type, *location)."""


def _json_response(body: Any, status: int) -> Response:
    return Response(json.dumps(body), status, media_type="application/json")


def create_app(
    settings: Settings | None = None,
    store: JournalStore | None = None,
    clock: Callable[[], float] = time.monotonic,
    share: Share = WHOLE,
) -> FastAPI:
    """The relay. ``clock`` (monotonic seconds) drives the seats' frame-rate budgets;
    ``share`` says which exercises this process serves, when several do (relay/workers.py)."""
    settings = settings or Settings()
    redact_tokens_in_logs()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        journal = store or open_store(settings.database_url or default_database_url())
        await journal.open()
        hub = ExerciseHub(journal, share=share)
        app.state.hub = hub
        app.state.gate = SeatGate(settings, clock)
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
    app.state.settings = settings
    app.include_router(router)
    app.add_exception_handler(RequestValidationError, refused_request)
    app.add_middleware(OriginAllowlist, allowed=settings.allowed_origins)
    if share.count > 1:
        app.add_middleware(OwnExercisesOnly, share=share)

    @app.websocket("/ws/{exercise_id}")
    async def seat_socket(websocket: WebSocket, exercise_id: str) -> None:
        await serve_seat(websocket, app.state.hub, app.state.gate, exercise_id)

    return app
