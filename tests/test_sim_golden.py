"""Simulated journals are pinned: a digest of every event of a set of runs, taken from the code
before the headless simulator was made faster. Any change to what the core or the bots do
(an event more or less, another order, another number or word) changes a digest.

The digest covers each event's type, sequence number, time and payload (``to_data``), encoded
here rather than through ``relay.journal`` so that it pins the simulation, not the file format.
If a change of behaviour is meant, say so in its commit and update the digests.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from benchmarks.bench_core import bargaining_scenario
from clients.bots import default_bots
from relay.core import events as ev
from relay.rng import seeded_streams
from relay.sim import simulate, simulate_many
from schemas.scenario import Scenario, load_scenario, sample_scenario_path

ROUGH: dict[str, Any] = {
    # every rule that draws or reorders: holds, expiry, loss, duplicates, distortion, a pouch
    "preset": "muscat-indirect",
    "inbound": {
        "order": "preserve",
        "hold": {"delay": {"dist": "uniform", "low": 0, "high": 600}, "until_answered": True},
        "expiry": 7200,
        "receipts": "delivered",
    },
    "outbound": {
        "travel": {"dist": "uniform", "low": 60, "high": 400, "jitter": 30},
        "loss": 0.1,
        "duplicate": 0.15,
        "distort": {"tag_drop": 0.2, "number": 0.3, "number_bound": 2.0, "tone": 0.5},
        "pouch": {"capacity": 1},
        "scope": "flag",
    },
}
SITTINGS: dict[str, Any] = {
    # a scheduled pouch with a capacity, out-of-scope notes returned, sitting hours
    "preset": "phone-line",
    "outbound": {"pouch": {"every": 1800, "offset": 300, "capacity": 2}, "scope": "return"},
    "sittings": [{"start": 0, "end": 14400}, {"start": 28800, "end": 43200}],
    "sitting_cycle": 86400,
}

# (rules: the scenario's own, a preset, ROUGH or SITTINGS; seed) -> digest of the run's events
MUSCAT_DIGESTS: dict[tuple[str, int], str] = {
    ("scenario", 1): "0243b19b6f6ff0f4559c08698a1d627161832f3b040c7d01b39390817a296cde",
    ("scenario", 7): "d249d87c2e412cc9e6161bdcd5faf6b61927b3f218fdeddf862ce8f06fb34896",
    ("scenario", 11): "e4abb471224670d4fde087618ec83c5745f2dec2914af4b66769840eee7c22d5",
    ("scenario", 42): "a909e14924e8671a2d104d9af3dc65411d7ffffc4df9a4ef9268eeba9b06ff1f",
    ("muscat-indirect", 1): "0243b19b6f6ff0f4559c08698a1d627161832f3b040c7d01b39390817a296cde",
    ("muscat-indirect", 7): "d249d87c2e412cc9e6161bdcd5faf6b61927b3f218fdeddf862ce8f06fb34896",
    ("muscat-indirect", 11): "e4abb471224670d4fde087618ec83c5745f2dec2914af4b66769840eee7c22d5",
    ("muscat-indirect", 42): "a909e14924e8671a2d104d9af3dc65411d7ffffc4df9a4ef9268eeba9b06ff1f",
    ("overnight-courier", 1): "654c558e83b272695949d738b0ac6efac3290184d061d4ca0ba3da65cbcaa28b",
    ("overnight-courier", 7): "b6ef2874b4e7b11d158976dfaa65c2af830b55f66d13ed4c48a41ac069a455c9",
    ("overnight-courier", 11): "a4682c20397e33ebd0d6deb709ca5eadcddd9033a56281d21bcf85e8f5a1d5a0",
    ("overnight-courier", 42): "41408c08e0b8da5a8eebf8601d5ef46c1738e5966a0dd456dd887530aca7b4e4",
    ("phone-line", 1): "678665c071dcf297cdb829a9ab59355b4b4405aa4f8eaddcc18c08c3692d78b0",
    ("phone-line", 7): "bca5ca52afe11c61ee988cf5734683964327194ce40a90e93096d0da9371d9cb",
    ("phone-line", 11): "cec742da1461f807126322298ee25906a44fe3f2943e28aafc948965e796dc51",
    ("phone-line", 42): "753519252e193498aba9081aeb0bee37c380c94e306adb1e6acdf19771551b77",
    ("direct", 1): "76c632ecf6016206ca6295bd00baf27c16046a5090cd5c04ba2766be80ac7c04",
    ("direct", 7): "62201a99dbe65b305e6d26432a661f785001f53c96dc71895a0bf610e51912b4",
    ("direct", 11): "f1ed8db432137bdc6141924fc9a9daaed5cf17a0cce68dcd23799faf4007085b",
    ("direct", 42): "e8955147df29866bfbf58583c4a2fc0a1d6cda9df5bfae417e5ef8c86ec72e46",
    ("rough", 1): "377e12e2d997b9fb2f76cc6ab2e5388518e516fe8bb0f3a6edfd1f62889fcd9e",
    ("rough", 7): "e10a4c5f8540810676c5fa7a4245bfcab03302b635d5a8440ecc4c390fdbec00",
    ("rough", 11): "cc33b24d74a30ddd363a4c858de2b39f419f3cae339262c5c7c135ecd196a878",
    ("rough", 42): "95c641c27d79333849699ec32da5b4ea2fc046cc052aca53787a818931cdc590",
    ("sittings", 1): "cb3ac6521a84914c8326b470d542731868ed590cfbaf5a0f082fa74ea5583f1f",
    ("sittings", 7): "0d213a73c0b48ffc77631276ef87c962040d2b97a3d3a01f1f068994116834e8",
    ("sittings", 11): "8b0629a70de5f684bd179427964671a8e75d9638e6b248251172af05fe833864",
    ("sittings", 42): "678d9e7a1f3645f669bda2b389949f1919cc12085fd900fce25f0c55222605eb",
}
BENCH_DIGEST = "d60a0ebf9ce7fb6f6d9616a906734bfd39b2e8271c08005eddd9b4e7d037ce89"


def digest(events: list[ev.Event]) -> str:
    h = hashlib.sha256()
    for event in events:
        line = [event.TYPE, event.seq, event.at, event.to_data()]
        h.update(json.dumps(line, separators=(",", ":"), ensure_ascii=False).encode())
        h.update(b"\n")
    return h.hexdigest()


def _muscat(rules: str) -> Scenario:
    scenario = load_scenario(sample_scenario_path("muscat"))
    if rules == "scenario":
        return scenario
    section = {"rough": ROUGH, "sittings": SITTINGS}.get(rules, {"preset": rules})
    return scenario.under(delivery=section)


def _run(scenario: Scenario, seed: int) -> list[ev.Event]:
    return simulate(scenario, seed, default_bots(scenario, seeded_streams(seed))).events


@pytest.mark.parametrize(("rules", "seed"), sorted(MUSCAT_DIGESTS))
def test_muscat_journals_are_unchanged(rules: str, seed: int) -> None:
    assert digest(_run(_muscat(rules), seed)) == MUSCAT_DIGESTS[(rules, seed)]


def test_benchmark_journals_are_unchanged_in_one_process_and_over_workers() -> None:
    scenario = bargaining_scenario()
    one = [digest(_run(scenario, seed)) for seed in range(1, 9)]
    assert hashlib.sha256("".join(one).encode()).hexdigest() == BENCH_DIGEST
    runs = simulate_many(scenario, range(1, 9), default_bots, workers=2, journals=True)
    alone = simulate_many(scenario, range(1, 9), default_bots, workers=1, journals=True)
    assert [run.journal for run in runs] == [run.journal for run in alone]
