"""Hostile frames: 2,000 generated malformed frames, each answered with an error frame or the
documented close; the relay stays up, logs no traceback, and another seat is unaffected.

The relay is ``shuttle serve`` in a child process (the frame rate limit off, so every frame is
judged on its content); the test talks to it with the synchronous websockets client.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from clients.sdk import ws_url
from schemas import wire
from tests.conftest import quick_scenario
from tests.live.servers import RelayProcess
from tests.security.conftest import HUMAN_MEDIATOR

pytestmark = pytest.mark.slow

EXAMPLES = 2_000  # judged at least; a few draws are frames a party may send, and skipped
LIMIT = 64 * 1024
# Every code a malformed or misplaced frame may get (docs/protocol.md#error-codes).
CODES = {
    "bad_json",
    "bad_frame",
    "invalid_frame",
    "already_joined",
    "forbidden",
    "no_direct_channel",
    "wrong_state",
    "unknown_note",
    "invalid_note",
    "invalid_command",
    "out_of_scope",
}
TYPES = ["hello", "submit", "relay", "hold", "release", "return", "decline", "travel", "control"]

json_leaf = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_value = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)

# Not JSON at all, or JSON that no reader should accept.
not_json = st.one_of(
    st.text(max_size=200).filter(lambda t: not _is_json(t)),
    st.sampled_from(
        [
            '{"type": "ping", "id": NaN}',
            '{"type": "hold", "note": 1, "until": Infinity}',
            '{"type": "ping", "id": "\\ud800"}',
            "[" * 5000 + "]" * 5000,
            '{"type":',
            "",
        ]
    ),
)
# JSON whose shape is wrong: not an object, no or unknown type, fields of the wrong kind.
wrong_shape = st.one_of(
    json_value.filter(lambda v: not isinstance(v, dict)),
    st.dictionaries(st.text(max_size=8), json_value, max_size=5),
    st.builds(
        lambda kind, fields: {**fields, "type": kind},
        st.sampled_from([*TYPES, "ping", "warp", "", "HELLO"]),
        st.dictionaries(
            st.sampled_from(
                ["id", "note", "text", "tags", "terms", "until", "client_id", "kind", "x"]
            ),
            json_value,
            min_size=1,
            max_size=5,
        ),
    ),
)
# Well-formed frames a party may not send, or not now.
misplaced = st.one_of(
    st.builds(lambda n: {"type": "relay", "note": n}, st.integers(1, 10**6)),
    st.builds(lambda n: {"type": "hold", "note": n, "until": 5.0}, st.integers(1, 10**6)),
    st.builds(lambda d: {"type": "travel", "destination": d}, st.text(max_size=64)),
    st.builds(lambda a: {"type": "control", "action": a}, st.sampled_from(["start", "end"])),
    st.builds(lambda t: {"type": "hello", "token": t}, st.text(min_size=1, max_size=256)),
    st.builds(
        lambda cid, to: {
            "type": "submit",
            "client_id": cid,
            "kind": "statement",
            "text": "x",
            "to": to,
        },
        st.text(min_size=1, max_size=128),
        st.sampled_from(["usa", "iran", "facilitator"]),
    ),
    st.builds(
        lambda cid, kind: {"type": "submit", "client_id": cid, "kind": kind, "text": "x"},
        st.text(min_size=1, max_size=128),
        st.text(max_size=12).filter(
            lambda k: k not in ("proposal", "question", "statement", "mediator_only")
        ),
    ),
)
frames = st.one_of(
    not_json,
    wrong_shape.map(json.dumps),
    misplaced.map(json.dumps),
    st.binary(max_size=64).map(lambda b: ("binary", b)),
    st.just(("oversized", "x" * (LIMIT + 1))),
)


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _allowed(raw: str) -> bool:
    """Whether a party may send ``raw`` (a rare draw): a well-formed ping or note."""
    try:
        frame = wire.client_frame.validate_python(json.loads(raw))
    except (ValueError, RecursionError):
        return False
    if any(isinstance(v, float) and not math.isfinite(v) for v in _leaves(json.loads(raw))):
        return False
    if isinstance(frame, wire.Ping):
        return True
    return isinstance(frame, wire.Submit) and frame.to == "mediator" and frame.kind in KINDS


KINDS = {"proposal", "reply", "question", "statement", "mediator_only"}


def _leaves(obj: Any) -> Iterator[Any]:
    if isinstance(obj, dict):
        for value in obj.values():
            yield from _leaves(value)
    elif isinstance(obj, list):
        for value in obj:
            yield from _leaves(value)
    else:
        yield obj


class Seat:
    """A raw seat that reconnects after the relay closes it (for oversized frames)."""

    def __init__(self, url: str, token: str, stack: ExitStack) -> None:
        self.url, self.token, self.stack = url, token, stack
        self.ws = self._join()

    def _join(self) -> ClientConnection:
        # No keepalive: its pings draw payloads from the global ``random`` module on the
        # client's own thread, which Hypothesis reports as randomness inside a strategy
        # whenever a ping falls in a draw (the test runs past the 20 s ping interval on a
        # loaded machine).
        ws = self.stack.enter_context(
            connect(self.url, compression=None, max_size=2**22, open_timeout=10, ping_interval=None)
        )
        ws.send(json.dumps({"type": "hello", "token": self.token, "last_seq": 10**9}))
        assert json.loads(ws.recv(timeout=10))["type"] == "welcome"
        return ws

    def answer(self) -> dict[str, Any]:
        while True:
            frame = json.loads(self.ws.recv(timeout=10))
            if frame["type"] != "event":
                return frame

    def closed_with(self) -> int | None:
        try:
            while True:
                self.ws.recv(timeout=10)
        except ConnectionClosed as closed:
            self.ws = self._join()
            return closed.rcvd.code if closed.rcvd is not None else None


@pytest.fixture(scope="module")
def exercise(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RelayProcess, dict]]:
    database = f"sqlite:///{tmp_path_factory.mktemp('hostile') / 'relay.db'}"
    relay = RelayProcess(database, env={"SHUTTLE_RATE_LIMIT_PER_MINUTE": "0"})
    try:
        with httpx.Client(base_url=relay.url, timeout=10) as http:
            body = {"scenario": quick_scenario(mediator=HUMAN_MEDIATOR), "seed": 1}
            created = http.post("/exercises", json=body).json()
            start = http.post(
                f"/exercises/{created['id']}/start",
                headers={"Authorization": f"Bearer {created['seats']['facilitator']}"},
            )
            assert start.status_code == 200
        yield relay, created
    finally:
        relay.stop()


def test_malformed_frames_get_an_error_or_the_documented_close(
    exercise: tuple[RelayProcess, dict],
) -> None:
    relay, created = exercise
    url = ws_url(relay.url, created["id"])
    with ExitStack() as stack:
        attacker = Seat(url, created["seats"]["iran"], stack)
        bystander = Seat(url, created["seats"]["usa"], stack)
        judge_frames(relay, attacker, bystander)


def judge_frames(relay: RelayProcess, attacker: Seat, bystander: Seat) -> None:
    judged: list[str] = []

    @settings(
        max_examples=EXAMPLES + 100,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(frame=frames)
    def one_frame(frame: str | tuple[str, Any]) -> None:
        if isinstance(frame, tuple):
            kind, payload = frame
            attacker.ws.send(payload)
            if kind == "oversized":
                assert attacker.closed_with() == 1009
                judged.append("close 1009")
                return
            answer = attacker.answer()
        else:
            if _allowed(frame):
                return  # a frame a party may send: not what this test is about
            attacker.ws.send(frame)
            answer = attacker.answer()
        assert answer["type"] == "error", (frame, answer)
        assert answer["code"] in CODES and answer["message"], answer
        judged.append(answer["code"])

    one_frame()
    assert len(judged) >= EXAMPLES, len(judged)
    print(f"\n{len(judged)} malformed frames judged: " + _counts(judged))

    # The relay is up, its exercise goes on, and the other seat never saw an error.
    assert relay.proc.poll() is None
    attacker.ws.send(json.dumps({"type": "submit", "id": "ok", "client_id": "after", **NOTE}))
    assert attacker.answer()["type"] == "ack"
    bystander.ws.send(json.dumps({"type": "ping", "id": "still-there"}))
    pong = bystander.answer()  # the first answer it ever got: no error frame came before
    assert (pong["type"], pong["id"]) == ("pong", "still-there")
    log = "".join(relay.log)
    assert "Traceback" not in log and "Exception" not in log, log[-3000:]


NOTE = {"kind": "statement", "text": "a well-formed note, after all that"}


def _counts(codes: list[str]) -> str:
    return ", ".join(f"{code}: {codes.count(code)}" for code in sorted(set(codes)))
