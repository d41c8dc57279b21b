"""``python -m benchmarks [--quick] [--json PATH] [--only NAME[,NAME]] [--profile DIR]``.

Runs the benchmarks in order, prints progress to stderr and a table of figures (with the
targets the project must meet, marked pass/fail; nothing is asserted) to stdout. Every figure
is the median over ``--reps`` repetitions (3 by default; 1 with ``--quick``).
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from benchmarks import bench_core, bench_journal, bench_net
from benchmarks._common import log, median, run_in_process


@dataclass(frozen=True)
class Config:
    quick: bool
    reps: int
    net: bench_net.NetConfig
    sim_exercises: int
    sim_batch: int
    replay_deadline_s: float
    journal_appenders: int
    journal_batches: int


def full_config(reps: int, profile: Path | None) -> Config:
    return Config(
        quick=False,
        reps=reps,
        net=replace(bench_net.NetConfig(), reps=reps, profile_dir=profile),
        sim_exercises=60,
        # a batch study of a thousand exercises: at 240 (0.4 s) the pool's start-up and the
        # last chunk's tail weighed 5-10% of the batch time, which a study does not see
        sim_batch=1000,
        replay_deadline_s=400 * 3600.0,
        journal_appenders=50,
        journal_batches=300,
    )


def quick_config(profile: Path | None) -> Config:
    return Config(
        quick=True,
        reps=1,
        net=replace(bench_net.QUICK, profile_dir=profile, profile_s=2.0),
        sim_exercises=3,
        sim_batch=12,
        replay_deadline_s=19 * 3600.0,
        journal_appenders=8,
        journal_batches=20,
    )


# --------------------------------------------------------------------------- benchmarks


def run_simulate(cfg: Config) -> dict[str, float]:
    workers = os.cpu_count() or 1
    log(
        f"simulate: {cfg.reps} x ({cfg.sim_exercises} bilateral exercises in one process, then "
        f"{cfg.sim_batch} over {workers} worker processes), two concession bots"
    )
    r = run_in_process(
        bench_core.simulate_rates,
        timeout=300,
        daemon=False,  # it starts the worker pool
        exercises=cfg.sim_exercises,
        batch=cfg.sim_batch,
        reps=cfg.reps,
        workers=workers,
    )
    log(
        f"simulate: 1 process {[round(x) for x in r['offers_per_s']]} offers/s, "
        f"{workers} workers {[round(x) for x in r['batch_offers_per_s']]} offers/s, "
        f"{median(r['offers_per_exercise']):.1f} offers per exercise"
    )
    return {
        "simulate_offers_per_s": median(r["batch_offers_per_s"]),
        "simulate_workers": workers,
        "simulate_offers_per_s_1proc": median(r["offers_per_s"]),
        "simulate_exercises_per_s_1proc": median(r["exercises_per_s"]),
        "simulate_events_per_s_1proc": median(r["events_per_s"]),
        "simulate_offers_per_exercise": median(r["offers_per_exercise"]),
        "simulate_exercises_per_s": median(r["batch_exercises_per_s"]),
    }


def run_replay(cfg: Config) -> dict[str, float]:
    log(
        f"replay: verify a stored journal ({cfg.replay_deadline_s / 3600:g} h of talks), "
        f"{cfg.reps} times"
    )
    r = run_in_process(
        bench_core.replay_rates, timeout=300, deadline_s=cfg.replay_deadline_s, reps=cfg.reps
    )
    log(f"replay: {r['events']} events, {[round(x) for x in r['events_per_s']]} events/s")
    return {"replay_events_per_s": median(r["events_per_s"]), "replay_journal_events": r["events"]}


def run_journal(cfg: Config) -> dict[str, float]:
    log(
        f"journal: {cfg.journal_appenders} appenders x {cfg.journal_batches} batches "
        f"(2-5 events), SQLite, {cfg.reps} times"
    )
    r = run_in_process(
        bench_journal.journal_rates,
        timeout=300,
        appenders=cfg.journal_appenders,
        batches=cfg.journal_batches,
        reps=cfg.reps,
    )
    log(
        f"journal: {[round(x) for x in r['events_per_s']]} events/s, "
        f"{median(r['appends_per_commit']):.1f} appends per commit"
    )
    return {
        "journal_events_per_s": median(r["events_per_s"]),
        "journal_appends_per_commit": median(r["appends_per_commit"]),
    }


BENCHMARKS: dict[str, Callable[[Config], dict[str, float]]] = {
    "throughput": lambda cfg: bench_net.throughput(cfg.net),
    "latency": lambda cfg: bench_net.latency(cfg.net),
    "timers": lambda cfg: bench_net.timer_lateness(cfg.net),
    "simulate": run_simulate,
    "replay": run_replay,
    "journal": run_journal,
    "memory": lambda cfg: bench_net.idle_memory(cfg.net),
}

# metric -> (unit, benchmark); the order of the table
METRICS: dict[str, tuple[str, str]] = {
    "relay_notes_per_s": ("notes/s", "throughput"),
    "forwarder_msgs_per_s": ("msgs/s", "throughput"),
    "relay_throughput_ratio": ("x", "throughput"),
    "relay_workers": ("processes", "throughput"),
    "relay_1worker_notes_per_s": ("notes/s", "throughput"),
    "relay_1worker_throughput_ratio": ("x", "throughput"),
    "relay_memory_journal_notes_per_s": ("notes/s", "throughput"),
    "relay_messages_per_note": ("messages", "throughput"),
    "relay_server_cpu_cores": ("cores", "throughput"),
    "relay_1worker_server_cpu_cores": ("cores", "throughput"),
    "forwarder_server_cpu_cores": ("cores", "throughput"),
    "relay_loadgen_cpu_cores": ("cores", "throughput"),
    "relay_1worker_loadgen_cpu_cores": ("cores", "throughput"),
    "forwarder_loadgen_cpu_cores": ("cores", "throughput"),
    "relay_added_latency_p50_us": ("us", "latency"),
    "relay_added_latency_p99_us": ("us", "latency"),
    "forwarder_latency_p50_us": ("us", "latency"),
    "forwarder_latency_p99_us": ("us", "latency"),
    "relay_latency_p99_ratio": ("x", "latency"),
    "timer_lateness_p50_ms": ("ms", "timers"),
    "timer_lateness_p99_ms": ("ms", "timers"),
    "timer_lateness_max_ms": ("ms", "timers"),
    "timer_client_lateness_p50_ms": ("ms", "timers"),
    "timer_client_lateness_p99_ms": ("ms", "timers"),
    "timer_exercises": ("exercises", "timers"),
    "timer_deliveries": ("samples", "timers"),
    "simulate_exercises_per_s": ("exercises/s", "simulate"),
    "simulate_offers_per_s": ("offers/s", "simulate"),
    "simulate_workers": ("processes", "simulate"),
    "simulate_offers_per_s_1proc": ("offers/s", "simulate"),
    "simulate_exercises_per_s_1proc": ("exercises/s", "simulate"),
    "simulate_events_per_s_1proc": ("events/s", "simulate"),
    "simulate_offers_per_exercise": ("offers", "simulate"),
    "replay_events_per_s": ("events/s", "replay"),
    "replay_journal_events": ("events", "replay"),
    "journal_events_per_s": ("events/s", "journal"),
    "journal_appends_per_commit": ("appends", "journal"),
    "seat_connection_kib": ("KiB", "memory"),
    "forwarder_connection_kib": ("KiB", "memory"),
    "seat_connection_ratio": ("x", "memory"),
}


def _target_timers(m: dict[str, float]) -> bool | None:
    if m.get("timer_exercises", 0) < 500:
        return None  # the target is defined for >= 500 concurrent exercises
    return m["timer_lateness_p99_ms"] <= 5.0


# metric -> (description, check); check gives None when the target does not apply
TARGETS: dict[str, tuple[str, Callable[[dict[str, float]], bool | None]]] = {
    "relay_throughput_ratio": (">= 0.25", lambda m: m["relay_throughput_ratio"] >= 0.25),
    "relay_latency_p99_ratio": (
        "<= 4 (relay p99 / forwarder p99)",
        lambda m: m["relay_latency_p99_ratio"] <= 4.0,
    ),
    "timer_lateness_p99_ms": ("<= 5 ms with >= 500 exercises", _target_timers),
    "simulate_offers_per_s": (
        ">= 50,000 (all workers)",
        lambda m: m["simulate_offers_per_s"] >= 50_000,
    ),
    "replay_events_per_s": (">= 100,000", lambda m: m["replay_events_per_s"] >= 100_000),
    "seat_connection_ratio": (
        "<= 1.5 (seat / forwarder KiB)",
        lambda m: m["seat_connection_ratio"] <= 1.5,
    ),
}


def verdicts(metrics: dict[str, float]) -> dict[str, bool | None]:
    out: dict[str, bool | None] = {}
    for name, (_, check) in TARGETS.items():
        try:
            out[name] = check(metrics)
        except KeyError:
            continue
    return out


def _fmt(value: float) -> str:
    if math.isnan(value):
        return "nan"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}" if abs(value) < 1 else f"{value:.2f}"


def table(metrics: dict[str, float], quick: bool) -> str:
    judged = verdicts(metrics)
    rows = [("metric", "value", "unit", "target", "result")]
    for name, (unit, _) in METRICS.items():
        if name not in metrics:
            continue
        target, result = "", ""
        if name in TARGETS:
            target = TARGETS[name][0]
            verdict = judged.get(name)
            result = "n/a" if verdict is None else ("PASS" if verdict else "FAIL")
            if quick and verdict is not None:
                result += " (quick)"
        rows.append((name, _fmt(metrics[name]), unit, target, result))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = []
    for i, row in enumerate(rows):
        lines.append(
            "  ".join(
                cell.rjust(widths[j]) if j == 1 else cell.ljust(widths[j])
                for j, cell in enumerate(row)
            ).rstrip()
        )
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--json", type=Path, help="write {metric: number} to this file")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: tiny counts, one repetition (for CI; figures meaningless)",
    )
    parser.add_argument(
        "--only",
        default="",
        help=f"comma-separated benchmarks or metric names: {', '.join(BENCHMARKS)}",
    )
    parser.add_argument("--reps", type=int, default=3, help="repetitions per figure (default 3)")
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="also py-spy the relay under throughput load; raw profile + summary here",
    )
    args = parser.parse_args(argv)
    if args.reps < 1:
        parser.error("--reps must be >= 1")

    chosen = list(BENCHMARKS)
    if args.only:
        chosen = []
        for name in (n.strip() for n in args.only.split(",") if n.strip()):
            bench = name if name in BENCHMARKS else METRICS.get(name, ("", ""))[1]
            if not bench:
                parser.error(
                    f"--only: unknown benchmark or metric {name!r}; "
                    f"benchmarks are {', '.join(BENCHMARKS)}"
                )
            if bench not in chosen:
                chosen.append(bench)
    cfg = quick_config(args.profile) if args.quick else full_config(args.reps, args.profile)

    started = time.monotonic()
    log(
        f"benchmarks {', '.join(chosen)}{' (quick)' if cfg.quick else ''}; "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    metrics: dict[str, float] = {}
    failed: list[str] = []
    for name in chosen:
        t0 = time.monotonic()
        try:
            metrics.update({k: float(v) for k, v in BENCHMARKS[name](cfg).items()})
        except Exception as error:  # report and go on with the other benchmarks
            failed.append(name)
            notes = "".join(f"\n{note}" for note in getattr(error, "__notes__", ()))
            log(f"{name}: FAILED: {type(error).__name__}: {error}{notes}")
        log(f"{name}: done in {time.monotonic() - t0:.1f}s")

    stamp = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    print(
        f"Shuttle benchmarks, {stamp}, nproc {os.cpu_count()}, Python "
        f"{platform.python_version()}{', QUICK (smoke only)' if cfg.quick else ''}, "
        f"{time.monotonic() - started:.0f}s"
    )
    print(table(metrics, cfg.quick))
    judged = verdicts(metrics)
    misses = [name for name, ok in judged.items() if ok is False]
    if misses:
        print(f"\ntargets missed: {', '.join(misses)}")
    if failed:
        print(f"\nbenchmarks that failed to run: {', '.join(failed)}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")
        log(f"wrote {args.json}")
    sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
