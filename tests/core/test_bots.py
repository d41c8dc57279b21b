"""The bot delegations play the sample scenario to an agreement both could live with."""

from __future__ import annotations

import pytest

from clients.bots import default_bots
from relay.rng import seeded_streams
from relay.sim import simulate
from schemas.scenario import load_scenario, sample_scenario_path

SCENARIO = load_scenario(sample_scenario_path())
SEEDS = range(50)
TOLERANCE = 1e-6  # the bots accept offers within 1e-9 of their reservation score


def play(seed: int):
    return simulate(SCENARIO, seed, default_bots(SCENARIO, seeded_streams(seed)))


def acceptable_range(term: str) -> tuple[float, float]:
    """The overlap of both parties' reservation sides for ``term``."""
    low, high = float("-inf"), float("inf")
    for party in SCENARIO.parties:
        position = party.positions[term]
        if position.ideal >= position.reservation:  # wants more: reservation is a floor
            low = max(low, position.reservation)
        else:  # wants less: reservation is a ceiling
            high = min(high, position.reservation)
    return low, high


def test_the_sample_has_a_zone_of_agreement():
    for term in SCENARIO.party("iran").positions:
        low, high = acceptable_range(term)
        assert low <= high, term


@pytest.mark.parametrize("seed", SEEDS)
def test_bots_reach_agreement_without_refused_commands(seed):
    result = play(seed)
    assert result.refused == []
    assert result.outcome is not None
    assert result.outcome.reason == "agreement"
    assert result.outcome.at <= SCENARIO.deadline


@pytest.mark.parametrize("seed", SEEDS)
def test_every_agreed_term_is_inside_both_reservations(seed):
    terms = play(seed).outcome.terms
    assert set(terms) == set(SCENARIO.party("iran").positions)
    for term, value in terms.items():
        low, high = acceptable_range(term)
        assert low - TOLERANCE <= value <= high + TOLERANCE, (term, value, low, high)
