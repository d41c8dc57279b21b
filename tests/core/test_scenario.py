"""Scenario files: durations with units, errors that name the field, the shipped sample."""

from __future__ import annotations

import copy

import pytest
import yaml

from relay.core import Exercise, config
from relay.rng import seeded_streams
from schemas.scenario import (
    Constant,
    Scenario,
    ScenarioError,
    load_scenario,
    parse_scenario,
    sample_scenario_path,
)
from schemas.translate import exercise_config

BASE = {
    "id": "t",
    "title": "T",
    "parties": [{"id": "a", "name": "A"}, {"id": "b", "name": "B"}],
    "agenda": [{"id": "cap", "title": "Cap"}],
}


def with_(**changes):
    data = copy.deepcopy(BASE)
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90.0),
        ("15m", 900.0),
        ("4h", 14_400.0),
        ("1d", 86_400.0),
        ("5min", 300.0),
        ("500ms", 0.5),
        ("2.5h", 9_000.0),
        (" 30 ", 30.0),
        (120, 120.0),
        (0.25, 0.25),
    ],
)
def test_durations_accept_units(text, seconds):
    scenario = parse_scenario(
        with_(deadline=text, latency={"travel": {"dist": "constant", "value": text}})
    )
    assert scenario.deadline == seconds
    assert scenario.latency.travel.value == seconds


@pytest.mark.parametrize("text", ["soon", "-5m", "5 parsecs", "m", "1e3h"])
def test_bad_durations_name_the_field(text):
    with pytest.raises(ScenarioError, match=r"deadline: .*not a duration"):
        parse_scenario(with_(deadline=text))


def test_negative_seconds_are_refused():
    with pytest.raises(ScenarioError, match="deadline"):
        parse_scenario(with_(deadline=-1))


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"latency": {"travel": {"dist": "gaussian", "mean": 1}}}, "latency.travel", "gaussian"),
        (
            {"latency": {"reading": {"dist": "uniform", "low": "9m", "high": "4m"}}},
            "latency.reading",
            "high (240.0) is below low (540.0)",
        ),
        (
            {"latency": {"travel": {"dist": "constant", "value": 5, "min": 10, "max": 2}}},
            "latency.travel",
            "max (2.0) is below min (10.0)",
        ),
        (
            {"latency": {"travel": {"dist": "lognormal", "median": 0, "sigma": 1}}},
            "latency.travel.lognormal.median",
            "greater than 0",
        ),
        (
            {"latency": {"travel": {"dist": "empirical", "values": []}}},
            "latency.travel.empirical.values",
            "at least 1",
        ),
        (
            {
                "parties": [
                    {"id": "a", "name": "A", "refuses": ["weather"]},
                    {"id": "b", "name": "B"},
                ]
            },
            "parties.a",
            "'weather' is not an agenda item",
        ),
        (
            {
                "parties": [
                    {
                        "id": "a",
                        "name": "A",
                        "positions": {"tariffs": {"ideal": 1, "reservation": 2}},
                    },
                    {"id": "b", "name": "B"},
                ]
            },
            "parties.a",
            "'tariffs' is not an agenda item",
        ),
        (
            {
                "agenda": [{"id": "cap", "title": "Cap", "min": 0, "max": 90}],
                "parties": [
                    {
                        "id": "a",
                        "name": "A",
                        "positions": {"cap": {"ideal": 20, "reservation": 120}},
                    },
                    {"id": "b", "name": "B"},
                ],
            },
            "parties.a.positions.cap",
            "reservation 120 is outside the agenda item's range [0, 90]",
        ),
        (
            {"agenda": [{"id": "cap", "title": "Cap", "min": 90, "max": 10}]},
            "agenda.0",
            "min 90 is above max 10",
        ),
        (
            {"parties": [{"id": "a", "name": "A"}, {"id": "a", "name": "B"}]},
            "parties",
            "ids must differ",
        ),
        ({"parties": [{"id": "a", "name": "A"}]}, "parties", "at least 2"),
        (
            {"parties": [{"id": "Bad Id", "name": "A"}, {"id": "b", "name": "B"}]},
            "parties.0.id",
            "pattern",
        ),
        ({"mediator": {"start_room": "c"}}, "mediator.start_room", "'c' is not a party id"),
        ({"mediator": {"mode": "telepathic"}}, "mediator.mode", "auto"),
        ({"colour": "red"}, "colour", "Extra inputs"),
        (
            {"agenda": [{"id": "cap", "title": "Cap"}, {"id": "cap", "title": "Cap again"}]},
            "agenda",
            "ids must differ, got ['cap'] more than once",
        ),
        (
            {"agenda": [{"id": "cap", "title": "Cap", "min": float("nan")}]},
            "agenda.0.min",
            "finite number",
        ),
        (
            {"delivery": {"outbound": {"loss": float("inf")}}},
            "delivery.outbound.loss",
            "finite number",
        ),
    ],
    ids=[
        "dist",
        "uniform-order",
        "clamp-order",
        "lognormal-median",
        "empirical-empty",
        "refuses-unknown",
        "position-unknown",
        "position-out-of-range",
        "agenda-range-reversed",
        "duplicate-ids",
        "one-party",
        "id-pattern",
        "start-room",
        "mode",
        "extra-field",
        "agenda-repeated",
        "nan-bound",
        "infinite-loss",
    ],
)
def test_errors_name_the_field(changes, field, words):
    with pytest.raises(ScenarioError) as error:
        parse_scenario(with_(**changes), "talks.yaml")
    message = str(error.value)
    assert message.startswith("talks.yaml: ")
    assert field in message
    assert words in message


