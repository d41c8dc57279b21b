"""Small builders for driving the shuttle core by hand in tests.

Time is always explicit: every helper that touches the core takes ``now``.
"""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

from relay.core import Exercise
from relay.core import commands as cmd
from relay.core import events as ev
from relay.core.exercise import FACILITATOR, MEDIATOR
from relay.rng import seeded_streams
from schemas.scenario import Scenario
from schemas.translate import change_rules, exercise_config

PARTIES = ("iran", "usa")
AGENDA = [
    {"id": "cap", "title": "Enrichment cap", "unit": "%", "min": 0, "max": 90},
    {"id": "relief", "title": "Sanctions relief", "unit": "%", "min": 0, "max": 100},
    {"id": "missiles", "title": "Missiles"},
]

_client_ids = itertools.count(1)


def other(party: str) -> str:
    return PARTIES[1] if party == PARTIES[0] else PARTIES[0]


def latency(spec: float | dict[str, Any]) -> dict[str, Any]:
    """A number is a Constant latency of that many seconds; a dict is used as is."""
    if isinstance(spec, dict):
        return spec
    return {"dist": "constant", "value": float(spec)}


def make_scenario(
    *,
    travel: float | dict[str, Any] = 60.0,
    reading: float | dict[str, Any] = 10.0,
    drafting: float | dict[str, Any] = 0.0,
    mediator: str = "auto",
    deadline: float | str | None = None,
    start_room: str | None = None,
    parties: tuple[str, str] = PARTIES,
    delivery: dict[str, Any] | None = None,
) -> Scenario:
    return Scenario.model_validate(
        {
            "id": "test",
            "title": "Test talks",
            "parties": [{"id": pid, "name": pid.upper()} for pid in parties],
            "mediator": {"mode": mediator, "start_room": start_room},
            "agenda": AGENDA,
            "latency": {
                "travel": latency(travel),
                "reading": latency(reading),
                "drafting": latency(drafting),
            },
            "deadline": deadline,
            **({"delivery": delivery} if delivery is not None else {}),
        }
    )


def make_core(
    *,
    travel: float | dict[str, Any] = 60.0,
    reading: float | dict[str, Any] = 10.0,
    drafting: float | dict[str, Any] = 0.0,
    mediator: str = "auto",
    deadline: float | str | None = None,
    start_room: str | None = None,
    seed: int = 7,
    start_at: float | None = 0.0,
    drain: bool = True,
    parties: tuple[str, str] = PARTIES,
    delivery: dict[str, Any] | None = None,
) -> Exercise:
    """A core for the test scenario, started at ``start_at`` (None: left in draft).

    With ``drain`` (the default) the created/started events are drained, so a test sees only
    what its own inputs cause.
    """
    scenario = make_scenario(
        travel=travel,
        reading=reading,
        drafting=drafting,
        mediator=mediator,
        deadline=deadline,
        start_room=start_room,
        parties=parties,
        delivery=delivery,
    )
    core = Exercise(exercise_config(scenario), seed=seed, rng=seeded_streams(seed))
    if start_at is not None:
        core.handle(cmd.Start(by=FACILITATOR), start_at)
    if drain:
        core.events()
    return core


def rules(core: Exercise, delivery: dict[str, Any], by: str = FACILITATOR) -> cmd.ChangeRules:
    """The command that puts ``delivery`` in force, translated as the adapters translate it."""
    return change_rules(core.config, by, delivery)


def drain_types(core: Exercise) -> list[str]:
    return [event.TYPE for event in core.events()]


def submit(core: Exercise, seat: str, now: float, **kw: Any) -> int:
    """Submit a note as ``seat`` at ``now``; returns the note number."""
    kw.setdefault("kind", "statement")
    kw.setdefault("text", f"a note from {seat}")
    kw.setdefault("client_id", f"c{next(_client_ids)}")
    core.handle(cmd.Submit(by=seat, **kw), now)
    note = core.note_for_client(seat, kw["client_id"])
    assert note is not None
    return note


