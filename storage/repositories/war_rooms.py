"""War rooms: one per team (or chat), its settings, on-call, stand-up schedule, sign-off and issue numbers."""

from __future__ import annotations

import json
from collections import OrderedDict
from datetime import date, datetime
from typing import Any

from sqlalchemy import Text, bindparam, cast, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.model import Person, Role
from bot.domain.ports import NotAWarRoom
from bot.domain.events import Event
from bot.domain.war_room import OnCall, WarRoom, WarRoomSettings
from bot.domain.window import WarRoomKind, holds_standups
from bot.domain.messages import ConversationRef
from storage.models import WarRoomEventRow, WarRoomMemberRow, WarRoomRoleRow, WarRoomRow
from storage.repositories.common import dialect_insert, optional_person, skip_locked


_WAR_ROOMS = WarRoomRow.__table__
_ROLES = WarRoomRoleRow.__table__
# What a `WarRoom` is made of: the whole row but the issue counter (bumped by every new issue, and no part of a
# `WarRoom`; in the key of `MappedWarRooms` it made every report map its war room again).
_MAPPED_COLUMNS = [column for column in _WAR_ROOMS.c if column.name != "last_issue_number"]
# Those columns, the JSON ones as the text stored: the row as read is the key of `MappedWarRooms`.
_ROW_AS_STORED = select(
    *(cast(column, Text).label(column.name) if column.name in ("settings", "oncall") else column for column in _MAPPED_COLUMNS)
)
# The statements of a turn, built once with their values as parameters (building one per turn was a good part of
# SQLAlchemy's share of it).
_ROOM_BY_KEY = _ROW_AS_STORED.where(_WAR_ROOMS.c.key == bindparam("key"))
_ROOM_BY_ID = _ROW_AS_STORED.where(_WAR_ROOMS.c.id == bindparam("war_room_id"))
# The same row and the roles one person holds in that war room, comma-separated (NULL: none).
_ROOM_AND_ROLES_BY_KEY = _ROOM_BY_KEY.add_columns(
    select(func.aggregate_strings(_ROLES.c.role, ","))
    .where(_ROLES.c.war_room_id == _WAR_ROOMS.c.id, _ROLES.c.aad_object_id == bindparam("person"))
    .scalar_subquery()
    .label("roles_held")
)


class MappedWarRooms:
    """War rooms already mapped from their rows (settings and on-call parsed and checked), per process, keyed by the
    whole row as read.

    Every turn reads its war room's row; mapping it again (JSON, pydantic) was a good part of a turn's CPU. The key is
    the row's content, read in the same statement as always, so a change made anywhere (another replica, `hypercare
    settings`, a hand-edit) is a different key: nothing to invalidate, nothing stale, whatever the number of replicas.
    """

    def __init__(self, size: int = 512) -> None:
        self._size = size
        self._rooms: OrderedDict[tuple[Any, ...], WarRoom] = OrderedDict()

    def of(self, row: Any) -> WarRoom:
        key = tuple(row)[: len(_MAPPED_COLUMNS)]  # what follows the war room's columns (roles) is not the war room
        room = self._rooms.get(key)
        if room is None:
            room = _war_room(row, settings=_json(row.settings), oncall=_json(row.oncall))
            self._rooms[key] = room
            if len(self._rooms) > self._size:
                self._rooms.popitem(last=False)
        else:
            self._rooms.move_to_end(key)
        return room


