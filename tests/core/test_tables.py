"""The core's lookup tables agree with the command and event vocabulary they stand for."""

from __future__ import annotations

from dataclasses import dataclass, fields

from relay.core import commands as cmd
from relay.core import events as ev
from relay.core.exercise import _HANDLERS
from relay.core.lifecycle import CONTROL_EVENTS


def test_every_command_has_a_handler() -> None:
    assert set(_HANDLERS) == set(cmd.EVENT_OF) | {cmd.Batch}


def test_lifecycle_commands_journal_the_event_the_vocabulary_names() -> None:
    for command, event in CONTROL_EVENTS.items():
        assert cmd.EVENT_OF[command] is event


def test_events_take_seq_and_at_first_then_their_payload_in_data_order() -> None:
    for cls in ev.EVENT_TYPES.values():
        names = [f.name for f in fields(cls)]
        assert names[:2] == ["seq", "at"]
        assert tuple(names[2:]) == ev.payload_fields(cls)


def test_a_subclass_of_an_event_puts_its_own_fields_in_data_too() -> None:
    @dataclass(frozen=True, slots=True)
    class Annotated(ev.MediatorArrived):
        note: str = ""

    event = Annotated(3, 1.5, "usa", note="knocked twice")
    assert event.to_data() == {"room": "usa", "note": "knocked twice"}
    assert ev.MediatorArrived(3, 1.5, "usa").to_data() == {"room": "usa"}


def test_every_event_type_says_who_sees_it_and_how_the_transcript_shows_it() -> None:
    from clients.transcript import LINES

    for cls in ev.EVENT_TYPES.values():
        assert isinstance(cls.__dict__.get("SEEN_BY"), ev.Audience), cls.TYPE
        audience = cls.SEEN_BY
        named = [name for name in (audience.party, audience.also, audience.also_when) if name]
        fields_ = ev.payload_fields(cls)
        assert all(name == ev.EVERY_PARTY or name in fields_ for name in named), cls.TYPE
    assert set(LINES) == set(ev.EVENT_TYPES.values())


def test_an_event_class_without_an_audience_is_for_the_control_room_only() -> None:
    from relay.core import visible_to

    @dataclass(frozen=True, slots=True)
    class Whisper(ev.Event):
        TYPE = "test.whisper"
        seq: int
        at: float
        recipient: str

    whisper = Whisper(1, 0.0, "iran")
    assert [visible_to(seat, role, whisper) for seat, role in SEATS] == [
        False,
        False,
        True,
        True,
    ]


SEATS = [
    ("iran", "party"),
    ("mediator", "mediator"),
    ("facilitator", "facilitator"),
    ("x", "observer"),
]
