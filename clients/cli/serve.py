"""``shuttle serve``: run the relay, after checking its settings in one line each."""

from __future__ import annotations

import re
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from pydantic_settings import SettingsError

from clients.cli.options import DatabaseOpt, fail
from relay.settings import Settings
from relay.store import open_store

__all__ = ["serve"]


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="TCP port (0: any free one).")] = 8000,
    database: DatabaseOpt = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
    allow_origin: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-origin",
            help="A browser Origin allowed to connect (repeatable; default: none, or "
            "SHUTTLE_ALLOWED_ORIGINS). Clients that send no Origin are always allowed.",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=64,
            help="Relay processes, each serving its share of the exercises (default 1, or "
            "SHUTTLE_WORKERS). Up to one per core; more than 1 needs a SQLite file or "
            "PostgreSQL.",
        ),
    ] = None,
) -> None:
    """Run the relay service (REST + websockets; OpenAPI at /docs).

    Limits and the admin token come from SHUTTLE_* variables: see docs/security.md.
    """
    # the relay itself (uvicorn, FastAPI, the store's backends) loads only when it is served
    from uvicorn.config import LOG_LEVELS

    from relay.workers import check_shareable, configure_logging
    from relay.workers import serve as serve_relay

    if log_level.lower() not in LOG_LEVELS:
        raise fail(f"--log-level: choose one of {', '.join(LOG_LEVELS)}")
    configure_logging(log_level)
    settings = _settings(
        database_url=database,
        host=host,
        port=port,
        log_level=log_level,
        **({"allowed_origins": allow_origin} if allow_origin else {}),
        **({"workers": workers} if workers is not None else {}),
    )
    try:
        check_shareable(settings)
    except ValueError as error:
        raise fail(str(error)) from None
    raise typer.Exit(serve_relay(settings))


def _settings(**chosen: Any) -> Settings:
    """The relay's settings from ``chosen`` and ``SHUTTLE_*``; a bad one (or an unknown kind of
    database) is refused in one line before anything starts."""
    try:
        settings = Settings(**chosen)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise fail(f"SHUTTLE_{field.upper()}: {first['msg']}") from None
    except SettingsError as error:  # a list or mapping that is not JSON
        named = re.search(r'field "(\w+)"', str(error))
        name = f"SHUTTLE_{named.group(1).upper()}" if named else "a SHUTTLE_* variable"
        raise fail(f"""{name}: not JSON; write a list as '["https://a.example"]'""") from None
    try:
        open_store(settings.database_url)  # constructed only: this checks the URL's kind
    except ValueError as error:
        raise fail(f"--database: {error}") from None
    return settings
