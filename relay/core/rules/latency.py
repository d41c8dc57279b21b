"""Latency: a delay in seconds as an exact inverse transform of two uniforms.

Reading, travel, drafting and a hold's delay are all latency specs
(:data:`~relay.core.config.LatencySpec`). A sample follows its distribution whatever the
uniforms' source, the seed or a journal (tests/core/test_latency_fit.py).
"""

from __future__ import annotations

import math
from statistics import NormalDist

from ..config import MAX_DURATION, Constant, Empirical, LatencySpec, LogNormal, Normal, Uniform

__all__ = ["sample"]

_STANDARD_NORMAL = NormalDist()
_LOG_MAX_DURATION = math.log(MAX_DURATION)


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
    negative and never beyond :data:`~relay.core.config.MAX_DURATION` (so always finite)."""
    value = _raw(spec, u1)
    if spec.jitter:
        value += spec.jitter * (2.0 * u2 - 1.0)
    value = max(value, spec.min, 0.0)
    return min(value, MAX_DURATION if spec.max is None else spec.max)
