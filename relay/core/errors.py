"""Errors of the shuttle core, in one tree.

    ShuttleError
    ├── LocalProtocolError      the driver misused the core (time ran backwards, bad replay);
    │                           a bug in our own adapter: HTTP 500, websocket close 1011
    └── RuleViolation           a seat asked for something the rules forbid; the seat gets an
        │                       error frame naming it and the exercise goes on
        ├── NotPermitted        this seat's role may not do that                (403, "forbidden")
        ├── DirectChannel       a party tried to address the other party
        │                                                           (403, "no_direct_channel")
        ├── WrongState          not now: the exercise or the note is in the wrong state
        │                                                                       (409, "wrong_state")
        ├── OutOfScope          the recipient refuses an agenda item the note is tagged with
        │                                                                (409, "out_of_scope")
        ├── UnknownNote         no such note, or not one this seat knows       (404, "unknown_note")
        └── InvalidCommand      the command's arguments are malformed: a room that does not
            │                   exist, a hold condition or batch that makes no sense
            │                                                        (422, "invalid_command")
            └── InvalidNote     the note itself is malformed                   (422, "invalid_note")

Each class carries the HTTP status and the machine-readable ``code`` the adapters send, so a
mapping table never has to be kept in step with the tree by hand.
"""

from __future__ import annotations

__all__ = [
    "DirectChannel",
    "InvalidCommand",
    "InvalidNote",
    "LocalProtocolError",
    "NotPermitted",
    "OutOfScope",
    "RuleViolation",
    "ShuttleError",
    "UnknownNote",
    "WrongState",
]


class ShuttleError(Exception):
    status: int = 500
    code: str = "internal"


class LocalProtocolError(ShuttleError):
    """The caller of the core broke its contract (not a seat's fault)."""


class RuleViolation(ShuttleError):
    """A seat's request breaks the rules of the exercise; refused, nothing changed."""

    status = 400
    code = "rule_violation"


class NotPermitted(RuleViolation):
    status = 403
    code = "forbidden"


class DirectChannel(RuleViolation):
    status = 403
    code = "no_direct_channel"


class WrongState(RuleViolation):
    status = 409
    code = "wrong_state"


class OutOfScope(RuleViolation):
    status = 409
    code = "out_of_scope"


class UnknownNote(RuleViolation):
    status = 404
    code = "unknown_note"


class InvalidCommand(RuleViolation):
    status = 422
    code = "invalid_command"


class InvalidNote(InvalidCommand):
    code = "invalid_note"
