"""JSON text as Shuttle writes and reads it: journals, journal files and websocket frames.

:func:`dumps` is the one encoding (compact, UTF-8 as is, no NaN); :func:`dumps_fast` is the
same through orjson, for the hot path; :func:`loads` reads text from outside strictly. Kept
apart from the journal so that a client (the seat protocol in ``relay/seat.py``) can use it
without importing the store.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import orjson

from schemas.wire import unstorable

__all__ = ["dumps", "dumps_fast", "loads"]


# ``json.dumps`` with options builds a new encoder on every call; this one is built once.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def dumps(obj: Any) -> str:
    """Compact JSON, UTF-8 as is, no NaN: the one encoding of journals and frames."""
    return _ENCODER.encode(obj)


def dumps_fast(obj: Any) -> str:
    """JSON from orjson, six times faster than :func:`dumps` on event data, for the hot path.

    It decodes to what :func:`dumps` would give for the relay's own data (no NaN, no
    non-string keys, no integers beyond 64 bits), and is the same text but for a float's
    exponent, which may be spelled differently (``1e-5``).
    """
    return orjson.dumps(obj).decode()


# A JSON escape of a UTF-16 surrogate: decoded alone it is a string no UTF-8 encoder accepts.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is beyond the range of a number")
    return value


def loads(text: str) -> Any:
    """JSON as RFC 8259 has it, for text from outside: no NaN or Infinity, no number beyond
    a double's range, no lone surrogate (``"\\ud800"``), bounded nesting.

    Python's reader takes all of these, and the journal cannot store them. Raises
    ValueError saying what is wrong.

    orjson reads JSON as strictly, in a tenth of the time; what it refuses is read again by
    Python's reader, with checks, for a message that names the fault. (An integer beyond 64
    bits comes out of orjson as a float, which no field that wants an integer takes.)
    """
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        pass
    try:
        obj = json.loads(text, parse_constant=_no_constant, parse_float=_finite)
    except json.JSONDecodeError as error:
        raise ValueError(error.msg) from None
    except RecursionError:
        raise ValueError("nested too deeply") from None
    problem = unstorable(obj) if _SURROGATE_ESCAPE.search(text) else None
    if problem:
        raise ValueError(problem)
    return obj
