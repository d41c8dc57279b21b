"""``shuttle schema``: the JSON Schema of scenario files or of the websocket frames."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from clients.cli.options import fail
from schemas import wire
from schemas.scenario import Scenario

__all__ = ["schema"]


def schema(
    which: Annotated[str, typer.Argument(help="scenario or wire")] = "scenario",
) -> None:
    """Print the JSON Schema of scenario files or of the websocket frames (both directions:
    what clients send and what the relay sends)."""
    if which == "scenario":
        typer.echo(json.dumps(Scenario.model_json_schema(), indent=2))
    elif which == "wire":
        typer.echo(json.dumps(wire.json_schema(), indent=2))
    else:
        raise fail("schema: choose scenario or wire")
