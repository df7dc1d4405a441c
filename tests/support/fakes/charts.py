"""The figures behind cards' charts, kept once per war room (storage/repositories/charts.py)."""

from __future__ import annotations

from datetime import datetime

from bot.domain.charts import ChartSeries
from tests.support.fakes.base import FakeRepository


class FakeChartSnapshots(FakeRepository):
    async def keep(self, war_room_id: int, series: ChartSeries, *, now: datetime) -> int:
        for snapshot_id, (room_id, kept) in self._store.charts.items():
            if (room_id, kept) == (war_room_id, series):
                return snapshot_id
        snapshot_id = max(self._store.charts, default=0) + 1
        self._store.charts[snapshot_id] = (war_room_id, series)
        return snapshot_id

    async def get(self, war_room_id: int, snapshot_id: int) -> ChartSeries | None:
        room_id, series = self._store.charts.get(snapshot_id, (None, None))
        return series if room_id == war_room_id else None
