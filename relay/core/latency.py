"""Latency models: pure functions of a spec and an injected random stream.

The core never touches global randomness. It is handed an :data:`RngFactory` that returns one
independent, seeded stream per purpose (``"travel"``, ``"reading"``, ...), so that adding draws
for one purpose never shifts the draws of another (one stream per rule and purpose, as FlowEmu
does for its loss model). Drivers build the factory from the exercise seed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from schemas.scenario import Constant, Empirical, LatencySpec, LogNormal, Normal, Uniform

__all__ = ["Rng", "RngFactory", "draw"]


class Rng(Protocol):
    """The subset of :class:`random.Random` the core uses."""

    def random(self) -> float: ...

    def uniform(self, a: float, b: float) -> float: ...

    def normalvariate(self, mu: float, sigma: float) -> float: ...

    def lognormvariate(self, mu: float, sigma: float) -> float: ...

    def choice(self, seq: Sequence[float]) -> float: ...


RngFactory = Callable[[str], Rng]
"""``factory(purpose)`` returns the exercise's seeded stream for that purpose."""


def _raw(spec: LatencySpec, rng: Rng) -> float:
    if isinstance(spec, Constant):
        return spec.value
    if isinstance(spec, Uniform):
        return rng.uniform(spec.low, spec.high)
    if isinstance(spec, Normal):
        return rng.normalvariate(spec.mean, spec.sd)
    if isinstance(spec, LogNormal):
        return rng.lognormvariate(spec.mu, spec.sigma)
    if isinstance(spec, Empirical):
        return rng.choice(spec.values)
    raise TypeError(f"unknown latency spec {spec!r}")


def draw(spec: LatencySpec, rng: Rng) -> float:
    """One delay in seconds: the distribution's draw, plus uniform jitter in
    ``[-jitter, +jitter]`` if any, clamped to ``[spec.min, spec.max]`` (never negative)."""
    value = _raw(spec, rng)
    if spec.jitter:
        value += rng.uniform(-spec.jitter, spec.jitter)
    value = max(value, spec.min, 0.0)
    if spec.max is not None:
        value = min(value, spec.max)
    return value
