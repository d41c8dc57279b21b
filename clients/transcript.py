"""A readable transcript of a journal: who handed what to whom, when it was carried, when it
arrived, with the modelled delays."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Iterator
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

    def _describe(self, e: ev.Event) -> tuple[str | None, str | None]:  # noqa: C901 - a table
        m = self._mediator
        if isinstance(e, ev.ExerciseCreated):
            self._learn(e.scenario)
            return f"Exercise created: {e.scenario.get('title', '')} (seed {e.seed})", None
        if isinstance(e, ev.ExerciseStarted):
            return f"Exercise started by the {e.by}; {m} waits in the first room", None
        if isinstance(e, ev.ExercisePaused):
            return f"Paused by the {e.by}", None
        if isinstance(e, ev.ExerciseResumed):
            return f"Resumed by the {e.by}", None
        if isinstance(e, ev.ExerciseEnded):
            if e.reason == "agreement":
                terms = ", ".join(f"{k}={v:g}" for k, v in (e.terms or {}).items())
                return f"AGREEMENT on note #{e.note}: {terms}", None
            return f"Exercise ended: {e.reason}", None
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
            what = e.kind if e.answer is None else f"reply ({e.answer}) to #{e.in_reply_to}"
            return f"{self.name(e.by)} writes note #{e.note}, {what}, for {m}", e.text
        if isinstance(e, ev.NoteHandedOver):
            # The mediator learns the note here; whoever saw it written has read it already.
            body = None if e.note in self._submitted else self._with_terms(e.text, e.terms)
            what = e.kind if e.answer is None else f"reply ({e.answer}) to #{e.in_reply_to}"
            return (
                f"#{e.note} ({what}) handed to {m} in the {self.room(e.sender)}; "
                f"reading takes {span(e.reading_s)}"
            ), body
        if isinstance(e, ev.NoteRelayed):
            whom = self.name(e.recipient)
            drafting = f"; drafting takes {span(e.drafting_s)}" if e.drafting_s else ""
            errors = "; ".join(_distortion(d) for d in e.distortions)
            garbled = f" (on the way: {errors})" if errors else ""
            if e.paraphrased:
                head = f"{m} will carry a PARAPHRASE of #{e.note} to the {whom}{drafting}"
                return head + garbled, e.text
            return f"{m} will carry #{e.note} verbatim to the {whom}{garbled}", None
        if isinstance(e, ev.NoteHeld):
            until = f" until {clock(e.until)}" if e.until is not None else ""
            condition = f" until {e.condition.replace(':', ' #')}" if e.condition else ""
            return f"{m} holds #{e.note}{until}{condition}", None
        if isinstance(e, ev.NoteReleased):
            return f"{m} releases #{e.note}", None
        if isinstance(e, ev.NoteReturned):
            return f"{m} returns #{e.note} to its sender", e.comment
        if isinstance(e, ev.NoteDeclined):
            return f"{m} declines #{e.note}", e.reason
        if isinstance(e, ev.MediatorDeparted):
            cargo = ", ".join(f"#{n}" for n in self._cargo.get(e.destination, []))
            carrying = f" carrying {cargo}" if cargo else ""
            return (
                f"{m} leaves the {self.room(e.origin)} for the {self.room(e.destination)}"
                f"{carrying}; the walk takes {span(e.travel_s)}"
            ), None
        if isinstance(e, ev.MediatorArrived):
            return f"{m} arrives in the {self.room(e.room)}", None
        if isinstance(e, ev.NoteDelivered):
            sent = self._submitted.get(e.note)
            transit = f" ({span(e.at - sent)} after it was written)" if sent is not None else ""
            if e.duplicate:
                return f"#{e.note} delivered to the {self.name(e.recipient)} AGAIN (a copy)", None
            if e.outcome == "relayed":
                flagged = f" FLAGGED: {'; '.join(e.flags)}" if e.flags else ""
                whom = self.name(e.recipient)
                return f"#{e.note} DELIVERED to the {whom}{transit}{flagged}", None
            return f"#{e.note} brought back to the {self.name(e.recipient)}: {e.outcome}", e.comment
        if isinstance(e, ev.NoteLost):
            return f"#{e.note} LOST on the way to the {self.name(e.recipient)}", None
        if isinstance(e, ev.NoteExpired):
            state = "had reached" if e.delivered else "never reached"
            return f"#{e.note} LAPSED (it {state} the {self.name(e.recipient)})", None
        if isinstance(e, ev.RulesChanged):
            return f"Delivery rules changed by the {e.by}: {_rules(e.delivery)}", None
        if isinstance(e, ev.NoteReceipt):
            return None, None
        return f"{e.TYPE}", None


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
