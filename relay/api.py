"""REST: everything that is not a stream. Seats authenticate with ``Authorization: Bearer``.

Who may call what is the matrix in docs/security.md. The token is checked before the exercise
is looked up, so without a token of an exercise nobody learns whether it exists (403 either
way). Every answer, errors included, is declared in the OpenAPI document with its model, and a
schemathesis run in the test suite holds the app to it.
"""

from __future__ import annotations

import secrets
from io import StringIO
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Request, Response
from fastapi import status as http
from pydantic import BaseModel, ConfigDict, Field

from relay.core import ShuttleError
from relay.core import commands as cmd
from relay.journal import JournalFormatError, dumps, write_journal
from relay.live import NO_SEAT, Close, ExerciseHub, LiveExercise
from relay.settings import Settings
from relay.store import SeatRecord
from relay.views import scenario_view, summary
from schemas import translate, wire
from schemas.scenario import ScenarioError, parse_scenario

__all__ = ["router"]

EXERCISE_ID = r"^ex-[0-9a-f]{10}$"


# ---------------------------------------------------------------------- answers, as documented


class Problem(BaseModel):
    """Every error: a message for people, or FastAPI's list of validation errors."""

    detail: str | list[Any]


class Health(BaseModel):
    status: Literal["ok"]


class Created(BaseModel):
    id: str
    title: str
    seed: int
    speed: float
    phase: str
    seats: dict[str, str] = Field(description="one token per seat, shown once")
    websocket: str


class Listed(BaseModel):
    id: str
    title: str
    status: str
    created_wall: float


class Summary(BaseModel):
    """Fields a role is not shown are absent (docs/protocol.md#the-summary)."""

    id: str
    title: str
    phase: str
    now: float
    last_seq: int
    outcome: dict[str, Any] | None
    mediator: dict[str, Any] | None = None
    in_flight: list[dict[str, Any]] | None = None
    next_deadline: float | None = None
    seat: str | None = None
    role: str | None = None
    scenario: dict[str, Any] | None = None


class JournalEntry(BaseModel):
    seq: int
    at: float
    type: str
    data: dict[str, Any]
    wall: float | None = None
    dedupe_key: str | None = None


class Revoked(BaseModel):
    seat: str
    revoked: Literal[True]
    closed: int = Field(description="sockets of the seat closed with 1008")


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": Problem} for code in codes}


_SEAT_ERRORS = _errors(401, 403, 404, 422, 503)

router = APIRouter()


# ---------------------------------------------------------------------- dependencies


def get_hub(request: Request) -> ExerciseHub:
    hub: ExerciseHub = request.app.state.hub
    return hub


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


Hub = Annotated[ExerciseHub, Depends(get_hub)]
AppSettings = Annotated[Settings, Depends(get_settings)]
Authorization = Annotated[str | None, Header(description="Bearer <token>")]
ExerciseId = Annotated[str, Path(pattern=EXERCISE_ID, description="ex- and ten hex digits")]