class WarRoomRepository:
    def __init__(self, session: AsyncSession, mapped: MappedWarRooms | None = None) -> None:
        self._session = session
        self._mapped = mapped or MappedWarRooms(size=0)

    async def ensure(self, ref: ConversationRef, *, now: datetime) -> int:
        """The id of the conversation's war room, created on first contact."""
        return (await self.ensure_room(ref, now=now)).id

    async def ensure_room(self, ref: ConversationRef, *, now: datetime) -> WarRoom:
        """The conversation's war room, created on first contact.

        The first conversation becomes the war room's home, where its stand-ups are posted. A personal chat is
        never a war room (it acts in its person's, `ConversationRef.acting_in`): NotAWarRoom.
        """
        return self._mapped.of(await self._ensure_row(_ROOM_BY_KEY, {"key": ref.war_room_key}, ref, now))

    async def ensure_room_with_roles(
        self, ref: ConversationRef, *, now: datetime, aad_object_id: str | None
    ) -> tuple[WarRoom, frozenset[Role]]:
        """`ensure_room`, and the roles the person holds there, read in the same statement (one round trip fewer per
        click; and nothing cached, so a role granted or revoked on any replica counts at the next click)."""
        if not aad_object_id:
            return await self.ensure_room(ref, now=now), frozenset()
        row = await self._ensure_row(_ROOM_AND_ROLES_BY_KEY, {"key": ref.war_room_key, "person": aad_object_id}, ref, now)
        roles = frozenset(Role(role) for role in row.roles_held.split(",")) if row.roles_held else frozenset()
        return self._mapped.of(row), roles

    async def _ensure_row(self, query: Any, parameters: dict[str, Any], ref: ConversationRef, now: datetime) -> Any:
        # Plain rows (no ORM identity map on the hot path), mapped once per content (`MappedWarRooms`).
        row = (await self._session.execute(query, parameters)).one_or_none()
        if row is not None:
            return row  # the usual case: one indexed read
        if ref.is_personal:
            raise NotAWarRoom(f"conversation {ref.conversation_id} is a personal chat")
        kind = WarRoomKind.of(team_id=ref.team_id, conversation_type=ref.conversation_type)
        held = holds_standups(kind, set_up=False, signed_off=False)
        statement = (
            dialect_insert(self._session, WarRoomRow)
            .values(
                key=ref.war_room_key,
                tenant_id=ref.tenant_id,
                team_id=ref.team_id,
                name=ref.team_name[:200] if ref.team_name else None,
                last_issue_number=0,
                created_at=now,
                home_conversation_id=ref.base_conversation_id,
                home_channel_id=ref.channel_id,
                home_service_url=ref.service_url,
                bot_id=ref.bot_id,
                next_standup_at=WarRoomSettings().next_standup_at(now) if held else None,
                kind=kind.value,
            )
            .on_conflict_do_nothing(index_elements=["key"])
        )
        await self._session.execute(statement)
        return (await self._session.execute(query, parameters)).one()

    async def get(self, war_room_id: int) -> WarRoom:
        row = (await self._session.execute(_ROOM_BY_ID, {"war_room_id": war_room_id})).one_or_none()
        assert row is not None, f"war room {war_room_id} does not exist"
        return self._mapped.of(row)

    async def all(self) -> list[WarRoom]:
        return [_to_war_room(row) for row in (await self._session.execute(select(WarRoomRow).order_by(WarRoomRow.id))).scalars()]

    async def by_reference(self, reference: str) -> WarRoom | None:
        """A war room by its id or its key."""
        condition = WarRoomRow.id == int(reference) if reference.isdigit() else WarRoomRow.key == reference
        row = (await self._session.execute(select(WarRoomRow).where(condition))).scalar_one_or_none()
        return _to_war_room(row) if row is not None else None

    async def get_many(self, war_room_ids: set[int]) -> list[WarRoom]:
        # Plain rows mapped once per content, as `get`: a tick's reminders read hundreds of war rooms.
        rows = await self._session.execute(_ROW_AS_STORED.where(_WAR_ROOMS.c.id.in_(war_room_ids)))
        return [self._mapped.of(row) for row in rows]

    async def save_settings(self, war_room_id: int, settings: WarRoomSettings, *, next_standup_at: datetime | None) -> None:
        await self._session.execute(
            update(WarRoomRow)
            .where(WarRoomRow.id == war_room_id)
            .values(settings=settings.model_dump(mode="json"), next_standup_at=next_standup_at)
        )

    async def save_oncall(self, war_room_id: int, oncall: OnCall) -> None:
        await self._session.execute(
            update(WarRoomRow).where(WarRoomRow.id == war_room_id).values(oncall=oncall.model_dump(mode="json"))
        )

    async def name_if_unnamed(self, war_room_id: int, name: str) -> None:
        await self._session.execute(
            update(WarRoomRow).where(WarRoomRow.id == war_room_id, WarRoomRow.name.is_(None)).values(name=name[:200])
        )

    async def of_member(self, tenant_id: str | None, aad_object_id: str) -> tuple[list[WarRoom], int | None]:
        """The war rooms of this tenant the person belongs to, by name, and the one they chose (None if never)."""
        rows = (
            await self._session.execute(
                select(WarRoomRow, WarRoomMemberRow.chosen_at)
                .join(WarRoomMemberRow, WarRoomMemberRow.war_room_id == WarRoomRow.id)
                .where(
                    WarRoomMemberRow.aad_object_id == aad_object_id,
                    WarRoomRow.tenant_id.is_(None) if tenant_id is None else WarRoomRow.tenant_id == tenant_id,
                )
                .order_by(func.lower(func.coalesce(WarRoomRow.name, "")), WarRoomRow.id)
            )
        ).all()
        chosen = next((row.id for row, chosen_at in rows if chosen_at is not None), None)
        return [_to_war_room(row) for row, _ in rows], chosen

    async def set_home(self, war_room_id: int, ref: ConversationRef) -> None:
        """Stand-ups and announcements go to this channel (or chat) from now on."""
        await self._session.execute(
            update(WarRoomRow)
            .where(WarRoomRow.id == war_room_id)
            .values(
                home_conversation_id=ref.base_conversation_id, home_channel_id=ref.channel_id,
                home_service_url=ref.service_url, bot_id=ref.bot_id,
            )
        )

    async def mark_welcomed(self, war_room_id: int, *, now: datetime) -> bool:
        """True for the one caller that marks the war room welcomed (every later one, on any replica, gets False)."""
        result = await self._session.execute(
            update(WarRoomRow).where(WarRoomRow.id == war_room_id, WarRoomRow.welcomed_at.is_(None)).values(welcomed_at=now)
        )
        return result.rowcount == 1

    async def set_sign_off(self, war_room_id: int, *, by: Person | None, at: datetime | None, next_standup_at: datetime | None) -> None:
        """Record leadership's sign-off, or clear it (`by` None); stand-ups stop or resume with it."""
        await self._session.execute(
            update(WarRoomRow)
            .where(WarRoomRow.id == war_room_id)
            .values(
                signed_off_at=at if by else None,
                signed_off_by_id=by.aad_object_id if by else None,
                signed_off_by_name=by.name if by else None,
                next_standup_at=next_standup_at,
            )
        )

    async def save_told(self, war_room_id: int, *, overrun_told_for: date | None, ready_told_at: datetime | None) -> None:
        await self._session.execute(
            update(WarRoomRow)
            .where(WarRoomRow.id == war_room_id)
            .values(overrun_told_for=overrun_told_for, ready_told_at=ready_told_at)
        )

    async def add_event(self, war_room_id: int, event: Event) -> None:
        self._session.add(
            WarRoomEventRow(
                war_room_id=war_room_id, verb=event.verb, actor_id=event.actor.aad_object_id, actor_name=event.actor.name,
                from_value=event.from_value, to_value=event.to_value, reason=event.reason, at=event.at,
            )
        )
        await self._session.flush()

    async def due_standups(self, now: datetime, *, limit: int) -> list[WarRoom]:
        rows = (
            await self._session.execute(
                skip_locked(
                    select(WarRoomRow)
                    .where(WarRoomRow.next_standup_at <= now)
                    .order_by(WarRoomRow.next_standup_at)
                    .limit(limit)
                )
            )
        ).scalars()
        return [_to_war_room(row) for row in rows]

    async def standup_done(self, war_room_id: int, *, posted_at: datetime | None, next_at: datetime | None) -> None:
        values: dict[str, Any] = {"next_standup_at": next_at}
        if posted_at is not None:
            values["last_standup_at"] = posted_at
        await self._session.execute(update(WarRoomRow).where(WarRoomRow.id == war_room_id).values(**values))

    async def find(self, ref: ConversationRef) -> int | None:
        return (
            await self._session.execute(select(WarRoomRow.id).where(WarRoomRow.key == ref.war_room_key))
        ).scalar_one_or_none()


