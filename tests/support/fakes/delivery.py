"""Messages in and out: incoming activities claimed once, and the outbox (storage/repositories/activities.py, outbox.py)."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.domain.messages import OutboundMessage, OutboxItem, Settled
from bot.domain.ports import ActivityClaim, DueWork, OutboxEntry, OutboxStats
from tests.support.fakes.base import FakeRepository
from tests.support.fakes.store import ActivityClaimRecord, OutboxRecord


class FakeActivities(FakeRepository):
    async def claim(self, conversation_id: str, activity_id: str, *, now: datetime, lease: timedelta) -> ActivityClaim:
        claim = self._store.activities.get((conversation_id, activity_id))
        if claim is None:
            self._store.activities[(conversation_id, activity_id)] = ActivityClaimRecord(received_at=now)
            return "claimed"
        if claim.done_at is None and claim.received_at <= now - lease:
            claim.received_at = now  # its process died: this delivery takes it over
            return "claimed"
        return "busy" if claim.done_at is None else "done"

    async def finish(self, conversation_id: str, activity_id: str, *, claimed_at: datetime, now: datetime) -> bool:
        claim = self._claim_taken_at(conversation_id, activity_id, claimed_at)
        if claim is None:
            return False
        claim.done_at = now
        return True

    async def release(self, conversation_id: str, activity_id: str, *, claimed_at: datetime) -> None:
        if self._claim_taken_at(conversation_id, activity_id, claimed_at) is not None:
            del self._store.activities[(conversation_id, activity_id)]

    async def purge_received_before(self, cutoff: datetime) -> int:
        old = [key for key, claim in self._store.activities.items() if claim.received_at < cutoff]
        for key in old:
            del self._store.activities[key]
        return len(old)

    def _claim_taken_at(self, conversation_id: str, activity_id: str, claimed_at: datetime) -> ActivityClaimRecord | None:
        claim = self._store.activities.get((conversation_id, activity_id))
        return claim if claim is not None and claim.received_at == claimed_at and claim.done_at is None else None


class FakeOutbox(FakeRepository):
    async def enqueue(self, message: OutboundMessage, *, now: datetime) -> bool:
        if any(record.message.dedupe_key == message.dedupe_key for record in self._store.outbox.values()):
            return False
        self._store.outbox[max(self._store.outbox, default=0) + 1] = OutboxRecord(message=message, created_at=now, next_attempt_at=now)
        return True

    async def enqueue_many(self, messages: builtins.list[OutboundMessage], *, now: datetime) -> int:
        return sum([await self.enqueue(message, now=now) for message in messages])

    async def claim(self, now: datetime, *, limit: int, lease: timedelta) -> builtins.list[OutboxItem]:
        heads: dict[str, int] = {}
        for item_id, record in sorted(self._store.outbox.items()):
            if record.status == "pending":
                heads.setdefault(record.message.conversation_id, item_id)
        def due(record: OutboxRecord) -> bool:
            return record.next_attempt_at <= now and (record.claimed_until is None or record.claimed_until <= now)

        claimable = sorted(item_id for item_id in heads.values() if due(self._store.outbox[item_id]))[:limit]
        items = []
        for item_id in claimable:
            record = self._store.outbox[item_id]
            record.claimed_until = now + lease
            items.append(OutboxItem(**record.message.model_dump(), id=item_id, attempts=record.attempts))
        return items

    async def settle(self, results: Sequence[Settled]) -> None:
        for result in results:
            record = self._store.outbox[result.item_id]
            record.claimed_until = None
            record.attempts += 1 if result.attempted else 0
            if result.kind == "sent":
                record.status, record.sent_at, record.sent_activity_id = "sent", result.at, result.activity_id
            elif result.kind == "retry":
                record.next_attempt_at, record.last_error = result.at, result.error
            else:
                record.status, record.last_error, record.sent_at = "failed", result.error, None

    async def list(self, *, status: str, limit: int = 100) -> builtins.list[OutboxEntry]:
        return [
            OutboxEntry(
                id=item_id, dedupe_key=record.message.dedupe_key, conversation_id=record.message.conversation_id,
                status=record.status, attempts=record.attempts, created_at=record.created_at, sent_at=record.sent_at,
                last_error=record.last_error,
            )
            for item_id, record in sorted(self._store.outbox.items())
            if record.status == status
        ][:limit]

    async def stats(self) -> OutboxStats:
        pending = [record for record in self._store.outbox.values() if record.status == "pending"]
        failed = sum(1 for record in self._store.outbox.values() if record.status == "failed")
        return OutboxStats(
            pending=len(pending), failed=failed, oldest_pending_at=min((record.created_at for record in pending), default=None)
        )


class FakeDue(FakeRepository):
    async def probe(self, now: datetime, *, purge_before: datetime) -> DueWork:
        store = self._store
        return DueWork(
            reminders=any(due_at is not None and due_at <= now for _, due_at in store.reminders.values()),
            closings=any(issue.resolution is not None and issue.resolution.close_by is not None and issue.resolution.close_by <= now
                         for issue in store.issues.values()),
            standups=any(room.next_standup_at is not None and room.next_standup_at <= now for room in store.war_rooms.values()),
            deliveries=any(record.status == "pending" and record.next_attempt_at <= now for record in store.outbox.values()),
            purge=any(claim.received_at < purge_before for claim in store.activities.values()),
            outbox=await FakeOutbox(lambda: store).stats(),
        )
