"""Settling stops early (a pass whose automatic mediator decided nothing, a pass that leaves
the mediator on the road), and must stop exactly where the plain rule does: repeat passes
until one emits nothing. Both are run here on the same inputs, under many random delivery
rules, and must journal the same events."""

from __future__ import annotations

import random
from typing import Any

import pytest

from clients.bots import default_bots
from relay import sim
from relay.core import Exercise, Phase
from relay.rng import seeded_streams
from schemas.scenario import Scenario, load_scenario, sample_scenario_path

MUSCAT = load_scenario(sample_scenario_path("muscat"))


class PlainSettling(Exercise):
    """The core with the settling loop as first written: no early stop."""

    def _settle(self) -> None:
        while self.phase is Phase.RUNNING:
            before = self._seq
            self._tend()
            if self._policy is not None and self.phase is Phase.RUNNING:
                self._mediate(self._policy)
            if self._seq == before:
                return


def _latency(rng: random.Random) -> dict[str, Any]:
    kind = rng.choice(["constant", "uniform", "zero"])
    if kind == "zero":
        return {"dist": "constant", "value": 0}
    if kind == "constant":
        return {"dist": "constant", "value": rng.choice([5, 60, 600, 3600])}
    low = rng.choice([0, 30, 300])
    return {"dist": "uniform", "low": low, "high": low + rng.choice([60, 900, 7200])}


def random_rules(rng: random.Random) -> dict[str, Any]:
    """A delivery section drawing on every rule, each present or not at random."""
    inbound: dict[str, Any] = {"reading": _latency(rng)}
    outbound: dict[str, Any] = {"travel": _latency(rng), "drafting": _latency(rng)}
    if rng.random() < 0.5:
        inbound["order"] = outbound["order"] = rng.choice(["preserve", "any"])
    if rng.random() < 0.8:  # holds are what can change behind the mediator's back
        inbound["hold"] = {"until_answered": rng.random() < 0.8}
        if rng.random() < 0.5:
            inbound["hold"]["delay"] = _latency(rng)
    if rng.random() < 0.3:
        inbound["expiry"] = rng.choice([600, 3600, 4 * 3600])
    inbound["receipts"] = rng.choice(["none", "handed_over", "delivered"])
    if rng.random() < 0.5:
        outbound["pouch"] = {
            key: value
            for key, value in (
                ("every", rng.choice([None, 900, 3600])),
                ("offset", rng.choice([0, 300])),
                ("capacity", rng.choice([None, 1, 2])),
            )
            if value is not None
        }
    for rule in ("loss", "duplicate"):
        if rng.random() < 0.3:
            outbound[rule] = rng.choice([0.05, 0.3, 1.0])
    if rng.random() < 0.3:
        outbound["distort"] = {"tag_drop": 0.3, "number": 0.3, "tone": 0.5}
    outbound["scope"] = rng.choice(["return", "flag", "relay"])
    rules: dict[str, Any] = {"inbound": inbound, "outbound": outbound}
    if rng.random() < 0.3:
        rules["sittings"] = [{"start": 0, "end": 6 * 3600}, {"start": 9 * 3600, "end": 15 * 3600}]
        rules["sitting_cycle"] = 24 * 3600
    return rules


@pytest.mark.parametrize("case", range(200))
def test_early_stops_journal_what_plain_settling_does(
    case: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = MUSCAT.model_dump(mode="json", exclude_unset=True)
    data["deadline"] = 72 * 3600.0  # long enough for slow rules to get through many notes
    data["delivery"] = random_rules(random.Random(case))
    scenario = Scenario.model_validate(data)

    def run(core: type[Exercise]) -> list[tuple[str, int, float, dict[str, Any]]]:
        monkeypatch.setattr(sim, "Exercise", core)
        bots = default_bots(scenario, seeded_streams(case))
        result = sim.simulate(scenario, case, bots, max_events=4000)
        return [(e.TYPE, e.seq, e.at, e.to_data()) for e in result.events]

    fast = run(Exercise)
    assert fast == run(PlainSettling)
    assert len(fast) > 3  # the talks got going
