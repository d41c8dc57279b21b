"""A readable transcript of a journal: who handed what to whom, when it was carried, when it
arrived, with the modelled delays."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from relay.core import events as ev

__all__ = ["Transcript", "clock"]


def clock(seconds: float) -> str:
    """Exercise time as ``T+HH:MM:SS``."""
    whole = int(round(seconds))
    return f"T+{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def span(seconds: float) -> str:
    whole = int(round(seconds))
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


class Transcript:
    """Renders events one at a time, remembering what it needs to show delays."""

    def __init__(self, scenario: dict[str, Any] | None = None, width: int = 100) -> None:
        self.width = width
        self._names: dict[str, str] = {}
        self._rooms: dict[str, str] = {}
        self._mediator = "The mediator"
        self._submitted: dict[int, float] = {}
        self._senders: dict[int, str] = {}
        self._cargo: dict[str, list[int]] = {}  # destination -> notes decided, not delivered
        if scenario:
            self._learn(scenario)

    def _learn(self, scenario: dict[str, Any]) -> None:
        for party in scenario.get("parties", []):
            self._names[party["id"]] = party["name"]
            self._rooms[party["id"]] = party.get("room") or f"{party['name']} room"
        self._mediator = scenario.get("mediator", {}).get("name", self._mediator)

    def name(self, seat: str) -> str:
        return self._names.get(seat, seat)

    def room(self, party: str) -> str:
        return self._rooms.get(party, f"{party}'s room")

    def render_all(self, events: Iterable[ev.Event]) -> Iterator[str]:
        for event in events:
            yield from self.render(event)

    def render(self, event: ev.Event) -> list[str]:
        head, body = self._describe(event)
        if head is None:
            return []
        lines = [f"{clock(event.at)}  {head}"]
        if body:
            wrapped = textwrap.wrap(f"“{body}”", self.width - 14)
            lines += [" " * 13 + line for line in wrapped]
        return lines

    @staticmethod
    def _with_terms(text: str, terms: dict[str, float]) -> str:
        if not terms:
            return text
        return text + "  [" + ", ".join(f"{k}={v:g}" for k, v in terms.items()) + "]"

    def _describe(self, e: ev.Event) -> Line:
        """The event's line (and a quoted body), from the table :data:`LINES`; an event type
        it does not name is shown by its type."""
        self._track(e)
        line = LINES.get(type(e))
        return line(self, e) if line is not None else (e.TYPE, None)

    def _track(self, e: ev.Event) -> None:
        """What later lines need: names, who sent each note, what the mediator carries where."""
        if isinstance(e, ev.ExerciseCreated):
            self._learn(e.scenario)
        if isinstance(e, ev.NoteSubmitted | ev.NoteHandedOver):
            self._senders[e.note] = e.by if isinstance(e, ev.NoteSubmitted) else e.sender
        if isinstance(e, ev.NoteRelayed):
            self._cargo.setdefault(e.recipient, []).append(e.note)
        if isinstance(e, ev.NoteReturned | ev.NoteDeclined) and e.note in self._senders:
            self._cargo.setdefault(self._senders[e.note], []).append(e.note)
        if isinstance(e, ev.NoteDelivered | ev.NoteLost | ev.NoteExpired) and e.note in (
            carried := self._cargo.get(e.recipient, [])
        ):
            carried.remove(e.note)
        if isinstance(e, ev.NoteSubmitted):
            self._submitted[e.note] = e.at

    # One method per event type, named in LINES below.

    def _created(self, e: ev.ExerciseCreated) -> Line:
        return f"Exercise created: {e.scenario.get('title', '')} (seed {e.seed})", None

    def _started(self, e: ev.ExerciseStarted) -> Line:
        return f"Exercise started by the {e.by}; {self._mediator} waits in the first room", None

    def _paused(self, e: ev.ExercisePaused) -> Line:
        return f"Paused by the {e.by}", None

    def _resumed(self, e: ev.ExerciseResumed) -> Line:
        return f"Resumed by the {e.by}", None

    def _ended(self, e: ev.ExerciseEnded) -> Line:
        if e.reason == "agreement":
            terms = ", ".join(f"{k}={v:g}" for k, v in (e.terms or {}).items())
            return f"AGREEMENT on note #{e.note}: {terms}", None
        return f"Exercise ended: {e.reason}", None

    def _submitted_line(self, e: ev.NoteSubmitted) -> Line:
        what = e.kind if e.answer is None else f"reply ({e.answer}) to #{e.in_reply_to}"
        return f"{self.name(e.by)} writes note #{e.note}, {what}, for {self._mediator}", e.text

    def _handed_over(self, e: ev.NoteHandedOver) -> Line:
        # The mediator learns the note here; whoever saw it written has read it already.
        body = None if e.note in self._submitted else self._with_terms(e.text, e.terms)
        what = e.kind if e.answer is None else f"reply ({e.answer}) to #{e.in_reply_to}"
        return (
            f"#{e.note} ({what}) handed to {self._mediator} in the {self.room(e.sender)}; "
            f"reading takes {span(e.reading_s)}"
        ), body

    def _relayed(self, e: ev.NoteRelayed) -> Line:
        m, whom = self._mediator, self.name(e.recipient)
        drafting = f"; drafting takes {span(e.drafting_s)}" if e.drafting_s else ""
        errors = "; ".join(_distortion(d) for d in e.distortions)
        garbled = f" (on the way: {errors})" if errors else ""
        if e.paraphrased:
            head = f"{m} will carry a PARAPHRASE of #{e.note} to the {whom}{drafting}"
            return head + garbled, e.text
        return f"{m} will carry #{e.note} verbatim to the {whom}{garbled}", None

    def _held(self, e: ev.NoteHeld) -> Line:
        until = f" until {clock(e.until)}" if e.until is not None else ""
        condition = f" until {e.condition.replace(':', ' #')}" if e.condition else ""
        return f"{self._mediator} holds #{e.note}{until}{condition}", None

    def _released(self, e: ev.NoteReleased) -> Line:
        return f"{self._mediator} releases #{e.note}", None

    def _returned(self, e: ev.NoteReturned) -> Line:
        return f"{self._mediator} returns #{e.note} to its sender", e.comment

    def _declined(self, e: ev.NoteDeclined) -> Line:
        return f"{self._mediator} declines #{e.note}", e.reason

    def _departed(self, e: ev.MediatorDeparted) -> Line:
        cargo = ", ".join(f"#{n}" for n in self._cargo.get(e.destination, []))
        carrying = f" carrying {cargo}" if cargo else ""
        return (
            f"{self._mediator} leaves the {self.room(e.origin)} for the "
            f"{self.room(e.destination)}{carrying}; the walk takes {span(e.travel_s)}"
        ), None

    def _arrived(self, e: ev.MediatorArrived) -> Line:
        return f"{self._mediator} arrives in the {self.room(e.room)}", None

    def _delivered(self, e: ev.NoteDelivered) -> Line:
        sent = self._submitted.get(e.note)
        transit = f" ({span(e.at - sent)} after it was written)" if sent is not None else ""
        if e.duplicate:
            return f"#{e.note} delivered to the {self.name(e.recipient)} AGAIN (a copy)", None
        if e.outcome == "relayed":
            flagged = f" FLAGGED: {'; '.join(e.flags)}" if e.flags else ""
            whom = self.name(e.recipient)
            return f"#{e.note} DELIVERED to the {whom}{transit}{flagged}", None
        return f"#{e.note} brought back to the {self.name(e.recipient)}: {e.outcome}", e.comment

    def _lost(self, e: ev.NoteLost) -> Line:
        return f"#{e.note} LOST on the way to the {self.name(e.recipient)}", None

    def _expired(self, e: ev.NoteExpired) -> Line:
        state = "had reached" if e.delivered else "never reached"
        return f"#{e.note} LAPSED (it {state} the {self.name(e.recipient)})", None

    def _rules_changed(self, e: ev.RulesChanged) -> Line:
        return f"Delivery rules changed by the {e.by}: {_rules(e.delivery)}", None

    def _receipt(self, e: ev.NoteReceipt) -> Line:
        return None, None  # the sender's own view of progress: not a line of the transcript


Line = tuple[str | None, str | None]
"""A transcript line (None: no line) and the quoted body under it (None: none)."""

LINES: dict[type[ev.Event], Callable[[Transcript, Any], Line]] = {
    ev.ExerciseCreated: Transcript._created,
    ev.ExerciseStarted: Transcript._started,
    ev.ExercisePaused: Transcript._paused,
    ev.ExerciseResumed: Transcript._resumed,
    ev.ExerciseEnded: Transcript._ended,
    ev.NoteSubmitted: Transcript._submitted_line,
    ev.NoteHandedOver: Transcript._handed_over,
    ev.NoteRelayed: Transcript._relayed,
    ev.NoteHeld: Transcript._held,
    ev.NoteReleased: Transcript._released,
    ev.NoteReturned: Transcript._returned,
    ev.NoteDeclined: Transcript._declined,
    ev.MediatorDeparted: Transcript._departed,
    ev.MediatorArrived: Transcript._arrived,
    ev.NoteDelivered: Transcript._delivered,
    ev.NoteLost: Transcript._lost,
    ev.NoteExpired: Transcript._expired,
    ev.RulesChanged: Transcript._rules_changed,
    ev.NoteReceipt: Transcript._receipt,
}
"""Each event type's line in the transcript: the table a new event type adds a row to."""


def _distortion(change: dict[str, object]) -> str:
    if change.get("kind") == "tag_dropped":
        return f"tag {change.get('tag')} dropped"
    if change.get("kind") == "term_moved":
        return f"{change.get('item')} {change.get('original')} -> {change.get('relayed')}"
    return f"'{change.get('original')}' became '{change.get('relayed')}'"


def _rules(delivery: dict[str, object]) -> str:
    preset = delivery.get("preset")
    rest = sorted(key for key in delivery if key != "preset")
    parts = ([f"preset {preset}"] if preset else []) + rest
    return ", ".join(parts) or "the scenario's defaults"
