"""Times and latency distributions, shared by scenarios and delivery rules.

Times are seconds, or strings with a unit: ``"90s"``, ``"15m"``, ``"4h"``, ``"1d"``.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from relay.core import config as core_config

__all__ = [
    "MAX_DURATION",
    "MAX_SIGMA",
    "Constant",
    "Duration",
    "PositiveDuration",
    "Empirical",
    "LatencySpec",
    "LogNormal",
    "Model",
    "Normal",
    "Uniform",
]

MAX_DURATION = core_config.MAX_DURATION
"""The longest duration a scenario may give, in seconds (about 31 years), and the longest delay
a draw can make: far beyond any exercise, and small enough that no sum of them overflows."""
MAX_SIGMA = 10.0
"""The largest ``sigma`` of a log-normal (a spread of e^10, some 22,000 times, per sd)."""

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|min|m|h|d)?\s*$")


def _parse_duration(value: Any) -> Any:
    if isinstance(value, str):
        match = _DURATION.match(value)
        if not match:
            raise ValueError(f"not a duration: {value!r} (use seconds or e.g. '90s', '15m', '4h')")
        return float(match.group(1)) * _UNITS[match.group(2) or "s"]
    return value


_DurationText = Annotated[str, Field(pattern=_DURATION.pattern)]
# The constraint comes before the validator and the validator names what it takes, so the
# JSON Schema says what a file may hold: a number (with the bound) or a unit string.
Duration = Annotated[
    float,
    Field(ge=0, le=MAX_DURATION, allow_inf_nan=False),
    BeforeValidator(
        _parse_duration,
        json_schema_input_type=Annotated[float, Field(ge=0, le=MAX_DURATION)] | _DurationText,
    ),
]
"""Seconds (float, from 0 to :data:`MAX_DURATION`), accepting unit strings in files."""
PositiveDuration = Annotated[
    float,
    Field(gt=0, le=MAX_DURATION, allow_inf_nan=False),
    BeforeValidator(
        _parse_duration,
        json_schema_input_type=Annotated[float, Field(gt=0, le=MAX_DURATION)] | _DurationText,
    ),
]
"""Seconds (float, more than 0, at most :data:`MAX_DURATION`), accepting unit strings in files."""


class Model(BaseModel):
    """Every scenario model: unknown fields are errors, numbers are finite, instances are
    immutable."""

    # finite numbers only: a journal is JSON, which has no NaN or infinity (YAML has both)
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class _Clamped(Model):
    """Every distribution takes ``jitter`` (uniform ±jitter added to each draw) and clamps."""

    jitter: Duration = 0.0
    min: Duration = 0.0
    max: Duration | None = None

    @model_validator(mode="after")
    def _clamps_ordered(self) -> _Clamped:
        if self.max is not None and self.max < self.min:
            raise ValueError(f"max ({self.max}) is below min ({self.min})")
        return self


class Constant(_Clamped):
    dist: Literal["constant"] = "constant"
    value: Duration


class Uniform(_Clamped):
    dist: Literal["uniform"] = "uniform"
    low: Duration
    high: Duration

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high < self.low:
            raise ValueError(f"high ({self.high}) is below low ({self.low})")
        return self


class Normal(_Clamped):
    dist: Literal["normal"] = "normal"
    mean: Duration
    sd: Duration


class LogNormal(_Clamped):
    """Log-normal by its median (``exp(mu)``) and the sd of its logarithm (``sigma``)."""

    dist: Literal["lognormal"] = "lognormal"
    median: PositiveDuration
    sigma: float = Field(ge=0, le=MAX_SIGMA, allow_inf_nan=False)

    @property
    def mu(self) -> float:
        return math.log(self.median)


class Empirical(_Clamped):
    """Observed delays, drawn uniformly at random (a bootstrap of the table)."""

    dist: Literal["empirical"] = "empirical"
    values: list[Duration] = Field(min_length=1)


LatencySpec = Annotated[
    Constant | Uniform | Normal | LogNormal | Empirical, Field(discriminator="dist")
]
