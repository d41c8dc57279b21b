"""REST: everything that is not a stream. Seats authenticate with ``Authorization: Bearer``."""

from __future__ import annotations

from io import StringIO
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Request, Response, status
from fastapi.responses import PlainTextResponse

from relay.core import ShuttleError
from relay.core import commands as cmd
from relay.journal import JournalFormatError, write_journal
from relay.live import ExerciseHub, LiveExercise
from relay.store import SeatRecord
from relay.views import scenario_view, summary
from schemas import wire
from schemas.scenario import ScenarioError, parse_scenario

__all__ = ["router"]

router = APIRouter()


def get_hub(request: Request) -> ExerciseHub:
    hub: ExerciseHub = request.app.state.hub
    return hub


Hub = Annotated[ExerciseHub, Depends(get_hub)]


async def get_live(exercise_id: str, hub: Hub) -> LiveExercise:
    live = await hub.get(exercise_id)
    if live is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no exercise {exercise_id}")
    return live


async def get_seat(
    exercise_id: str, hub: Hub, authorization: Annotated[str | None, Header()] = None
) -> SeatRecord:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "send Authorization: Bearer <seat token>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    seat = await hub.authenticate(exercise_id, token)
    if seat is None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "that token opens no seat of this exercise")
    return seat


async def get_facilitator(seat: Annotated[SeatRecord, Depends(get_seat)]) -> SeatRecord:
    if seat.role != "facilitator":
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only the facilitator may do this")
    return seat


Live = Annotated[LiveExercise, Depends(get_live)]
Seat = Annotated[SeatRecord, Depends(get_seat)]
Facilitator = Annotated[SeatRecord, Depends(get_facilitator)]


@router.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.post("/exercises", status_code=status.HTTP_201_CREATED)
async def create_exercise(body: wire.CreateExercise, hub: Hub) -> dict[str, Any]:
    """Create an exercise in ``draft`` from a scenario; the answer holds one token per seat."""
    try:
        scenario = parse_scenario(body.scenario)
    except ScenarioError as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(error)) from None
    live, tokens = await hub.create(
        scenario, seed=body.seed, speed=body.speed, title=body.title, observers=body.observers
    )
    return _created(live, tokens)


@router.post("/exercises/import", status_code=status.HTTP_201_CREATED)
async def import_exercise(request: Request, hub: Hub) -> dict[str, Any]:
    """Import a journal (JSON Lines, as exported) as a new exercise with fresh seat tokens."""
    text = (await request.body()).decode("utf-8", errors="replace")
    try:
        live, tokens = await hub.import_journal(text)
    except (JournalFormatError, ScenarioError) as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(error)) from None
    return _created(live, tokens)


def _created(live: LiveExercise, tokens: dict[str, str]) -> dict[str, Any]:
    return {
        "id": live.id,
        "title": live.record.title,
        "seed": live.record.seed,
        "speed": live.record.speed,
        "phase": live.core.phase.value,
        "seats": tokens,
        "websocket": f"/ws/{live.id}",
    }


@router.get("/exercises")
async def list_exercises(hub: Hub) -> list[dict[str, Any]]:
    return [
        {"id": r.id, "title": r.title, "status": r.status, "created_wall": r.created_wall}
        for r in await hub.store.list_exercises()
    ]


@router.get("/exercises/{exercise_id}")
async def get_exercise(live: Live, seat: Seat) -> dict[str, Any]:
    out = summary(live.core, live.id, live.record.title, seat.role)
    out.update(
        seat=seat.seat, role=seat.role, scenario=scenario_view(live.core, seat.seat, seat.role)
    )
    return out


@router.post("/exercises/{exercise_id}/{action}")
async def control(action: str, live: Live, seat: Facilitator) -> dict[str, Any]:
    """``start``, ``pause``, ``resume`` or ``end`` the exercise (facilitator only)."""
    command = cmd.CONTROLS.get(action)
    if command is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"no action {action!r}; use {list(cmd.CONTROLS)}"
        )
    try:
        await live.command(command(by=seat.seat))
    except ShuttleError as refused:
        raise HTTPException(refused.status, str(refused)) from None
    return summary(live.core, live.id, live.record.title, seat.role)


@router.get("/exercises/{exercise_id}/journal")
async def journal(live: Live, seat: Seat, after: int = 0) -> list[dict[str, Any]]:
    """The journal as this seat may see it, after sequence number ``after``."""
    return [entry.to_json() for entry in live.visible(seat.seat, seat.role, max(after, 0))]


@router.get("/exercises/{exercise_id}/export", response_class=PlainTextResponse)
async def export(live: Live, seat: Facilitator) -> Response:
    """The whole journal as JSON Lines (lossless; ``POST /exercises/import`` reads it)."""
    out = StringIO()
    write_journal(out, live.entries, live.header())
    return Response(out.getvalue(), media_type="application/x-ndjson")
