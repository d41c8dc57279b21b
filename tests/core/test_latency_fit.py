"""Each latency distribution, sampled 100,000 times from a seeded stream, matches its
parameters: the Kolmogorov–Smirnov distance to the configured distribution is under 0.01,
and the clamps are never violated."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import TypeAdapter
from scipy import stats

from relay.core import sample
from relay.rng import seeded_streams
from schemas.scenario import LatencySpec
from schemas.translate import latency

N = 100_000
_parse = TypeAdapter(LatencySpec).validate_python


def spec_of(spec: dict):
    return latency(_parse(spec))


def draws(spec: dict, stream: str = "travel:mediator->usa") -> np.ndarray:
    """N draws of ``spec`` from one seeded stream, exactly as the core takes them."""
    streams = seeded_streams(2026)
    parsed = spec_of(spec)
    make = lambda u1, u2: sample(parsed, u1, u2)  # noqa: E731
    return np.fromiter((streams.take(stream, make) for _ in range(N)), dtype=float, count=N)


@pytest.mark.parametrize(
    "spec, reference",
    [
        ({"dist": "uniform", "low": 240, "high": 540}, stats.uniform(240, 300)),
        ({"dist": "normal", "mean": 300, "sd": 60}, stats.norm(300, 60)),
        ({"dist": "lognormal", "median": 180, "sigma": 0.4}, stats.lognorm(0.4, scale=180)),
    ],
    ids=["uniform", "normal", "lognormal"],
)
def test_continuous_draws_fit_their_distribution(spec: dict, reference) -> None:
    values = draws(spec)
    statistic = stats.kstest(values, reference.cdf).statistic
    assert statistic < 0.01, statistic
    assert values.min() >= 0.0


def test_constant_is_constant() -> None:
    assert set(draws({"dist": "constant", "value": 42})) == {42.0}


def test_empirical_draws_follow_the_table() -> None:
    table = [30.0, 45.0, 45.0, 60.0, 240.0]
    values = draws({"dist": "empirical", "values": table})
    for cut in sorted(set(table)):
        expected = sum(v <= cut for v in table) / len(table)
        assert abs((values <= cut).mean() - expected) < 0.01


def test_jitter_adds_a_uniform_spread() -> None:
    values = draws({"dist": "constant", "value": 100, "jitter": 20})
    statistic = stats.kstest(values, stats.uniform(80, 40).cdf).statistic
    assert statistic < 0.01, statistic


@pytest.mark.parametrize(
    "spec",
    [
        {"dist": "normal", "mean": 60, "sd": 120, "min": 10, "max": 200},
        {"dist": "lognormal", "median": 60, "sigma": 1.5, "max": 300},
        {"dist": "uniform", "low": 0, "high": 100, "jitter": 50, "min": 5, "max": 95},
    ],
    ids=["normal", "lognormal", "uniform+jitter"],
)
def test_clamps_are_never_violated(spec: dict) -> None:
    values = draws(spec)
    low, high = spec.get("min", 0.0), spec.get("max", math.inf)
    assert values.min() >= low and values.max() <= high
    # and they do bind: some draws sit exactly on a clamp
    assert (values == low).any() or (values == high).any()


def test_clamped_normal_is_the_censored_normal() -> None:
    values = draws({"dist": "normal", "mean": 30, "sd": 30})  # min 0 clamps ~16% of draws
    reference = stats.norm(30, 30)
    assert abs((values == 0.0).mean() - reference.cdf(0.0)) < 0.01
    above = values[values > 0]
    truncated = stats.truncnorm((0 - 30) / 30, math.inf, loc=30, scale=30)
    assert stats.kstest(above, truncated.cdf).statistic < 0.01
