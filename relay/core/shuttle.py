"""The shuttle's mechanics: what happens to notes as the mediator carries them.

Hand-over in the sender's room, the relay's write-up, the walk, delivery (or loss) in the
recipient's room, expiry, agreement. Each consults the delivery rules (:mod:`.rules`) at the
one moment the rule speaks to, and moves notes through the note table (:mod:`.notes`) only.
"""

from __future__ import annotations

from . import events as ev
from .config import Link
from .lifecycle import Phase
from .notes import Move, Note, NoteStatus
from .rules import distortion, duplication, loss, order, pouch, receipts, scope
from .state import ExerciseState, Travelling
from .timers import TimerKind

__all__ = ["Shuttle"]

_S = NoteStatus


class Shuttle(ExerciseState):
    """The courier's mechanics, a part of :class:`~relay.core.exercise.Exercise`."""

    def _finish(self, by: str, reason: str, note: Note | None = None) -> None:
        self.phase = Phase.ENDED
        self.outcome = self._emit(
            ev.ExerciseEnded.Draft(
                by=by,
                reason=reason,
                note=note.id if note else None,
                terms=dict(note.carried["terms"]) if note is not None else None,
            )
        )

    def _hand_over(self, room: str) -> None:
        link = self._from[room]
        tells = receipts.tells(link, "handed_over")
        for note in list(self.book.waiting[room].values()):
            reading_s = self.draws.delay("reading", link.name, link.reading)
            note.ready_at = self._in_order(link, self.now + reading_s)
            self.book.move(note, Move.HAND_OVER)
            if note.in_reply_to is not None and note.kind == "reply":
                self._answered.add(note.in_reply_to)
            self._emit(
                ev.NoteHandedOver.Draft(
                    note=note.id,
                    sender=note.sender,
                    reading_s=reading_s,
                    ready_at=note.ready_at,
                    **note.as_written(),
                )
            )
            if note.ready_at > self.now:
                self._timers.set(note.ready_at, TimerKind.READY, note.id)
            if tells:
                self._receipt(note, "handed_over")

    def _carry(
        self, by: str, note: Note, text: str, tags: list[str], terms: dict[str, float]
    ) -> None:
        recipient = self._others[note.sender]
        link = self._to[recipient]
        paraphrased = (text, tags, terms) != (note.text, note.tags, note.terms)
        drafting_s = self.draws.delay("drafting", link.name, link.drafting) if paraphrased else 0.0
        ready_at = self._in_order(link, self.now + drafting_s)
        read_text, read_tags, read_terms, distortions = distortion.distort(
            link, text, tags, terms, self._agenda, self.draws
        )
        flags = scope.flags(link, recipient, self._refuses[recipient], read_tags)
        note.carried = {"text": read_text, "tags": read_tags, "terms": read_terms, "flags": flags}
        note.drafted_at = ready_at
        if note.is_offer:
            self._last_offer[note.sender] = note.id
        note.destination, note.outcome = recipient, "relayed"
        self.book.move(note, Move.RELAY)
        self._emit(
            ev.NoteRelayed.Draft(
                by=by,
                note=note.id,
                recipient=recipient,
                text=text,
                tags=list(tags),
                terms=dict(terms),
                paraphrased=paraphrased,
                flags=list(flags),
                drafting_s=drafting_s,
                ready_at=ready_at,
                distortions=distortions,
            )
        )
        if ready_at > self.now:
            self._timers.set(ready_at, TimerKind.DRAFTED, note.id)
        else:
            self.book.move(note, Move.DRAFTED)

    def _depart(self, by: str, destination: str) -> None:
        assert isinstance(self.location, str)
        link = self._to[destination]
        travel_s = self.draws.delay("travel", link.name, link.travel)
        arrives = self.now + travel_s
        self._emit(
            ev.MediatorDeparted.Draft(
                by=by,
                origin=self.location,
                destination=destination,
                travel_s=travel_s,
                arrives_at=arrives,
            )
        )
        self.location = Travelling(self.location, destination, arrives)
        self._timers.set(arrives, TimerKind.ARRIVE)

    def _deliver(self, room: str) -> None:
        link, book = self._to[room], self.book
        pending = [*book.left_behind[room].values(), *book.outbound[room].values()]
        handed_out, later = pouch.load(link, pending, self._unpacked)
        for note in later:
            if note.status is _S.OUTBOUND:
                book.move(note, Move.MISS_POUCH)
        self._unpacked += len(handed_out)
        for note in handed_out:
            relayed = note.outcome == "relayed"
            if relayed and loss.lost(link, self.draws):
                book.move(note, Move.LOSE)
                self._emit(ev.NoteLost.Draft(note=note.id, recipient=room, sender=note.sender))
                continue
            copies = duplication.copies(link, self.draws) if relayed else 1
            book.move(note, Move.DELIVER)
            self._known[room].add(note.id)
            for copy in range(copies):
                self._emit(
                    ev.NoteDelivered.Draft(
                        note=note.id,
                        recipient=room,
                        sender=note.sender,
                        outcome=note.outcome or "relayed",
                        kind=note.kind,
                        text=note.carried["text"],
                        tags=list(note.carried["tags"]),
                        terms=dict(note.carried["terms"]),
                        in_reply_to=note.in_reply_to,
                        answer=note.answer,
                        comment=note.comment,
                        flags=list(note.carried.get("flags", [])),
                        duplicate=copy > 0,
                    )
                )
            if relayed:
                if receipts.tells(self._from[note.sender], "delivered"):
                    self._receipt(note, "delivered")
                if note.answer == "accept" and self._agreed(note):
                    return

    def _unhold(self, note: Note, by: str) -> None:
        self.book.move(note, Move.RELEASE)
        self._emit(ev.NoteReleased.Draft(by=by, note=note.id))

    def _expire(self, note: Note) -> None:
        """An offer's time is up: withdrawn if still in flight, no longer acceptable if not."""
        if note.status is _S.LOST or note.expires_at != self.now:
            return
        delivered = note.status is _S.DELIVERED
        unseen = note.status is _S.WAITING
        if not delivered:
            self.book.move(note, Move.EXPIRE)
        note.lapsed = True
        self._emit(
            ev.NoteExpired.Draft(
                by=ev.CLOCK,
                note=note.id,
                sender=note.sender,
                recipient=self.other(note.sender),
                delivered=delivered,
                unseen=unseen,
            )
        )

    def _agreed(self, note: Note) -> bool:
        """An accept delivered to the proposer closes the deal on the terms the acceptor read."""
        if note.kind != "reply" or note.answer != "accept" or note.in_reply_to is None:
            return False
        self._finish(ev.CORE, "agreement", self.notes[note.in_reply_to])
        return True

    def _in_order(self, link: Link, ready_at: float) -> float:
        ready_at, remember = order.in_order(link, ready_at, self._last_ready.get(link.name))
        if remember:
            self._last_ready[link.name] = ready_at
        return ready_at

    def _receipt(self, note: Note, status: str) -> None:
        """Tell the sender how its note fares (callers check its link's receipts rule)."""
        self._emit(ev.NoteReceipt.Draft(note=note.id, recipient=note.sender, status=status))