def _bearer(authorization: str | None, whose: str = "a seat's token") -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(
            http.HTTP_401_UNAUTHORIZED,
            f"this needs {whose}: send Authorization: Bearer <token>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return token.strip()


async def get_seat(
    exercise_id: ExerciseId, hub: Hub, authorization: Authorization = None
) -> SeatRecord:
    token = _bearer(authorization)
    seat = await hub.authenticate(exercise_id, token)
    if seat is None:
        raise HTTPException(http.HTTP_403_FORBIDDEN, NO_SEAT)
    return seat


Seat = Annotated[SeatRecord, Depends(get_seat)]


async def get_live(exercise_id: ExerciseId, hub: Hub, seat: Seat) -> LiveExercise:
    try:
        live = await hub.get(exercise_id)
    except Exception:  # a journal that no longer replays: logged by the hub, not served
        raise HTTPException(
            http.HTTP_503_SERVICE_UNAVAILABLE, "this exercise cannot be served"
        ) from None
    if live is None:
        raise HTTPException(http.HTTP_404_NOT_FOUND, f"no exercise {exercise_id}")
    return live


async def get_facilitator(seat: Seat) -> SeatRecord:
    if seat.role != "facilitator":
        raise HTTPException(http.HTTP_403_FORBIDDEN, "only the facilitator may do this")
    return seat


def _admin(settings: Settings, authorization: str | None, *, needed: bool) -> None:
    """The relay's admin token, when one is configured (or when ``needed`` regardless)."""
    if settings.admin_token is None:
        if needed:
            raise HTTPException(
                http.HTTP_403_FORBIDDEN,
                "listing exercises needs the relay's admin token (SHUTTLE_ADMIN_TOKEN)",
            )
        return
    token = _bearer(
        authorization, "the relay's admin token (shuttle create --admin-token, SHUTTLE_ADMIN_TOKEN)"
    )
    if not secrets.compare_digest(token.encode(), settings.admin_token.encode()):
        raise HTTPException(http.HTTP_403_FORBIDDEN, "that is not the relay's admin token")


async def may_create(settings: AppSettings, authorization: Authorization = None) -> None:
    _admin(settings, authorization, needed=False)


async def may_list(settings: AppSettings, authorization: Authorization = None) -> None:
    _admin(settings, authorization, needed=True)


Live = Annotated[LiveExercise, Depends(get_live)]
Facilitator = Annotated[SeatRecord, Depends(get_facilitator)]


# ---------------------------------------------------------------------- endpoints


@router.get("/health")
async def health() -> Health:
    return Health(status="ok")


@router.post(
    "/exercises",
    status_code=http.HTTP_201_CREATED,
    responses=_errors(400, 401, 403, 422),
    dependencies=[Depends(may_create)],
)
async def create_exercise(body: wire.CreateExercise, hub: Hub) -> Created:
    """Create an exercise in ``draft`` from a scenario; the answer holds one token per seat."""
    try:
        scenario = parse_scenario(body.scenario)
    except ScenarioError as error:
        raise HTTPException(http.HTTP_422_UNPROCESSABLE_CONTENT, str(error)) from None
    live, tokens = await hub.create(
        scenario, seed=body.seed, speed=body.speed, title=body.title, observers=body.observers
    )
    return _created(live, tokens)


_NDJSON_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
    }
}


@router.post(
    "/exercises/import",
    status_code=http.HTTP_201_CREATED,
    responses=_errors(401, 403, 413, 422),
    dependencies=[Depends(may_create)],
    openapi_extra=_NDJSON_BODY,
)
async def import_exercise(request: Request, hub: Hub, settings: AppSettings) -> Created:
    """Import a journal (JSON Lines, as exported) as a new exercise with fresh seat tokens.

    The journal is checked whole (format, sequence, dedupe keys, replay) before anything is
    stored, so a refused import leaves nothing behind.
    """
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > settings.max_import_bytes:
            raise HTTPException(
                http.HTTP_413_CONTENT_TOO_LARGE,
                f"a journal to import is limited to {settings.max_import_bytes} bytes",
            )
    try:
        text = bytes(body).decode("utf-8")
    except UnicodeDecodeError as error:
        raise HTTPException(
            http.HTTP_422_UNPROCESSABLE_CONTENT,
            f"import: not UTF-8 text: {error.reason} at byte {error.start}",
        ) from None
    try:
        live, tokens = await hub.import_journal(text)
    except (JournalFormatError, ScenarioError) as error:
        raise HTTPException(http.HTTP_422_UNPROCESSABLE_CONTENT, str(error)) from None
    return _created(live, tokens)


def _created(live: LiveExercise, tokens: dict[str, str]) -> Created:
    return Created(
        id=live.id,
        title=live.record.title,
        seed=live.record.seed,
        speed=live.record.speed,
        phase=live.core.phase.value,
        seats=tokens,
        websocket=f"/ws/{live.id}",
    )


@router.get("/exercises", responses=_errors(401, 403), dependencies=[Depends(may_list)])
async def list_exercises(hub: Hub) -> list[Listed]:
    """Every stored exercise, oldest first: for the relay's operator (admin token) only."""
    return [
        Listed(id=r.id, title=r.title, status=r.status, created_wall=r.created_wall)
        for r in await hub.store.list_exercises()
    ]


