"""The relay's REST endpoints through httpx (docs/protocol.md): create, control, rules,
revoke, read the journal, export and import. :class:`Refused` is what a refused request
raises, here and on a seat's websocket (``clients/sdk.py``).

    async with RelayAPI("http://127.0.0.1:8000") as api:
        created = await api.create(scenario_dict, seed=7, speed=60)
        await api.control(created["id"], "start", created["seats"]["facilitator"])
"""

from __future__ import annotations

from typing import Any

import httpx

__all__ = ["Refused", "RelayAPI"]


class Refused(Exception):
    """The relay refused a request; ``code`` is machine-readable, the message is for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def _refusal(response: httpx.Response) -> str:
    """What a refused request says, for people: the relay's ``detail``, its validation
    errors one ``field: message`` each (FastAPI repeats a path parameter's error for every
    dependency that reads it), or (not a relay's answer) the HTTP status."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or "detail" not in body:
        return (
            f"HTTP {response.status_code} {response.reason_phrase} from {response.url} "
            "(is it a Shuttle relay's base URL?)"
        )
    detail = body["detail"]
    if isinstance(detail, list):  # FastAPI's validation errors, each said once
        return "; ".join(dict.fromkeys(map(_field_error, detail)))
    return str(detail)


def _field_error(error: Any) -> str:
    """``field: message`` for one of FastAPI's validation errors (``loc`` starts with where:
    ``body``, ``query``...)."""
    if not isinstance(error, dict):
        return str(error)
    field_name = ".".join(str(part) for part in error.get("loc", ())[1:]) or "request"
    return f"{field_name}: {error.get('msg', error)}"


class RelayAPI:
    """The relay's REST endpoints. ``admin_token`` is the relay's own (``SHUTTLE_ADMIN_TOKEN``),
    sent to create, import and list exercises; seat tokens are passed per call."""

    def __init__(
        self, base_url: str, *, timeout: float = 30.0, admin_token: str | None = None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.admin_token = admin_token
        self._http = httpx.AsyncClient(base_url=self.base_url, timeout=timeout)

    async def __aenter__(self) -> RelayAPI:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _call(self, method: str, path: str, token: str | None = None, **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await self._http.request(method, path, headers=headers, **kw)
        if response.status_code >= 400:
            raise Refused(f"http_{response.status_code}", _refusal(response))
        if response.headers.get("content-type", "").startswith("application/json"):
            return response.json()
        return response.text

    async def create(
        self,
        scenario: dict[str, Any],
        *,
        seed: int | None = None,
        speed: float = 1.0,
        title: str | None = None,
    ) -> dict[str, Any]:
        body = {"scenario": scenario, "seed": seed, "speed": speed, "title": title}
        result: dict[str, Any] = await self._call("POST", "/exercises", self.admin_token, json=body)
        return result

    async def list_exercises(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await self._call("GET", "/exercises", self.admin_token)
        return result

    async def revoke(self, exercise_id: str, seat: str, token: str) -> dict[str, Any]:
        """Revoke ``seat``'s token (``token`` is the facilitator's)."""
        result: dict[str, Any] = await self._call(
            "POST", f"/exercises/{exercise_id}/seats/{seat}/revoke", token
        )
        return result

    async def control(self, exercise_id: str, action: str, token: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._call(
            "POST", f"/exercises/{exercise_id}/{action}", token
        )
        return result

    async def change_rules(
        self, exercise_id: str, delivery: dict[str, Any], token: str
    ) -> dict[str, Any]:
        """Facilitator: replace the delivery rules in flight (``POST .../rules``)."""
        result: dict[str, Any] = await self._call(
            "POST", f"/exercises/{exercise_id}/rules", token, json={"delivery": delivery}
        )
        return result

    async def get(self, exercise_id: str, token: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("GET", f"/exercises/{exercise_id}", token)
        return result

    async def journal(self, exercise_id: str, token: str, after: int = 0) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await self._call(
            "GET", f"/exercises/{exercise_id}/journal", token, params={"after": after}
        )
        return result

    async def export(self, exercise_id: str, token: str) -> str:
        return str(await self._call("GET", f"/exercises/{exercise_id}/export", token))

    async def import_journal(self, text: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._call(
            "POST", "/exercises/import", self.admin_token, content=text
        )
        return result