def travel(core: Exercise, destination: str, now: float) -> None:
    core.handle(cmd.Travel(by=MEDIATOR, destination=destination), now)


def relay(core: Exercise, note: int, now: float, **kw: Any) -> None:
    core.handle(cmd.Relay(by=MEDIATOR, note=note, **kw), now)


def of_type(events: list[ev.Event], cls: type[ev.Event]) -> list[Any]:
    return [event for event in events if isinstance(event, cls)]


def snapshot(core: Exercise) -> tuple[Any, ...]:
    """Everything a refused command must leave untouched."""
    return (
        core.last_seq,
        core.phase,
        core.location,
        {nid: dataclasses.asdict(note) for nid, note in core.notes.items()},
        core.next_deadline(),
        core.outcome,
    )


def human_exercise(*, seed: int = 7) -> list[ev.Event]:
    """A whole human-mediator exercise using every mediator action; returns its journal.

    Travel 60 s, reading 10 s, mediator starts in iran's room, no deadline.
    """
    core = make_core(mediator="human", seed=seed, drain=False)
    # t=0 iran proposes cap 20 (#1) and writes a private note for the mediator (#2);
    #     both are handed over at once (the mediator is in iran's room), read by t=10
    submit(core, "iran", 0.0, kind="proposal", text=ORIGINAL, terms={"cap": 20.0}, tags=["cap"])
    submit(core, "iran", 0.0, kind="mediator_only", text="we could go lower")
    # t=1 iran asks a question (#3), read by t=11
    submit(core, "iran", 1.0, kind="question", text="will they discuss relief?")
    # t=11 the mediator holds #3 until t=30 (the clock releases it)
    core.handle(cmd.Hold(by=MEDIATOR, note=3, until=30.0), 11.0)
    # t=12 the mediator relays #1 paraphrased: cap 10, new words
    relay(core, 1, 12.0, text=PARAPHRASE, terms={"cap": 10.0})
    # t=13 the mediator declines #2 with a reason: delivered back to iran at once
    core.handle(cmd.Decline(by=MEDIATOR, note=2, reason="not for carrying"), 13.0)
    # t=31 the mediator returns #3 with a comment: delivered back to iran at once
    core.handle(cmd.Return(by=MEDIATOR, note=3, comment="please rephrase"), 31.0)
    # t=35 pause, t=38 resume (no timers pending)
    core.handle(cmd.Pause(by=FACILITATOR), 35.0)
    core.handle(cmd.Resume(by=FACILITATOR), 38.0)
    # t=40 usa writes #4 while the mediator is away: it waits in usa's room
    submit(core, "usa", 40.0, kind="statement", text="usa opening statement")
    # t=40 the mediator leaves for usa, arrives t=100: hands over #4 (ready 110), delivers #1
    travel(core, "usa", 40.0)
    # t=110 hold #4 (no limit); t=120 release; t=121 relay verbatim
    core.handle(cmd.Hold(by=MEDIATOR, note=4), 110.0)
    core.handle(cmd.Release(by=MEDIATOR, note=4), 120.0)
    relay(core, 4, 121.0)
    # t=130 usa accepts #1 as delivered (#5), handed over at once, read by t=140
    submit(
        core,
        "usa",
        130.0,
        kind="reply",
        answer="accept",
        in_reply_to=1,
        text="we accept note 1 as put to us",
        terms={"cap": 10.0},
        tags=["cap"],
    )
    # t=140 relay #5; t=150 leave for iran, arrive t=210: deliver #4, #5 -> agreement on cap 10
    relay(core, 5, 140.0)
    travel(core, "iran", 150.0)
    core.advance(300.0)
    return core.events()


ORIGINAL = "Iran proposes an enrichment cap of twenty percent"
PARAPHRASE = "Tehran could accept a cap of ten percent"
