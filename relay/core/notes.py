"""A note's whole life, as one transition table applied by one function.

Every note the core holds is in exactly one :class:`NoteStatus`. It changes status only through
:meth:`NoteBook.move`, which looks the move up in :data:`NOTE_MOVES` and refuses any move not
in it, naming the note, its status and the move. The indexes the core reads (what waits in a
room, what the mediator holds, what is carried to a room) are kept by that one function, so
they can never disagree with the notes' statuses::

    (new) --submit--> waiting --hand_over--> with_mediator
    with_mediator --relay--> drafting --drafted--> outbound
    with_mediator --return|decline--> outbound
    with_mediator --hold--> held --release--> with_mediator
    held --return|decline--> outbound
    outbound --deliver--> delivered          outbound --lose--> lost (a miscalculation)
    outbound --miss_pouch--> left_behind     left_behind --deliver|lose--> delivered|lost
    any status before delivered --expire--> expired (an offer that lapsed)

Invariants:

* a note is in the index of its status (and place) and in no other;
* a settled note (delivered, lost, expired) never moves again;
* within an index, notes keep the order in which they entered it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .errors import LocalProtocolError

__all__ = ["NOTE_MOVES", "Move", "Note", "NoteBook", "NoteStatus"]


class NoteStatus(StrEnum):
    WAITING = "waiting"  # on the table in its sender's room, for the mediator to collect
    WITH_MEDIATOR = "with_mediator"  # handed over; readable once ready_at has passed
    HELD = "held"
    DRAFTING = "drafting"  # relayed as a paraphrase (or behind one); travels once written up
    OUTBOUND = "outbound"  # decided, to be delivered in its destination room
    LEFT_BEHIND = "left_behind"  # outbound, but the pouch was full: waits for the next trip
    DELIVERED = "delivered"
    LOST = "lost"  # miscalculation: fell out of the pouch
    EXPIRED = "expired"  # an offer that lapsed before it was delivered

    @property
    def settled(self) -> bool:
        """No longer in flight."""
        return self in _SETTLED


_SETTLED = frozenset({NoteStatus.DELIVERED, NoteStatus.LOST, NoteStatus.EXPIRED})


class Move(StrEnum):
    HAND_OVER = "hand over"
    RELAY = "relay"
    DRAFTED = "finish drafting"
    HOLD = "hold"
    RELEASE = "release"
    RETURN = "return"
    DECLINE = "decline"
    DELIVER = "deliver"
    LOSE = "lose"
    MISS_POUCH = "leave for the next pouch"
    EXPIRE = "expire"


_S = NoteStatus
NOTE_MOVES: dict[tuple[NoteStatus, Move], NoteStatus] = {
    (_S.WAITING, Move.HAND_OVER): _S.WITH_MEDIATOR,
    (_S.WITH_MEDIATOR, Move.RELAY): _S.DRAFTING,
    (_S.DRAFTING, Move.DRAFTED): _S.OUTBOUND,
    (_S.WITH_MEDIATOR, Move.HOLD): _S.HELD,
    (_S.HELD, Move.RELEASE): _S.WITH_MEDIATOR,
    (_S.WITH_MEDIATOR, Move.RETURN): _S.OUTBOUND,
    (_S.HELD, Move.RETURN): _S.OUTBOUND,
    (_S.WITH_MEDIATOR, Move.DECLINE): _S.OUTBOUND,
    (_S.HELD, Move.DECLINE): _S.OUTBOUND,
    (_S.OUTBOUND, Move.DELIVER): _S.DELIVERED,
    (_S.LEFT_BEHIND, Move.DELIVER): _S.DELIVERED,
    (_S.OUTBOUND, Move.LOSE): _S.LOST,
    (_S.LEFT_BEHIND, Move.LOSE): _S.LOST,
    (_S.OUTBOUND, Move.MISS_POUCH): _S.LEFT_BEHIND,
    **{(status, Move.EXPIRE): _S.EXPIRED for status in _S if status not in _SETTLED},
}
"""Every move a note can make: (status, move) -> the status it moves to."""


Place = str | bool | None
"""Where a note of a status is, for the statuses indexed by place: the room a waiting note lies
in, the room an outbound note is carried to, whether a held note waits on a condition."""


@dataclass(slots=True)
class Note:
    """The core's private record of one note. Its ``status`` is written by
    :meth:`NoteBook.move` alone."""

    id: int
    sender: str
    kind: str
    text: str
    tags: list[str]
    terms: dict[str, float]
    in_reply_to: int | None
    answer: str | None
    status: NoteStatus = NoteStatus.WAITING
    ready_at: float = math.inf
    held_until: float | None = None
    destination: str | None = None
    outcome: str | None = None  # relayed | returned | declined
    comment: str | None = None
    carried: dict[str, Any] = field(default_factory=dict)  # text/tags/terms/flags as delivered
    drafted_at: float = math.inf
    condition: tuple[str, int] | None = None  # of a hold: ("delivered"|"answered", note)
    expires_at: float | None = None
    lapsed: bool = False  # an offer past its expiry: it can no longer be accepted
    place: Place = None  # where it is in its status's index; kept by NoteBook.move

    @property
    def is_offer(self) -> bool:
        return self.kind == "proposal" or self.answer == "counter"

    def as_written(self) -> dict[str, Any]:
        """The note as its sender wrote it, as the events that carry it name its fields, with
        its own copies of the lists."""
        return {
            "kind": self.kind,
            "text": self.text,
            "tags": list(self.tags),
            "terms": dict(self.terms),
            "in_reply_to": self.in_reply_to,
            "answer": self.answer,
        }


class NoteBook:
    """Every note of an exercise, and an index per (status, place), kept by :meth:`move`.

    The indexes the core reads most are also named: ``waiting[room]``, ``with_mediator``,
    ``drafting``, ``held_on_condition``, ``outbound[room]`` and ``left_behind[room]``. Each is
    the very dict of the index, so it is never kept in step by hand; read it, never write it.
    """

    __slots__ = (
        "_index",
        "drafting",
        "held_on_condition",
        "left_behind",
        "notes",
        "outbound",
        "waiting",
        "with_mediator",
    )

    def __init__(self, rooms: tuple[str, str]) -> None:
        self.notes: dict[int, Note] = {}
        places: dict[NoteStatus, tuple[Place, ...]] = {
            _S.WAITING: rooms,
            _S.OUTBOUND: rooms,
            _S.LEFT_BEHIND: rooms,
            _S.HELD: (True, False),
        }
        self._index: dict[tuple[NoteStatus, Place], dict[int, Note]] = {
            (status, place): {} for status in _S for place in places.get(status, (None,))
        }
        self.waiting = {room: self._index[(_S.WAITING, room)] for room in rooms}
        self.outbound = {room: self._index[(_S.OUTBOUND, room)] for room in rooms}
        self.left_behind = {room: self._index[(_S.LEFT_BEHIND, room)] for room in rooms}
        self.with_mediator = self._index[(_S.WITH_MEDIATOR, None)]
        self.drafting = self._index[(_S.DRAFTING, None)]
        self.held_on_condition = self._index[(_S.HELD, True)]

    def add(self, note: Note) -> None:
        """A new note, written and put down in its sender's room."""
        self.notes[note.id] = note
        note.place = note.sender
        self.waiting[note.sender][note.id] = note

    def move(self, note: Note, move: Move) -> None:
        """Make ``move``; a note's place (destination, condition) is set before the call."""
        after = NOTE_MOVES.get((note.status, move))
        if after is None:
            raise LocalProtocolError(f"cannot {move.value} note {note.id}: it is {note.status}")
        del self._index[(note.status, note.place)][note.id]
        if after is _S.OUTBOUND or after is _S.LEFT_BEHIND:
            place: Place = note.destination
        elif after is _S.HELD:
            place = note.condition is not None
        else:
            place = None  # a note enters no other indexed place by a move
        note.status, note.place = after, place
        self._index[(after, place)][note.id] = note

    def allows(self, note: Note, move: Move) -> bool:
        return (note.status, move) in NOTE_MOVES

    def where(self, status: NoteStatus, place: Place = None) -> dict[int, Note]:
        """The notes of ``status`` (at ``place``), in the order they entered it. Read only."""
        return self._index[(status, place)]

    def in_flight(self) -> list[Note]:
        """Notes not yet delivered, lost or lapsed, oldest first."""
        return [note for note in self.notes.values() if not note.status.settled]
