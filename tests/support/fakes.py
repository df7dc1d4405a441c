"""An in-memory unit of work for unit tests of bot/services: the Protocols of bot/domain/ports.py on dicts.

Only the repositories and methods the unit-tested use cases call are here. Like the real one, a unit of work
rolls back what it wrote unless committed (the state is copied on entering and put back on leaving).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime

from bot.domain.model import Issue, Person, Role
from bot.domain.reminders import ReminderState
from bot.domain.triage import Event
from bot.domain.war_room import OnCall, WarRoom, WarRoomSettings
from bot.domain.messages import ConversationRef


@dataclass
class FakeStore:
    """What a fake database holds; share one between units of work."""

    war_rooms: dict[int, WarRoom] = field(default_factory=dict)
    issues: dict[int, Issue] = field(default_factory=dict)
    reminders: dict[int, tuple[ReminderState, datetime | None]] = field(default_factory=dict)
    events: list[tuple[int, Event]] = field(default_factory=list)
    roles: dict[tuple[int, str], tuple[Person, frozenset[Role]]] = field(default_factory=dict)

    def add_issue(self, issue: Issue) -> Issue:
        self.issues[issue.id] = issue
        self.reminders[issue.id] = (ReminderState(), None)
        return issue


class FakeWarRooms:
    def __init__(self, store: FakeStore) -> None:
        self._store = store

    async def find(self, ref: ConversationRef) -> int | None:
        return next((room.id for room in self._store.war_rooms.values() if room.key == ref.war_room_key), None)

    async def ensure_room(self, ref: ConversationRef, *, now: datetime) -> WarRoom:
        war_room_id = await self.find(ref)
        if war_room_id is None:
            war_room_id = max(self._store.war_rooms, default=0) + 1
            self._store.war_rooms[war_room_id] = WarRoom(
                id=war_room_id, key=ref.war_room_key, tenant_id=ref.tenant_id, team_id=ref.team_id, name=ref.team_name,
                settings=WarRoomSettings(), oncall=OnCall(), home_conversation_id=ref.conversation_id,
                home_channel_id=ref.channel_id, home_service_url=ref.service_url, bot_id=ref.bot_id,
                next_standup_at=None, last_standup_at=None,
            )
        return self._store.war_rooms[war_room_id]

    async def ensure(self, ref: ConversationRef, *, now: datetime) -> int:
        return (await self.ensure_room(ref, now=now)).id

    async def get(self, war_room_id: int) -> WarRoom:
        return self._store.war_rooms[war_room_id]

    async def save_oncall(self, war_room_id: int, oncall: OnCall) -> None:
        self._store.war_rooms[war_room_id] = self._store.war_rooms[war_room_id].model_copy(update={"oncall": oncall})


class FakeIssues:
    def __init__(self, store: FakeStore) -> None:
        self._store = store

    async def get(self, issue_id: int, *, for_update: bool = False) -> Issue | None:
        return self._store.issues.get(issue_id)

    async def reminder_state(self, issue_id: int) -> ReminderState:
        return self._store.reminders[issue_id][0]

    async def save_reminders(self, issue_id: int, state: ReminderState, *, next_due_at: datetime | None) -> None:
        self._store.reminders[issue_id] = (state, next_due_at)


class FakeEvents:
    def __init__(self, store: FakeStore) -> None:
        self._store = store

    async def add(self, issue: Issue, event: Event) -> None:
        self._store.events.append((issue.id, event))


class FakeRoles:
    def __init__(self, store: FakeStore) -> None:
        self._store = store

    async def of(self, war_room_id: int, aad_object_id: str | None) -> frozenset[Role]:
        return self._store.roles.get((war_room_id, aad_object_id or ""), (None, frozenset()))[1]

    async def grant(self, war_room_id: int, person: Person, role: Role, *, by: Person, now: datetime) -> bool:
        assert person.aad_object_id
        held = await self.of(war_room_id, person.aad_object_id)
        self._store.roles[(war_room_id, person.aad_object_id)] = (person, held | {role})
        return role not in held

    async def revoke(self, war_room_id: int, aad_object_id: str, role: Role) -> bool:
        person, held = self._store.roles.get((war_room_id, aad_object_id), (None, frozenset()))
        if role not in held:
            return False
        self._store.roles[(war_room_id, aad_object_id)] = (person, held - {role})
        return True

    async def members(self, war_room_id: int) -> list[tuple[Person, Role]]:
        return [
            (person, role)
            for (room_id, _), (person, held) in sorted(self._store.roles.items())
            if room_id == war_room_id and person is not None
            for role in sorted(held, key=lambda role: role.value)
        ]


class FakeUnitOfWork:
    def __init__(self, store: FakeStore) -> None:
        self.store = store
        self.war_rooms = FakeWarRooms(store)
        self.issues = FakeIssues(store)
        self.events = FakeEvents(store)
        self.roles = FakeRoles(store)
        self.commits = 0
        self._before: FakeStore | None = None

    async def __aenter__(self) -> FakeUnitOfWork:
        self._before = copy.deepcopy(self.store)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._before is not None
        # Roll back what was not committed: the store's own fields, so the repositories keep pointing at it.
        for name in vars(self.store):
            setattr(self.store, name, getattr(self._before, name))
        self._before = None

    async def commit(self) -> None:
        assert self._before is not None
        self._before = copy.deepcopy(self.store)
        self.commits += 1
