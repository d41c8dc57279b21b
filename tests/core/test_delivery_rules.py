"""Delivery rules per link: miscalculation, order, the pouch, holds, expiry, sittings, rule
changes in flight, and faithful/counterfactual replay. Time is explicit throughout."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from typing import Any

import pytest

from relay.core import Exercise, InvalidCommand, InvalidNote, NotPermitted, WrongState
from relay.core import commands as cmd
from relay.core import events as ev
from relay.core.config import ExerciseConfig
from relay.core.exercise import FACILITATOR, MEDIATOR
from relay.journal import to_entry
from relay.replay import RecordedDraws, first_mismatch, rebuild, rerun, verify
from relay.sim import Intent, simulate
from schemas.delivery import PRESETS, Delivery
from schemas.scenario import ScenarioError, parse_scenario
from schemas.translate import change_rules, command_for, exercise_config

from .helpers import make_core, make_scenario, of_type, relay, rules, submit, travel

ZERO = {"dist": "constant", "value": 0}


def delivered_ids(events: Sequence[ev.Event], recipient: str) -> list[int]:
    return [
        e.note
        for e in events
        if isinstance(e, ev.NoteDelivered) and e.recipient == recipient and not e.duplicate
    ]


def order_violations(events: Sequence[ev.Event]) -> int:
    """Deliveries on a link that arrive after a later note on the same link."""
    violations = 0
    last: dict[tuple[str, str], int] = {}
    for e in events:
        if isinstance(e, ev.NoteDelivered) and e.outcome == "relayed" and not e.duplicate:
            link = (e.sender, e.recipient)
            if e.note < last.get(link, 0):
                violations += 1
            last[link] = max(last.get(link, 0), e.note)
    return violations


def burst_core(outbound: dict[str, Any], *, seed: int = 5) -> Exercise:
    """Zero reading, 1 s legs, the mediator starting in usa's room, receipts off."""
    return make_core(
        travel=1.0,
        reading=0.0,
        start_room="usa",
        seed=seed,
        delivery={"inbound": {"receipts": "none"}, "outbound": outbound},
    )


def send_bursts(core: Exercise, notes: int, burst: int = 1_000) -> list[ev.Event]:
    """iran submits ``notes`` notes in bursts; each burst makes one round trip."""
    events: list[ev.Event] = []
    t = 0.0
    for start in range(0, notes, burst):
        for i in range(start, min(start + burst, notes)):
            core.handle(cmd.Submit(by="iran", client_id=f"n{i}", kind="statement", text="x"), t)
        t += 10.0
        core.advance(t)
        events.extend(core.events())
    return events


# ---------------------------------------------------------------------- miscalculation


def test_a_loss_rate_of_five_percent_measures_within_a_third_of_a_point() -> None:
    core = burst_core({"loss": 0.05})
    events = send_bursts(core, 100_000)
    lost = len(of_type(events, ev.NoteLost))
    delivered = len(delivered_ids(events, "usa"))
    assert lost + delivered == 100_000  # every note either arrived or was lost, once
    assert abs(lost / 100_000 - 0.05) <= 0.003, lost
    # each loss is journalled with its draw, and nothing else was lost
    assert all(
        e.draws[0][:2] == ["loss", "loss:mediator->usa"] for e in of_type(events, ev.NoteLost)
    )
    assert all(
        e.draws[0][3] == "lost" and e.draws[0][2] < 0.05 for e in of_type(events, ev.NoteLost)
    )


def test_a_duplication_rate_of_five_percent_measures_within_a_third_of_a_point() -> None:
    core = burst_core({"duplicate": 0.05})
    events = send_bursts(core, 100_000)
    copies = [e for e in of_type(events, ev.NoteDelivered) if e.duplicate]
    firsts = delivered_ids(events, "usa")
    assert sorted(firsts) == list(range(1, 100_001))  # every note delivered, in order
    assert abs(len(copies) / 100_000 - 0.05) <= 0.003, len(copies)
    assert len({e.note for e in copies}) == len(copies)  # at most one extra copy each


