"""``shuttle join``: one seat in the terminal. Events print as they arrive; type commands."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import secrets
import shlex
import sys
import threading
from dataclasses import dataclass, field
from typing import Any

from websockets.exceptions import InvalidHandshake, InvalidURI

from clients.sdk import Backoff, ConnectionLost, Refused, SeatClient, event_of
from clients.transcript import Transcript
from schemas import wire

__all__ = ["parse_line", "play"]

HELP = """\
Party:    propose TEXT [| term=value ...]
          reply N accept|reject|counter|clarify TEXT [| term=value ...]
          ask TEXT   say TEXT   aside TEXT (mediator only)   tag ITEM[,ITEM] (tags the next note)
Mediator: relay N [TEXT]   hold N [UNTIL|delivered:M|answered:M]   release N
          return N COMMENT   decline N REASON   travel PARTY   batch [N ...] (relay and leave)
Both:     help   status   quit"""

_KINDS = {"propose": "proposal", "ask": "question", "say": "statement", "aside": "mediator_only"}


class LineError(ValueError):
    """A typed line that is not a command; the message says how to write it."""


def _number(text: str) -> float:
    """A finite number, or ValueError (``float`` also takes nan, inf and 1e999)."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def _terms(text: str) -> tuple[str, dict[str, float]]:
    words, _, spec = text.partition("|")
    terms: dict[str, float] = {}
    for pair in spec.split():
        name, sep, value = pair.partition("=")
        try:
            number = _number(value)
        except ValueError:
            raise LineError(f"terms are name=number, got {pair!r}") from None
        if not sep:
            raise LineError(f"terms are name=number, got {pair!r}")
        if name in terms:
            raise LineError(f"{name} is given twice")
        terms[name] = number
    return words.strip(), terms


def _note(word: str) -> int:
    try:
        return int(word.lstrip("#"))
    except ValueError:
        raise LineError(f"expected a note number, got {word!r}") from None


def parse_line(line: str, tags: list[str]) -> tuple[str, dict[str, Any]]:
    """``(method, arguments)`` for :class:`SeatClient`, or raise :class:`LineError`."""
    verb, _, rest = line.strip().partition(" ")
    rest = rest.strip()
    if verb in _KINDS:
        text, terms = _terms(rest)
        if not text:
            raise LineError(f"{verb} needs some text")
        return "submit", {
            "kind": _KINDS[verb],
            "text": text,
            "terms": terms,
            "tags": tags or list(terms),
        }
    if verb == "reply":
        parts = rest.split(" ", 2)
        if len(parts) < 3:
            raise LineError("reply N accept|reject|counter|clarify TEXT")
        text, terms = _terms(parts[2])
        return "submit", {
            "kind": "reply",
            "in_reply_to": _note(parts[0]),
            "answer": parts[1],
            "text": text,
            "terms": terms,
            "tags": tags or list(terms),
        }
    if verb == "relay":
        number, _, text = rest.partition(" ")
        return "relay", {"note": _note(number), "text": text.strip() or None}
    if verb == "hold":
        return "hold", _hold(rest.split())
    if verb == "batch":
        return "batch", {"notes": [_note(word) for word in rest.split()]}
    if verb == "release":
        return "release", {"note": _note(rest)}
    if verb in ("return", "decline"):
        number, _, words = rest.partition(" ")
        key = "comment" if verb == "return" else "reason"
        method = "return_note" if verb == "return" else "decline"
        return method, {"note": _note(number), key: words.strip()}
    if verb == "travel":
        if not rest:
            raise LineError("travel PARTY")
        return "travel", {"destination": rest}
    raise LineError(f"unknown command {verb!r}; type help")


def _hold(args: list[str]) -> dict[str, Any]:
    usage = "hold N [UNTIL | delivered:M | answered:M]"
    if not args or len(args) > 2:
        raise LineError(usage)
    hold: dict[str, Any] = {"note": _note(args[0])}
    if len(args) == 2:
        kind, colon, number = args[1].partition(":")
        if colon:
            if kind not in ("delivered", "answered"):
                raise LineError(f"{usage}: unknown condition {kind!r}")
            hold["condition"] = f"{kind}:{_note(number)}"
        else:
            try:
                hold["until"] = _number(args[1])
            except ValueError:
                raise LineError(f"{usage}: UNTIL is exercise seconds, got {args[1]!r}") from None
    return hold


