"""The facilitator's commands against a running relay, through the SDK: ``shuttle create``,
``control``, ``revoke`` and ``rules``."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from clients.cli.options import (
    DEFAULT_URL,
    DeliveryOpt,
    ExerciseOpt,
    FacilitatorTokenOpt,
    PresetOpt,
    ScenarioOpt,
    SpeedOpt,
    UrlOpt,
    delivery_section,
    fail,
    scenario_at,
    seed_option,
)
from clients.cli.output import echo_seats

if TYPE_CHECKING:
    from clients.sdk import RelayAPI

__all__ = ["control", "create", "revoke", "rules"]


def _on_relay(
    url: str,
    call: Callable[[RelayAPI], Awaitable[dict[str, Any]]],
    admin_token: str | None = None,
) -> dict[str, Any]:
    """Run one SDK call against the relay at ``url``; failures become one clear line."""
    # the SDK (httpx, websockets) loads only when a command talks to a relay
    import httpx

    from clients.sdk import Refused, RelayAPI

    async def go() -> dict[str, Any]:
        async with RelayAPI(url, admin_token=admin_token) as api:
            return await call(api)

    try:
        return asyncio.run(go())
    except Refused as error:
        raise fail(error.message) from None
    except (httpx.HTTPError, OSError) as error:
        raise fail(f"cannot reach the relay at {url}: {error}") from None


def create(
    url: Annotated[str, typer.Option(help="Relay base URL.")] = DEFAULT_URL,
    scenario: ScenarioOpt = None,
    seed: Annotated[
        int | None, typer.Option(help="Seed (random if not given).", callback=seed_option)
    ] = None,
    speed: SpeedOpt = 1.0,
    human_mediator: Annotated[
        bool, typer.Option("--human-mediator", help="A person plays the mediator's seat.")
    ] = False,
    admin_token: Annotated[
        str | None,
        typer.Option(
            help="The relay's admin token, if it has one (SHUTTLE_ADMIN_TOKEN).",
            envvar="SHUTTLE_ADMIN_TOKEN",
        ),
    ] = None,
) -> None:
    """Create an exercise on a running relay; prints the seat tokens and join commands."""
    chosen = scenario_at(scenario)
    data = chosen.model_dump(mode="json")
    if human_mediator:
        data["mediator"]["mode"] = "human"

    created = _on_relay(
        url, lambda api: api.create(data, seed=seed, speed=speed), admin_token=admin_token
    )
    typer.echo(f"Exercise {created['id']} ({created['title']}), seed {created['seed']}")
    echo_seats(url, created)
    typer.echo(
        f"Start it: shuttle control start --url {url} --exercise {created['id']} "
        f"--token {created['seats']['facilitator']}"
    )


def _action(value: str) -> str:
    if value not in ("start", "pause", "resume", "end"):
        raise typer.BadParameter("choose start, pause, resume or end")
    return value


def control(
    action: Annotated[str, typer.Argument(help="start, pause, resume or end.", callback=_action)],
    exercise: ExerciseOpt,
    token: FacilitatorTokenOpt,
    url: UrlOpt = DEFAULT_URL,
) -> None:
    """Start, pause, resume or end an exercise (facilitator)."""
    state = _on_relay(url, lambda api: api.control(exercise, action, token))
    typer.echo(f"{exercise}: {state['phase']} at exercise time {state['now']:.0f}s")


def revoke(
    seat: Annotated[str, typer.Argument(help="The seat whose token to revoke, e.g. usa.")],
    exercise: ExerciseOpt,
    token: FacilitatorTokenOpt,
    url: UrlOpt = DEFAULT_URL,
) -> None:
    """Revoke a seat's token for good (facilitator); its open connections close at once."""
    if "/" in seat or seat in ("", ".", ".."):  # not a path segment: no seat is named so
        raise fail(f"no seat {seat!r} in {exercise}")
    done = _on_relay(url, lambda api: api.revoke(exercise, seat, token))
    typer.echo(f"{exercise}: {seat}'s token revoked; {done['closed']} connection(s) closed")


def rules(
    exercise: ExerciseOpt,
    token: FacilitatorTokenOpt,
    preset: PresetOpt = None,
    delivery: DeliveryOpt = None,
    url: UrlOpt = DEFAULT_URL,
) -> None:
    """Change a running exercise's delivery rules in flight (facilitator).

    The new rules apply from now on; notes in flight keep the delays already drawn.
    """
    if (preset is None) == (delivery is None):
        raise fail("give exactly one of --preset NAME or --delivery FILE")
    section = delivery_section(delivery) if delivery is not None else {"preset": preset}
    _on_relay(url, lambda api: api.change_rules(exercise, section, token))
    typer.echo(f"{exercise}: delivery rules changed")
