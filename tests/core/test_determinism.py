"""Same scenario, seed and bots: the same journal, to the byte."""

from __future__ import annotations

import io

import pytest

from clients.bots import default_bots
from relay.journal import to_entry, write_journal
from relay.rng import seeded_streams
from relay.sim import simulate
from schemas.scenario import load_scenario, sample_scenario_path

SCENARIO = load_scenario(sample_scenario_path())


def run(seed: int) -> list[str]:
    result = simulate(SCENARIO, seed, default_bots(SCENARIO, seeded_streams(seed)))
    return [to_entry(event).to_json() for event in result.events]


def journal_bytes(seed: int) -> bytes:
    result = simulate(SCENARIO, seed, default_bots(SCENARIO, seeded_streams(seed)))
    out = io.StringIO()
    write_journal(out, [to_entry(e) for e in result.events], {"id": "det", "seed": seed})
    return out.getvalue().encode("utf-8")


@pytest.mark.parametrize("seed", [0, 1, 7, 2024, 999_999])
def test_same_seed_same_journal(seed):
    assert run(seed) == run(seed)


@pytest.mark.parametrize("seed", [0, 7, 2024])
def test_same_seed_same_bytes(seed):
    first = journal_bytes(seed)
    assert first == journal_bytes(seed)
    assert first.count(b"\n") == len(run(seed)) + 1  # header + one line per event


@pytest.mark.parametrize("seed", [3, 42])
def test_three_identical_runs_trace_identically(seed):
    traces = [run(seed) for _ in range(3)]
    assert traces[0] == traces[1] == traces[2]
    assert len(traces[0]) > 10


def test_different_seeds_give_different_journals():
    journals = {seed: journal_bytes(seed) for seed in range(10)}
    assert len(set(journals.values())) == len(journals)


def test_simulated_journals_are_well_formed():
    for seed in range(10):
        entries = run(seed)
        assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
        stamps = [e["at"] for e in entries]
        assert stamps == sorted(stamps)
        assert entries[0]["type"] == "exercise.created"
        assert entries[0]["data"]["seed"] == seed