def test_distortion_records_each_change_with_its_original() -> None:
    distort = {"tag_drop": 1.0, "number": 1.0, "number_bound": 2.0, "tone": 1.0}
    core = make_core(reading=0.0, travel=5.0, delivery={"outbound": {"distort": distort}})
    submit(
        core,
        "iran",
        0.0,
        kind="proposal",
        text="We must keep enrichment",
        tags=["cap", "relief"],
        terms={"cap": 20.0},
    )
    core.advance(100.0)
    events = core.events()
    (relayed,) = of_type(events, ev.NoteRelayed)
    (delivered,) = of_type(events, ev.NoteDelivered)
    kinds = {change["kind"]: change for change in relayed.distortions}
    assert set(kinds) == {"tag_dropped", "term_moved", "tone"}
    # what the mediator meant stays in the relay record; the recipient reads the distortion
    assert (relayed.text, relayed.tags, relayed.terms) == (
        "We must keep enrichment",
        ["cap", "relief"],
        {"cap": 20.0},
    )
    assert delivered.text == "We should keep enrichment"
    assert kinds["tone"] == {"kind": "tone", "original": "must", "relayed": "should"}
    assert kinds["tag_dropped"]["tag"] not in delivered.tags and len(delivered.tags) == 1
    moved = kinds["term_moved"]
    assert moved["original"] == 20.0 and moved["relayed"] == delivered.terms["cap"]
    assert 18.0 <= delivered.terms["cap"] <= 22.0 and delivered.terms["cap"] != 20.0
    assert all(draw[0] == "distort" for draw in relayed.draws)


def test_a_moved_number_stays_inside_its_agenda_bounds() -> None:
    distort = {"number": 1.0, "number_bound": 50.0}
    core = make_core(reading=0.0, travel=5.0, seed=3, delivery={"outbound": {"distort": distort}})
    for i in range(40):
        submit(core, "iran", float(i), kind="proposal", text="p", terms={"cap": 89.0})
    core.advance(10_000.0)
    caps = [e.terms["cap"] for e in of_type(core.events(), ev.NoteDelivered)]
    assert len(caps) == 40 and all(0.0 <= cap <= 90.0 for cap in caps)
    assert 90.0 in caps  # clamped at the agenda's max, not beyond


# ---------------------------------------------------------------------- order


def jittery_core(order: str) -> Exercise:
    """Reading jitter far wider than the 1 s gap between notes."""
    reading = {"dist": "lognormal", "median": 30, "sigma": 1.0}
    return make_core(
        travel=1.0,
        reading=reading,
        seed=11,
        delivery={"inbound": {"order": order, "receipts": "none"}},
    )


@pytest.mark.parametrize("order", ["preserve", "any"])
def test_order_on_a_link_is_kept_or_not_as_the_rule_says(order: str) -> None:
    core = jittery_core(order)
    events: list[ev.Event] = []
    for i in range(10_000):
        core.handle(cmd.Submit(by="iran", client_id=f"n{i}", kind="statement", text="x"), i * 1.0)
        events.extend(core.events())
    core.advance(10_000_000.0)
    events.extend(core.events())
    handed = of_type(events, ev.NoteHandedOver)
    assert len(delivered_ids(events, "usa")) == 10_000
    # the jitter exceeds the gap: reading alone would reorder many notes
    ready = [e.at + e.reading_s for e in handed]
    assert sum(1 for a, b in zip(ready, ready[1:], strict=False) if b < a) > 1_000
    if order == "preserve":
        assert order_violations(events) == 0
    else:
        assert order_violations(events) > 100


# ---------------------------------------------------------------------- the pouch


