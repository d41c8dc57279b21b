"""Seeded random streams for the core: one independent :class:`random.Random` per purpose."""

from __future__ import annotations

import random

from relay.core.latency import RngFactory

__all__ = ["seeded_streams"]


def seeded_streams(seed: int) -> RngFactory:
    """A factory giving the stream for ``purpose``, derived from ``seed`` alone.

    String seeds are hashed with SHA-512 by :class:`random.Random`, so the streams are the same
    in every process and on every machine (unlike ``hash()``, which is salted per process).
    """

    def stream(purpose: str) -> random.Random:
        return random.Random(f"shuttle:{seed}:{purpose}")

    return stream
