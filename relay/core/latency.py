"""Random draws, as pure functions of uniforms handed in by the driver.

The core never touches global randomness. Its driver hands it :class:`Draws`: numbered,
independent streams, one per rule and link (``"reading:iran->mediator"``, ``"loss:mediator->usa"``),
so that a draw for one rule never shifts the draws of another. The core asks a stream for a
value by giving a function of two uniforms in (0, 1); the driver decides where they come from:

* live and in simulation, from the exercise seed (:func:`relay.rng.seeded_streams`: the k-th
  draw of a stream is a hash of seed, stream and k, so any draw can be recomputed alone);
* in faithful replay, from the journal, where every draw is recorded with the event that used
  it (:class:`relay.replay.RecordedDraws`), so replay draws nothing.

Latency samples are exact inverse transforms of the uniforms, so they follow their distribution
whatever the source (tests/core/test_latency_fit.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from statistics import NormalDist
from typing import Protocol

from schemas.latency import (
    MAX_DURATION,
    Constant,
    Empirical,
    LatencySpec,
    LogNormal,
    Normal,
    Uniform,
)

__all__ = ["Draws", "Rng", "RngFactory", "is_fixed", "sample"]

_STANDARD_NORMAL = NormalDist()
_LOG_MAX_DURATION = math.log(MAX_DURATION)


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


def is_fixed(spec: LatencySpec) -> bool:
    """True when the spec leaves nothing to chance (a constant without jitter): no draw."""
    return isinstance(spec, Constant) and not spec.jitter


def _raw(spec: LatencySpec, u: float) -> float:
    if isinstance(spec, Constant):
        return spec.value
    if isinstance(spec, Uniform):
        return spec.low + (spec.high - spec.low) * u
    if isinstance(spec, Normal):
        return spec.mean + spec.sd * _STANDARD_NORMAL.inv_cdf(u)
    if isinstance(spec, LogNormal):
        # capped before exp: a uniform from a journal can lie as close to 0 or 1 as a double can
        log_value = spec.mu + spec.sigma * _STANDARD_NORMAL.inv_cdf(u)
        return math.exp(min(log_value, _LOG_MAX_DURATION))
    if isinstance(spec, Empirical):
        return spec.values[min(int(u * len(spec.values)), len(spec.values) - 1)]
    raise TypeError(f"unknown latency spec {spec!r}")


def sample(spec: LatencySpec, u1: float, u2: float) -> float:
    """One delay in seconds from two uniforms: the distribution's draw (from ``u1``), plus
    uniform jitter in ``[-jitter, +jitter]`` (from ``u2``), clamped to ``[min, max]``, never
    negative and never beyond :data:`~schemas.latency.MAX_DURATION` (so always finite)."""
    value = _raw(spec, u1)
    if spec.jitter:
        value += spec.jitter * (2.0 * u2 - 1.0)
    value = max(value, spec.min, 0.0)
    return min(value, MAX_DURATION if spec.max is None else spec.max)
