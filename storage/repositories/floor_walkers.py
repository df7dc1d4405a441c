"""Floor walkers of a war room: the areas, weekdays and site of each."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.floor import FloorWalker
from bot.domain.model import Area, Person
from storage.models import FloorWalkerRow
from storage.repositories.common import dialect_insert


class FloorWalkerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def list(self, war_room_id: int) -> list[FloorWalker]:
        rows = await self._session.execute(
            select(FloorWalkerRow).where(FloorWalkerRow.war_room_id == war_room_id).order_by(FloorWalkerRow.name)
        )
        return [_to_walker(row) for row in rows.scalars()]

    async def put(self, war_room_id: int, walker: FloorWalker, *, by: Person, now: datetime) -> None:
        """Add the floor walker, or replace what is stored about them."""
        assert walker.person.aad_object_id
        values = {
            "name": walker.person.name,
            "areas": ",".join(area.value for area in walker.areas),
            "days": ",".join(str(day) for day in sorted(walker.days)) if walker.days is not None else None,
            "site": walker.site,
            "added_by_name": by.name,
            "added_at": now,
        }
        statement = (
            dialect_insert(self._session, FloorWalkerRow)
            .values(war_room_id=war_room_id, aad_object_id=walker.person.aad_object_id, **values)
            .on_conflict_do_update(index_elements=["war_room_id", "aad_object_id"], set_=values)
        )
        await self._session.execute(statement)

    async def remove(self, war_room_id: int, aad_object_id: str) -> bool:
        result = await self._session.execute(
            delete(FloorWalkerRow).where(FloorWalkerRow.war_room_id == war_room_id, FloorWalkerRow.aad_object_id == aad_object_id)
        )
        return result.rowcount == 1


def _to_walker(row: FloorWalkerRow) -> FloorWalker:
    return FloorWalker(
        person=Person(aad_object_id=row.aad_object_id, name=row.name),
        areas=tuple(Area(value) for value in row.areas.split(",") if value),
        days=frozenset(int(day) for day in row.days.split(",") if day) if row.days is not None else None,
        site=row.site,
    )