def _report(what: str, detail: Any) -> None:
    """Say what the connection does: the seat reconnects and resumes on its own."""
    if what == "lost":
        print(f"The connection was lost (close code {detail}); reconnecting ...", flush=True)
    elif what == "retrying" and (detail in (1, 5) or detail % 20 == 0):
        print(f"Still reconnecting (attempt {detail}) ...", flush=True)
    elif what == "resumed":
        whole = "" if detail.complete else " (incomplete: the relay holds fewer events)"
        print(f"Reconnected; resumed after event #{detail.after}{whole}.", flush=True)


async def play(url: str, exercise: str, token: str, backoff: Backoff | None = None) -> None:
    try:
        seat = await SeatClient.connect(url, exercise, token, backoff=backoff, on_change=_report)
    except Refused as error:
        print(f"shuttle: {error.message}", file=sys.stderr)
        raise SystemExit(2) from None
    except OSError as error:
        print(f"shuttle: cannot reach the relay at {url}: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    except (InvalidURI, InvalidHandshake) as error:  # not a relay's address, or not a relay
        print(
            f"shuttle: {url} is not a relay's base URL (http://HOST:PORT): {error}",
            file=sys.stderr,
        )
        raise SystemExit(2) from None
    welcome = seat.welcome
    assert welcome is not None  # connected
    print(
        f"Joined {exercise} as {welcome.seat} ({welcome.role}); the exercise is "
        f"{welcome.phase}. Type help for commands."
    )
    brief = next(
        (
            p["brief"]
            for p in welcome.scenario["parties"]
            if p["id"] == welcome.seat and p.get("brief")
        ),
        None,
    )
    if brief:
        print(f"Your brief: {brief}")
    transcript = Transcript(welcome.scenario)
    printer = asyncio.create_task(_print_events(seat, transcript))
    reader = asyncio.create_task(_read_commands(seat, _stdin_lines()))
    try:
        # Either the user quits, or the relay ends the seat for good (revoked, refused).
        await asyncio.wait({printer, reader}, return_when=asyncio.FIRST_COMPLETED)
        if not printer.done():
            await _catch_up(seat, transcript, printer)
    finally:
        for task in (printer, reader):
            task.cancel()
        await seat.close()
    if printer.done() and not printer.cancelled() and seat.close_code == 1008:
        raise SystemExit(1)


def _stdin_lines() -> asyncio.Queue[str]:
    """Lines typed, read by a daemon thread, so that a seat closed by the relay can exit
    without waiting for the user to press Enter. ``""`` is the end of input."""
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[str] = asyncio.Queue()

    def read() -> None:
        for line in iter(sys.stdin.readline, ""):
            loop.call_soon_threadsafe(lines.put_nowait, line)
        loop.call_soon_threadsafe(lines.put_nowait, "")

    threading.Thread(target=read, daemon=True, name="stdin").start()
    return lines


async def _print_events(seat: SeatClient, transcript: Transcript) -> None:
    async for frame in seat.events():
        _show(seat, transcript, frame)
    reason = " (token revoked or refused)" if seat.close_code == 1008 else ""
    print(f"The relay closed the connection{reason}.", flush=True)


def _show(seat: SeatClient, transcript: Transcript, frame: wire.EventFrame) -> None:
    for line in transcript.render(event_of(frame)):
        print(line, flush=True)
    if frame.event == "note.delivered" and frame.data["recipient"] == seat.seat:
        data = frame.data
        terms = ", ".join(f"{k}={v:g}" for k, v in data["terms"].items())
        print(
            f"             [{data['kind']}{' ' + data['answer'] if data['answer'] else ''}]"
            f" {data['text']}" + (f"  | {terms}" if terms else ""),
            flush=True,
        )


async def _catch_up(seat: SeatClient, transcript: Transcript, printer: asyncio.Task[None]) -> None:
    """On leaving, print every event the relay had sent the seat, so that input from a file
    (or none: ``</dev/null``) still shows the talks so far. The relay's ``pong`` comes after
    them; a seat out of reach prints what it has."""
    if seat.connected:
        with contextlib.suppress(Refused, ConnectionLost, TimeoutError):
            await asyncio.wait_for(seat.ping(), _ANSWER_WAIT_S)
    printer.cancel()
    await asyncio.wait({printer})
    for frame in seat.received():
        _show(seat, transcript, frame)


async def _read_commands(seat: SeatClient, lines: asyncio.Queue[str]) -> None:
    """Read and send commands until quit or end of input.

    Each command is sent by a task of its own, which prints its answer, so the prompt never
    waits on the relay: while the seat reconnects, ``quit``, ``status`` and ``help`` still
    answer at once, and notes typed meanwhile are queued (the seat resends them once it is
    back, stored once). Leaving with commands unanswered says so.
    """
    # client ids: unique across runs of this terminal, the same when a submit is resent
    session = secrets.token_hex(4)
    ids = itertools.count(1)
    tags = _Tags()
    scenario = seat.welcome.scenario if seat.welcome is not None else {}
    agenda = [item["id"] for item in scenario.get("agenda", [])]
    sent: dict[asyncio.Task[None], None] = {}  # in the order typed
    try:
        while True:
            line = await lines.get()
            if not line:
                return
            line = line.strip()
            if not line:
                continue
            if line in ("quit", "exit"):
                return
            if line == "help":
                print(HELP)
                continue
            if line == "status":
                resumes = f", reconnected {len(seat.resumes)} time(s)" if seat.resumes else ""
                state = "" if seat.connected else "; reconnecting"
                print(f"seat {seat.seat}, last event seen #{seat.last_seq}{resumes}{state}")
                continue
            if line == "tag" or line.startswith("tag "):
                named = [t for t in shlex.split(line[4:].replace(",", " ")) if t]
                unknown = [t for t in named if agenda and t not in agenda]
                if unknown:
                    items = ", ".join(agenda)
                    print(f"? not on the agenda: {', '.join(unknown)} (its items: {items})")
                    continue
                tags.next = named
                print(f"next note tagged {tags.next}" if tags.next else "next note untagged")
                continue
            try:
                method, args = parse_line(line, tags.next)
            except LineError as error:
                print(f"? {error}")
                continue
            used: list[str] = []
            if method == "submit":
                args["client_id"] = f"{seat.seat}-{session}-{next(ids)}"
                used, tags.next = tags.next, []
            if not seat.connected:
                print("queued: the relay is out of reach; it is sent once the seat reconnects")
            task = asyncio.create_task(_send(seat, method, args, tags, used), name=line)
            sent[task] = None
            task.add_done_callback(lambda done: sent.pop(done, None))
    finally:
        await _leave(seat, sent)


@dataclass
class _Tags:
    """The tags set with ``tag`` for the next note."""

    next: list[str] = field(default_factory=list)


async def _send(
    seat: SeatClient, method: str, args: dict[str, Any], tags: _Tags, used: list[str]
) -> None:
    """Send one command and print its answer. A refused note gives back the tags it took
    (``used``), unless others were set meanwhile."""
    try:
        answer = await getattr(seat, method)(**args)
    except Refused as error:
        print(f"refused ({error.code}): {error.message}", flush=True)
        if used and not tags.next:
            tags.next = used
            print(f"next note tagged {used} (kept from the refused one)", flush=True)
        return
    except ConnectionLost:
        # The relay may have committed it before the connection went: the events will tell.
        print(
            "The connection was lost before the relay answered: that command may or may not "
            "have been recorded (the events, once reconnected, will show it).",
            flush=True,
        )
        return
    if "note" in answer:
        print(f"ok: note #{answer['note']} recorded", flush=True)
    else:
        print("ok", flush=True)


_ANSWER_WAIT_S = 5.0
"""How long leaving waits for the answers still due, when the seat is connected."""


async def _leave(seat: SeatClient, sent: dict[asyncio.Task[None], None]) -> None:
    """Let the answers still due arrive (not while reconnecting), then say what has none."""
    if sent and seat.connected:
        await asyncio.wait(set(sent), timeout=_ANSWER_WAIT_S)
    unanswered = [task for task in sent if not task.done()]
    for task in unanswered:
        task.cancel()
    if unanswered:
        lines = "; ".join(task.get_name() for task in unanswered)
        print(
            f"Left with {len(unanswered)} command(s) the relay has not acknowledged "
            f"(they may not be recorded): {lines}",
            flush=True,
        )
