"""After a run that uses every seat's token every way there is, neither the relay's log (at its
most verbose) nor its database holds a token."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from clients.sdk import Refused, RelayAPI, SeatClient
from relay.app import create_app
from tests.conftest import quick_scenario
from tests.live.servers import RelayProcess
from tests.security.conftest import HUMAN_MEDIATOR
from tests.security.raw import raw_seat


@pytest.mark.slow
async def test_no_token_in_the_log_or_the_database(tmp_path: Path) -> None:
    database = tmp_path / "relay.db"
    relay = RelayProcess(f"sqlite:///{database}", log_level="trace")
    try:
        async with RelayAPI(relay.url) as api:
            created = await api.create(quick_scenario(mediator=HUMAN_MEDIATOR), seed=2)
            exercise, seats = created["id"], created["seats"]
            other = await api.create(quick_scenario(), seed=3)
            await api.control(exercise, "start", seats["facilitator"])
            for token in seats.values():
                async with await SeatClient.connect(relay.url, exercise, token) as client:
                    await client.request({"type": "ping"})
                await api.get(exercise, token)
                await api.journal(exercise, token)
                with pytest.raises(Refused):  # a token used where it opens nothing
                    await SeatClient.connect(relay.url, other["id"], token, reconnect=False)
                with pytest.raises(Refused):
                    await api.export(other["id"], token)
            await api.export(exercise, seats["facilitator"])
            await api.revoke(exercise, "observer", seats["facilitator"])
            with pytest.raises(Refused):
                await SeatClient.connect(relay.url, exercise, seats["observer"], reconnect=False)
            # the relay, as `shuttle serve` runs it, negotiates no compression
            ws = await raw_seat(relay.url, exercise, compression="deflate")
            assert ws.response.headers.get("Sec-WebSocket-Extensions") is None
            await ws.close()
    finally:
        relay.stop()
    log = "".join(relay.log)
    assert "WebSocket /ws/" in log and "connection open" in log, "the log is the real one"
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("relay.db*"))
    tokens = [*created["seats"].values(), *other["seats"].values()]
    for token in tokens:
        assert token not in log
        assert token.encode() not in stored


def test_a_library_that_logs_a_whole_frame_logs_no_token(caplog: pytest.LogCaptureFixture) -> None:
    """What websockets' debug log would print if enabled: the record is blanked at creation."""
    create_app()  # installs the redaction, once per process
    secret = "Vjw2xi6EdgWNN_2h-ekj-4XFqr5gbv0z"
    frame = json.dumps({"type": "hello", "token": secret, "last_seq": 0})
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("websockets.server").debug("< TEXT %r [%d bytes]", frame, len(frame))
        logging.getLogger("websockets.server").debug("< TEXT '%s...'", frame[:40])  # cut short
        logging.getLogger("httpx").info("headers: Authorization: Bearer %s", secret)
        logging.getLogger("shell").info("shuttle join URL --token %s", secret)
        # a client that put its token in the URL, against the docs: the access log line
        logging.getLogger("access").info('"GET /ws/ex-1?token=%s HTTP/1.1" 403', secret)
    assert len(caplog.records) == 5
    assert secret not in caplog.text and secret[:10] not in caplog.text
    assert caplog.text.count("[redacted]") == 5
