"""Bot delegations: time-based concession over the agenda's numeric terms.

A bot is pure decision logic (see :class:`relay.core.bots.SeatBot`): it is shown the events its
seat may see and answers with commands to issue after a thinking delay. The same bot plays in the
headless simulator and, through the SDK, over real websockets in ``shuttle demo``.

Concession follows the classic time-dependent tactic (Faratin, Sierra & Jennings 1998): at time
``t`` the bot asks for ``reservation + (ideal - reservation) * (1 - (t / T) ** (1 / beta))`` of
each term, and accepts an offer worth at least what it would ask for itself now. ``beta < 1``
concedes late (Boulware), ``beta > 1`` early (Conceder).
"""

from __future__ import annotations

from collections.abc import Sequence

from relay.core import commands as cmd
from relay.core import events as ev
from relay.core.bots import Intent
from relay.core.draws import Rng, RngFactory
from schemas.scenario import Scenario

__all__ = ["ConcessionBot", "default_bots"]


class ConcessionBot:
    role = "party"
    reads: frozenset[type[ev.Event]] = frozenset({ev.NoteDelivered})
    """It answers only deliveries (:meth:`observe`); the simulator shows it nothing else."""

    def __init__(
        self,
        scenario: Scenario,
        seat: str,
        rng: Rng,
        *,
        beta: float = 1.0,
        think: tuple[float, float] = (120.0, 480.0),
        opens: bool = False,
    ) -> None:
        self.seat = seat
        self.scenario = scenario
        self.party = scenario.party(seat)
        self.positions = dict(self.party.positions)
        self.horizon = 0.6 * (scenario.deadline or 4 * 3600.0)
        self.beta = beta
        self.think = think
        self.opens = opens
        self._rng = rng
        self._count = 0
        self._asked_wider = False
        agenda = {item.id: item for item in scenario.agenda}
        self._titles = {name: item.title for name, item in agenda.items()}
        self._units = {name: item.unit for name, item in agenda.items()}
        # Per position, in the party's order: (item, reservation, ideal - reservation).
        self._scale = [
            (name, p.reservation, p.ideal - p.reservation) for name, p in self.positions.items()
        ]
        # Per item, how an offer names it: ("title " in lower case, unit).
        self._labels = {
            name: (f"{title.lower()} ", self._units[name]) for name, title in self._titles.items()
        }
        # A party that refuses nothing presses to widen the agenda to the items it holds no
        # position on (Washington raising missiles and regional groups in Muscat).
        self._wider = (
            []
            if self.party.refuses
            else [item.id for item in scenario.agenda if item.id not in self.positions]
        )

    # ------------------------------------------------------------------ SeatBot

    def on_start(self, now: float) -> Sequence[Intent]:
        if not self.opens:
            return []
        offer = self._offer(now)
        return [self._intent("proposal", self._describe("We propose", offer), offer)]

    def observe(self, event: ev.Event) -> Sequence[Intent]:
        if not isinstance(event, ev.NoteDelivered) or event.recipient != self.seat:
            return []
        if event.outcome != "relayed":
            return []
        if event.kind == "question":
            return self._answer_question(event)
        if event.kind == "proposal" or (event.kind == "reply" and event.answer == "counter"):
            return self._answer_offer(event)
        return []

    # ------------------------------------------------------------------ decisions

    def aspiration(self, now: float) -> float:
        """The share of the way from reservation to ideal the bot still asks for."""
        progress = now / self.horizon
        progress = progress if progress > 0.0 else 0.0  # max(0.0, ...) without the call
        progress = 1.0 if progress > 1.0 else progress  # min(1.0, ...)
        return 1.0 - float(progress ** (1.0 / self.beta))

    def utility(self, terms: dict[str, float]) -> float | None:
        """Mean normalised score of an offer, or ``None`` if it breaks a reservation."""
        if not self._scale:
            return None
        scores = []
        for name, reservation, span in self._scale:
            value = terms.get(name)
            if value is None:
                return None
            score = 1.0 if span == 0 else (value - reservation) / span
            if score < -1e-9:
                return None
            scores.append(1.0 if score > 1.0 else score)  # min(score, 1.0)
        return sum(scores) / len(scores)

    def _offer(self, now: float, share: float | None = None) -> dict[str, float]:
        """What the bot asks for at ``now`` (``share``: its aspiration then, if known)."""
        if share is None:
            share = self.aspiration(now)
        return {name: round(low + span * share, 2) for name, low, span in self._scale}

    def _answer_offer(self, event: ev.NoteDelivered) -> list[Intent]:
        value = self.utility(event.terms)
        share = self.aspiration(event.at)
        if value is not None and value >= share - 1e-9:
            text = f"We accept note {event.note} as it was put to us."
            return [self._intent("reply", text, event.terms, event.note, "accept")]
        offer = self._offer(event.at, share)
        intents = [
            self._intent("reply", self._describe("We counter", offer), offer, event.note, "counter")
        ]
        if self._wider and not self._asked_wider:
            self._asked_wider = True
            titles = " and ".join(self._titles[i].lower() for i in self._wider)
            text = f"Any settlement must also address {titles}. Will you discuss them?"
            intents.append(self._intent("question", text, {}, tags=self._wider))
        return intents

    def _answer_question(self, event: ev.NoteDelivered) -> list[Intent]:
        refused = [tag for tag in event.tags if tag in self.party.refuses]
        if not refused:
            return [
                self._intent("reply", "Noted; see our latest offer.", {}, event.note, "clarify")
            ]
        titles = " and ".join(self._titles[t].lower() for t in refused)
        text = f"{titles.capitalize()} are matters of core defence and are not on the table."
        return [self._intent("reply", text, {}, event.note, "reject")]

    # ------------------------------------------------------------------ helpers

    def _intent(
        self,
        kind: str,
        text: str,
        terms: dict[str, float],
        in_reply_to: int | None = None,
        answer: str | None = None,
        tags: list[str] | None = None,
    ) -> Intent:
        self._count += 1
        command = cmd.Submit(
            by=self.seat,
            client_id=f"{self.seat}-{self._count}",
            kind=kind,
            text=text,
            tags=list(tags if tags is not None else terms),
            terms=terms,
            in_reply_to=in_reply_to,
            answer=answer,
        )
        return Intent(self._rng.uniform(*self.think), command)

    def _describe(self, lead: str, offer: dict[str, float]) -> str:
        labels = self._labels
        parts = []
        for name, value in offer.items():
            label, unit = labels[name]
            parts.append(f"{label}{value:g}{unit}")
        return f"{lead}: " + "; ".join(parts) + "."


def default_bots(scenario: Scenario, streams: RngFactory) -> list[ConcessionBot]:
    """One concession bot per party, each with its own seeded stream; the first party opens."""
    return [
        ConcessionBot(scenario, party.id, streams(f"bot:{party.id}"), opens=index == 0)
        for index, party in enumerate(scenario.parties)
    ]
