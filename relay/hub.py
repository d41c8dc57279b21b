"""Every exercise one relay process serves: created, imported, loaded on demand, recovered.

    create / import_journal -> stored (record, seats with hashed tokens, first entries)
    get(id) -> the LiveExercise in memory, or loaded from the store (relay/recovery.py)
    recover() at start-up: every unfinished exercise this process owns (relay/shares.py)
    authenticate(id, token) -> the seat;  revoke(seat) -> its sockets closed

Tokens are stored and compared only as SHA-256 digests.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import logging
import secrets
import time
from collections.abc import Callable

from relay.core import Exercise, Phase
from relay.frames import Close
from relay.importing import ImportedJournal, check_import
from relay.live_exercise import LiveExercise
from relay.recovery import load
from relay.rng import seeded_streams
from relay.shares import WHOLE, Share
from relay.store import ExerciseRecord, JournalStore, SeatRecord
from schemas.scenario import Scenario
from schemas.translate import exercise_config

__all__ = ["NO_SEAT", "ExerciseHub", "hash_token"]

log = logging.getLogger("shuttle.live")


def hash_token(token: str) -> str:
    """Tokens are stored and compared only as SHA-256 digests."""
    return hashlib.sha256(token.encode()).hexdigest()


NO_SEAT = "no such exercise, or the token opens none of its seats (or was revoked)"
"""What a refused token is told, over REST and websockets alike. It names every cause, so
the user checks both the exercise id and the token, and nobody learns which exercises exist
(docs/security.md)."""


class ExerciseHub:
    """Every exercise this process serves, loaded from the store on demand."""

    def __init__(
        self, store: JournalStore, wall: Callable[[], float] = time.time, share: Share = WHOLE
    ) -> None:
        self.store = store
        self.wall = wall
        self.share = share  # the exercises this process serves (relay/shares.py)
        self._live: dict[str, LiveExercise] = {}
        self._loading = asyncio.Lock()

    async def create(
        self,
        scenario: Scenario,
        *,
        seed: int | None = None,
        speed: float = 1.0,
        title: str | None = None,
        observers: int = 1,
    ) -> tuple[LiveExercise, dict[str, str]]:
        """A new exercise in ``draft``; returns it and one fresh token per seat."""
        seed = secrets.randbits(48) if seed is None else seed
        core = Exercise(exercise_config(scenario), seed=seed, rng=seeded_streams(seed))
        exercise_id = self.share.new_id()
        record = ExerciseRecord(
            id=exercise_id,
            scenario=scenario.model_dump(mode="json"),
            seed=seed,
            speed=speed,
            created_wall=self.wall(),
            status=Phase.DRAFT.value,
            title=title or scenario.title,
        )
        tokens = await self._store_new(record, core, observers)
        live = LiveExercise(record, core, self.store, [], self.wall)
        await live.catch_up([])  # exercise.created
        self._live[exercise_id] = live
        gc.freeze()  # see relay/app.py: long-lived state stays out of full collections
        return live, tokens

    async def import_journal(
        self, text: str, where: str = "import"
    ) -> tuple[LiveExercise, dict[str, str]]:
        """A journal file as a new exercise (same entries, new id and tokens), checked first
        (see :func:`check_import`)."""
        return await self.store_import(check_import(text, where, self.wall, self.share.new_id))

    async def store_import(self, imported: ImportedJournal) -> tuple[LiveExercise, dict[str, str]]:
        """Store a journal :func:`check_import` accepted; returns the exercise and its tokens."""
        tokens = await self._store_new(imported.record, imported.core, 1)
        await self.store.append(imported.record.id, imported.entries)
        return await self.get(imported.record.id), tokens  # type: ignore[return-value]

    async def _store_new(
        self, record: ExerciseRecord, core: Exercise, observers: int
    ) -> dict[str, str]:
        seats = [*core.parties, "mediator", "facilitator"]
        seats += ["observer"] if observers == 1 else [f"observer-{i + 1}" for i in range(observers)]
        tokens = {seat: secrets.token_urlsafe(24) for seat in seats}
        await self.store.create_exercise(
            record,
            [
                SeatRecord(record.id, seat, core.role_of(seat), hash_token(token))
                for seat, token in tokens.items()
            ],
        )
        return tokens

    async def get(self, exercise_id: str) -> LiveExercise | None:
        live = self._live.get(exercise_id)
        if live is not None:
            return live
        if not self.share.owns(exercise_id):
            # The front process routes by path (relay/workers.py), so this is a bug: serving
            # it here too would give the exercise two cores writing one journal.
            raise RuntimeError(f"exercise {exercise_id} belongs to another relay process")
        async with self._loading:
            if exercise_id not in self._live:
                record = await self.store.get_exercise(exercise_id)
                if record is None:
                    return None
                try:
                    self._live[exercise_id] = await self.load(record)
                except Exception:  # every caller refuses to serve it; the log says why
                    log.exception("exercise %s cannot be served", exercise_id)
                    raise
                gc.freeze()
        return self._live[exercise_id]

    async def load(self, record: ExerciseRecord) -> LiveExercise:
        """Rebuild an exercise from its journal and catch up with the time spent down
        (:func:`relay.recovery.load`)."""
        return await load(record, self.store, self.wall)

    async def recover(self) -> int:
        """Load every unfinished exercise so its timers run again; returns how many."""
        count = 0
        for record in await self.store.list_exercises():
            if record.status == Phase.ENDED.value or record.id in self._live:
                continue
            if not self.share.owns(record.id):  # another relay process recovers it
                continue
            try:
                await self.get(record.id)
            except Exception:  # one bad journal must not keep the relay from serving the rest
                log.exception("exercise %s could not be recovered; it stays stopped", record.id)
                continue
            count += 1
        return count

    async def authenticate(self, exercise_id: str, token: str) -> SeatRecord | None:
        """The seat ``token`` opens in the exercise, or None (see :data:`NO_SEAT`)."""
        seat = await self.store.find_seat(exercise_id, hash_token(token))
        if seat is None or seat.revoked:
            return None
        return seat

    async def revoke(self, live: LiveExercise, seat: str, close: Close) -> int:
        """Revoke a seat's token for good and close its sockets at once; returns how many.

        The seat is marked in memory first, so a socket that authenticated a moment before
        cannot subscribe after the sockets were closed.
        """
        live.revoked.add(seat)
        await self.store.revoke_seat(live.id, seat)
        return live.disconnect(seat, close)

    async def close(self) -> None:
        for live in list(self._live.values()):
            await live.stop_timers()
        self._live.clear()