def _json(text: str | None) -> Any:
    return json.loads(text) if text is not None else None


def _to_war_room(row: WarRoomRow) -> WarRoom:
    return _war_room(row, settings=row.settings, oncall=row.oncall)


def _war_room(row: Any, *, settings: dict[str, Any] | None, oncall: dict[str, Any] | None) -> WarRoom:
    """The war room of `row`, its JSON columns given decoded (an ORM row decodes them itself, `MappedWarRooms` reads text)."""
    settings, problems = WarRoomSettings.from_stored(settings)
    oncall, oncall_problems = OnCall.from_stored(oncall)
    return WarRoom(
        id=row.id,
        key=row.key,
        tenant_id=row.tenant_id,
        team_id=row.team_id,
        name=row.name,
        settings=settings,
        settings_problems=problems + oncall_problems,
        oncall=oncall,
        home_conversation_id=row.home_conversation_id,
        home_channel_id=row.home_channel_id,
        home_service_url=row.home_service_url,
        bot_id=row.bot_id,
        next_standup_at=row.next_standup_at,
        last_standup_at=row.last_standup_at,
        signed_off_at=row.signed_off_at,
        signed_off_by=optional_person(row.signed_off_by_id, row.signed_off_by_name),
        kind=WarRoomKind(row.kind),
        overrun_told_for=row.overrun_told_for,
        ready_told_at=row.ready_told_at,
    )
