"""Settings of the relay, from arguments, environment (``SHUTTLE_*``) or defaults."""

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
        default=64 * 1024, description="larger websocket frames: close 1009"
    )
    hello_timeout_s: float = 10.0
    log_level: str = "info"
