"""The scheduler's "anything due?": one statement per tick, so an idle tick is one round trip, not one per pass."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.ports import DueWork, OutboxStats
from storage.models import IssueRow, OutboxRow, ProcessedActivityRow, WarRoomRow


class DueWorkRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def probe(self, now: datetime, *, purge_before: datetime, standups_until: datetime) -> DueWork:
        """Which passes have work, and the outbox gauges (stand-ups: due by `standups_until`, prepared ahead). Each answer is a superset of its pass's own query (a pass told
        "yes" may still find nothing: a row locked or claimed by another replica).

        No parameters: the earliest moments are read (`min` of an indexed column is one index probe, in any plan) and
        compared here, so that a generic plan (asyncpg prepares every statement) can never turn one into a scan.
        """
        pending = OutboxRow.status == literal("pending", literal_execute=True)
        row = (
            await self._session.execute(
                select(
                    select(func.min(IssueRow.next_due_at)).scalar_subquery().label("next_reminder"),
                    select(func.min(IssueRow.close_by)).scalar_subquery().label("next_closing"),
                    select(func.min(WarRoomRow.next_standup_at)).scalar_subquery().label("next_standup"),
                    select(func.min(OutboxRow.next_attempt_at)).where(pending).scalar_subquery().label("next_delivery"),
                    select(func.min(ProcessedActivityRow.received_at)).scalar_subquery().label("oldest_activity"),
                    select(func.count()).select_from(OutboxRow).where(pending).scalar_subquery().label("pending"),
                    select(func.count()).select_from(OutboxRow).where(OutboxRow.status == literal("failed", literal_execute=True))
                    .scalar_subquery().label("failed"),
                    select(func.min(OutboxRow.created_at)).where(pending).scalar_subquery().label("oldest"),
                )
            )
        ).one()

        def by(moment: datetime | None, limit: datetime, *, strictly: bool = False) -> bool:
            return moment is not None and (moment < limit if strictly else moment <= limit)

        return DueWork(
            reminders=by(row.next_reminder, now),
            closings=by(row.next_closing, now),
            standups=by(row.next_standup, standups_until),
            deliveries=by(row.next_delivery, now),
            purge=by(row.oldest_activity, purge_before, strictly=True),
            outbox=OutboxStats(pending=row.pending, failed=row.failed, oldest_pending_at=row.oldest),
        )