def pouch_run(seed: int, pouch: dict[str, Any]) -> list[ev.Event]:
    """Random notes from both sides; some become ready exactly as the pouch leaves."""
    rng = random.Random(seed)
    core = make_core(
        travel=300.0,
        reading={"dist": "empirical", "values": [0, 60, 600, 1200]},
        seed=seed,
        delivery={"outbound": {"pouch": pouch}},
    )
    times = sorted(rng.choice([0.0, 600.0, 1200.0, rng.uniform(0, 6000)]) for _ in range(60))
    for i, t in enumerate(times):
        core.handle(
            cmd.Submit(
                by=rng.choice(["iran", "usa"]), client_id=f"n{i}", kind="statement", text="x"
            ),
            t,
        )
    core.advance(1_000_000.0)
    return core.events()


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize(
    "pouch",
    [
        {"every": 600},
        {"every": 600, "capacity": 2},
        {"capacity": 1},
        {"every": 1200, "offset": 300},
    ],
    ids=["scheduled", "scheduled-capacity-2", "capacity-1", "offset"],
)
def test_with_the_pouch_every_delivery_is_at_an_arrival_and_nothing_is_left(
    seed: int, pouch: dict[str, Any]
) -> None:
    events = pouch_run(seed, pouch)
    submitted = {e.note for e in of_type(events, ev.NoteSubmitted)}
    delivered = Counter(e.note for e in of_type(events, ev.NoteDelivered))
    assert set(delivered) == submitted  # nothing left behind
    assert set(delivered.values()) == {1}  # nothing delivered twice
    room: str | None = None
    arrived_at: float | None = None
    per_trip: Counter[tuple[float, str]] = Counter()
    for e in events:
        if isinstance(e, ev.MediatorArrived):
            room, arrived_at = e.room, e.at
        elif isinstance(e, ev.MediatorDeparted):
            room = None
            if "every" in pouch:  # departures only on the schedule
                assert (e.at - pouch.get("offset", 0)) % pouch["every"] == 0, e
        elif isinstance(e, ev.NoteDelivered):
            assert e.recipient == room and e.at == arrived_at, e  # at a trip's arrival
            per_trip[(e.at, e.recipient)] += 1
    if "capacity" in pouch:
        assert max(per_trip.values()) <= pouch["capacity"]


def test_a_note_ready_at_the_moment_the_pouch_leaves_travels_with_it() -> None:
    core = make_core(
        travel=100.0,
        reading=600.0,
        delivery={"outbound": {"pouch": {"every": 600}}},
    )
    note = submit(core, "iran", 0.0)  # read by t=600, exactly the second departure slot
    core.advance(600.0)
    (departed,) = of_type(core.events(), ev.MediatorDeparted)
    assert departed.at == 600.0
    core.advance(700.0)
    (delivered,) = of_type(core.events(), ev.NoteDelivered)
    assert (delivered.note, delivered.at) == (note, 700.0)


def test_a_full_pouch_leaves_the_rest_for_the_next_trip() -> None:
    core = make_core(
        travel=10.0,
        reading=0.0,
        start_room="usa",  # away: the five notes wait for the mediator together
        delivery={"outbound": {"pouch": {"capacity": 2}}},
    )
    notes = [submit(core, "iran", 0.0) for _ in range(5)]
    core.advance(1_000.0)
    events = core.events()
    trips = Counter(e.at for e in of_type(events, ev.NoteDelivered))
    assert list(trips.values()) == [2, 2, 1]
    assert delivered_ids(events, "usa") == notes


def test_a_human_mediator_batches_every_read_note_and_leaves_with_them() -> None:
    core = make_core(mediator="human", reading=5.0, travel=50.0)
    first, second = submit(core, "iran", 0.0), submit(core, "iran", 1.0)
    with pytest.raises(WrongState, match="no note has been read"):
        core.handle(cmd.Batch(by=MEDIATOR), 2.0)
    core.handle(cmd.Batch(by=MEDIATOR), 10.0)
    events = core.events()
    assert [e.note for e in of_type(events, ev.NoteRelayed)] == [first, second]
    (departed,) = of_type(events, ev.MediatorDeparted)
    assert departed.destination == "usa" and departed.by == MEDIATOR
    core.advance(60.0)
    assert delivered_ids(core.events(), "usa") == [first, second]


def test_a_batch_is_all_or_nothing() -> None:
    core = make_core(mediator="human", reading=5.0, travel=50.0)
    ready = submit(core, "iran", 0.0)
    unread = submit(core, "iran", 8.0)
    before = core.last_seq
    with pytest.raises(WrongState, match="still being read"):
        core.handle(cmd.Batch(by=MEDIATOR, notes=[ready, unread]), 10.0)
    assert core.last_seq == before and core.location == "iran"


# ---------------------------------------------------------------------- holds


def test_a_hold_on_a_condition_is_released_when_it_holds() -> None:
    core = make_core(mediator="human", reading=0.0, travel=10.0)
    first = submit(core, "iran", 0.0, kind="proposal", text="p", terms={"cap": 5.0})
    second = submit(core, "iran", 1.0)
    core.handle(cmd.Hold(by=MEDIATOR, note=second, condition=f"answered:{first}"), 2.0)
    relay(core, first, 2.0)
    travel(core, "usa", 3.0)
    core.advance(13.0)  # first delivered to usa; usa answers at once, in the mediator's presence
    submit(core, "usa", 14.0, kind="reply", answer="reject", in_reply_to=first, text="no")
    events = core.events()
    (released,) = of_type(events, ev.NoteReleased)
    assert (released.note, released.by, released.at) == (second, ev.CORE, 14.0)
    with pytest.raises(InvalidCommand, match="condition"):
        core.handle(cmd.Hold(by=MEDIATOR, note=second, condition="answered:99"), 15.0)


