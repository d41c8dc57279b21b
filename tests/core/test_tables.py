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
