"""The benchmarks must keep running: ``python -m benchmarks --quick`` as a smoke run.

This checks that every benchmark's code path works and reports its metrics. It asserts no
speed: figures come from the full run (docs/performance.md), compared as same-run ratios.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
METRICS = {
    "relay_notes_per_s",
    "forwarder_msgs_per_s",
    "relay_throughput_ratio",
    "relay_added_latency_p50_us",
    "relay_added_latency_p99_us",
    "forwarder_latency_p50_us",
    "forwarder_latency_p99_us",
    "timer_lateness_p99_ms",
    "simulate_exercises_per_s",
    "simulate_offers_per_s",
    "replay_events_per_s",
    "journal_events_per_s",
    "seat_connection_kib",
    "forwarder_connection_kib",
}


@pytest.mark.slow
def test_quick_benchmarks_report_every_metric(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    figures = json.loads(out.read_text(encoding="utf-8"))
    assert set(figures) >= METRICS, METRICS - set(figures)
    assert all(isinstance(figures[m], int | float) and figures[m] > 0 for m in METRICS)