def test_the_hold_policy_keeps_one_offer_on_the_table_at_a_time() -> None:
    core = make_core(
        reading=0.0, travel=10.0, delivery={"inbound": {"hold": {"until_answered": True}}}
    )
    first = submit(core, "iran", 0.0, kind="proposal", text="p1", terms={"cap": 5.0})
    second = submit(core, "iran", 1.0, kind="proposal", text="p2", terms={"cap": 6.0})
    core.advance(50.0)
    events = core.events()
    assert delivered_ids(events, "usa") == [first]
    (held,) = of_type(events, ev.NoteHeld)
    assert (held.note, held.by, held.condition) == (second, ev.AUTO, f"answered:{first}")
    submit(core, "usa", 60.0, kind="reply", answer="reject", in_reply_to=first, text="no")
    core.advance(200.0)
    assert second in delivered_ids(core.events(), "usa")


def test_the_hold_policy_delay_is_drawn_and_journalled() -> None:
    hold = {"delay": {"dist": "uniform", "low": 100, "high": 200}}
    core = make_core(reading=0.0, travel=10.0, delivery={"inbound": {"hold": hold}})
    submit(core, "iran", 0.0)
    core.advance(1_000.0)
    events = core.events()
    (held,) = of_type(events, ev.NoteHeld)
    ((rule, stream, value, _),) = held.draws
    assert (rule, stream) == ("hold", "hold:iran->mediator") and 100 <= value <= 200
    (released,) = of_type(events, ev.NoteReleased)
    assert released.at == held.until == value


# ---------------------------------------------------------------------- expiry


def test_an_offer_lapses_undelivered_and_is_withdrawn() -> None:
    core = make_core(mediator="human", reading=0.0, delivery={"inbound": {"expiry": 100}})
    offer = submit(core, "iran", 0.0, kind="proposal", text="p", terms={"cap": 5.0})
    statement = submit(core, "iran", 0.0)  # not an offer: never lapses
    core.advance(100.0)
    (expired,) = of_type(core.events(), ev.NoteExpired)
    assert (expired.note, expired.delivered, expired.by) == (offer, False, ev.CLOCK)
    with pytest.raises(WrongState, match="expired"):
        relay(core, offer, 101.0)
    relay(core, statement, 101.0)


def test_a_lapsed_offer_that_arrived_can_no_longer_be_accepted() -> None:
    core = make_core(reading=0.0, travel=10.0, delivery={"inbound": {"expiry": 100}})
    offer = submit(core, "iran", 0.0, kind="proposal", text="p", terms={"cap": 5.0})
    core.advance(100.0)
    expired = of_type(core.events(), ev.NoteExpired)
    assert [(e.note, e.delivered) for e in expired] == [(offer, True)]
    with pytest.raises(InvalidNote, match="lapsed"):
        submit(core, "usa", 101.0, kind="reply", answer="accept", in_reply_to=offer, text="ok")


# ---------------------------------------------------------------------- sittings


def test_the_mediator_travels_only_inside_the_sitting_hours() -> None:
    sittings = {"sittings": [{"start": 0, "end": 3600}], "sitting_cycle": 86_400}
    core = make_core(reading=0.0, travel=60.0, delivery=sittings)
    submit(core, "iran", 4_000.0)  # after the first sitting: waits for the next day's
    core.advance(100_000.0)
    events = core.events()
    (departed,) = of_type(events, ev.MediatorDeparted)
    assert departed.at == 86_400.0
    human = make_core(mediator="human", delivery=sittings)
    with pytest.raises(WrongState, match="next starts at 86400"):
        travel(human, "usa", 4_000.0)


# ---------------------------------------------------------------------- changes in flight


