"""Seeded randomness for drivers: counter-based draws for the core, streams for bots."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable

__all__ = ["SeededStreams", "seeded_streams", "uniforms"]

_SCALE = 2.0**-53


def uniforms(key: bytes, k: int) -> tuple[float, float]:
    """The k-th pair of uniforms in (0, 1) of the stream with ``key``: a hash, no state."""
    digest = hashlib.blake2b(k.to_bytes(8, "little"), key=key, digest_size=16).digest()
    high = int.from_bytes(digest[:8], "little") >> 11
    low = int.from_bytes(digest[8:], "little") >> 11
    return (high + 0.5) * _SCALE, (low + 0.5) * _SCALE


class SeededStreams:
    """The exercise's randomness, derived from its seed alone.

    * ``streams.take(stream, make)`` is what the core draws from (:class:`relay.core.Draws`):
      the k-th value of a stream is ``make`` of the k-th pair of :func:`uniforms`, so each
      draw can be recomputed from (seed, stream, k) without replaying the ones before it.
    * ``streams(purpose)`` is a :class:`random.Random` per purpose, for bots.

    Keys are hashed from strings with BLAKE2b and :class:`random.Random` hashes string seeds
    with SHA-512, so both are the same in every process and on every machine (unlike
    ``hash()``, which is salted per process).
    """

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._keys: dict[str, bytes] = {}
        self.counts: dict[str, int] = {}

    def key(self, stream: str) -> bytes:
        key = self._keys.get(stream)
        if key is None:
            key = hashlib.blake2b(f"shuttle:{self.seed}:{stream}".encode(), digest_size=32).digest()
            self._keys[stream] = key
        return key

    def take(self, stream: str, make: Callable[[float, float], float]) -> float:
        k = self.counts.get(stream, 0)
        self.counts[stream] = k + 1
        return make(*uniforms(self.key(stream), k))

    def __call__(self, purpose: str) -> random.Random:
        return random.Random(f"shuttle:{self.seed}:{purpose}")


def seeded_streams(seed: int) -> SeededStreams:
    """The randomness of the exercise with ``seed``."""
    return SeededStreams(seed)
