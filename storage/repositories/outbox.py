"""The outbox: messages to post, each sent once, in order per conversation."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.ports import OutboxEntry, OutboxStats
from bot.domain.messages import OutboundMessage, OutboxItem
from storage.models import OutboxRow
from storage.repositories.common import dialect_insert, skip_locked


class OutboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def enqueue(self, message: OutboundMessage, *, now: datetime) -> bool:
        """False when a message with this dedupe key was enqueued before (by this or another replica)."""
        statement = (
            dialect_insert(self._session, OutboxRow)
            .values(
                dedupe_key=message.dedupe_key,
                war_room_id=message.war_room_id,
                tenant_id=message.tenant_id,
                service_url=message.service_url,
                kind=message.kind,
                conversation_id=message.conversation_id,
                bot_id=message.bot_id,
                payload={"card": message.card},
                status="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
        )
        return (await self._session.execute(statement)).rowcount == 1

    async def enqueue_many(self, messages: list[OutboundMessage], *, now: datetime, send_at: datetime | None = None) -> int:
        """`enqueue` for many messages in one statement; how many were new. `send_at`: not sent before (default `now`)."""
        if not messages:
            return 0
        statement = (
            dialect_insert(self._session, OutboxRow)
            .values(
                [
                    {
                        "dedupe_key": m.dedupe_key, "war_room_id": m.war_room_id, "tenant_id": m.tenant_id,
                        "service_url": m.service_url, "kind": m.kind, "conversation_id": m.conversation_id, "bot_id": m.bot_id,
                        "payload": {"card": m.card}, "status": "pending", "attempts": 0, "next_attempt_at": send_at or now, "created_at": now,
                    }
                    for m in messages
                ]
            )
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
        )
        return max((await self._session.execute(statement)).rowcount, 0)

    async def claim(self, now: datetime, *, limit: int, lease: timedelta) -> list[OutboxItem]:
        """Pending messages that are due, at most one per conversation (the oldest: order is kept), held for `lease`.

        One UPDATE … RETURNING, so two workers can never both take a row, whatever the database.
        """
        # The head of each conversation's queue (row_number, not an anti-join: linear in what is pending).
        queue = (
            select(
                OutboxRow.id,
                OutboxRow.next_attempt_at,
                OutboxRow.claimed_until,
                func.row_number().over(partition_by=OutboxRow.conversation_id, order_by=OutboxRow.id).label("position"),
            )
            # A literal, not a parameter: a generic plan (PostgreSQL) then knows it reads the few pending rows, by index.
            .where(OutboxRow.status == literal("pending", literal_execute=True))
            .subquery("queue")
        )
        heads = select(queue.c.id).where(
            queue.c.position == 1,
            queue.c.next_attempt_at <= now,
            or_(queue.c.claimed_until.is_(None), queue.c.claimed_until <= now),
        )
        # The row's own state is checked again where it is locked: under READ COMMITTED, PostgreSQL re-reads a row that
        # another worker changed since this statement's snapshot, but not the `heads` subquery. Without this, a head
        # that worker claimed, sent and committed meanwhile was claimed (and sent) a second time.
        claimable = skip_locked(
            select(OutboxRow.id)
            .where(
                OutboxRow.id.in_(heads),
                OutboxRow.status == literal("pending", literal_execute=True),
                OutboxRow.next_attempt_at <= now,
                or_(OutboxRow.claimed_until.is_(None), OutboxRow.claimed_until <= now),
            )
            .order_by(OutboxRow.id)
            .limit(limit)
        )
        rows = (
            await self._session.execute(
                update(OutboxRow)
                .where(OutboxRow.id.in_(claimable.scalar_subquery()))
                .values(claimed_until=now + lease)
                .returning(OutboxRow),
                execution_options={"synchronize_session": False},
            )
        ).scalars()
        return sorted((_to_outbox_item(row) for row in rows), key=lambda item: item.id)

    async def sent(self, item_id: int, *, activity_id: str | None, now: datetime) -> None:
        await self._session.execute(
            update(OutboxRow)
            .where(OutboxRow.id == item_id)
            .values(status="sent", sent_at=now, sent_activity_id=activity_id, claimed_until=None, attempts=OutboxRow.attempts + 1)
        )

    async def retry(self, item_id: int, *, at: datetime, error: str, attempted: bool = True) -> None:
        """Try again at `at`; `attempted=False` when it was only held back (rate limit), not tried."""
        await self._session.execute(
            update(OutboxRow)
            .where(OutboxRow.id == item_id)
            .values(
                next_attempt_at=at,
                claimed_until=None,
                last_error=error,
                attempts=OutboxRow.attempts + (1 if attempted else 0),
            )
        )

    async def failed(self, item_id: int, *, error: str, now: datetime) -> None:
        await self._session.execute(
            update(OutboxRow)
            .where(OutboxRow.id == item_id)
            .values(status="failed", last_error=error, claimed_until=None, attempts=OutboxRow.attempts + 1, sent_at=None)
        )

    async def list(self, *, status: str, limit: int = 100) -> list[OutboxEntry]:
        rows = (
            await self._session.execute(select(OutboxRow).where(OutboxRow.status == status).order_by(OutboxRow.id).limit(limit))
        ).scalars()
        return [
            OutboxEntry(
                id=row.id, dedupe_key=row.dedupe_key, conversation_id=row.conversation_id, attempts=row.attempts,
                created_at=row.created_at, sent_at=row.sent_at, last_error=row.last_error, status=row.status,
            )
            for row in rows
        ]

    async def stats(self) -> OutboxStats:
        """Two index-backed aggregates (status, then the pending rows only): cheap enough for every scheduler tick."""
        counts = dict(
            (
                await self._session.execute(
                    select(OutboxRow.status, func.count()).where(OutboxRow.status.in_(("pending", "failed"))).group_by(OutboxRow.status)
                )
            ).all()
        )
        # A literal: a generic plan (PostgreSQL) with the status as a parameter read the whole outbox.
        oldest = await self._session.scalar(
            select(func.min(OutboxRow.created_at)).where(OutboxRow.status == literal("pending", literal_execute=True))
        )
        return OutboxStats(pending=counts.get("pending", 0), failed=counts.get("failed", 0), oldest_pending_at=oldest)


def _to_outbox_item(row: OutboxRow) -> OutboxItem:
    return OutboxItem(
        id=row.id,
        attempts=row.attempts,
        dedupe_key=row.dedupe_key,
        war_room_id=row.war_room_id,
        tenant_id=row.tenant_id,
        service_url=row.service_url,
        kind=row.kind,  # type: ignore[arg-type]
        conversation_id=row.conversation_id,
        bot_id=row.bot_id,
        card=row.payload["card"],
    )