class StreamBot:
    """A party that writes ``count`` statements, one every ``gap`` seconds."""

    role = "party"

    def __init__(self, seat: str, count: int, gap: float) -> None:
        self.seat, self.count, self.gap = seat, count, gap
        self.sent = 0

    def on_start(self, now: float) -> Sequence[Intent]:
        return [self._next(0.0)]

    def observe(self, event: ev.Event) -> Sequence[Intent]:
        mine = isinstance(event, ev.NoteSubmitted) and event.by == self.seat
        return [self._next(self.gap)] if mine and self.sent < self.count else []

    def _next(self, delay: float) -> Intent:
        self.sent += 1
        return Intent(
            delay,
            cmd.Submit(
                by=self.seat, client_id=f"{self.seat}-{self.sent}", kind="statement", text="x"
            ),
        )


RULE_SETS: list[dict[str, Any]] = [
    {"preset": name} for name in PRESETS if name != "overnight-courier"
] + [
    {"outbound": {"pouch": {"every": 300, "capacity": 3}}},
    {"outbound": {"pouch": {"capacity": 1}, "travel": {"dist": "uniform", "low": 1, "high": 90}}},
    {"inbound": {"order": "any", "reading": {"dist": "lognormal", "median": 20, "sigma": 1}}},
    {"inbound": {"hold": {"delay": {"dist": "uniform", "low": 0, "high": 60}}}},
    {"sittings": [{"start": 0, "end": 1800}], "sitting_cycle": 3600},
]


class RuleChanger:
    """The facilitator, changing the delivery rules ``count`` times at random moments."""

    seat = role = "facilitator"

    def __init__(self, count: int, gap: float, seed: int, config: ExerciseConfig) -> None:
        self.rng = random.Random(seed)
        self.count, self.gap, self.config = count, gap, config

    def on_start(self, now: float) -> Sequence[Intent]:
        return [
            Intent(
                self.rng.uniform(0, self.count * self.gap),
                change_rules(self.config, FACILITATOR, self.rng.choice(RULE_SETS)),
            )
            for _ in range(self.count)
        ]

    def observe(self, event: ev.Event) -> Sequence[Intent]:
        return []


def test_changing_rules_a_hundred_times_loses_and_duplicates_nothing() -> None:
    scenario = make_scenario(reading=5.0, travel=30.0, drafting=0.0)
    bots = [
        StreamBot("iran", 1_000, 11.0),
        StreamBot("usa", 1_000, 13.0),
        RuleChanger(100, 110.0, 4, exercise_config(scenario)),
    ]
    result = simulate(scenario, 4, bots)
    events = result.events
    assert len(of_type(events, ev.RulesChanged)) == 100 and not result.refused
    submitted = of_type(events, ev.NoteSubmitted)
    assert len(submitted) == 2_000
    delivered = Counter(e.note for e in of_type(events, ev.NoteDelivered))
    assert set(delivered) == {e.note for e in submitted}
    assert set(delivered.values()) == {1}
    assert not of_type(events, ev.NoteLost)
    entries = [to_entry(e) for e in events]
    assert verify(entries) is None


def test_only_the_facilitator_changes_rules_and_bad_rules_are_refused_whole() -> None:
    core = make_core()
    with pytest.raises(NotPermitted):
        core.handle(rules(core, {"preset": "direct"}, by="iran"), 1.0)
    with pytest.raises(InvalidCommand, match="links"):
        rules(core, {"links": {"iran->usa": {}}})
    with pytest.raises(InvalidCommand, match="preset"):
        rules(core, {"preset": "pigeon"})
    assert core.events() == []
    core.handle(rules(core, {"preset": "direct"}), 1.0)
    (changed,) = of_type(core.events(), ev.RulesChanged)
    assert changed.delivery == {"preset": "direct"}
    assert core.links["mediator->usa"].travel.value == 0  # type: ignore[union-attr]


# ---------------------------------------------------------------------- scenario validation


def test_a_rule_on_the_wrong_direction_is_refused_naming_it() -> None:
    with pytest.raises(ValueError, match="inbound: travel cannot be set"):
        Delivery.model_validate({"inbound": {"travel": ZERO}})
    with pytest.raises(ValueError, match="links.mediator->usa: reading cannot be set"):
        Delivery.model_validate({"links": {"mediator->usa": {"reading": ZERO}}})
    with pytest.raises(ScenarioError, match="name no link"):
        make_scenario().under(delivery={"links": {"china->mediator": {"expiry": 5}}})


