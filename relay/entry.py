"""One journal entry: the record every driver, the journal file and every store share.

It lives here, beside the drivers and outside the store package, and needs nothing but the
standard library, so that reading and writing journal files (:mod:`relay.journal`) and
replaying them (:mod:`relay.replay`) never load a database library. :mod:`relay.store`
re-exports it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Entry"]


@dataclass(slots=True)
class Entry:
    """One journal entry as stored and exported (one JSON line). Never changed once made.

    (Not a frozen dataclass only because a frozen one takes three times as long to build,
    and the relay builds one per event.)

    ``data_json``, when given, is ``data`` already encoded as JSON by the caller (who may need
    the text anyway, e.g. for websocket frames); a store then keeps that text instead of
    encoding ``data`` a second time. It must decode to ``data``. It takes no part in equality
    and is never exported: an entry read back has ``data_json=None``.
    """

    seq: int
    at: float
    type: str
    data: dict[str, Any]
    wall: float | None = None
    dedupe_key: str | None = None
    data_json: str | None = field(default=None, compare=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        """The entry as one journal line's object (``data_json`` is never part of it)."""
        out: dict[str, Any] = {"seq": self.seq, "at": self.at, "type": self.type, "data": self.data}
        if self.wall is not None:
            out["wall"] = self.wall
        if self.dedupe_key is not None:
            out["dedupe_key"] = self.dedupe_key
        return out

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Entry:
        """The entry a journal line's object describes (the inverse of :meth:`to_json`)."""
        return cls(
            seq=int(obj["seq"]),
            at=float(obj["at"]),
            type=str(obj["type"]),
            data=dict(obj["data"]),
            wall=None if obj.get("wall") is None else float(obj["wall"]),
            dedupe_key=obj.get("dedupe_key"),
        )
