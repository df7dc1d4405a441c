"""The figures behind each card's chart (bot/domain/charts.py), kept so that its link shows the same picture."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.charts import ChartSeries
from storage.models import ChartSnapshotRow
from storage.repositories.common import dialect_insert


class ChartSnapshotRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def keep(self, war_room_id: int, series: ChartSeries, *, now: datetime) -> int:
        """The id of these figures in this war room, stored now unless they were before (by any replica)."""
        stored = series.model_dump(mode="json")
        digest = hashlib.sha256(json.dumps(stored, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
        await self._session.execute(
            dialect_insert(self._session, ChartSnapshotRow)
            .values(war_room_id=war_room_id, digest=digest, series=stored, created_at=now)
            .on_conflict_do_nothing(index_elements=["war_room_id", "digest"])
        )
        found = select(ChartSnapshotRow.id).where(ChartSnapshotRow.war_room_id == war_room_id, ChartSnapshotRow.digest == digest)
        return (await self._session.execute(found)).scalar_one()

    async def get(self, war_room_id: int, snapshot_id: int) -> ChartSeries | None:
        """The figures kept as `snapshot_id`, if they are this war room's."""
        row = (
            await self._session.execute(
                select(ChartSnapshotRow.series).where(ChartSnapshotRow.id == snapshot_id, ChartSnapshotRow.war_room_id == war_room_id)
            )
        ).scalar_one_or_none()
        return None if row is None else ChartSeries.model_validate(row)