def test_layers_apply_from_preset_to_link() -> None:
    scenario = make_scenario(travel=60.0).under(
        delivery={
            "preset": "phone-line",
            "outbound": {"loss": 0.1},
            "links": {"mediator->iran": {"loss": 0.2, "scope": "return"}},
        }
    )
    core = Exercise(exercise_config(scenario), seed=1, rng=RecordedDraws(1, []))
    iran, usa = core.links["mediator->iran"], core.links["mediator->usa"]
    assert (iran.loss, usa.loss, iran.scope, usa.scope) == (0.2, 0.1, "return", "relay")
    assert core.links["iran->mediator"].receipts == "delivered"  # from the preset


# ---------------------------------------------------------------------- replay


EVERY_RULE = {
    "inbound": {
        "reading": {"dist": "lognormal", "median": 60, "sigma": 0.5, "max": 600},
        "order": "any",
        "hold": {"delay": {"dist": "normal", "mean": 30, "sd": 10}},
        "receipts": "delivered",
        "expiry": 7_200,
    },
    "outbound": {
        "travel": {"dist": "empirical", "values": [120, 300, 480], "jitter": 30},
        "drafting": {"dist": "uniform", "low": 60, "high": 240},
        "pouch": {"every": 600, "capacity": 4},
        "loss": 0.05,
        "duplicate": 0.05,
        "distort": {"tag_drop": 0.2, "number": 0.3, "number_bound": 1.0, "tone": 0.3},
        "scope": "flag",
    },
    "sittings": [{"start": 0, "end": 20 * 3600}],
}


def every_rule_journal(seed: int) -> list[ev.Event]:
    from clients.bots import default_bots
    from relay.rng import seeded_streams
    from schemas.scenario import load_scenario, sample_scenario_path

    scenario = load_scenario(sample_scenario_path()).under(delivery=EVERY_RULE)
    scenario = scenario.model_copy(update={"deadline": 24 * 3600.0})
    changer = RuleChanger(3, 3_600.0, seed, exercise_config(scenario))
    bots = [*default_bots(scenario, seeded_streams(seed)), changer]
    return simulate(scenario, seed, bots).events


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_faithful_replay_of_every_rule_verifies_and_draws_nothing(seed: int) -> None:
    events = every_rule_journal(seed)
    rules = {draw[0] for e in events for draw in getattr(e, "draws", ())}
    assert rules >= {"reading", "hold", "travel", "loss", "duplicate", "distort"}
    entries = [to_entry(e) for e in events]
    assert verify(entries) is None
    # replay takes every draw from the journal: fed another seed, it still reproduces it
    recorded = RecordedDraws(seed + 1_000, events)
    core = Exercise(rebuild(entries)[0].config, seed=seed, rng=recorded)
    produced = core.events()
    for event in events[1:]:
        if ev.is_input(event):
            core.handle(command_for(event, core.config), event.at)
            produced.extend(core.events())
    core.advance(events[-1].at)
    produced.extend(core.events())
    assert first_mismatch(entries, produced) is None
    assert recorded.left == 0


def test_a_counterfactual_rerun_feeds_the_same_party_inputs_under_new_rules() -> None:
    events = every_rule_journal(1)
    entries = [to_entry(e) for e in events]
    scenario = parse_scenario(entries[0].data["scenario"]).under(preset="direct")
    result = rerun(entries, scenario)
    original = [(e.by, e.client_id) for e in of_type(events, ev.NoteSubmitted)]
    again = [(e.by, e.client_id) for e in of_type(result.events, ev.NoteSubmitted)]
    skipped = [(e.by, e.client_id) for e, _ in result.skipped if isinstance(e, ev.NoteSubmitted)]
    assert sorted(again + skipped) == sorted(original)
    assert again  # the same party inputs made a new exercise ...
    assert [e.TYPE for e in result.events] != [e.TYPE for e in events]  # ... with another course
    assert not of_type(result.events, ev.RulesChanged)  # the new rules held throughout
    assert verify([to_entry(e) for e in result.events]) is None


def test_a_rerun_under_the_same_rules_reproduces_the_journal() -> None:
    from clients.bots import default_bots
    from relay.rng import seeded_streams
    from schemas.scenario import load_scenario, sample_scenario_path

    scenario = load_scenario(sample_scenario_path())
    events = simulate(scenario, 9, default_bots(scenario, seeded_streams(9))).events
    entries = [to_entry(e) for e in events]
    assert [to_entry(e) for e in rerun(entries, scenario).events] == entries
