"""The live driver: the core of each exercise, run against the wall clock and the journal store.

Its parts, each in its own module:

| module | what |
|---|---|
| ``relay/clock.py`` | ``ExerciseClock``: exercise time from the wall clock |
| ``relay/inbox.py`` | ``Inbox``: seat commands queued for an exercise's next step; ``Applied`` |
| ``relay/live_exercise.py`` | ``LiveExercise``: step, commit, publish, subscribe, timers |
| ``relay/frames.py`` | ``event_frame``: the text every seat that sees an event gets |
| ``relay/recovery.py`` | ``load``: rebuild from the journal, check, catch up after a restart |
| ``relay/importing.py`` | ``check_import``: a journal file as a new exercise |
| ``relay/hub.py`` | ``ExerciseHub``: every exercise of this process; tokens |
| ``relay/gcpause.py`` | keeping the long-lived journals out of full collections |

This module names what the rest of the relay uses from them.
"""

from __future__ import annotations

from relay.clock import ExerciseClock
from relay.frames import Close, Outgoing
from relay.hub import NO_SEAT, ExerciseHub, hash_token
from relay.importing import ImportedJournal, check_import
from relay.inbox import Applied, Reply
from relay.live_exercise import LiveExercise, Subscriber

__all__ = [
    "NO_SEAT",
    "Applied",
    "Close",
    "ExerciseClock",
    "ExerciseHub",
    "ImportedJournal",
    "LiveExercise",
    "Outgoing",
    "Reply",
    "Subscriber",
    "check_import",
    "hash_token",
]
