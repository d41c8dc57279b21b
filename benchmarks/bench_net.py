"""Network benchmarks: each starts its server subprocess, then a load-generator process.

The relay runs with its durable SQLite journal in a temporary directory; the forwarder is the
bare baseline of :mod:`benchmarks.forwarder`. Load comes from :mod:`benchmarks.loadgen`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import loadgen
from benchmarks._common import log, median, percentile, run_in_process, running_server

__all__ = ["NetConfig", "idle_memory", "latency", "throughput", "timer_lateness"]


@dataclass(frozen=True)
class NetConfig:
    reps: int = 3
    pairs: int = 32
    window: int = loadgen.WINDOW
    warmup_s: float = 0.5
    duration_s: float = 3.0
    latency_samples: int = 1000
    latency_warmup: int = 100
    idle_connections: int = 500
    idle_warm: int = 20
    timer_exercises: int = 500
    timer_window_s: float = 5.0
    timer_warmup_s: float = 2.0
    timer_gap_s: tuple[float, float] = (0.5, 2.5)
    timer_travel_s: tuple[float, float] = (1.0, 3.0)
    profile_dir: Path | None = None
    profile_s: float = 8.0


QUICK = NetConfig(
    reps=1,
    pairs=4,
    warmup_s=0.2,
    duration_s=0.6,
    latency_samples=100,
    latency_warmup=10,
    idle_connections=40,
    idle_warm=4,
    timer_exercises=12,
    timer_window_s=1.5,
    timer_warmup_s=0.5,
    timer_gap_s=(0.2, 0.6),
    timer_travel_s=(0.2, 0.5),
)


RELAY_WORKERS = os.cpu_count() or 1
"""Relay processes of the throughput run: one per core, as docs/architecture.md advises."""

_THROUGHPUT_RUNS = (
    # (server kind, durable journal, relay workers, label)
    ("forwarder", True, 1, "forwarder"),
    ("relay", True, RELAY_WORKERS, f"relay ({RELAY_WORKERS} workers)"),
    ("relay", True, 1, "relay (1 worker, diagnostic)"),
    ("relay", False, 1, "relay (1 worker, memory:// journal, diagnostic)"),
)


def throughput(cfg: NetConfig) -> dict[str, float]:
    """Every server up at once, their repetitions interleaved.

    Each repetition runs the forwarder, the relay (one worker per core), the relay with one
    worker and the in-memory relay one after the other, a few seconds apart, so that a host
    whose speed drifts during the run (these are shared machines) weighs on the baseline and
    the relays alike.
    """
    with contextlib.ExitStack() as stack:
        servers = [
            stack.enter_context(
                running_server(kind, durable=durable, extra_args=_workers_args(kind, workers))
            )
            for kind, durable, workers, _ in _THROUGHPUT_RUNS
        ]
        results: list[list[dict[str, Any]]] = [[] for _ in _THROUGHPUT_RUNS]
        for rep in range(cfg.reps):
            for (kind, _, _, label), server, done in zip(
                _THROUGHPUT_RUNS, servers, results, strict=True
            ):
                log(
                    f"throughput/{label}: repetition {rep + 1} of {cfg.reps}, {cfg.pairs} "
                    f"pairs, window {cfg.window}, {cfg.duration_s:g}s"
                )
                done.append(_throughput_once(cfg, kind, server))
        out: dict[str, float] = {}
        for (kind, durable, workers, label), runs in zip(_THROUGHPUT_RUNS, results, strict=True):
            rates = [run["rates"][0] for run in runs]
            server_cpu = median([run["server_cpu"][0] for run in runs])
            client_cpu = median([run["client_cpu"][0] for run in runs])
            per_note = median([run["messages_per_note"] for run in runs])
            log(
                f"throughput/{label}: reps {[round(r) for r in rates]}/s; server CPU "
                f"{server_cpu:.2f}, load generator CPU {client_cpu:.2f} (cores); "
                f"{per_note:.2f} websocket messages received per note"
            )
            if kind == "forwarder":
                out["forwarder_msgs_per_s"] = median(rates)
                name = "forwarder"
            elif not durable:
                out["relay_memory_journal_notes_per_s"] = median(rates)
                continue
            elif workers == 1 and RELAY_WORKERS > 1:
                out["relay_1worker_notes_per_s"] = median(rates)
                name = "relay_1worker"
            else:
                out["relay_notes_per_s"] = median(rates)
                out["relay_workers"] = workers
                out["relay_messages_per_note"] = per_note
                name = "relay"
            out[f"{name}_server_cpu_cores"] = server_cpu
            out[f"{name}_loadgen_cpu_cores"] = client_cpu
        for (*_, label), runs in zip(_THROUGHPUT_RUNS[1:], results[1:], strict=True):
            each = zip(runs, results[0], strict=True)
            log(
                f"throughput: {label} / forwarder in each repetition "
                f"{[round(r['rates'][0] / f['rates'][0], 3) for r, f in each]}"
            )
        if cfg.profile_dir is not None:
            profile_relay(servers[1], cfg)
    out["relay_throughput_ratio"] = out["relay_notes_per_s"] / out["forwarder_msgs_per_s"]
    if "relay_1worker_notes_per_s" in out:
        out["relay_1worker_throughput_ratio"] = (
            out["relay_1worker_notes_per_s"] / out["forwarder_msgs_per_s"]
        )
    return out


def _workers_args(kind: str, workers: int) -> list[str]:
    return ["--workers", str(workers)] if kind == "relay" and workers > 1 else []


def _throughput_once(
    cfg: NetConfig,
    kind: str,
    server: Any,
    *,
    warmup: float | None = None,
    duration: float | None = None,
) -> dict[str, Any]:
    """One repetition of the throughput load against ``server``, in its own process."""
    return run_in_process(
        loadgen.relay_throughput,
        timeout=180,
        kind=kind,
        base_url=server.base_url,
        pairs=cfg.pairs,
        window=cfg.window,
        reps=1,
        warmup=cfg.warmup_s if warmup is None else warmup,
        duration=cfg.duration_s if duration is None else duration,
        server_pid=server.pid,
    )


def profile_relay(server: Any, cfg: NetConfig) -> None:
    """py-spy (GIL-holding samples) of the relay server under one more throughput run."""
    assert cfg.profile_dir is not None
    spy = shutil.which("py-spy")
    if spy is None:
        log("profile: py-spy not found (pip install py-spy); skipped")
        return
    cfg.profile_dir.mkdir(parents=True, exist_ok=True)
    raw = cfg.profile_dir / "relay-throughput.pyspy.txt"
    log(f"profile: py-spy on the relay (pid {server.pid}) for a {cfg.profile_s:g}s run -> {raw}")
    recorder = subprocess.Popen(
        [
            spy,
            "record",
            "--gil",
            "--nonblocking",
            "--rate",
            "250",
            "--format",
            "raw",
            "--output",
            str(raw),
            "--subprocesses",  # a relay's workers
            "--pid",
            str(server.pid),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _throughput_once(cfg, "relay", server, warmup=0.2, duration=cfg.profile_s)
    finally:
        recorder.send_signal(signal.SIGINT)
        try:
            recorder.wait(timeout=30)
        except subprocess.TimeoutExpired:
            recorder.kill()
            recorder.wait()
    if raw.exists():
        from benchmarks.pyspy_summary import summarise

        summary = summarise(raw)
        (cfg.profile_dir / "relay-throughput.summary.txt").write_text(summary)
        log("profile summary:\n" + summary)
    else:
        log("profile: py-spy wrote nothing (ptrace not permitted?)")


def latency(cfg: NetConfig) -> dict[str, float]:
    """Both servers up at once, their repetitions interleaved (see :func:`throughput`)."""
    kinds = ("forwarder", "relay")
    out: dict[str, float] = {}
    with contextlib.ExitStack() as stack:
        servers = [stack.enter_context(running_server(kind)) for kind in kinds]
        runs: list[list[list[float]]] = [[] for _ in kinds]
        for rep in range(cfg.reps):
            for kind, server, done in zip(kinds, servers, runs, strict=True):
                log(
                    f"latency/{kind}: repetition {rep + 1} of {cfg.reps}, one note at a time, "
                    f"{cfg.latency_samples} samples"
                )
                result = run_in_process(
                    loadgen.relay_latency,
                    timeout=120,
                    kind=kind,
                    base_url=server.base_url,
                    samples=cfg.latency_samples,
                    reps=1,
                    warmup=cfg.latency_warmup,
                )
                done += result["runs"]
    for kind, kind_runs in zip(kinds, runs, strict=True):
        p50 = median([percentile(run, 50) for run in kind_runs])
        p99 = median([percentile(run, 99) for run in kind_runs])
        log(f"latency/{kind}: p50 {p50:.0f} us, p99 {p99:.0f} us")
        prefix = "relay_added_latency" if kind == "relay" else "forwarder_latency"
        out[f"{prefix}_p50_us"] = p50
        out[f"{prefix}_p99_us"] = p99
    out["relay_latency_p99_ratio"] = (
        out["relay_added_latency_p99_us"] / out["forwarder_latency_p99_us"]
    )
    return out


def idle_memory(cfg: NetConfig) -> dict[str, float]:
    out: dict[str, float] = {}
    for kind in ("forwarder", "relay"):
        per: list[float] = []
        for rep in range(cfg.reps):
            with running_server(kind) as server:
                result = run_in_process(
                    loadgen.idle_connections,
                    timeout=180,
                    kind=kind,
                    base_url=server.base_url,
                    server_pid=server.pid,
                    count=cfg.idle_connections,
                    warm=cfg.idle_warm,
                )
            per.append(result["per_connection_kib"])
            log(
                f"memory/{kind} rep {rep + 1}: RSS {result['before_kib']} -> "
                f"{result['after_kib']} KiB for {cfg.idle_connections} idle connections"
            )
        name = "seat_connection_kib" if kind == "relay" else "forwarder_connection_kib"
        out[name] = median(per)
    out["seat_connection_ratio"] = out["seat_connection_kib"] / out["forwarder_connection_kib"]
    return out


def timer_lateness(cfg: NetConfig) -> dict[str, float]:
    with running_server("relay") as server:
        total = cfg.timer_warmup_s + cfg.reps * cfg.timer_window_s
        log(
            f"timers: {cfg.timer_exercises} live exercises at speed 1, travel "
            f"{cfg.timer_travel_s[0]:g}-{cfg.timer_travel_s[1]:g}s, notes for {total:g}s"
        )
        result = run_in_process(
            loadgen.timer_lateness,
            timeout=240 + total * 2,
            base_url=server.base_url,
            exercises=cfg.timer_exercises,
            reps=cfg.reps,
            window=cfg.timer_window_s,
            warmup=cfg.timer_warmup_s,
            gap=cfg.timer_gap_s,
            travel=cfg.timer_travel_s,
        )
    if not result["drained"] or result["undelivered"]:
        raise RuntimeError(f"timers: {result['undelivered']} notes were never delivered")
    server_ms = [r for r in result["server_ms"] if r]
    client_ms = [r for r in result["client_ms"] if r]
    if not server_ms:
        raise RuntimeError("timers: no delivery fell in a measurement window")
    out = {
        "timer_lateness_p50_ms": median([percentile(r, 50) for r in server_ms]),
        "timer_lateness_p99_ms": median([percentile(r, 99) for r in server_ms]),
        "timer_lateness_max_ms": median([max(r) for r in server_ms]),
        "timer_client_lateness_p50_ms": median([percentile(r, 50) for r in client_ms]),
        "timer_client_lateness_p99_ms": median([percentile(r, 99) for r in client_ms]),
        "timer_exercises": float(result["exercises"]),
        "timer_deliveries": float(sum(len(r) for r in server_ms)),
    }
    log(
        f"timers: set-up {result['setup_s']:.1f}s, {result['notes']} notes; per window p99 "
        f"{[round(percentile(r, 99), 2) for r in server_ms]} ms (server), "
        f"{[round(percentile(r, 99), 2) for r in client_ms]} ms (client); worst "
        f"{[round(w, 1) for w, _ in result['worst'][:5]]} ms"
    )
    return out
