"""Who holds which role in a war room."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.model import Person, Role
from storage.models import WarRoomRoleRow
from storage.repositories.common import dialect_insert


_ROLES = WarRoomRoleRow.__table__
# Read for every card drawn and every permission asked: built once, the values as parameters, plain rows (no ORM).
_HELD = select(_ROLES.c.role).where(
    _ROLES.c.war_room_id == bindparam("war_room_id"), _ROLES.c.aad_object_id == bindparam("aad_object_id")
)
_MEMBERS = (
    select(_ROLES.c.aad_object_id, _ROLES.c.name, _ROLES.c.role)
    .where(_ROLES.c.war_room_id == bindparam("war_room_id"))
    .order_by(_ROLES.c.role, _ROLES.c.name)
)


class RoleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def of(self, war_room_id: int, aad_object_id: str | None) -> frozenset[Role]:
        if not aad_object_id:
            return frozenset()
        rows = await self._session.execute(_HELD, {"war_room_id": war_room_id, "aad_object_id": aad_object_id})
        return frozenset(Role(role) for role in rows.scalars())

    async def grant(self, war_room_id: int, person: Person, role: Role, *, by: Person, now: datetime) -> bool:
        """False when the person already had the role."""
        assert person.aad_object_id
        statement = (
            dialect_insert(self._session, WarRoomRoleRow)
            .values(
                war_room_id=war_room_id, aad_object_id=person.aad_object_id, role=role.value, name=person.name,
                granted_by_name=by.name, granted_at=now,
            )
            .on_conflict_do_nothing(index_elements=["war_room_id", "aad_object_id", "role"])
        )
        return (await self._session.execute(statement)).rowcount == 1

    async def revoke(self, war_room_id: int, aad_object_id: str, role: Role) -> bool:
        result = await self._session.execute(
            delete(WarRoomRoleRow).where(
                WarRoomRoleRow.war_room_id == war_room_id,
                WarRoomRoleRow.aad_object_id == aad_object_id,
                WarRoomRoleRow.role == role.value,
            )
        )
        return result.rowcount == 1

    async def holders(self, war_room_ids: set[int], role: Role) -> dict[int, tuple[Person, ...]]:
        """Who holds `role` in each of these war rooms."""
        rows = await self._session.execute(
            select(WarRoomRoleRow.war_room_id, WarRoomRoleRow.aad_object_id, WarRoomRoleRow.name)  # plain rows, not ORM objects
            .where(WarRoomRoleRow.war_room_id.in_(war_room_ids), WarRoomRoleRow.role == role.value)
            .order_by(WarRoomRoleRow.name)
        )
        found: dict[int, list[Person]] = {}
        for row in rows:
            found.setdefault(row.war_room_id, []).append(Person(aad_object_id=row.aad_object_id, name=row.name))
        return {war_room_id: tuple(people) for war_room_id, people in found.items()}

    async def members(self, war_room_id: int) -> list[tuple[Person, Role]]:
        rows = await self._session.execute(_MEMBERS, {"war_room_id": war_room_id})
        return [(Person(aad_object_id=row.aad_object_id, name=row.name), Role(row.role)) for row in rows]
