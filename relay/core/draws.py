"""Randomness, injected, and the one recorder that writes every draw into the journal.

The core never touches global randomness. Its driver hands it :class:`Draws`: numbered,
independent streams, one per rule and link (``"reading:iran->mediator"``,
``"loss:mediator->usa"``), so a draw for one rule never shifts the draws of another. The core
asks a stream for a value by giving a function of two uniforms in (0, 1); the driver decides
where they come from:

* live and in simulation, from the exercise seed (:func:`relay.rng.seeded_streams`: the k-th
  draw of a stream is a hash of seed, stream and k);
* in faithful replay, from the journal (:class:`relay.replay.RecordedDraws`), so replay draws
  nothing.

Rules draw through a :class:`Recorder`, which keeps ``[rule, stream, value, outcome]`` for each
draw until the core stamps them into the event the decision belongs to
(docs/delivery-rules.md, "Draws").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from .config import LatencySpec
from .rules.latency import sample

__all__ = ["Draw", "Draws", "Recorder", "Rng", "RngFactory"]

Draw = list[Any]
"""One random decision of a delivery rule, as journalled: ``[rule, stream, value, outcome]``.

``value`` is what the stream gave (a delay in seconds, or a uniform compared with a
probability); ``outcome`` is what the rule made of it (``"lost"``, ``"kept"``, ...) or ``""``
for a delay.
"""


class Draws(Protocol):
    """Numbered random streams, injected into the core."""

    def take(self, stream: str, make: Callable[[float, float], float]) -> float:
        """The stream's next value: ``make(u1, u2)`` of its next two uniforms in (0, 1)."""
        ...


class Rng(Protocol):
    """The subset of :class:`random.Random` that bots use (they live outside the core)."""

    def random(self) -> float: ...

    def uniform(self, a: float, b: float) -> float: ...

    def choice(self, seq: Sequence[float]) -> float: ...


RngFactory = Callable[[str], Rng]
"""``factory(purpose)``: a seeded :class:`Rng` per purpose, for bots."""


class Recorder:
    """Draws for the rules, each recorded until :meth:`take` hands the records to an event."""

    __slots__ = ("_draws", "records")

    def __init__(self, draws: Draws) -> None:
        self._draws = draws
        self.records: list[Draw] = []  # since the last take; read it, never write it

    def delay(self, rule: str, link: str, spec: LatencySpec) -> float:
        """A delay for ``rule`` on ``link`` (a constant without jitter draws nothing)."""
        fixed = spec.fixed
        if fixed is not None:
            return fixed
        stream = f"{rule}:{link}"
        value = self._draws.take(stream, lambda u1, u2: sample(spec, u1, u2))
        self.records.append([rule, stream, value, ""])
        return value

    def chance(self, rule: str, link: str, p: float, outcomes: tuple[str, str]) -> bool:
        """Whether an event of probability ``p`` happens (0 and 1 draw nothing)."""
        if p <= 0.0 or p >= 1.0:
            return p >= 1.0
        stream = f"{rule}:{link}"
        u = self._draws.take(stream, _first)
        self.records.append([rule, stream, u, outcomes[0] if u < p else outcomes[1]])
        return u < p

    def pick(self, rule: str, link: str, count: int) -> int:
        """One of ``count`` choices."""
        stream = f"{rule}:{link}"
        index = int(self._draws.take(stream, lambda u1, u2: min(int(u1 * count), count - 1)))
        self.records.append([rule, stream, index, "picked"])
        return index

    def spread(self, rule: str, link: str, bound: float, outcome: str) -> float:
        """A value drawn uniformly from ``[-bound, +bound]``."""
        stream = f"{rule}:{link}"
        value = self._draws.take(stream, lambda u1, u2: bound * (2.0 * u1 - 1.0))
        self.records.append([rule, stream, value, outcome])
        return value

    def take(self) -> list[Draw]:
        """The records since the last call, for the event that used them."""
        records, self.records = self.records, []
        return records


def _first(u1: float, u2: float) -> float:
    return u1
