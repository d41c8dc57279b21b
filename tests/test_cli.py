"""The shuttle command line, run as a user runs it (a child process)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


def shuttle(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "clients.cli", *args], capture_output=True, text=True, timeout=120
    )
    if check and result.returncode != 0:
        raise AssertionError(f"shuttle {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def test_simulate_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    paths = [tmp_path / name for name in ("a.jsonl", "b.jsonl", "c.jsonl")]
    for path, seed in zip(paths, ("11", "11", "12"), strict=True):
        shuttle("simulate", "--seed", seed, "--journal", str(path), "--quiet")
    a, b, c = (p.read_bytes() for p in paths)
    assert a == b
    assert a != c
    assert shuttle("replay", str(paths[0]), "--verify").stdout.startswith("OK:")


@pytest.mark.slow
def test_demo_journal_verifies_and_an_edited_delivery_is_named(tmp_path: Path) -> None:
    journal = tmp_path / "demo.jsonl"
    demo = shuttle("demo", "--speed", "20000", "--journal", str(journal))
    transcript = demo.stdout
    # every note travels party -> mediator -> party, with its modelled delays
    assert "handed to Oman's foreign minister" in transcript
    assert "the walk takes" in transcript and "reading takes" in transcript
    assert "DELIVERED to the U.S. delegation" in transcript
    assert "Outcome: agreement" in transcript
    assert shuttle("replay", str(journal), "--verify").returncode == 0

    lines = journal.read_text(encoding="utf-8").splitlines()
    index = next(i for i, line in enumerate(lines) if '"type":"note.delivered"' in line)
    entry = json.loads(lines[index])
    entry["data"]["text"] = "We reject everything."
    lines[index] = json.dumps(entry, separators=(",", ":"), ensure_ascii=False)
    journal.write_text("\n".join(lines) + "\n", encoding="utf-8")
    failed = shuttle("replay", str(journal), "--verify", check=False)
    assert failed.returncode == 1
    assert f"event {entry['seq']}" in failed.stderr
    assert "note.delivered" in failed.stderr and "text" in failed.stderr


def test_bad_scenario_file_is_refused_with_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\ntitle: t\nparties: [{id: a, name: A}]\n", encoding="utf-8")
    result = shuttle("simulate", "--scenario", str(bad), check=False)
    assert result.returncode == 2
    assert "parties" in result.stderr and "Traceback" not in result.stderr


def test_replay_of_a_non_journal_is_refused_cleanly(tmp_path: Path) -> None:
    junk = tmp_path / "junk.jsonl"
    junk.write_text("not json\n", encoding="utf-8")
    result = shuttle("replay", str(junk), "--verify", check=False)
    assert result.returncode == 2
    assert "junk.jsonl:1" in result.stderr and "Traceback" not in result.stderr


def test_export_and_import_through_the_database(tmp_path: Path) -> None:
    journal = tmp_path / "sim.jsonl"
    shuttle("simulate", "--seed", "3", "--journal", str(journal), "--quiet")
    database = f"sqlite:///{tmp_path / 'store.db'}"
    created = json.loads(shuttle("import", str(journal), "--database", database, "--json").stdout)
    assert created["phase"] == "ended"
    exported = shuttle("export", created["id"], "--database", database).stdout
    assert exported.splitlines()[1:] == journal.read_text(encoding="utf-8").splitlines()[1:]
    said = shuttle("import", str(journal), "--database", database).stdout.splitlines()
    events = len(exported.splitlines()) - 1
    assert said[0].startswith("Exercise ex-") and f"{database}: ended, {events} events" in said[0]
    assert [line.split()[0] for line in said[1:6]] == [
        "iran",
        "usa",
        "mediator",
        "facilitator",
        "observer",
    ]
    assert all(" shuttle join http://127.0.0.1:8000 --exercise ex-" in line for line in said[1:6])
    assert said[6] == f"Serve it first: shuttle serve --database {database}"
    elsewhere = "http://10.1.2.3:9000"
    said = shuttle("import", str(journal), "--database", database, "--url", elsewhere).stdout
    joins = [line for line in said.splitlines() if " shuttle join " in line]
    assert len(joins) == 5 and all(f" shuttle join {elsewhere} --exercise" in j for j in joins)
    assert said.splitlines()[6] == (
        f"Serve it first: shuttle serve --database {database} --host 10.1.2.3 --port 9000"
    )


def test_every_command_has_help() -> None:
    commands = [
        "serve",
        "demo",
        "simulate",
        "replay",
        "export",
        "import",
        "create",
        "control",
        "join",
        "revoke",
        "rules",
        "schema",
        "study",
    ]
    for command in commands:
        assert "Usage" in shuttle(command, "--help").stdout


def test_an_unreachable_relay_is_one_clear_line() -> None:
    for args in (
        ["control", "start", "--exercise", "ex-1", "--token", "t", "--url", "http://127.0.0.1:9"],
        ["create", "--url", "http://127.0.0.1:9"],
        ["join", "http://127.0.0.1:9", "--exercise", "ex-1", "--token", "t"],
    ):
        result = shuttle(*args, check=False)
        assert result.returncode == 2, args
        assert "cannot reach the relay at http://127.0.0.1:9" in result.stderr
        assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("simulate", "--journal", "{tmp}/no/such/dir/j.jsonl"), "cannot write"),
        (("simulate", "--journal", "{tmp}"), "is a directory"),
        (("simulate", "--seed", "-1"), "a seed is a whole number"),
        (("demo", "--speed", "nan"), "above 0 and at most"),
        (("simulate", "--preset", "direct", "--delivery", "{tmp}/d.yaml"), "not both"),
        (("simulate", "--scenario", "{tmp}/binary.yaml"), "not a text file"),
        (("import", "{tmp}/binary.yaml", "--database", "sqlite:///{tmp}/i.db"), "not UTF-8"),
        (("import", "{tmp}/junk.jsonl", "--database", "sqlite:///{tmp}/i.db"), "1: not JSON"),
        (
            (
                "import",
                "{tmp}/junk.jsonl",
                "--database",
                "sqlite:///{tmp}/i.db",
                "--url",
                "ftp://x",
            ),
            "'ftp://x' is not a relay's http(s) base URL",
        ),
        (("export", "ex-0123456789", "--database", "sqlite:///{tmp}/typo.db"), "no database at"),
        (("export", "ex-0123456789", "--database", "nonsense://x"), "cannot open the journal"),
        (("control", "explode", "--exercise", "ex-1", "--token", "t"), "choose start, pause"),
        (
            ("rules", "--exercise", "ex-1", "--token", "t", "--delivery", "{tmp}/nan.yaml"),
            "nan.yaml: delivery.outbound.loss: numbers must be finite",
        ),
        (
            ("study", "--seed", str(2**63 - 1), "--runs", "2"),
            "goes past the largest seed, 9223372036854775807",
        ),
        (("revoke", "../x", "--exercise", "ex-1", "--token", "t"), "no seat '../x' in ex-1"),
    ],
)
def test_bad_input_is_refused_before_any_work_without_a_traceback(
    tmp_path: Path, args: tuple[str, ...], said: str
) -> None:
    (tmp_path / "binary.yaml").write_bytes(bytes(range(128, 256)))
    (tmp_path / "junk.jsonl").write_text('{"unfinished\n', encoding="utf-8")
    (tmp_path / "nan.yaml").write_text("delivery: {outbound: {loss: .nan}}\n", encoding="utf-8")
    result = shuttle(*(arg.format(tmp=tmp_path) for arg in args), check=False)
    assert result.returncode == 2, result.stdout + result.stderr
    assert said in " ".join(result.stderr.split()) and "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["binary.yaml", "junk.jsonl", "nan.yaml"]


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        ("SHUTTLE_ADMIN_TOKEN", "short", "SHUTTLE_ADMIN_TOKEN: String should have at least 16"),
        ("SHUTTLE_RATE_LIMIT_PER_MINUTE", "abc", "SHUTTLE_RATE_LIMIT_PER_MINUTE: Input should"),
        ("SHUTTLE_ALLOWED_ORIGINS", "https://a", "SHUTTLE_ALLOWED_ORIGINS: not JSON"),
        ("SHUTTLE_DATABASE_URL", "bogus://x", "--database: unsupported store URL 'bogus://x'"),
        ("SHUTTLE_WORKERS", "0", "SHUTTLE_WORKERS: Input should be greater than or equal to 1"),
        # each worker would hold a database of its own
        ("SHUTTLE_WORKERS", "2,memory://", "2 workers need a database they can share"),
        ("SHUTTLE_WORKERS", "2,sqlite://", "2 workers need a database they can share"),
    ],
)
def test_serve_refuses_a_bad_setting_in_one_line_before_it_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, said: str
) -> None:
    monkeypatch.chdir(tmp_path)
    if variable == "SHUTTLE_WORKERS" and "," in value:
        value, database = value.split(",")
        monkeypatch.setenv("SHUTTLE_DATABASE_URL", database)
    monkeypatch.setenv(variable, value)
    result = shuttle("serve", "--port", "0", check=False)
    assert result.returncode == 2, result.stdout + result.stderr
    assert said in result.stderr and "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []  # no database was made


def test_a_journal_whose_scenario_is_invalid_is_refused_in_one_line(tmp_path: Path) -> None:
    journal = tmp_path / "j.jsonl"
    shuttle("simulate", "--journal", str(journal), "--quiet")
    lines = journal.read_text(encoding="utf-8").splitlines()
    created = json.loads(lines[1])
    created["data"]["scenario"]["parties"] = []
    lines[1] = json.dumps(created)
    journal.write_text("\n".join(lines) + "\n", encoding="utf-8")
    database = tmp_path / "store.db"
    for args in (("replay", "--verify"), ("import", "--database", f"sqlite:///{database}")):
        result = shuttle(args[0], str(journal), *args[1:], check=False)
        assert result.returncode == 2, result.stdout + result.stderr
        said = " ".join(result.stderr.split())
        assert f"{journal}: exercise.created: parties" in said, said
        assert "Traceback" not in result.stderr
    assert not database.exists()


def test_replay_options_of_a_re_run_are_refused_without_one(tmp_path: Path) -> None:
    journal = tmp_path / "j.jsonl"
    shuttle("simulate", "--journal", str(journal), "--quiet")
    result = shuttle("replay", str(journal), "-o", str(tmp_path / "x.jsonl"), check=False)
    assert result.returncode == 2
    assert "--out and --quiet go with --preset/--delivery" in result.stderr
    assert not (tmp_path / "x.jsonl").exists()


def test_the_outcome_is_said_in_words() -> None:
    from clients.cli.output import outcome_text
    from relay.core.events import ExerciseEnded

    def ended(reason: str, note: int | None = None) -> ExerciseEnded:
        return ExerciseEnded(seq=9, at=60.0, by="core", reason=reason, note=note)

    assert outcome_text(ended("agreement", 12)) == "agreement on note #12"
    assert outcome_text(ended("deadline")) == "deadline passed without agreement"
    assert outcome_text(ended("facilitator")) == "ended by the facilitator"
    assert outcome_text(None) == "unfinished"


def test_help_paragraphs_are_left_to_the_terminal_to_wrap() -> None:
    """Typer shows a help paragraph's line breaks as they are: none but in ``\\b`` blocks."""
    from clients.cli import app

    for command in app.registered_commands:
        paragraphs = (command.help or "").split("\n\n")
        assert paragraphs[0], command.callback
        for paragraph in paragraphs:
            assert paragraph.startswith("\b") or "\n" not in paragraph, paragraph
