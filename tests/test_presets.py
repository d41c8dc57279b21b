"""Each delivery preset plays the sample scenario to its end in ``shuttle simulate``, and a
journal re-runs under another preset from the same party inputs (run as a user runs them)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from relay.journal import from_entry, read_journal
from relay.replay import verify
from schemas.delivery import PRESETS
from tests.test_cli import shuttle


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_each_preset_plays_the_sample_to_its_end(preset: str, tmp_path: Path) -> None:
    journal = tmp_path / f"{preset}.jsonl"
    result = shuttle("simulate", "--preset", preset, "--journal", str(journal))
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith(("Outcome: agreement on note #", "Outcome: deadline passed")), last
    entries = read_journal(journal).entries
    created = from_entry(entries[0])
    assert created.scenario["delivery"] == {"preset": preset}  # type: ignore[attr-defined]
    assert entries[-1].type == "exercise.ended"
    assert verify(entries) is None


def test_replay_under_a_preset_writes_a_new_journal_from_the_same_inputs(tmp_path: Path) -> None:
    original, again = tmp_path / "muscat.jsonl", tmp_path / "courier.jsonl"
    shuttle("simulate", "--seed", "3", "--journal", str(original), "-q")
    run = shuttle("replay", str(original), "--preset", "overnight-courier", "-o", str(again), "-q")
    assert "recorded inputs under the new rules" in run.stderr
    first, second = read_journal(original).entries, read_journal(again).entries
    assert second != first
    assert second[0].data["scenario"]["delivery"] == {"preset": "overnight-courier"}
    opening = [e.data for e in first if e.type == "note.submitted"][0]
    assert opening in [e.data for e in second if e.type == "note.submitted"]
    assert shuttle("replay", str(again), "--verify").stdout.startswith("OK:")


def test_bad_rules_are_refused_with_the_field_named(tmp_path: Path) -> None:
    bad = shuttle("simulate", "--preset", "pigeon", check=False)
    assert bad.returncode == 2 and "preset: 'pigeon' is not one of" in bad.stderr
    rules = tmp_path / "rules.json"
    rules.write_text(
        json.dumps({"delivery": {"outbound": {"reading": {"dist": "constant", "value": 1}}}})
    )
    bad = shuttle("simulate", "--delivery", str(rules), check=False)
    assert bad.returncode == 2 and "outbound: reading cannot be set" in bad.stderr
