"""The load generator: websocket and REST clients, run in a spawned process of their own.

Each public function here is the entry point of one load-generator process (see
:func:`benchmarks._common.run_in_process`): it runs its own event loop (uvloop when installed,
as cheap a client as Python offers), talks to a server subprocess over loopback, and returns
plain numbers. The same code drives the relay and the bare forwarder: a *pair* is two
websockets, a sender ``a`` and a receiver ``b``; the relay's pair is the two party seats of
one exercise (notes go iran -> automatic mediator -> usa), the forwarder's pair is its two
sides. Frames are recognised by prefix/substring rather than parsed, so the client spends the
same few microseconds per frame on both servers.

Every loop is bounded in count and in time.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import random
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "idle_connections",
    "relay_latency",
    "relay_throughput",
    "timer_lateness",
]

WINDOW = 32
SPEED = 1.0  # the timer benchmark's exercises run in real time
# Relay seats ask for bundles (hello.bundle): a message is one frame or a JSON array of them,
# so frames are counted by substring, which works for both.
_DELIVERED = '"event":"note.delivered"'
_ACK = '{"type":"ack"'
_ERROR = '{"type":"error"'


def _run(main: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    # The cyclic GC of a client with a thousand sockets pauses it for tens of milliseconds,
    # which would be charged to the server under test; these processes are short-lived.
    gc.disable()
    try:
        import uvloop

        factory: Callable[[], asyncio.AbstractEventLoop] | None = uvloop.new_event_loop
    except ImportError:  # pragma: no cover - uvloop ships with uvicorn[standard]
        factory = None
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(main())


def note_frame(n: int) -> str:
    """The submit frame of note ``n``: a statement (no reply constraints), unique client id."""
    return (
        f'{{"type":"submit","id":"{n}","client_id":"n{n}","kind":"statement",'
        f'"text":"benchmark note {n}"}}'
    )


# --------------------------------------------------------------------------- connections


async def _ws_connect(url: str) -> Any:
    import websockets

    return await websockets.connect(
        url,
        compression=None,
        max_size=2**20,
        proxy=None,
        open_timeout=30,
        ping_interval=None,
        close_timeout=2,
    )


@dataclass(eq=False)
class Pair:
    """Two websockets: ``a`` sends notes, ``b`` receives them (relay: two party seats)."""

    a: Any
    b: Any
    exercise: str | None = None
    tokens: dict[str, str] = field(default_factory=dict)
    sent: int = 0
    acked: int = 0
    delivered: int = 0
    errors: int = 0
    messages: int = 0  # websocket messages received, on both sockets (a bundle counts once)
    credit: asyncio.Semaphore | None = None
    waiter: asyncio.Future[int] | None = None
    deliveries: list[tuple[float, float]] = field(default_factory=list)  # (at, client wall)
    keep_deliveries: bool = False
    readers: list[asyncio.Task[None]] = field(default_factory=list)
    last_error: str = ""

    def start_readers(self) -> None:
        self.readers = [
            asyncio.create_task(self._read_a()),
            asyncio.create_task(self._read_b()),
        ]

    async def _read_a(self) -> None:
        with contextlib.suppress(Exception):
            async for raw in self.a:
                self.messages += 1
                self.acked += raw.count(_ACK)
                self._count_errors(raw)

    async def _read_b(self) -> None:
        with contextlib.suppress(Exception):
            async for raw in self.b:
                self.messages += 1
                delivered = 1 if self.exercise is None else raw.count(_DELIVERED)
                if delivered:
                    now = time.perf_counter_ns()
                    self.delivered += delivered
                    if self.credit is not None:
                        for _ in range(delivered):
                            self.credit.release()
                    waiter = self.waiter
                    if waiter is not None and not waiter.done():
                        waiter.set_result(now)
                    if self.keep_deliveries:
                        self._keep(raw)
                self._count_errors(raw)

    def _count_errors(self, raw: str) -> None:
        errors = raw.count(_ERROR)
        if errors:
            self.errors += errors
            self.last_error = raw[raw.index(_ERROR) :][:300]

    def _keep(self, raw: str) -> None:
        wall = time.time()
        message = json.loads(raw)
        for frame in message if isinstance(message, list) else (message,):
            if frame.get("event") == "note.delivered":
                self.deliveries.append((frame["at"], wall))

    async def close(self) -> None:
        for ws in (self.a, self.b):
            with contextlib.suppress(Exception):
                await ws.close()
        for task in self.readers:
            task.cancel()
        for task in self.readers:
            with contextlib.suppress(BaseException):
                await task


def _errors_seen(pairs: list[Pair]) -> str:
    """`` (N error frames, e.g. ...)`` for the message of a failed run, or nothing."""
    errors = sum(p.errors for p in pairs)
    if not errors:
        return ""
    sample = next(p.last_error for p in pairs if p.errors)
    return f" ({errors} error frames, e.g. {sample})"


async def _gather_limited(coros: list[Awaitable[Any]], limit: int) -> list[Any]:
    gate = asyncio.Semaphore(limit)

    async def one(coro: Awaitable[Any]) -> Any:
        async with gate:
            return await coro

    return await asyncio.gather(*(one(c) for c in coros))


async def _hello(url: str, token: str) -> Any:
    ws = await _ws_connect(url)
    await ws.send(json.dumps({"type": "hello", "token": token, "bundle": True}))
    welcome = json.loads(await asyncio.wait_for(ws.recv(), 30))
    if welcome.get("type") != "welcome":
        await ws.close()
        raise RuntimeError(f"hello refused: {welcome}")
    return ws


async def _create_exercises(
    http: Any, scenarios: list[dict[str, Any]], speed: float, limit: int = 8
) -> list[dict[str, Any]]:
    async def create(scenario: dict[str, Any], seed: int) -> dict[str, Any]:
        response = await http.post(
            "/exercises", json={"scenario": scenario, "seed": seed, "speed": speed}
        )
        response.raise_for_status()
        created: dict[str, Any] = response.json()
        return created

    return await _gather_limited(
        [create(s, seed) for seed, s in enumerate(scenarios, start=1)], limit
    )


async def _start_exercises(http: Any, created: list[dict[str, Any]], limit: int = 8) -> None:
    async def start(ex: dict[str, Any]) -> None:
        response = await http.post(
            f"/exercises/{ex['id']}/start",
            headers={"Authorization": f"Bearer {ex['seats']['facilitator']}"},
        )
        response.raise_for_status()

    await _gather_limited([start(ex) for ex in created], limit)


async def _relay_pairs(
    http: Any, base_url: str, scenarios: list[dict[str, Any]], speed: float = 1.0
) -> list[Pair]:
    """One exercise per scenario, both party seats connected (hello), then all started."""
    created = await _create_exercises(http, scenarios, speed)
    ws_base = "ws" + base_url[4:]

    async def connect(ex: dict[str, Any]) -> Pair:
        url = f"{ws_base}/ws/{ex['id']}"
        a = await _hello(url, ex["seats"]["iran"])
        b = await _hello(url, ex["seats"]["usa"])
        pair = Pair(a, b, exercise=ex["id"], tokens=ex["seats"])
        pair.start_readers()
        return pair

    pairs = await _gather_limited([connect(ex) for ex in created], 16)
    await _start_exercises(http, created)
    return pairs


async def _forwarder_pairs(base_url: str, count: int, offset: int = 0) -> list[Pair]:
    ws_base = "ws" + base_url[4:]

    async def connect(i: int) -> Pair:
        a = await _ws_connect(f"{ws_base}/ws/p{i}/a")
        b = await _ws_connect(f"{ws_base}/ws/p{i}/b")
        pair = Pair(a, b)
        pair.start_readers()
        return pair

    pairs = await _gather_limited([connect(offset + i) for i in range(count)], 16)
    await asyncio.sleep(0.2)  # both sides registered before the first frame
    return pairs


def _http(base_url: str) -> Any:
    import httpx

    return httpx.AsyncClient(base_url=base_url, timeout=60.0, trust_env=False)


async def _open_pairs(kind: str, base_url: str, count: int, http: Any) -> list[Pair]:
    if kind == "relay":
        from benchmarks._common import zero_delay_scenario

        return await _relay_pairs(http, base_url, [zero_delay_scenario()] * count)
    return await _forwarder_pairs(base_url, count)


async def _wait_until(check: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


# --------------------------------------------------------------------------- throughput


def relay_throughput(
    kind: str,
    base_url: str,
    pairs: int,
    window: int,
    reps: int,
    warmup: float,
    duration: float,
    server_pid: int | None = None,
) -> dict[str, Any]:
    """Pipelined notes a -> b on ``pairs`` pairs, at most ``window`` undelivered per pair.

    Per repetition: pump for ``warmup`` + ``duration`` seconds, count deliveries (and, on
    the relay, acks) during ``duration``, stop, and wait until every note sent is delivered.
    """
    return _run(
        lambda: _throughput(kind, base_url, pairs, window, reps, warmup, duration, server_pid)
    )


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds used so far by process ``pid`` and the processes it started
    (a relay's workers), from /proc/PID/stat."""
    import os

    ticks = 0
    children: dict[int, list[int]] = {}
    stats: dict[int, list[str]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", encoding="ascii") as stat:
                fields = stat.read().rpartition(")")[2].split()
        except OSError:  # it exited meanwhile
            continue
        stats[int(name)] = fields
        children.setdefault(int(fields[1]), []).append(int(name))
    tree = [pid]
    while tree:
        each = tree.pop()
        if each in stats:
            ticks += int(stats[each][11]) + int(stats[each][12])
        tree += children.get(each, [])
    return ticks / os.sysconf("SC_CLK_TCK")


async def _throughput(
    kind: str,
    base_url: str,
    count: int,
    window: int,
    reps: int,
    warmup: float,
    duration: float,
    server_pid: int | None,
) -> dict[str, Any]:
    import os

    me = os.getpid()
    async with _http(base_url) as http:
        pairs = await _open_pairs(kind, base_url, count, http)
        rates: list[float] = []
        ack_rates: list[float] = []
        server_cpu: list[float] = []
        client_cpu: list[float] = []
        try:
            for _ in range(reps):
                for pair in pairs:
                    pair.credit = asyncio.Semaphore(window)
                stop = asyncio.Event()
                pumps = [asyncio.create_task(_pump(pair, stop)) for pair in pairs]
                await asyncio.sleep(warmup)
                d0 = sum(p.delivered for p in pairs)
                a0 = sum(p.acked for p in pairs)
                t0 = time.perf_counter()
                c0 = cpu_seconds(me)
                s0 = cpu_seconds(server_pid) if server_pid else 0.0
                await asyncio.sleep(duration)
                d1 = sum(p.delivered for p in pairs)
                a1 = sum(p.acked for p in pairs)
                t1 = time.perf_counter()
                client_cpu.append((cpu_seconds(me) - c0) / (t1 - t0))
                if server_pid:
                    server_cpu.append((cpu_seconds(server_pid) - s0) / (t1 - t0))
                stop.set()
                await asyncio.wait(pumps, timeout=30)
                for pump in pumps:
                    pump.cancel()
                drained = await _wait_until(
                    lambda: (
                        all(p.delivered >= p.sent for p in pairs)
                        and (kind != "relay" or all(p.acked >= p.sent for p in pairs))
                    ),
                    30,
                )
                if not drained:
                    lost = sum(p.sent - p.delivered for p in pairs)
                    raise RuntimeError(
                        f"{kind}: {lost} notes undelivered 30 s after the run" + _errors_seen(pairs)
                    )
                rates.append((d1 - d0) / (t1 - t0))
                ack_rates.append((a1 - a0) / (t1 - t0))
            if any(p.errors for p in pairs):
                raise RuntimeError(f"{kind}:{_errors_seen(pairs)}")
            return {
                "rates": rates,
                "ack_rates": ack_rates,
                "server_cpu": server_cpu,
                "client_cpu": client_cpu,
                "sent": sum(p.sent for p in pairs),
                "delivered": sum(p.delivered for p in pairs),
                "messages_per_note": sum(p.messages for p in pairs)
                / max(1, sum(p.sent for p in pairs)),
            }
        finally:
            await asyncio.gather(*(p.close() for p in pairs))


async def _pump(pair: Pair, stop: asyncio.Event) -> None:
    assert pair.credit is not None
    while not stop.is_set():
        await pair.credit.acquire()
        if stop.is_set():
            pair.credit.release()
            return
        pair.sent += 1
        await pair.a.send(note_frame(pair.sent))


# --------------------------------------------------------------------------- latency


def relay_latency(kind: str, base_url: str, samples: int, reps: int, warmup: int) -> dict[str, Any]:
    """One note at a time on one pair: time from a's send to b's receipt, in microseconds."""
    return _run(lambda: _latency(kind, base_url, samples, reps, warmup))


async def _latency(
    kind: str, base_url: str, samples: int, reps: int, warmup: int
) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    async with _http(base_url) as http:
        (pair,) = await _open_pairs(kind, base_url, 1, http)
        runs: list[list[float]] = []
        try:
            for rep in range(reps):
                values: list[float] = []
                for i in range(warmup + samples):
                    waiter: asyncio.Future[int] = loop.create_future()
                    pair.waiter = waiter
                    pair.sent += 1
                    frame = note_frame(pair.sent)
                    t0 = time.perf_counter_ns()
                    await pair.a.send(frame)
                    try:
                        t1 = await asyncio.wait_for(waiter, 10)
                    except TimeoutError:
                        raise RuntimeError(
                            f"{kind}: note {pair.sent} undelivered after 10 s{_errors_seen([pair])}"
                        ) from None
                    if i >= warmup:
                        values.append((t1 - t0) / 1000.0)
                runs.append(values)
                if kind == "relay":
                    await _wait_until(lambda: pair.acked >= pair.sent, 10)
                del rep
            if pair.errors:
                raise RuntimeError(f"{kind}:{_errors_seen([pair])}")
            return {"runs": runs}
        finally:
            await pair.close()


# --------------------------------------------------------------------------- idle memory


def idle_connections(
    kind: str, base_url: str, server_pid: int, count: int, warm: int
) -> dict[str, Any]:
    """Server RSS before and after opening ``count`` idle connections (after ``warm`` ones)."""
    return _run(lambda: _idle(kind, base_url, server_pid, count, warm))


async def _idle(kind: str, base_url: str, pid: int, count: int, warm: int) -> dict[str, Any]:
    from benchmarks._common import rss_kib, zero_delay_scenario

    opened: list[Any] = []
    readers: list[asyncio.Task[None]] = []

    async def drain(ws: Any) -> None:
        with contextlib.suppress(Exception):
            async for _ in ws:
                pass

    def keep(ws: Any) -> None:
        opened.append(ws)
        readers.append(asyncio.create_task(drain(ws)))

    ws_base = "ws" + base_url[4:]
    try:
        async with _http(base_url) as http:
            if kind == "relay":
                seats_per = 5  # two parties, mediator, facilitator, one observer
                exercises = -(-(count + warm) // seats_per)
                created = await _create_exercises(http, [zero_delay_scenario()] * exercises, 1.0)
                seats = [(ex["id"], tok) for ex in created for tok in ex["seats"].values()]

                async def one(i: int) -> None:
                    exercise, token = seats[i]
                    keep(await _hello(f"{ws_base}/ws/{exercise}", token))

            else:

                async def one(i: int) -> None:
                    ws = await _ws_connect(f"{ws_base}/ws/m{i // 2}/{'ab'[i % 2]}")
                    keep(ws)
                    if i % 2:  # both sides up: one frame each way, as a seat's hello/welcome
                        await ws.send('{"type":"hello","token":"x"}')

            await _gather_limited([one(i) for i in range(warm)], 16)
            await asyncio.sleep(1.0)
            before = rss_kib(pid)
            await _gather_limited([one(i) for i in range(warm, warm + count)], 16)
            await asyncio.sleep(1.5)
            after = rss_kib(pid)
            return {
                "before_kib": before,
                "after_kib": after,
                "count": count,
                "per_connection_kib": (after - before) / count,
            }
    finally:
        for ws in opened:
            with contextlib.suppress(Exception):
                await ws.close()
        for task in readers:
            task.cancel()


# --------------------------------------------------------------------------- timers


def timer_lateness(
    base_url: str,
    exercises: int,
    reps: int,
    window: float,
    warmup: float,
    gap: tuple[float, float],
    travel: tuple[float, float],
) -> dict[str, Any]:
    """``exercises`` live exercises at speed 1, notes in flight; how late did deliveries land?

    Each exercise's travel time is Constant, staggered over ``travel`` (seconds); reading is
    0. Party ``a`` of every exercise submits a note, waits ``uniform(*gap)`` seconds, and so
    on, for ``warmup + reps * window`` seconds; then the generator waits for the last
    deliveries and reads every journal as the facilitator. Server-side lateness of a
    ``note.delivered`` entry = its ``wall`` (the server's wall clock when the event was drawn
    from the core, just before it is journalled) minus its scheduled wall time
    ``started.wall + (at - started.at) / speed``. Client-side lateness: the time the
    recipient's websocket read the event frame, minus the same scheduled wall time.
    Repetition ``r`` takes the deliveries scheduled in the ``r``-th window.
    """
    return _run(lambda: _timers(base_url, exercises, reps, window, warmup, gap, travel))


async def _timers(
    base_url: str,
    count: int,
    reps: int,
    window: float,
    warmup: float,
    gap: tuple[float, float],
    travel: tuple[float, float],
) -> dict[str, Any]:
    from benchmarks._common import zero_delay_scenario

    low, high = travel
    steps = max(1, count - 1)
    scenarios = [
        zero_delay_scenario(travel=round(low + (high - low) * ((i * 37) % count) / steps, 3))
        for i in range(count)
    ]
    async with _http(base_url) as http:
        t_setup = time.monotonic()
        pairs = await _relay_pairs(http, base_url, scenarios, speed=SPEED)
        setup_s = time.monotonic() - t_setup
        for pair in pairs:
            pair.keep_deliveries = True
        try:
            begin = time.time()
            end_send = begin + warmup + reps * window
            rng = random.Random(7)

            async def talk(pair: Pair) -> None:
                await asyncio.sleep(rng.uniform(0, gap[1]))
                while time.time() < end_send:
                    pair.sent += 1
                    await pair.a.send(note_frame(pair.sent))
                    await asyncio.sleep(rng.uniform(*gap))

            await asyncio.gather(*(talk(p) for p in pairs))
            drained = await _wait_until(
                lambda: all(p.delivered >= p.sent for p in pairs), 2 * high + 10
            )
            if any(p.errors for p in pairs):
                raise RuntimeError(f"timer load:{_errors_seen(pairs)}")

            async def journal(pair: Pair) -> list[dict[str, Any]]:
                response = await http.get(
                    f"/exercises/{pair.exercise}/journal",
                    headers={"Authorization": f"Bearer {pair.tokens['facilitator']}"},
                )
                response.raise_for_status()
                entries: list[dict[str, Any]] = response.json()
                return entries

            journals = await _gather_limited([journal(p) for p in pairs], 8)
        finally:
            await asyncio.gather(*(p.close() for p in pairs))

    windows = [begin + warmup + r * window for r in range(reps + 1)]
    server: list[list[float]] = [[] for _ in range(reps)]
    client: list[list[float]] = [[] for _ in range(reps)]
    worst: list[tuple[float, float]] = []
    for pair, entries in zip(pairs, journals, strict=True):
        started = next(e for e in entries if e["type"] == "exercise.started")

        def scheduled(at: float, started: dict[str, Any] = started) -> float:
            return float(started["wall"]) + (at - float(started["at"])) / SPEED

        for entry in entries:
            if entry["type"] != "note.delivered":
                continue
            due = scheduled(entry["at"])
            rep = _window_of(due, windows)
            if rep is not None:
                server[rep].append((float(entry["wall"]) - due) * 1000.0)
                worst.append(((float(entry["wall"]) - due) * 1000.0, due - begin))
        for at, wall in pair.deliveries:
            due = scheduled(at)
            rep = _window_of(due, windows)
            if rep is not None:
                client[rep].append((wall - due) * 1000.0)
    return {
        "server_ms": server,
        "client_ms": client,
        "exercises": count,
        "notes": sum(p.sent for p in pairs),
        "undelivered": sum(p.sent - p.delivered for p in pairs),
        "drained": drained,
        "setup_s": setup_s,
        "worst": sorted(worst, reverse=True)[:10],
    }


def _window_of(t: float, windows: list[float]) -> int | None:
    for r in range(len(windows) - 1):
        if windows[r] <= t < windows[r + 1]:
            return r
    return None
