"""The journal file: JSON Lines that round-trip, and malformed files refused by line."""

from __future__ import annotations

import json

import pytest

from clients.bots import default_bots
from relay.journal import FORMAT, JournalFormatError, read_journal, to_entry, write_journal
from relay.rng import seeded_streams
from relay.sim import simulate
from schemas.scenario import load_scenario, sample_scenario_path

from .helpers import human_exercise

SCENARIO = load_scenario(sample_scenario_path())
EXERCISE = {"id": "ex-1", "title": "Muscat"}


def entries_of(seed: int = 3):
    result = simulate(SCENARIO, seed, default_bots(SCENARIO, seeded_streams(seed)))
    return [to_entry(event) for event in result.events]


def write(tmp_path, entries, name="journal.jsonl"):
    path = tmp_path / name
    with path.open("w", encoding="utf-8") as out:
        write_journal(out, entries, EXERCISE)
    return path


def lines_of(path):
    return path.read_text(encoding="utf-8").splitlines()


def rewrite(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize("source", ["simulated", "hand-driven"])
def test_a_written_journal_reads_back_identically(tmp_path, source):
    entries = entries_of() if source == "simulated" else [to_entry(e) for e in human_exercise()]
    path = write(tmp_path, entries)
    assert json.loads(lines_of(path)[0]) == {"format": FORMAT, "exercise": EXERCISE}
    journal = read_journal(path)
    assert journal.entries == entries
    assert journal.exercise == EXERCISE


def test_a_gap_in_seq_is_refused_naming_the_line(tmp_path):
    path = write(tmp_path, entries_of())
    lines = lines_of(path)
    del lines[5]  # header is line 1; entry seq 5 was line 6, so line 6 now holds seq 6
    rewrite(path, lines)
    with pytest.raises(JournalFormatError, match="seq 6 where 5 was due") as error:
        read_journal(path)
    assert f"{path}:6" in str(error.value)


def test_bad_json_is_refused_naming_the_line(tmp_path):
    path = write(tmp_path, entries_of())
    lines = lines_of(path)
    lines[3] = lines[3][:-5]
    rewrite(path, lines)
    with pytest.raises(JournalFormatError, match="not JSON") as error:
        read_journal(path)
    assert f"{path}:4:" in str(error.value)


def test_an_unknown_event_type_is_refused_naming_the_line(tmp_path):
    path = write(tmp_path, entries_of())
    lines = lines_of(path)
    obj = json.loads(lines[2])
    obj["type"] = "note.teleported"
    lines[2] = json.dumps(obj)
    rewrite(path, lines)
    with pytest.raises(JournalFormatError, match="note.teleported") as error:
        read_journal(path)
    assert f"{path}:3:" in str(error.value)


def test_a_payload_that_does_not_fit_its_type_is_refused_naming_the_line(tmp_path):
    path = write(tmp_path, entries_of())
    lines = lines_of(path)
    obj = json.loads(lines[2])
    obj["data"]["colour"] = "red"
    lines[2] = json.dumps(obj)
    rewrite(path, lines)
    with pytest.raises(JournalFormatError, match="malformed") as error:
        read_journal(path)
    assert f"{path}:3:" in str(error.value)


def test_a_first_entry_that_is_not_exercise_created_is_refused_naming_the_line(tmp_path):
    entries = entries_of()
    path = write(tmp_path, entries)
    lines = lines_of(path)
    # drop exercise.created and renumber, so the sequence itself is gap-free from 1
    renumbered = []
    for line in lines[2:]:
        obj = json.loads(line)
        obj["seq"] -= 1
        renumbered.append(json.dumps(obj))
    rewrite(path, [lines[0], *renumbered])
    with pytest.raises(JournalFormatError, match="exercise.created") as error:
        read_journal(path)
    assert f"{path}:2" in str(error.value)


def test_an_unknown_format_header_is_refused(tmp_path):
    path = write(tmp_path, entries_of())
    lines = lines_of(path)
    lines[0] = json.dumps({"format": "shuttle-journal/99", "exercise": {}})
    rewrite(path, lines)
    with pytest.raises(JournalFormatError, match=f"{path}:1: unknown format"):
        read_journal(path)


def test_a_missing_file_is_a_journal_format_error(tmp_path):
    with pytest.raises(JournalFormatError, match="cannot read"):
        read_journal(tmp_path / "nope.jsonl")


def test_text_holding_unicode_line_separators_reads_back(tmp_path):
    """JSON leaves U+2028, U+2029, U+0085 and \\x1c-\\x1e unescaped; a line ends at \\n only."""
    entries = entries_of()
    note = next(e for e in entries if e.type == "note.submitted")
    note.data["text"] = "line one\u2028line two\u2029three\u0085four\x1cfive\x1dsix\x1eend"
    path = write(tmp_path, entries)
    assert "\u2028" in path.read_text(encoding="utf-8")
    assert read_journal(path).entries == entries


def test_a_header_after_the_first_line_is_refused(tmp_path):
    path = write(tmp_path, entries_of())
    lines = lines_of(path)
    rewrite(path, [*lines[:3], lines[0], *lines[3:]])
    with pytest.raises(JournalFormatError, match=f"{path}:4: a header .* first line only"):
        read_journal(path)


@pytest.mark.parametrize(
    "line, said",
    [
        ("[]", "an entry is a JSON object, not list"),
        (
            '{"seq":1,"at":0.0,"type":"exercise.started","data":{"by":"f","extra":2}}',
            "malformed entry: exercise.started has no field 'extra'",
        ),
        (
            '{"seq":1,"at":0.0,"type":"exercise.created","data":{"seed":1}}',
            "malformed entry: exercise.created needs 'scenario'",
        ),
    ],
)
def test_a_malformed_entry_is_refused_in_the_journals_own_words(tmp_path, line, said):
    path = tmp_path / "j.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(JournalFormatError) as error:
        read_journal(path)
    assert str(error.value) == f"{path}:1: {said}"
