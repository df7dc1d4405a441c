"""The outbox: messages to post, each sent once, in order per conversation."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Integer, String, bindparam, func, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.ports import OutboxEntry, OutboxStats
from bot.domain.messages import OutboundMessage, OutboxItem, Settled
from storage.models import OutboxRow, UtcDateTime
from storage.repositories.common import dialect_insert, skip_locked

_OUTBOX = OutboxRow.__table__

# One UPDATE for every way a claimed message ends; what a kind leaves alone is passed as NULL and kept by COALESCE.
_SETTLE = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == bindparam("b_id"))
    .values(
        status=bindparam("b_status"),
        sent_at=bindparam("b_sent_at", type_=UtcDateTime()),
        sent_activity_id=func.coalesce(bindparam("b_activity_id", type_=String()), _OUTBOX.c.sent_activity_id),
        next_attempt_at=func.coalesce(bindparam("b_next_attempt_at", type_=UtcDateTime()), _OUTBOX.c.next_attempt_at),
        last_error=func.coalesce(bindparam("b_error", type_=String()), _OUTBOX.c.last_error),
        claimed_until=None,
        attempts=_OUTBOX.c.attempts + bindparam("b_attempted", type_=Integer()),
    )
)


def _settled_values(result: Settled) -> dict[str, object]:
    sent, retry = result.kind == "sent", result.kind == "retry"
    return {
        "b_id": result.item_id,
        "b_status": "pending" if retry else result.kind,
        "b_sent_at": result.at if sent else None,
        "b_activity_id": result.activity_id if sent else None,
        "b_next_attempt_at": result.at if retry else None,
        "b_error": None if sent else result.error,
        "b_attempted": int(result.attempted),
    }


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

    async def enqueue_many(self, messages: list[OutboundMessage], *, now: datetime) -> int:
        """`enqueue` for many messages in one round trip; how many were new.

        One statement with parameters, compiled once (SQLAlchemy batches the rows into multi-row VALUES itself): a
        VALUES list built per call was compiled per call, a third of planning 500 reminders.
        """
        if not messages:
            return 0
        rows = [
            {
                "dedupe_key": m.dedupe_key, "war_room_id": m.war_room_id, "tenant_id": m.tenant_id, "service_url": m.service_url,
                "kind": m.kind, "conversation_id": m.conversation_id, "bot_id": m.bot_id, "payload": {"card": m.card},
                "status": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now,
            }
            for m in messages
        ]
        statement = dialect_insert(self._session, _OUTBOX).on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(_OUTBOX.c.id)
        return len((await self._session.execute(statement, rows)).all())

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

    async def settle(self, results: Sequence[Settled]) -> None:
        """Record how claimed messages ended, one statement for all of them (executemany: one round trip)."""
        if results:
            await self._session.execute(_SETTLE, [_settled_values(result) for result in results])

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
