"""The ``shuttle`` command line."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import re
import sys
import time
from collections.abc import Awaitable, Callable
from io import StringIO
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlsplit

import typer

from relay.journal import JournalFormatError, journal_header, read_journal, write_journal
from schemas.scenario import Scenario, ScenarioError, load_scenario, sample_scenario_path
from schemas.wire import MAX_SEED, MAX_SPEED, unstorable

if TYPE_CHECKING:
    from relay.core.events import ExerciseEnded
    from relay.settings import Settings

app = typer.Typer(
    help="Shuttle: a message-relay simulator for mediated (shuttle) negotiations.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

ScenarioOpt = Annotated[
    Path | None,
    typer.Option("--scenario", "-s", help="Scenario YAML file (default: the Muscat sample)."),
]
DatabaseOpt = Annotated[
    str | None,
    typer.Option(
        "--database",
        envvar="SHUTTLE_DATABASE_URL",
        help="sqlite:///PATH or postgresql://... (default: sqlite:///./shuttle.db).",
    ),
]


DEFAULT_URL = "http://127.0.0.1:8000"  # where `shuttle serve` listens by default


def _seed(value: int | None) -> int | None:
    if value is not None and not 0 <= value <= MAX_SEED:
        raise typer.BadParameter(f"a seed is a whole number from 0 to {MAX_SEED}")
    return value


def _speed(value: float) -> float:
    if not 0 < value <= MAX_SPEED:  # NaN fails this too
        raise typer.BadParameter(f"above 0 and at most {MAX_SPEED:g} (exercise s per wall s)")
    return value


def _writable(path: Path | None) -> Path | None:
    """Refuse an output path that cannot be written, before any work is done."""
    if path is None:
        return None
    if path.is_dir():
        raise typer.BadParameter(f"{path} is a directory")
    existed = path.exists()
    try:
        with path.open("a", encoding="utf-8"):
            pass
    except OSError as error:
        raise typer.BadParameter(f"cannot write {path}: {error.strerror}") from None
    if not existed:
        path.unlink()
    return path


SeedOpt = Annotated[int, typer.Option(help="Seed of every random draw.", callback=_seed)]
SpeedOpt = Annotated[float, typer.Option(help="Exercise seconds per wall second.", callback=_speed)]
ExerciseOpt = Annotated[str, typer.Option(help="Exercise id.")]
FacilitatorTokenOpt = Annotated[
    str, typer.Option(help="The facilitator's token.", envvar="SHUTTLE_TOKEN")
]
UrlOpt = Annotated[str, typer.Option(help="Relay base URL.")]


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"shuttle: {message}", err=True)
    return typer.Exit(code)


def _on_relay(
    url: str, call: Callable[[Any], Awaitable[dict[str, Any]]], admin_token: str | None = None
) -> dict[str, Any]:
    """Run one SDK call against the relay at ``url``; failures become one clear line."""
    import httpx

    from clients.sdk import Refused, RelayAPI

    async def go() -> dict[str, Any]:
        async with RelayAPI(url, admin_token=admin_token) as api:
            return await call(api)

    try:
        return asyncio.run(go())
    except Refused as error:
        raise _fail(error.message) from None
    except (httpx.HTTPError, OSError) as error:
        raise _fail(f"cannot reach the relay at {url}: {error}") from None


PresetOpt = Annotated[
    str | None,
    typer.Option(
        "--preset",
        help="Deliver under a named preset: muscat-indirect, overnight-courier, phone-line, "
        "direct (replaces the scenario's delivery section).",
    ),
]
DeliveryOpt = Annotated[
    Path | None,
    typer.Option(
        "--delivery",
        help="A YAML/JSON file holding a 'delivery' section that replaces the scenario's.",
    ),
]


def _delivery_section(path: Path) -> dict[str, Any]:
    """A delivery section from a YAML/JSON file (bare, or under a ``delivery`` key)."""
    import yaml

    try:
        section = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise _fail(f"{path}: cannot read delivery rules: {error}") from None
    if isinstance(section, dict) and set(section) == {"delivery"}:
        section = section["delivery"]
    if not isinstance(section, dict):
        raise _fail(f"{path}: expected a mapping (a delivery section)")
    problem = unstorable(section, "delivery")  # YAML has .nan and .inf; JSON does not
    if problem:
        raise _fail(f"{path}: {problem}")
    return section


def _under(scenario: Scenario, preset: str | None, delivery: Path | None) -> Scenario:
    """``scenario`` under the rules that --preset / --delivery name (a clear error if bad)."""
    if preset is not None and delivery is not None:
        raise _fail("give one of --preset NAME or --delivery FILE, not both")
    section = _delivery_section(delivery) if delivery is not None else None
    if preset is None and section is None:
        return scenario
    try:
        return scenario.under(preset=preset, delivery=section)
    except ScenarioError as error:
        raise _fail(str(error)) from None


async def _open(url: str, *, must_exist: bool = False) -> Any:
    """An opened journal store; a clear error for a bad URL or an unusable database.

    With ``must_exist``, a SQLite file that is not there is an error instead of a new,
    empty database (a mistyped path when reading).
    """
    from relay.store import StoreError, open_store, sqlite_file

    try:
        path = sqlite_file(url) if must_exist else None
        if path is not None and not path.exists():
            raise _fail(f"no database at {path}")
        store = open_store(url)
        await store.open()
    except (ValueError, StoreError) as error:
        raise _fail(f"cannot open the journal database: {error}") from None
    return store


async def _probe_store(url: str) -> None:
    await (await _open(url)).close()


def _scenario(path: Path | None) -> Scenario:
    try:
        return load_scenario(path or sample_scenario_path())
    except ScenarioError as error:
        raise _fail(str(error)) from None


@app.command()
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
    from uvicorn.config import LOG_LEVELS

    from relay.workers import check_shareable, configure_logging
    from relay.workers import serve as serve_relay

    if log_level.lower() not in LOG_LEVELS:
        raise _fail(f"--log-level: choose one of {', '.join(LOG_LEVELS)}")
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
        raise _fail(str(error)) from None
    raise typer.Exit(serve_relay(settings))


def _settings(**chosen: Any) -> Settings:
    """The relay's settings from ``chosen`` and ``SHUTTLE_*``; a bad one (or an unknown kind of
    database) is refused in one line before anything starts."""
    from pydantic import ValidationError
    from pydantic_settings import SettingsError

    from relay.settings import Settings
    from relay.store import open_store

    try:
        settings = Settings(**chosen)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise _fail(f"SHUTTLE_{field.upper()}: {first['msg']}") from None
    except SettingsError as error:  # a list or mapping that is not JSON
        field = re.search(r'field "(\w+)"', str(error))
        name = f"SHUTTLE_{field.group(1).upper()}" if field else "a SHUTTLE_* variable"
        raise _fail(f"""{name}: not JSON; write a list as '["https://a.example"]'""") from None
    try:
        open_store(settings.database_url)  # constructed only: this checks the URL's kind
    except ValueError as error:
        raise _fail(f"--database: {error}") from None
    return settings


@app.command()
def demo(
    scenario: ScenarioOpt = None,
    seed: Annotated[
        int,
        typer.Option(
            help="Seed of every random draw. The bots play on the live clock, so the timing "
            "of a run can still vary the play; `shuttle simulate` repeats exactly.",
            callback=_seed,
        ),
    ] = 7,
    speed: SpeedOpt = 1000.0,
    journal: Annotated[
        Path, typer.Option(help="Where to write the journal (JSON Lines).", callback=_writable)
    ] = Path("shuttle-demo.jsonl"),
    database: Annotated[
        str | None, typer.Option(help="Journal database (default: a temporary SQLite file).")
    ] = None,
) -> None:
    """Play a whole exercise through a real relay on loopback, with bot delegations."""
    from clients.demo import run_demo

    chosen = _scenario(scenario)
    if database is not None:
        asyncio.run(_probe_store(database))
    outcome = asyncio.run(
        run_demo(chosen, seed=seed, speed=speed, journal=journal, database_url=database)
    )
    typer.echo(f"\nOutcome: {_outcome_text(outcome)} at exercise time {outcome.at:.0f}s.")
    typer.echo(f"Journal written to {journal} (check it: shuttle replay {journal} --verify)")


@app.command()
def simulate(
    scenario: ScenarioOpt = None,
    seed: SeedOpt = 7,
    journal: Annotated[
        Path | None, typer.Option(help="Write the journal here (JSON Lines).", callback=_writable)
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No transcript.")] = False,
    preset: PresetOpt = None,
    delivery: DeliveryOpt = None,
) -> None:
    """Play an exercise headless on a virtual clock (no network); same seed, same journal."""
    from clients.bots import default_bots
    from relay.rng import seeded_streams
    from relay.sim import simulate as run

    chosen = _under(_scenario(scenario), preset, delivery)
    result = run(chosen, seed, default_bots(chosen, seeded_streams(seed)))
    _report(result.events, result.outcome, chosen.title, seed, journal, quiet)


def _outcome_text(outcome: ExerciseEnded | None) -> str:
    """How an exercise ended (its ``exercise.ended`` event, or None), in a few words."""
    if outcome is None:
        return "unfinished"
    if outcome.reason == "agreement":
        return f"agreement on note #{outcome.note}"
    if outcome.reason == "deadline":
        return "deadline passed without agreement"
    if outcome.reason == "facilitator":
        return "ended by the facilitator"
    return str(outcome.reason)


def _report(
    events: list[Any],
    outcome: Any,
    title: str,
    seed: int,
    journal: Path | None,
    quiet: bool,
) -> None:
    """Print the transcript (unless quiet), write the journal, and say how it ended."""
    from clients.transcript import Transcript
    from relay.journal import to_entry

    if not quiet:
        for line in Transcript().render_all(events):
            typer.echo(line)
    if journal is not None:
        with journal.open("w", encoding="utf-8") as out:
            header = {"title": title, "seed": seed, "speed": None}
            write_journal(out, (to_entry(e) for e in events), header)
    typer.echo(
        f"Outcome: {_outcome_text(outcome)}; "
        f"{len(events)} events" + (f"; journal: {journal}" if journal else "")
    )


@app.command()
def replay(
    journal: Annotated[Path, typer.Argument(help="A journal file (JSON Lines).")],
    verify: Annotated[
        bool, typer.Option("--verify", help="Re-execute the inputs and compare every event.")
    ] = False,
    preset: PresetOpt = None,
    delivery: DeliveryOpt = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="With --preset/--delivery: write the new journal here.",
            callback=_writable,
        ),
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="With --preset/--delivery: no transcript.")
    ] = False,
) -> None:
    """Replay a journal: its transcript, a --verify check, or a counterfactual re-run.

    With --preset or --delivery the journal's party inputs are re-run under other delivery
    rules, and the new journal is printed and can be written with -o.
    """
    from clients.transcript import Transcript
    from relay.journal import from_entry
    from relay.replay import verify as check

    try:
        loaded = read_journal(journal)
    except JournalFormatError as error:
        raise _fail(str(error)) from None
    if preset is not None or delivery is not None:
        if verify:
            raise _fail("--verify checks the journal as recorded; drop --preset/--delivery")
        _counterfactual(loaded.entries, preset, delivery, out, quiet)
        return
    if out is not None or quiet:
        raise _fail("--out and --quiet go with --preset/--delivery (a counterfactual re-run)")
    if verify:
        try:
            mismatch = check(loaded.entries)
        except ScenarioError as error:
            raise _fail(f"{journal}: {error}") from None
        if mismatch is not None:
            raise _fail(f"replay differs at {mismatch}", code=1)
        typer.echo(f"OK: {len(loaded.entries)} events replayed identically")
        return
    for line in Transcript().render_all(from_entry(e) for e in loaded.entries):
        typer.echo(line)


def _counterfactual(
    entries: list[Any], preset: str | None, delivery: Path | None, out: Path | None, quiet: bool
) -> None:
    from relay.core import events as ev
    from relay.journal import from_entry
    from relay.replay import rerun

    created = from_entry(entries[0])
    assert isinstance(created, ev.ExerciseCreated)
    try:
        original = Scenario.model_validate(created.scenario)
    except ValueError as error:
        raise _fail(f"the journal's scenario is not valid: {error}") from None
    scenario = _under(original, preset, delivery)
    result = rerun(entries, scenario)
    for event, why in result.skipped:
        by = getattr(event, "by", "?")
        typer.echo(f"skipped {event.TYPE} #{event.seq} by {by}: {why}", err=True)
    inputs = result.inputs
    typer.echo(
        f"Re-ran {inputs} recorded inputs under the new rules; "
        f"{inputs - len(result.skipped)} applied, {len(result.skipped)} skipped.",
        err=True,
    )
    _report(result.events, result.outcome, scenario.title, created.seed, out, quiet)


@app.command("export")
def export_(
    exercise: Annotated[str, typer.Argument(help="Exercise id, e.g. ex-1a2b3c4d5e.")],
    database: DatabaseOpt = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="File (default: stdout).", callback=_writable),
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
    url = _database_url(database)
    store = await _open(url, must_exist=True)
    try:
        record = await store.get_exercise(exercise)
        if record is None:
            raise _fail(f"no exercise {exercise} in {url}")
        buffer = StringIO()
        write_journal(buffer, await store.read(exercise), journal_header(record))
        return buffer.getvalue()
    finally:
        await store.close()


@app.command("import")
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
    url = _database_url(database)
    created = asyncio.run(_import(journal, url))
    if as_json:
        typer.echo(json.dumps(created, indent=2))
        return
    typer.echo(
        f"Exercise {created['id']} ({created['title']}) imported into {url}: "
        f"{created['phase']}, {created['events']} events"
    )
    _echo_seats(relay_url, created)
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
        raise _fail(f"--url: {relay_url!r} is not a relay's http(s) base URL")
    if parsed.scheme == "https":
        return ""
    options = "" if parsed.hostname == "127.0.0.1" else f" --host {parsed.hostname}"
    port = 80 if port is None else port
    return options if port == 8000 else f"{options} --port {port}"


def _echo_seats(url: str, created: dict[str, Any]) -> None:
    """Each seat of a new exercise, with the command that joins it on the relay at ``url``."""
    for seat, token in created["seats"].items():
        typer.echo(f"  {seat:<12} shuttle join {url} --exercise {created['id']} --token {token}")


def _database_url(database: str | None) -> str:
    """``--database`` as given, or the default store (``sqlite:///./shuttle.db``)."""
    from relay.store import default_database_url

    return database or default_database_url()


async def _import(journal: Path, database: str) -> dict[str, Any]:
    from relay.live import ExerciseHub, check_import

    try:
        text = journal.read_text(encoding="utf-8")
    except OSError as error:
        raise _fail(f"{journal}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise _fail(f"{journal}: not a journal (not UTF-8 text)") from None
    try:  # checked before the store is opened: a bad file leaves no database behind
        imported = check_import(text, str(journal), time.time)
    except JournalFormatError as error:
        raise _fail(str(error)) from None
    store = await _open(database)
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


@app.command()
def create(
    url: Annotated[str, typer.Option(help="Relay base URL.")] = DEFAULT_URL,
    scenario: ScenarioOpt = None,
    seed: Annotated[
        int | None, typer.Option(help="Seed (random if not given).", callback=_seed)
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
    chosen = _scenario(scenario)
    data = chosen.model_dump(mode="json")
    if human_mediator:
        data["mediator"]["mode"] = "human"

    created = _on_relay(
        url, lambda api: api.create(data, seed=seed, speed=speed), admin_token=admin_token
    )
    typer.echo(f"Exercise {created['id']} ({created['title']}), seed {created['seed']}")
    _echo_seats(url, created)
    typer.echo(
        f"Start it: shuttle control start --url {url} --exercise {created['id']} "
        f"--token {created['seats']['facilitator']}"
    )


def _action(value: str) -> str:
    if value not in ("start", "pause", "resume", "end"):
        raise typer.BadParameter("choose start, pause, resume or end")
    return value


@app.command()
def control(
    action: Annotated[str, typer.Argument(help="start, pause, resume or end.", callback=_action)],
    exercise: ExerciseOpt,
    token: FacilitatorTokenOpt,
    url: UrlOpt = DEFAULT_URL,
) -> None:
    """Start, pause, resume or end an exercise (facilitator)."""
    state = _on_relay(url, lambda api: api.control(exercise, action, token))
    typer.echo(f"{exercise}: {state['phase']} at exercise time {state['now']:.0f}s")


@app.command()
def revoke(
    seat: Annotated[str, typer.Argument(help="The seat whose token to revoke, e.g. usa.")],
    exercise: ExerciseOpt,
    token: FacilitatorTokenOpt,
    url: UrlOpt = DEFAULT_URL,
) -> None:
    """Revoke a seat's token for good (facilitator); its open connections close at once."""
    if "/" in seat or seat in ("", ".", ".."):  # not a path segment: no seat is named so
        raise _fail(f"no seat {seat!r} in {exercise}")
    done = _on_relay(url, lambda api: api.revoke(exercise, seat, token))
    typer.echo(f"{exercise}: {seat}'s token revoked; {done['closed']} connection(s) closed")


@app.command()
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
        raise _fail("give exactly one of --preset NAME or --delivery FILE")
    section = _delivery_section(delivery) if delivery is not None else {"preset": preset}
    _on_relay(url, lambda api: api.change_rules(exercise, section, token))
    typer.echo(f"{exercise}: delivery rules changed")


@app.command()
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
    from clients.terminal import play

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(play(url, exercise, token))


@app.command()
def schema(
    which: Annotated[str, typer.Argument(help="scenario or wire")] = "scenario",
) -> None:
    """Print the JSON Schema of scenario files or of the websocket frames."""
    from pydantic import TypeAdapter

    from schemas import wire

    if which == "scenario":
        typer.echo(json.dumps(Scenario.model_json_schema(), indent=2))
    elif which == "wire":
        typer.echo(json.dumps(TypeAdapter(wire.ClientFrame).json_schema(), indent=2))
    else:
        raise _fail("schema: choose scenario or wire")


@app.command()
def study(
    scenario: ScenarioOpt = None,
    runs: Annotated[int, typer.Option(min=1, help="How many exercises to simulate.")] = 100,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Worker processes (default: one per CPU).")
    ] = None,
    seed: Annotated[
        int, typer.Option(help="Seed of the first run; run i uses seed + i.", callback=_seed)
    ] = 1,
    preset: PresetOpt = None,
    delivery: DeliveryOpt = None,
    json_path: Annotated[
        Path | None,
        typer.Option(
            "--json",
            help="Write the summary and every run's result here (JSON).",
            callback=_writable,
        ),
    ] = None,
) -> None:
    """A batch study: simulate many seeded exercises headless, spread over worker processes.

    Each run is exactly `shuttle simulate --seed S` (same bots, same journal); the number of
    workers changes only how fast the study finishes, never its results.
    """
    import os
    import time

    from clients.bots import default_bots
    from relay.sim import simulate_many

    if seed + runs - 1 > MAX_SEED:
        raise _fail(f"--seed {seed} with --runs {runs} goes past the largest seed, {MAX_SEED}")
    chosen = _under(_scenario(scenario), preset, delivery)
    count = workers or os.cpu_count() or 1

    def progress(done: int, total: int) -> None:
        if done == total or done % max(1, total // 20) == 0:
            typer.echo(f"\rstudy: {done}/{total} runs", err=True, nl=done == total)

    started = time.perf_counter()
    results = simulate_many(
        chosen, range(seed, seed + runs), default_bots, workers=count, progress=progress
    )
    elapsed = time.perf_counter() - started
    outcomes: dict[str, int] = {}
    for run in results:
        outcomes[run.outcome] = outcomes.get(run.outcome, 0) + 1
    agreed = [run.ended_at for run in results if run.outcome == "agreement" and run.ended_at]
    mean_offers = sum(run.offers for run in results) / len(results)
    mean_agreement = sum(agreed) / len(agreed) if agreed else None
    workers_said = f"{count} worker" + ("s" if count != 1 else "")
    typer.echo(f"{chosen.title}: {runs} runs (seeds {seed}..{seed + runs - 1}), {workers_said}")
    typer.echo("outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))
    typer.echo(f"mean offers per run: {mean_offers:.1f}")
    typer.echo(
        "mean time to agreement: "
        + ("none" if mean_agreement is None else f"{mean_agreement / 3600:.2f} h")
    )
    typer.echo(f"wall time: {elapsed:.2f} s ({runs / elapsed:.1f} runs/s)")
    if json_path is not None:
        summary = {
            "scenario": chosen.title,
            "first_seed": seed,
            "runs": runs,
            "workers": count,
            "outcomes": outcomes,
            "mean_offers": mean_offers,
            "mean_time_to_agreement_s": mean_agreement,
            "results": [
                {k: getattr(run, k) for k in ("seed", "outcome", "ended_at", "events", "offers")}
                for run in results
            ],
        }
        json_path.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")


def _reflowed(doc: str) -> str:
    """A docstring as help text: each paragraph on one line, for the terminal to wrap.

    Typer keeps a paragraph's single line breaks, so a docstring's own line ends would show
    as ragged lines at any other width. A paragraph that starts with ``\\b`` keeps its lines.
    """
    paragraphs = inspect.cleandoc(doc).split("\n\n")
    return "\n\n".join(p if p.startswith("\b") else " ".join(p.splitlines()) for p in paragraphs)


for _command in app.registered_commands:
    _command.help = _reflowed(_command.help or inspect.getdoc(_command.callback) or "")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
