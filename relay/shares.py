"""Which relay process serves which exercise, when several serve one port.

A relay started with ``--workers N`` runs N processes (relay/workers.py). Each exercise lives
in exactly one of them, its *owner*: ``crc32(id) % N``. The front process reads the request
line of every new connection, finds the exercise the path names, and hands the connection to
the owner; a path that names none (``/health``, ``POST /exercises``...) may go to any
process. One process serves the whole share of its exercises: their cores, timers, sockets
and rate limits. The journal store is the only thing the processes share.

Pure functions: no I/O, so the front process, the workers and the tests agree by
construction.
"""

from __future__ import annotations

import re
import secrets
import zlib
from dataclasses import dataclass
from urllib.parse import unquote

__all__ = ["WHOLE", "Share", "exercise_in_path", "new_exercise_id", "request_target"]

_EXERCISE_PATH = re.compile(r"/(?:ws|exercises)/(ex-[0-9a-f]{10})(?:[/?#]|$)")


def new_exercise_id() -> str:
    """A fresh exercise id: ``ex-`` and ten hex digits."""
    return "ex-" + secrets.token_hex(5)


def exercise_in_path(path: str) -> str | None:
    """The exercise a request path names (``/ws/ID``, ``/exercises/ID/...``), or None."""
    found = _EXERCISE_PATH.match(path)
    return found.group(1) if found else None


def request_target(head: bytes) -> str | None:
    """The path of an HTTP/1 request from its first bytes, decoded as the ASGI server decodes
    it (``%39`` is ``9``), without its query; None if they are no request line
    (``GET /ws/ex-0123456789 HTTP/1.1``; an absolute-form target keeps only its path)."""
    line = head.split(b"\r\n", 1)[0].split(b"\n", 1)[0]
    parts = line.split(b" ")
    if len(parts) != 3 or not parts[2].startswith(b"HTTP/"):
        return None
    target = parts[1].decode("latin-1")
    if "://" in target:  # absolute form: scheme://host/path
        slash = target.find("/", target.index("://") + 3)
        target = target[slash:] if slash >= 0 else "/"
    return unquote(target.partition("?")[0])


@dataclass(frozen=True, slots=True)
class Share:
    """Process ``index`` of ``count``, and the exercises it owns."""

    index: int = 0
    count: int = 1

    def __post_init__(self) -> None:
        if not 0 <= self.index < self.count:
            raise ValueError(f"share {self.index} of {self.count}")

    @staticmethod
    def owner(exercise_id: str, count: int) -> int:
        """The index of the process that owns ``exercise_id`` among ``count``."""
        return zlib.crc32(exercise_id.encode()) % count

    def owns(self, exercise_id: str) -> bool:
        return self.count == 1 or self.owner(exercise_id, self.count) == self.index

    def new_id(self) -> str:
        """A fresh exercise id this process owns (one in ``count`` ids is, so a few draws)."""
        while True:
            exercise_id = new_exercise_id()
            if self.owns(exercise_id):
                return exercise_id


WHOLE = Share()
"""The one process of a relay that runs alone: it owns every exercise."""