@pytest.mark.parametrize("reserved", ["mediator", "facilitator", "observer", "observer-1", "auto"])
def test_reserved_seat_names_cannot_be_party_ids(reserved):
    parties = [{"id": reserved, "name": "X"}, {"id": "b", "name": "B"}]
    with pytest.raises(ScenarioError, match=rf"parties: ids \['{reserved}'\] are reserved"):
        parse_scenario(with_(parties=parties))


def test_the_top_level_must_be_a_mapping():
    with pytest.raises(ScenarioError, match="expected a mapping"):
        parse_scenario(["not", "a", "scenario"])


def test_the_shipped_sample_loads():
    scenario = load_scenario(sample_scenario_path())
    assert scenario.id == "muscat-round-1"
    assert [p.id for p in scenario.parties] == ["iran", "usa"]
    assert scenario.deadline == 4 * 3600.0
    assert scenario.mediator.mode == "auto"
    assert scenario.mediator.start_room == "iran"
    assert scenario.delivery.preset == "muscat-indirect"
    core = Exercise(exercise_config(scenario), seed=1, rng=seeded_streams(1))
    to_usa, from_iran = core.links["mediator->usa"], core.links["iran->mediator"]
    assert to_usa.travel == config.Uniform(low=240.0, high=540.0)
    assert isinstance(from_iran.reading, config.LogNormal)
    assert from_iran.reading.max == 900.0
    assert isinstance(to_usa.drafting, config.Normal)
    assert to_usa.scope == "flag"  # the scenario's own rules, over the preset
    assert scenario.party("iran").refuses == ["missiles", "regional_groups"]


def test_defaults_are_constant_latencies():
    scenario = parse_scenario(BASE)
    assert scenario.latency.travel == Constant(value=300.0)
    assert scenario.latency.reading == Constant(value=60.0)
    assert scenario.mediator.mode == "auto"
    assert scenario.deadline is None


def test_load_scenario_reports_unreadable_and_invalid_files(tmp_path):
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: [unclosed\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="not valid YAML"):
        load_scenario(broken)
    invalid = tmp_path / "invalid.yaml"
    invalid.write_text("id: t\ntitle: T\nparties: []\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=rf"{invalid.name}: parties"):
        load_scenario(invalid)


def test_a_scenario_survives_a_json_round_trip():
    scenario = load_scenario(sample_scenario_path())
    assert parse_scenario(scenario.model_dump(mode="json")) == scenario


# The JSON Schema that `shuttle schema scenario` prints, for editors and other tools.
_NON_STANDARD = {"ge", "gt", "le", "lt", "allow_inf_nan", "multiple_of", "strict"}


def _schema_validator():
    from jsonschema import Draft202012Validator

    schema = Scenario.model_json_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _keywords(node):
    """Every key used as a keyword anywhere in a schema (property names excluded)."""
    if isinstance(node, list):
        for item in node:
            yield from _keywords(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            yield key
            children = value.values() if key in ("properties", "$defs") else [value]
            for child in children:
                yield from _keywords(child)


def test_the_json_schema_uses_only_standard_keywords():
    assert not _NON_STANDARD & set(_keywords(Scenario.model_json_schema()))


def test_the_json_schema_accepts_the_shipped_sample_as_written():
    raw = yaml.safe_load(sample_scenario_path().read_text(encoding="utf-8"))
    assert raw["deadline"] == "4h"  # a unit string, as authors write them
    assert list(_schema_validator().iter_errors(raw)) == []


@pytest.mark.parametrize(
    ("changes", "valid"),
    [
        ({"deadline": "90 min"}, True),
        ({"deadline": 0}, True),
        ({"deadline": -1}, False),
        ({"deadline": "4 parsecs"}, False),
        ({"delivery": {"inbound": {"expiry": "2h"}}}, True),
        ({"delivery": {"inbound": {"expiry": 0}}}, False),  # an offer must live a while
        ({"latency": {"travel": {"dist": "lognormal", "median": 0, "sigma": 1}}}, False),
    ],
)
def test_the_json_schema_agrees_with_the_loader_on_durations(changes, valid):
    data = with_(**changes)
    schema_errors = list(_schema_validator().iter_errors(data))
    assert (schema_errors == []) is valid, schema_errors
    if valid:
        parse_scenario(data)
    else:
        with pytest.raises(ScenarioError):
            parse_scenario(data)
