"""Holds: a note kept back by the mediator until a time, until a condition holds, or until
released; and the automatic mediator's hold policy on a party -> mediator link.

Conditions name a note: ``delivered:N`` (note N reached its recipient) or ``answered:N`` (a
reply to note N was handed over). A condition on a note that was lost or lapsed holds at once:
what it waited for will never come.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass

from ..config import Link
from ..draws import Recorder
from ..errors import InvalidCommand

__all__ = ["Condition", "Hold", "condition_holds", "parse_condition", "policy_hold"]

Condition = tuple[str, int]
"""``("delivered" | "answered", note number)``."""


@dataclass(frozen=True, slots=True)
class Hold:
    """The hold policy's decision: until a time, or until a condition holds."""

    until: float | None = None
    condition: Condition | None = None

    @property
    def condition_text(self) -> str | None:
        return None if self.condition is None else f"{self.condition[0]}:{self.condition[1]}"


def parse_condition(text: str, exists: Container[int]) -> Condition:
    """``delivered:N`` or ``answered:N`` naming a note that ``exists``."""
    kind, _, number = text.partition(":")
    if kind not in ("delivered", "answered") or not number.isdigit():
        raise InvalidCommand(
            f"condition {text!r}: use delivered:N or answered:N with a note number"
        )
    if int(number) not in exists:
        raise InvalidCommand(f"condition {text!r}: there is no note {number}")
    return kind, int(number)


def condition_holds(condition: Condition, status: str, answered: bool) -> bool:
    """Whether ``condition`` holds, given the status of the note it names and whether a reply
    to that note was handed over."""
    if status in ("lost", "expired"):
        return True  # what it waited for will never come
    if condition[0] == "delivered":
        return status == "delivered"
    return answered


def policy_hold(
    link: Link, is_offer: bool, unanswered_offer: int | None, now: float, draws: Recorder
) -> Hold | None:
    """The link's hold policy for a note the automatic mediator has read: hold an offer while
    the sender's previous offer (``unanswered_offer``) is unanswered, or hold every note for a
    drawn delay. None: relay it now."""
    policy = link.hold
    if policy is None:
        return None
    if policy.until_answered and is_offer and unanswered_offer is not None:
        return Hold(condition=("answered", unanswered_offer))
    if policy.delay is not None:
        delay = draws.delay("hold", link.name, policy.delay)
        if delay > 0:
            return Hold(until=now + delay)
    return None