@router.get(
    "/exercises/{exercise_id}",
    response_model=Summary,
    response_model_exclude_unset=True,
    responses=_SEAT_ERRORS,
)
async def get_exercise(live: Live, seat: Seat) -> dict[str, Any]:
    """The exercise as this seat may know it: summary, seat, role and scenario."""
    out = summary(live.core, live.id, live.record.title, seat.role)
    out.update(
        seat=seat.seat, role=seat.role, scenario=scenario_view(live.core, seat.seat, seat.role)
    )
    return out


class RulesChange(BaseModel):
    """``POST /exercises/{id}/rules``: the delivery rules from now on."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)
    delivery: dict[str, Any] = Field(
        description="a scenario delivery section (docs/delivery-rules.md); replaces the current"
    )


@router.post(
    "/exercises/{exercise_id}/rules",
    response_model=Summary,
    response_model_exclude_unset=True,
    responses=_errors(400, 401, 403, 404, 409, 422, 503),
)
async def change_rules(body: RulesChange, live: Live, seat: Facilitator) -> dict[str, Any]:
    """Replace the delivery rules in flight (facilitator only); journalled as rules.changed."""
    problem = wire.unstorable(body.delivery, "delivery")
    if problem:
        raise HTTPException(http.HTTP_422_UNPROCESSABLE_ENTITY, problem)
    try:
        await live.command(translate.change_rules(live.core.config, seat.seat, body.delivery))
    except ShuttleError as refused:
        raise HTTPException(refused.status, str(refused)) from None
    return summary(live.core, live.id, live.record.title, seat.role)


@router.post(
    "/exercises/{exercise_id}/{action}",
    response_model=Summary,
    response_model_exclude_unset=True,
    responses=_errors(401, 403, 404, 409, 422, 503),
)
async def control(
    action: Literal["start", "pause", "resume", "end"], live: Live, seat: Facilitator
) -> dict[str, Any]:
    """``start``, ``pause``, ``resume`` or ``end`` the exercise (facilitator only)."""
    try:
        await live.command(cmd.CONTROLS[action](by=seat.seat))
    except ShuttleError as refused:
        raise HTTPException(refused.status, str(refused)) from None
    return summary(live.core, live.id, live.record.title, seat.role)


@router.post(
    "/exercises/{exercise_id}/seats/{seat}/revoke",
    responses=_errors(401, 403, 404, 409, 422, 503),
)
async def revoke(
    seat: Annotated[str, Path(max_length=64)], live: Live, hub: Hub, by: Facilitator
) -> Revoked:
    """Revoke a seat's token for good; its open sockets close at once with 1008."""
    seats = {s.seat for s in await hub.store.seats(live.id)}
    if seat not in seats:
        raise HTTPException(http.HTTP_404_NOT_FOUND, f"no seat {seat!r} in {live.id}")
    if seat == by.seat:
        raise HTTPException(http.HTTP_409_CONFLICT, "the facilitator cannot revoke its own seat")
    closed = await hub.revoke(live, seat, Close(1008, "token revoked"))
    return Revoked(seat=seat, revoked=True, closed=closed)


@router.get(
    "/exercises/{exercise_id}/journal",
    response_model=None,
    responses={200: {"model": list[JournalEntry]}, **_SEAT_ERRORS},
)
async def journal(live: Live, seat: Seat, after: Annotated[int, Query(ge=0)] = 0) -> Response:
    """The journal as this seat may see it, after sequence number ``after``."""
    entries = live.visible(seat.seat, seat.role, after)
    return Response(dumps([entry.to_json() for entry in entries]), media_type="application/json")


@router.get(
    "/exercises/{exercise_id}/export",
    response_model=None,
    responses={
        200: {"content": {"application/x-ndjson": {"schema": {"type": "string"}}}},
        **_SEAT_ERRORS,
    },
)
async def export(live: Live, seat: Facilitator) -> Response:
    """The whole journal as JSON Lines (lossless; ``POST /exercises/import`` reads it)."""
    out = StringIO()
    write_journal(out, live.entries, live.header())
    return Response(out.getvalue(), media_type="application/x-ndjson")
