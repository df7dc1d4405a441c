"""Who belongs to which war room, and which war room each person last chose in their personal chat."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.model import Person
from storage.models import WarRoomMemberRow
from storage.repositories.common import dialect_insert


class MemberRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, war_room_id: int, people: Sequence[Person], *, via: str, now: datetime) -> None:
        """Add the people (those Teams gave an object id) who are not members yet; members stay as they are."""
        rows = {
            person.aad_object_id: {
                "war_room_id": war_room_id, "aad_object_id": person.aad_object_id, "name": person.name[:200], "via": via,
                "added_at": now,
            }
            for person in people
            if person.aad_object_id
        }
        if not rows:
            return
        statement = dialect_insert(self._session, WarRoomMemberRow).on_conflict_do_nothing(
            index_elements=["war_room_id", "aad_object_id"]
        )
        await self._session.execute(statement, list(rows.values()))

    async def remove(self, war_room_id: int, aad_object_ids: Sequence[str]) -> None:
        if aad_object_ids:
            await self._session.execute(
                delete(WarRoomMemberRow).where(
                    WarRoomMemberRow.war_room_id == war_room_id, WarRoomMemberRow.aad_object_id.in_(list(aad_object_ids))
                )
            )

    async def choose(self, war_room_id: int, aad_object_id: str, *, now: datetime) -> None:
        """This war room is the person's choice from now on; any earlier choice is forgotten (so two choices at the
        same instant still leave one)."""
        person = WarRoomMemberRow.aad_object_id == aad_object_id
        await self._session.execute(
            update(WarRoomMemberRow).where(person, WarRoomMemberRow.war_room_id != war_room_id).values(chosen_at=None)
        )
        await self._session.execute(
            update(WarRoomMemberRow).where(person, WarRoomMemberRow.war_room_id == war_room_id).values(chosen_at=now)
        )
