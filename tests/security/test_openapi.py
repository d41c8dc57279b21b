"""Schemathesis against the relay's OpenAPI document, in process (ASGI): no generated request
gets a server error, and every answer is one the document describes (status, content type,
headers, body schema).

Half the requests that name an exercise are sent for a real one with its facilitator's token,
so that generation reaches past authentication into the endpoints themselves.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.python.asgi import HOST, get_client, shutdown_lifespans
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from relay.app import create_app
from relay.settings import Settings
from tests.conftest import quick_scenario

pytestmark = pytest.mark.slow


@schemathesis.serializer("application/x-ndjson")
def _journal_text(ctx: Any, value: Any) -> bytes:
    """POST /exercises/import takes a journal file: generated text, sent as UTF-8."""
    return str(value).encode("utf-8", errors="surrogatepass")


app = create_app(Settings(database_url="sqlite://"))
schema = schemathesis.openapi.from_asgi("/openapi.json", app)
known: dict[str, Any] = {}


@pytest.fixture(scope="module", autouse=True)
def an_exercise() -> Iterator[None]:
    """A real exercise, made through the app's own lifespan (the one schemathesis runs)."""
    with get_client(app) as client:
        body = {"scenario": quick_scenario(), "seed": 1}
        created = client.post(f"http://{HOST}/exercises", json=body)
        assert created.status_code == 201, created.text
        known.update(created.json())
    yield
    shutdown_lifespans()


def _for_the_known_exercise(case: Any) -> bool:
    digest = hashlib.sha256(repr((case.method, case.path, case.body)).encode()).digest()
    return bool(case.path_parameters and "exercise_id" in case.path_parameters) and digest[0] < 128


@schema.parametrize()
@settings(
    max_examples=100,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_error_and_no_answer_outside_the_schema(case: Any) -> None:
    if _for_the_known_exercise(case):
        case.path_parameters["exercise_id"] = known["id"]
        case.headers = {**(case.headers or {}), "authorization": "Bearer " + _facilitator()}
    response = case.call()
    assert response.status_code < 500, (case.method, case.formatted_path, response.text)
    case.validate_response(
        response,
        checks=[
            status_code_conformance,
            content_type_conformance,
            response_headers_conformance,
            response_schema_conformance,
        ],
    )


def _facilitator() -> str:
    token: str = known["seats"]["facilitator"]
    return token
