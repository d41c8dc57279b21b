"""Settings of the relay, from arguments, environment (``SHUTTLE_*``) or defaults.

The limits (docs/security.md) live here so that one place says what a seat may cost the relay.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHUTTLE_", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="sqlite:///PATH, postgresql://..., or memory://; default ./shuttle.db",
    )
    host: str = "127.0.0.1"
    port: int = 8000
    max_frame_bytes: int = Field(
        default=64 * 1024, gt=0, description="larger websocket frames: close 1009"
    )
    hello_timeout_s: float = Field(default=10.0, gt=0)
    log_level: str = "info"
    access_log: bool = Field(default=True, description="log every HTTP request (uvicorn's)")
    rate_limit_per_minute: int = Field(
        default=100,
        ge=0,
        description="frames a seat may send per minute (all its sockets together); 0: no limit",
    )
    rate_limit_strikes: int = Field(
        default=20,
        ge=1,
        description="refused frames over the limit in a row before the socket is closed (1008)",
    )
    max_sockets_per_seat: int = Field(
        default=4, ge=1, description="simultaneous websockets one seat may hold"
    )
    allowed_origins: list[str] = Field(
        default_factory=list,
        description="browser Origins allowed (REST and websocket); requests without Origin pass",
    )
    admin_token: str | None = Field(
        default=None,
        min_length=16,
        description="when set, creating, importing and listing exercises need it (Bearer)",
    )
    workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description="relay processes behind the one port, each serving its share of the "
        "exercises (docs/architecture.md); more than 1 needs a database file or server",
    )
    max_import_bytes: int = Field(
        default=16 * 1024 * 1024, gt=0, description="largest journal POST /exercises/import takes"
    )
