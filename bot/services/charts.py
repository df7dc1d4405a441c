"""A card's chart: its figures kept when the card is made, and drawn from them while the link may be seen."""

from __future__ import annotations

from datetime import datetime

from bot.domain.charts import ChartSeries, chart_viewable
from bot.domain.metrics import day_figures
from bot.domain.ports import UnitOfWork
from bot.domain.results import Applied, NotFound, Refused
from bot.domain.war_room import WarRoom


async def keep_chart_of(uow: UnitOfWork, room: WarRoom, *, now: datetime) -> int:
    """Inside an open unit of work: keep the figures of `room`'s chart as of `now`; their id."""
    issues = await uow.issues.briefs(room.id)
    return await uow.charts.keep(room.id, ChartSeries.of(day_figures(issues, room.settings, now)), now=now)


async def keep_chart(*, uow: UnitOfWork, now: datetime, war_room_id: int, series: ChartSeries | None = None) -> int:
    """Keep a card's chart: `series` when the caller has it already, else the war room's figures as of `now`."""
    async with uow:
        if series is None:
            snapshot_id = await keep_chart_of(uow, await uow.war_rooms.get(war_room_id), now=now)
        else:
            snapshot_id = await uow.charts.keep(war_room_id, series, now=now)
        await uow.commit()
    return snapshot_id


async def chart_to_draw(
    *, uow: UnitOfWork, now: datetime, war_room_id: int, snapshot_id: int
) -> Applied[ChartSeries] | Refused[ChartSeries] | NotFound:
    """The figures of a card's chart; refused once the war room ended more than 90 days ago."""
    async with uow:
        room = await uow.war_rooms.by_reference(str(war_room_id))
        series = await uow.charts.get(war_room_id, snapshot_id) if room is not None else None
    if room is None or series is None:
        return NotFound(reason="no such chart")
    if not chart_viewable(signed_off_at=room.signed_off_at, now=now):
        return Refused(reason="this chart is no longer kept: its war room ended more than 90 days ago")
    return Applied(subject=series)
