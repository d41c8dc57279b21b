"""Travel and reading times follow the scenario's latency model."""

from __future__ import annotations

import math
import statistics

import pytest
from pydantic import TypeAdapter

from relay.core import events as ev
from relay.core import sample
from relay.rng import SeededStreams, seeded_streams
from schemas.latency import MAX_DURATION, MAX_SIGMA
from schemas.scenario import LatencySpec
from schemas.translate import latency

from .helpers import PARTIES, make_core, of_type, other, submit, travel

_SPEC = TypeAdapter(LatencySpec)


def draw(spec, streams: SeededStreams, stream: str = "travel") -> float:
    """One draw of ``spec`` from ``stream``, as the core takes it."""
    return streams.take(stream, lambda u1, u2: sample(spec, u1, u2))


def spec(**data):
    return latency(_SPEC.validate_python(data))


def shuttle_trips(core, trips: int) -> list[ev.MediatorDeparted]:
    """Send the human mediator back and forth ``trips`` times; return every departure."""
    departures = []
    now = 0.0
    for _ in range(trips):
        room = core.location
        travel(core, other(room), now)
        [departed] = of_type(core.events(), ev.MediatorDeparted)
        departures.append(departed)
        now = departed.arrives_at
        core.advance(now)
        core.events()
    return departures


@pytest.mark.parametrize("start", PARTIES)
def test_constant_travel_gap_equals_the_constant(start):
    core = make_core(mediator="human", travel=75.0, start_room=start)
    # t=12 the mediator leaves; arrives exactly t=87
    travel(core, other(start), 12.0)
    [departed] = of_type(core.events(), ev.MediatorDeparted)
    assert departed.travel_s == 75.0
    assert departed.arrives_at - departed.at == 75.0
    core.advance(1_000.0)
    [arrived] = of_type(core.events(), ev.MediatorArrived)
    assert arrived.at == departed.arrives_at == 87.0


def test_uniform_travel_stays_in_range_with_the_expected_mean():
    low, high, n = 240.0, 540.0, 2_000
    core = make_core(mediator="human", travel={"dist": "uniform", "low": low, "high": high})
    trips = shuttle_trips(core, n)
    samples = [d.travel_s for d in trips]
    assert all(low <= s <= high for s in samples)
    # every trip's gap is its own draw
    assert all(math.isclose(d.arrives_at - d.at, d.travel_s) for d in trips)
    # CLT: the mean of n uniform draws has sd (high-low)/sqrt(12 n); allow 4 sd (p ~ 6e-5)
    sd_of_mean = (high - low) / math.sqrt(12 * n)
    assert abs(statistics.fmean(samples) - (low + high) / 2) < 4 * sd_of_mean
    # and the draws really vary (a constant stuck at the mean would pass the line above)
    assert statistics.pstdev(samples) == pytest.approx((high - low) / math.sqrt(12), rel=0.1)


def test_normal_with_a_large_sd_never_breaks_its_clamps_in_the_core():
    core = make_core(
        mediator="human",
        travel={"dist": "normal", "mean": 100, "sd": 1_000, "min": 30, "max": 200},
    )
    samples = [d.travel_s for d in shuttle_trips(core, 500)]
    assert all(30.0 <= s <= 200.0 for s in samples)
    # with sd 1000 both clamps are hit often: the test would notice a clamp not applied
    assert samples.count(30.0) > 50
    assert samples.count(200.0) > 50


def test_normal_clamps_hold_for_direct_draws():
    rng = seeded_streams(3)
    normal = spec(dist="normal", mean=0, sd=10_000, min=5, max=6)
    values = [draw(normal, rng) for _ in range(5_000)]
    assert min(values) == 5.0
    assert max(values) == 6.0


SPECS = {
    "constant-zero": {"dist": "constant", "value": 0},
    "constant": {"dist": "constant", "value": 42},
    "uniform-from-zero": {"dist": "uniform", "low": 0, "high": 3},
    "normal-mostly-negative": {"dist": "normal", "mean": 1, "sd": 100},
    "normal-clamped": {"dist": "normal", "mean": 60, "sd": 500, "min": 10, "max": 90},
    "lognormal-wide": {"dist": "lognormal", "median": 1, "sigma": 4},
    "empirical": {"dist": "empirical", "values": [0, 1.5, 300]},
}


@pytest.mark.parametrize("name", SPECS)
def test_every_draw_is_non_negative_and_within_clamps(name):
    latency = spec(**SPECS[name])
    rng = seeded_streams(11)
    values = [draw(latency, rng, name) for _ in range(5_000)]
    assert all(v >= 0.0 for v in values)
    assert all(v >= latency.min for v in values)
    if latency.max is not None:
        assert all(v <= latency.max for v in values)


def test_draws_come_from_the_injected_stream_only():
    latency = spec(dist="uniform", low=0, high=1_000)
    five = seeded_streams(5)
    first = [draw(latency, five) for _ in range(3)]
    again_five = seeded_streams(5)
    again = [draw(latency, again_five) for _ in range(3)]
    assert first == again
    assert len(set(first)) == 3  # successive draws of a stream differ
    assert draw(latency, seeded_streams(6)) != first[0]
    assert draw(latency, seeded_streams(5), "reading") != first[0]  # streams are independent


def test_reading_time_comes_from_the_reading_model():
    core = make_core(mediator="human", reading=33.0)
    # t=4 iran submits in the mediator's room: ready exactly 33 s later
    submit(core, "iran", 4.0)
    [handed] = of_type(core.events(), ev.NoteHandedOver)
    assert (handed.reading_s, handed.ready_at) == (33.0, 37.0)


@pytest.mark.parametrize(
    "data, field",
    [
        ({"dist": "constant", "value": 1.79e308}, "value"),
        ({"dist": "constant", "value": 1, "jitter": 1.79e308}, "jitter"),
        ({"dist": "normal", "mean": 1, "sd": "20000000d"}, "sd"),
        ({"dist": "lognormal", "median": 60, "sigma": 1000}, "sigma"),
    ],
)
def test_a_duration_beyond_the_longest_is_refused(data, field):
    with pytest.raises(ValueError, match=field):
        spec(**data)


@pytest.mark.parametrize(
    "data",
    [
        {"dist": "constant", "value": MAX_DURATION, "jitter": MAX_DURATION},
        {"dist": "normal", "mean": MAX_DURATION, "sd": MAX_DURATION},
        {"dist": "lognormal", "median": MAX_DURATION, "sigma": MAX_SIGMA},
        {"dist": "uniform", "low": 0, "high": MAX_DURATION, "jitter": MAX_DURATION},
    ],
)
def test_the_widest_specs_draw_finite_delays_up_to_the_longest(data):
    """Even with uniforms as close to 0 and 1 as a double gets (a journal can hold them)."""
    widest = spec(**data)
    for u1 in (5e-324, 1e-300, 0.5, 1 - 2**-53):
        for u2 in (5e-324, 0.5, 1 - 2**-53):
            value = sample(widest, u1, u2)
            assert 0.0 <= value <= MAX_DURATION, (u1, u2, value)
