"""The scheduler's "anything due?": one statement per tick, so an idle tick is one round trip, not one per pass."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.ports import DueWork, OutboxStats
from storage.models import IssueRow, OutboxRow, ProcessedActivityRow, WarRoomRow


class DueWorkRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def probe(self, now: datetime, *, purge_before: datetime) -> DueWork:
        """Which passes have work, and the outbox gauges, each condition a superset of its pass's own query (a pass
        told "yes" may still find nothing: a row locked or claimed by another replica), each read by an index."""
        pending = OutboxRow.status == literal("pending", literal_execute=True)
        row = (
            await self._session.execute(
                select(
                    exists().where(IssueRow.next_due_at <= now).label("reminders"),
                    exists().where(WarRoomRow.next_standup_at <= now).label("standups"),
                    exists().where(pending, OutboxRow.next_attempt_at <= now).label("deliveries"),
                    exists().where(ProcessedActivityRow.received_at < purge_before).label("purge"),
                    select(func.count()).where(pending).scalar_subquery().label("pending"),
                    select(func.count()).where(OutboxRow.status == literal("failed", literal_execute=True))
                    .scalar_subquery().label("failed"),
                    select(func.min(OutboxRow.created_at)).where(pending).scalar_subquery().label("oldest"),
                )
            )
        ).one()
        return DueWork(
            reminders=bool(row.reminders),
            standups=bool(row.standups),
            deliveries=bool(row.deliveries),
            purge=bool(row.purge),
            outbox=OutboxStats(pending=row.pending, failed=row.failed, oldest_pending_at=row.oldest),
        )
