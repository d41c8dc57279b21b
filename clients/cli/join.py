"""``shuttle join``: play a seat (or watch) in the terminal."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated

import typer

from clients.cli.options import ExerciseOpt

__all__ = ["join"]


def join(
    url: Annotated[str, typer.Argument(help="Relay base URL, e.g. http://127.0.0.1:8000.")],
    exercise: ExerciseOpt,
    token: Annotated[str, typer.Option(help="Your seat's token.", envvar="SHUTTLE_TOKEN")],
) -> None:
    """Play a party's or the mediator's seat in the terminal, or watch with another token.

    A facilitator or observer token joins to watch. If the connection drops, or the relay
    restarts, join reconnects with backoff.

    It resumes after the last event it printed; an unacknowledged note is resent, stored once.

    \b
    Party commands:
      propose TEXT [| term=value ...]   e.g. propose A cap | enrichment_cap=3.67
      reply N accept|reject|counter|clarify TEXT [| term=value ...]
      ask TEXT   say TEXT   aside TEXT   (aside: for the mediator only)
      tag ITEM[,ITEM]  tags the next note with agenda items
    Mediator commands:
      relay N [TEXT]        carry note N (a TEXT makes it a paraphrase)
      hold N [UNTIL | delivered:M | answered:M]   release N
      return N COMMENT  decline N REASON  travel PARTY
      batch [N ...]         relay these (or all read) notes and leave with them
    Both: help, status, quit
    """
    # the terminal seat and the SDK (websockets, httpx) load only when a seat is played
    from clients.terminal import play

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(play(url, exercise, token))
