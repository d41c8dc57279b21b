"""One exercise's state, and what every part of the core asks of it.

:class:`ExerciseState` is the base of :class:`~relay.core.exercise.Exercise`: the attributes
(the note book, the timers, the mediator's location, the rules in force, the draws), the
queries drivers and the mediator's policy read, and the one helper that makes events
(:meth:`ExerciseState._emit`). The shuttle's mechanics (:mod:`.shuttle`), the seats' commands
(:mod:`.seats`) and the inputs and settling loop (:mod:`.exercise`) build on it, in that order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import events as ev
from .checks import NoteChecks
from .config import ExerciseConfig, Link, Rules, inbound, outbound
from .draws import Draws, Recorder
from .errors import (
    NotPermitted,
    WrongState,
)
from .lifecycle import Phase
from .mediator import Courier, MediatorPolicy
from .notes import Note, NoteBook
from .rules import holds, pouch
from .timers import Timers

__all__ = ["FACILITATOR", "MEDIATOR", "ExerciseState", "Travelling"]

MEDIATOR = "mediator"
FACILITATOR = "facilitator"


@dataclass(frozen=True, slots=True)
class Travelling:
    origin: str
    destination: str
    arrives_at: float


class ExerciseState:
    """One exercise's protocol state. Not thread-safe; drivers serialise calls."""

    def __init__(
        self,
        config: ExerciseConfig,
        *,
        seed: int,
        rng: Draws,
        policy: MediatorPolicy | None = None,
    ) -> None:
        self.config = config
        self.seed = seed
        self.parties = config.party_ids
        first, second = self.parties
        self._others = {first: second, second: first}
        self._agenda = {item.id: item for item in config.agenda}
        self._refuses = {party.id: party.refuses for party in config.parties}
        self._checks = NoteChecks(self._agenda)
        self.phase = Phase.DRAFT
        self.now = 0.0
        self.location: str | Travelling = config.start_room or first
        self.auto_mediator = config.auto_mediator
        self._policy = (policy or Courier()) if config.auto_mediator else None
        self.outcome: ev.ExerciseEnded | None = None
        self.book = NoteBook(self.parties)
        self.notes: dict[int, Note] = self.book.notes
        self.draws = Recorder(rng)
        self._use_rules(config.rules)
        self._client_ids: dict[tuple[str, str], int] = {}
        self._known: dict[str, set[int]] = {party: set() for party in self.parties}
        self._answered: set[int] = set()  # notes a reply was handed over for
        self._last_offer: dict[str, int] = {}  # per party, its last offer relayed
        self._last_ready: dict[str, float] = {}  # per link, for order: preserve
        self._timers = Timers()
        self._wake_at: float | None = None  # the automatic mediator's next departure slot
        self._arrived_at = 0.0  # when the mediator entered the room it stands in
        self._unpacked = 0  # notes handed out of the pouch at that arrival
        self._paused_at = 0.0
        self._seq = 0
        self._out: list[ev.Event] = []
        self._emit(ev.ExerciseCreated.Draft(scenario=config.written, seed=seed))

    @property
    def last_seq(self) -> int:
        return self._seq

    @property
    def links(self) -> dict[str, Link]:
        return dict(self.rules.links)

    def role_of(self, seat: str) -> str:
        """``party``, ``mediator``, ``facilitator`` or ``observer``; ``LookupError`` if none."""
        if seat in self._others:
            return "party"
        if seat in (MEDIATOR, FACILITATOR):
            return seat
        if seat == "observer" or seat.startswith("observer-"):
            return "observer"
        raise LookupError(f"no seat {seat!r} in this exercise")

    def role_of_or_none(self, seat: str) -> str | None:
        try:
            return self.role_of(seat)
        except LookupError:
            return None

    def note_for_client(self, seat: str, client_id: str) -> int | None:
        """The note a seat already submitted under ``client_id`` (idempotent resubmission)."""
        return self._client_ids.get((seat, client_id))

    def in_flight(self) -> list[Note]:
        """Notes not yet delivered, lost or lapsed, oldest first (for the facilitator's view)."""
        return self.book.in_flight()

    def other(self, party: str) -> str:
        return self._others.get(party, self.parties[0])

    def link_from(self, party: str) -> Link:
        """The link on which ``party`` hands its notes to the mediator."""
        return self._from[party]

    def link_to(self, party: str) -> Link:
        """The link on which the mediator brings notes to ``party``."""
        return self._to[party]

    def refuses(self, party: str) -> frozenset[str]:
        return self._refuses[party]

    def last_offer(self, party: str) -> int | None:
        """The last offer of ``party`` the mediator relayed."""
        return self._last_offer.get(party)

    def condition_holds(self, condition: holds.Condition) -> bool:
        note = self.notes[condition[1]]
        return holds.condition_holds(condition, note.status, note.id in self._answered)

    def delivers_now(self, room: str) -> bool:
        return pouch.delivers_now(self._to[room], self.now, self._arrived_at)

    def _use_rules(self, rules: Rules) -> None:
        self.rules = rules
        self._from = {party: rules.links[inbound(party)] for party in self.parties}
        self._to = {party: rules.links[outbound(party)] for party in self.parties}

    def _require_role(self, seat: str, role: str, what: str) -> None:
        if self.role_of_or_none(seat) != role:
            raise NotPermitted(f"{seat} cannot {what}: only the {role} can")

    def _require_running(self, what: str) -> None:
        if self.phase is not Phase.RUNNING:
            raise WrongState(f"cannot {what}: the exercise is {self.phase}")

    def _emit(self, draft: Any) -> Any:
        """Journal a new event, given as its class's draft (``ev.NoteHeld.Draft(...)``): the
        one place events are made. It stamps the next ``seq`` and the core's ``now``, gives an
        event that records draws every draw made since the last one (the draws its decision
        used), and seals it, frozen (:func:`relay.core.events.seal`)."""
        if self.draws.records and type(draft) in _RECORDS_DRAWS:
            draft.draws = self.draws.take()
        event = ev.seal(draft, self._seq + 1, self.now)
        self._seq = event.seq
        self._out.append(event)
        return event


_RECORDS_DRAWS = frozenset(
    cls.Draft for cls in ev.EVENT_TYPES.values() if "draws" in ev.payload_fields(cls)
)
"""Drafts of the events that record the draws of the decision they journal."""
