"""Batch studies: ``relay.sim.simulate_many`` and ``shuttle study``.

A run of a study is ``simulate`` of its seed, whatever worker made it: the same seeds give
byte-identical journals in one process or several.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from clients.bots import default_bots
from relay.rng import seeded_streams
from relay.sim import count_offers, simulate, simulate_many
from schemas.scenario import load_scenario, sample_scenario_path

SCENARIO = load_scenario(sample_scenario_path())
SEEDS = range(3, 15)


def test_journals_are_byte_identical_in_one_worker_or_several() -> None:
    one = simulate_many(SCENARIO, SEEDS, default_bots, workers=1, journals=True)
    two = simulate_many(SCENARIO, SEEDS, default_bots, workers=2, journals=True)
    three = simulate_many(SCENARIO, SEEDS, default_bots, workers=3, journals=True)
    assert [r.seed for r in one] == list(SEEDS)
    assert one == two == three
    assert all(r.journal for r in one)
    assert len({r.journal for r in one}) == len(one)  # other seeds, other journals


def test_a_run_is_simulate_of_its_seed(tmp_path: Path) -> None:
    (run,) = simulate_many(SCENARIO, [11], default_bots, journals=True)
    result = simulate(SCENARIO, 11, default_bots(SCENARIO, seeded_streams(11)))
    assert run.events == len(result.events)
    assert run.offers == count_offers(result.events)
    assert result.outcome is not None
    assert (run.outcome, run.ended_at) == (result.outcome.reason, result.outcome.at)
    # the journal is the entries of `shuttle simulate --seed 11 --journal`, after its header
    journal = tmp_path / "s11.jsonl"
    subprocess.run(
        [sys.executable, "-m", "clients.cli", "simulate", "--seed", "11", "--quiet"]
        + ["--journal", str(journal)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    lines = journal.read_text(encoding="utf-8").splitlines(keepends=True)
    assert run.journal == "".join(lines[1:])


def test_progress_is_reported_up_to_the_total() -> None:
    seen: list[tuple[int, int]] = []
    simulate_many(SCENARIO, range(5), default_bots, workers=2, progress=lambda *a: seen.append(a))
    assert seen[-1] == (5, 5)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


def test_shuttle_study_prints_a_summary_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "study.json"
    result = subprocess.run(
        [sys.executable, "-m", "clients.cli", "study", "--runs", "8", "--workers", "2"]
        + ["--seed", "5", "--preset", "phone-line", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "8 runs (seeds 5..12), 2 workers" in result.stdout
    assert "outcomes:" in result.stdout and "mean offers per run:" in result.stdout
    assert "mean time to agreement:" in result.stdout
    assert "study: 8/8 runs" in result.stderr
    summary = json.loads(out.read_text(encoding="utf-8"))
    assert summary["runs"] == 8 and summary["workers"] == 2
    assert [r["seed"] for r in summary["results"]] == list(range(5, 13))
    assert sum(summary["outcomes"].values()) == 8
    # the same study in one worker gives the same results
    again = tmp_path / "again.json"
    subprocess.run(
        [sys.executable, "-m", "clients.cli", "study", "--runs", "8", "--workers", "1"]
        + ["--seed", "5", "--preset", "phone-line", "--json", str(again)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert json.loads(again.read_text(encoding="utf-8"))["results"] == summary["results"]


def test_shuttle_study_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "clients.cli", "study", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0
    for option in ("--runs", "--workers", "--seed", "--preset", "--json"):
        assert option in result.stdout
