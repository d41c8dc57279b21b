"""The note table: every move in it lands the note in its new status's index and nowhere else;
every move not in it is refused, naming the note, its status and the move."""

from __future__ import annotations

import pytest

from relay.core import LocalProtocolError
from relay.core.notes import NOTE_MOVES, Move, Note, NoteBook, NoteStatus

ROOMS = ("iran", "usa")


def note_in(book: NoteBook, status: NoteStatus, note_id: int = 1) -> Note:
    """A note of iran's brought to ``status`` by moves of the table (each checked there)."""
    note = Note(note_id, "iran", "proposal", "t", [], {}, None, None)
    book.add(note)
    path = {
        NoteStatus.WAITING: [],
        NoteStatus.WITH_MEDIATOR: [Move.HAND_OVER],
        NoteStatus.HELD: [Move.HAND_OVER, Move.HOLD],
        NoteStatus.DRAFTING: [Move.HAND_OVER, Move.RELAY],
        NoteStatus.OUTBOUND: [Move.HAND_OVER, Move.RELAY, Move.DRAFTED],
        NoteStatus.LEFT_BEHIND: [Move.HAND_OVER, Move.RELAY, Move.DRAFTED, Move.MISS_POUCH],
        NoteStatus.DELIVERED: [Move.HAND_OVER, Move.RELAY, Move.DRAFTED, Move.DELIVER],
        NoteStatus.LOST: [Move.HAND_OVER, Move.RELAY, Move.DRAFTED, Move.LOSE],
        NoteStatus.EXPIRED: [Move.EXPIRE],
    }[status]
    note.destination = "usa"
    for move in path:
        book.move(note, move)
    assert note.status is status
    return note


def indexed_in(book: NoteBook, note: Note) -> list[tuple[NoteStatus, object]]:
    """Every (status, place) index that holds ``note``."""
    places: list[object] = [*ROOMS, True, False, None]
    return [
        (status, place)
        for status in NoteStatus
        for place in places
        if (status, place) in book._index and note.id in book.where(status, place)
    ]


@pytest.mark.parametrize(("before", "move"), sorted(NOTE_MOVES, key=str))
def test_a_move_in_the_table_lands_the_note_in_one_index(before: NoteStatus, move: Move) -> None:
    book = NoteBook(ROOMS)
    note = note_in(book, before)
    note.destination = "iran" if move in (Move.RETURN, Move.DECLINE) else "usa"
    book.move(note, move)
    assert note.status is NOTE_MOVES[(before, move)]
    assert len(indexed_in(book, note)) == 1
    assert indexed_in(book, note)[0][0] is note.status


@pytest.mark.parametrize(
    ("before", "move"),
    [(status, move) for status in NoteStatus for move in Move if (status, move) not in NOTE_MOVES],
)
def test_a_move_not_in_the_table_is_refused_naming_it(before: NoteStatus, move: Move) -> None:
    book = NoteBook(ROOMS)
    note = note_in(book, before, note_id=7)
    with pytest.raises(LocalProtocolError) as refused:
        book.move(note, move)
    assert str(refused.value) == f"cannot {move.value} note 7: it is {before}"
    assert note.status is before and len(indexed_in(book, note)) == 1


def test_the_named_indexes_are_the_books_own_and_keep_entry_order() -> None:
    book = NoteBook(ROOMS)
    first, second = note_in(book, NoteStatus.WAITING, 1), note_in(book, NoteStatus.WAITING, 2)
    assert list(book.waiting["iran"]) == [1, 2]
    book.move(first, Move.HAND_OVER)
    book.move(second, Move.HAND_OVER)
    first.condition = ("answered", 2)
    book.move(first, Move.HOLD)
    assert list(book.held_on_condition) == [1] and list(book.with_mediator) == [2]
    book.move(first, Move.RELEASE)  # back at the end of the line
    assert list(book.with_mediator) == [2, 1]
    book.move(second, Move.HOLD)  # without a condition: held, but not on a condition
    assert list(book.held_on_condition) == [] and list(book.where(NoteStatus.HELD, False)) == [2]
    assert [n.id for n in book.in_flight()] == [1, 2]
