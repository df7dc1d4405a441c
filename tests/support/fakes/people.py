"""Who holds which role (storage/repositories/roles.py), who belongs to which war room (members.py), and who someone is
(a channel's member directory)."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime

from bot.domain.floor import FloorWalker
from bot.domain.model import Person, Role
from tests.support.fakes.base import FakeRepository
from tests.support.fakes.store import MemberRecord


class FakeRoles(FakeRepository):
    async def of(self, war_room_id: int, aad_object_id: str | None) -> frozenset[Role]:
        if not aad_object_id:
            return frozenset()
        return self._store.roles.get((war_room_id, aad_object_id), (None, frozenset()))[1]

    async def grant(self, war_room_id: int, person: Person, role: Role, *, by: Person, now: datetime) -> bool:
        assert person.aad_object_id
        held = await self.of(war_room_id, person.aad_object_id)
        self._store.roles[(war_room_id, person.aad_object_id)] = (person, held | {role})
        return role not in held

    async def revoke(self, war_room_id: int, aad_object_id: str, role: Role) -> bool:
        person, held = self._store.roles.get((war_room_id, aad_object_id), (None, frozenset()))
        if person is None or role not in held:
            return False
        self._store.roles[(war_room_id, aad_object_id)] = (person, held - {role})
        return True

    async def holders(self, war_room_ids: set[int], role: Role) -> dict[int, tuple[Person, ...]]:
        found: dict[int, list[Person]] = {}
        for person, holder_role, war_room_id in self._rows():
            if war_room_id in war_room_ids and holder_role is role:
                found.setdefault(war_room_id, []).append(person)
        return {war_room_id: tuple(sorted(people, key=lambda person: person.name)) for war_room_id, people in found.items()}

    async def members(self, war_room_id: int) -> list[tuple[Person, Role]]:
        rows = [(person, role) for person, role, room_id in self._rows() if room_id == war_room_id]
        return sorted(rows, key=lambda row: (row[1].value, row[0].name))

    def _rows(self) -> list[tuple[Person, Role, int]]:
        """One row per role held, as the real table has them."""
        return [(person, role, war_room_id) for (war_room_id, _), (person, held) in self._store.roles.items() for role in held]


class FakeDirectory:
    """A channel's members, by channel user id: `person` by that id or the AAD object id, `search` like Teams'."""

    def __init__(self, members: dict[str, Person] | None = None, *, emails: dict[str, str] | None = None) -> None:
        self.members = dict(members or {})
        # AAD object id -> email
        self.emails = dict(emails or {})
        self.asked: list[str] = []

    async def person(self, user_id: str) -> Person | None:
        self.asked.append(user_id)
        return self.members.get(user_id) or next(
            (person for person in self.members.values() if person.aad_object_id == user_id), None
        )

    async def search(self, text: str) -> Person | None:
        wanted = text.strip().casefold()
        if not wanted:
            return None
        people = list(self.members.values())
        exact = [p for p in people if wanted in {p.name.casefold(), self.emails.get(p.aad_object_id or "", "").casefold()}]
        matches = exact or [p for p in people if wanted in p.name.casefold()]
        return matches[0] if len(matches) == 1 else None


class FakeFloorWalkers(FakeRepository):
    async def list(self, war_room_id: int) -> builtins.list[FloorWalker]:
        walkers = [walker for (room_id, _), walker in self._store.floor_walkers.items() if room_id == war_room_id]
        return sorted(walkers, key=lambda walker: walker.person.name)

    async def put(self, war_room_id: int, walker: FloorWalker, *, by: Person, now: datetime) -> None:
        assert walker.person.aad_object_id
        self._store.floor_walkers[(war_room_id, walker.person.aad_object_id)] = walker

    async def remove(self, war_room_id: int, aad_object_id: str) -> bool:
        return self._store.floor_walkers.pop((war_room_id, aad_object_id), None) is not None


class FakeMembers(FakeRepository):
    async def add(self, war_room_id: int, people: Sequence[Person], *, via: str, now: datetime) -> None:
        for person in people:
            if person.aad_object_id:
                self._store.members.setdefault(
                    (war_room_id, person.aad_object_id), MemberRecord(name=person.name[:200], via=via, added_at=now)
                )

    async def remove(self, war_room_id: int, aad_object_ids: Sequence[str]) -> None:
        for aad_object_id in aad_object_ids:
            self._store.members.pop((war_room_id, aad_object_id), None)

    async def choose(self, war_room_id: int, aad_object_id: str, *, now: datetime) -> None:
        for (room_id, person_id), record in self._store.members.items():
            if person_id == aad_object_id:
                record.chosen_at = now if room_id == war_room_id else None
