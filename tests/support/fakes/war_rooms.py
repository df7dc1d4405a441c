"""War rooms and the conversations the bot was reached in (storage/repositories/war_rooms.py, conversations.py)."""

from __future__ import annotations

import builtins
from datetime import date, datetime

from bot.domain.messages import ConversationRef
from bot.domain.model import Person, Role
from bot.domain.events import Event
from bot.domain.ports import NotAWarRoom
from bot.domain.war_room import OnCall, WarRoom, WarRoomSettings
from bot.domain.window import WarRoomKind, holds_standups
from tests.support.fakes.base import FakeRepository


class FakeWarRooms(FakeRepository):
    async def ensure(self, ref: ConversationRef, *, now: datetime) -> int:
        return (await self.ensure_room(ref, now=now)).id

    async def ensure_room(self, ref: ConversationRef, *, now: datetime) -> WarRoom:
        war_room_id = await self.find(ref)
        if war_room_id is not None:
            return self._store.war_rooms[war_room_id]
        if ref.is_personal:
            raise NotAWarRoom(f"conversation {ref.conversation_id} is a personal chat")
        kind = WarRoomKind.of(team_id=ref.team_id, conversation_type=ref.conversation_type)
        held = holds_standups(kind, set_up=False, signed_off=False)
        war_room_id = max(self._store.war_rooms, default=0) + 1
        room = WarRoom(
            id=war_room_id, key=ref.war_room_key, tenant_id=ref.tenant_id, team_id=ref.team_id,
            name=ref.team_name[:200] if ref.team_name else None, settings=WarRoomSettings(), oncall=OnCall(),
            home_conversation_id=ref.base_conversation_id, home_channel_id=ref.channel_id, home_service_url=ref.service_url,
            bot_id=ref.bot_id, next_standup_at=WarRoomSettings().next_standup_at(now) if held else None, last_standup_at=None,
            kind=kind,
        )
        self._store.war_rooms[war_room_id] = room
        self._store.last_issue_numbers.setdefault(war_room_id, 0)
        return room

    async def ensure_room_with_roles(
        self, ref: ConversationRef, *, now: datetime, aad_object_id: str | None
    ) -> tuple[WarRoom, frozenset[Role]]:
        room = await self.ensure_room(ref, now=now)
        if not aad_object_id:
            return room, frozenset()
        return room, self._store.roles.get((room.id, aad_object_id), (None, frozenset()))[1]

    async def find(self, ref: ConversationRef) -> int | None:
        return next((room.id for room in self._store.war_rooms.values() if room.key == ref.war_room_key), None)

    async def of_member(self, tenant_id: str | None, aad_object_id: str) -> tuple[builtins.list[WarRoom], int | None]:
        mine = {room_id: record for (room_id, person_id), record in self._store.members.items() if person_id == aad_object_id}
        rooms = [room for room in self._store.war_rooms.values() if room.id in mine and room.tenant_id == tenant_id]
        rooms.sort(key=lambda room: ((room.name or "").lower(), room.id))
        chosen = next((room.id for room in rooms if mine[room.id].chosen_at is not None), None)
        return rooms, chosen

    async def set_home(self, war_room_id: int, ref: ConversationRef) -> None:
        self._update(
            war_room_id, home_conversation_id=ref.base_conversation_id, home_channel_id=ref.channel_id,
            home_service_url=ref.service_url, bot_id=ref.bot_id,
        )

    async def mark_welcomed(self, war_room_id: int, *, now: datetime) -> bool:
        if war_room_id in self._store.welcomed:
            return False
        self._store.welcomed[war_room_id] = now
        return True

    async def get(self, war_room_id: int) -> WarRoom:
        assert war_room_id in self._store.war_rooms, f"war room {war_room_id} does not exist"
        return self._store.war_rooms[war_room_id]

    async def all(self) -> builtins.list[WarRoom]:
        return [self._store.war_rooms[war_room_id] for war_room_id in sorted(self._store.war_rooms)]

    async def by_reference(self, reference: str) -> WarRoom | None:
        if reference.isdigit():
            return self._store.war_rooms.get(int(reference))
        return next((room for room in self._store.war_rooms.values() if room.key == reference), None)

    async def get_many(self, war_room_ids: set[int]) -> builtins.list[WarRoom]:
        return [room for war_room_id, room in sorted(self._store.war_rooms.items()) if war_room_id in war_room_ids]

    async def save_settings(self, war_room_id: int, settings: WarRoomSettings, *, next_standup_at: datetime | None) -> None:
        self._update(war_room_id, settings=settings, next_standup_at=next_standup_at)

    async def save_oncall(self, war_room_id: int, oncall: OnCall) -> None:
        self._update(war_room_id, oncall=oncall)

    async def name_if_unnamed(self, war_room_id: int, name: str) -> None:
        if self._store.war_rooms[war_room_id].name is None:
            self._update(war_room_id, name=name[:200])

    async def set_sign_off(self, war_room_id: int, *, by: Person | None, at: datetime | None, next_standup_at: datetime | None) -> None:
        self._update(war_room_id, signed_off_at=at if by else None, signed_off_by=by, next_standup_at=next_standup_at)

    async def save_told(self, war_room_id: int, *, overrun_told_for: date | None, ready_told_at: datetime | None) -> None:
        self._update(war_room_id, overrun_told_for=overrun_told_for, ready_told_at=ready_told_at)

    async def add_event(self, war_room_id: int, event: Event) -> None:
        self._store.war_room_events.append((war_room_id, event))

    async def due_standups(self, now: datetime, *, limit: int) -> builtins.list[WarRoom]:
        due = [room for room in self._store.war_rooms.values() if room.next_standup_at is not None and room.next_standup_at <= now]
        return sorted(due, key=lambda room: room.next_standup_at or now)[:limit]

    async def standup_done(self, war_room_id: int, *, posted_at: datetime | None, next_at: datetime | None) -> None:
        self._update(war_room_id, next_standup_at=next_at, **({"last_standup_at": posted_at} if posted_at is not None else {}))

    def _update(self, war_room_id: int, **changes: object) -> None:
        self._store.war_rooms[war_room_id] = self._store.war_rooms[war_room_id].model_copy(update=changes)


class FakeConversations(FakeRepository):
    async def upsert(self, ref: ConversationRef, *, war_room_id: int, now: datetime) -> None:
        # The team's name is the war room's, not stored with the conversation.
        self._store.conversations[ref.conversation_id] = (ref.model_copy(update={"team_name": None}), war_room_id)

    async def get_many(self, conversation_ids: set[str]) -> dict[str, ConversationRef]:
        stored = self._store.conversations
        return {conversation_id: stored[conversation_id][0] for conversation_id in conversation_ids if conversation_id in stored}
