"""``shuttle export`` and ``shuttle import``: a stored exercise to and from a journal file
(JSON Lines), losslessly; an import is checked by replay before the database is opened."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from io import StringIO
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import typer

from clients.cli.database import database_url, opened_store
from clients.cli.options import DEFAULT_URL, DatabaseOpt, fail, writable
from clients.cli.output import echo_seats
from relay.journal import JournalFormatError, journal_header, write_journal

__all__ = ["export", "import_"]


def export(
    exercise: Annotated[str, typer.Argument(help="Exercise id, e.g. ex-1a2b3c4d5e.")],
    database: DatabaseOpt = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="File (default: stdout).", callback=writable),
    ] = None,
) -> None:
    """Write a stored exercise's journal as JSON Lines (lossless)."""
    text = asyncio.run(_export(exercise, database))
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"{exercise}: {text.count(chr(10)) - 1} events written to {out}", err=True)


async def _export(exercise: str, database: str | None) -> str:
    url = database_url(database)
    store = await opened_store(url, must_exist=True)
    try:
        record = await store.get_exercise(exercise)
        if record is None:
            raise fail(f"no exercise {exercise} in {url}")
        buffer = StringIO()
        write_journal(buffer, await store.read(exercise), journal_header(record))
        return buffer.getvalue()
    finally:
        await store.close()


def import_(
    journal: Annotated[Path, typer.Argument(help="A journal file (JSON Lines).")],
    database: DatabaseOpt = None,
    relay_url: Annotated[
        str,
        typer.Option(
            "--url",
            help="Base URL of the relay that will serve the database, for the printed commands.",
        ),
    ] = DEFAULT_URL,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the id, phase, events and tokens as JSON.")
    ] = False,
) -> None:
    """Store a journal file as a new exercise (checked by replay first); prints seat tokens."""
    served = _serve_options(relay_url)
    url = database_url(database)
    created = asyncio.run(_import(journal, url))
    if as_json:
        typer.echo(json.dumps(created, indent=2))
        return
    typer.echo(
        f"Exercise {created['id']} ({created['title']}) imported into {url}: "
        f"{created['phase']}, {created['events']} events"
    )
    echo_seats(relay_url, created)
    typer.echo(f"Serve it first: shuttle serve --database {url}{served}")
    if created["phase"] == "paused":
        elsewhere = "" if relay_url == DEFAULT_URL else f"--url {relay_url} "
        typer.echo(
            "It was running when its journal was written and comes in paused: "
            f"shuttle control resume {elsewhere}--exercise {created['id']} "
            f"--token {created['seats']['facilitator']}"
        )


def _serve_options(relay_url: str) -> str:
    """The ``shuttle serve`` options that listen where an http ``relay_url`` points ("" for
    the default address, and for https, which a TLS proxy in front of the relay answers);
    refuses a URL that is not an http(s) one."""
    parsed = urlsplit(relay_url)
    try:
        port = parsed.port
    except ValueError:  # not a number, or out of range
        port = -1
    if parsed.scheme not in ("http", "https") or not parsed.hostname or port == -1:
        raise fail(f"--url: {relay_url!r} is not a relay's http(s) base URL")
    if parsed.scheme == "https":
        return ""
    options = "" if parsed.hostname == "127.0.0.1" else f" --host {parsed.hostname}"
    port = 80 if port is None else port
    return options if port == 8000 else f"{options} --port {port}"


async def _import(journal: Path, database: str) -> dict[str, Any]:
    # the live relay's exercise hub, which stores an import as the relay would load it
    from relay.live import ExerciseHub, check_import

    try:
        text = journal.read_text(encoding="utf-8")
    except OSError as error:
        raise fail(f"{journal}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise fail(f"{journal}: not a journal (not UTF-8 text)") from None
    try:  # checked before the store is opened: a bad file leaves no database behind
        imported = check_import(text, str(journal), time.time)
    except JournalFormatError as error:
        raise fail(str(error)) from None
    store = await opened_store(database)
    hub = ExerciseHub(store)
    try:
        live, tokens = await hub.store_import(imported)
        return {
            "id": live.id,
            "title": live.record.title,
            "phase": live.core.phase.value,
            "events": live.core.last_seq,
            "seats": tokens,
        }
    finally:
        await hub.close()
        await store.close()
