"""Install and membership: the bot added to a team or chat, people joining and leaving it, the war rooms a person
belongs to (what their personal chat acts in), and the war room's home channel."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from bot.domain.messages import ConversationRef
from bot.domain.model import Person, Role
from bot.domain.permissions import Action, may, needs_role
from bot.domain.ports import UnitOfWork
from bot.domain.results import Applied, Refused
from bot.domain.war_room import WarRoom
from bot.services.roles import actor_roles

# Who a role granted at install is recorded as granted by.
INSTALL = Person(aad_object_id=None, name="installing the bot")

ROSTER = "roster"


class Installed(BaseModel):
    model_config = ConfigDict(frozen=True)

    room: WarRoom
    # True for the one install event that posts the welcome (re-installs, installationUpdate and replicas get False).
    welcome: bool
    # Who can set the war room up, as the welcome names them.
    admins: tuple[Person, ...]


async def install(
    *, uow: UnitOfWork, now: datetime, where: ConversationRef, installer: Person, roster: Sequence[Person]
) -> Installed:
    """The bot was added to a team or group chat: its war room, its members, its first admin, and whether to welcome.

    The installer becomes admin only while the war room has none. The welcome is decided by marking the war room
    welcomed in this transaction, so however often (and wherever) Teams says so, it is posted once.
    """
    async with uow:
        room = await uow.war_rooms.ensure_room(where, now=now)
        await uow.conversations.upsert(where, war_room_id=room.id, now=now)
        if where.team_name:
            await uow.war_rooms.name_if_unnamed(room.id, where.team_name)
        await uow.members.add(room.id, [*roster, installer], via=ROSTER, now=now)
        admins = (await uow.roles.holders({room.id}, Role.ADMIN)).get(room.id, ())
        if not admins and installer.aad_object_id:
            await uow.roles.grant(room.id, installer, Role.ADMIN, by=INSTALL, now=now)
            admins = (installer,)
        welcome = await uow.war_rooms.mark_welcomed(room.id, now=now)
        room = await uow.war_rooms.get(room.id)
        await uow.commit()
    return Installed(room=room, welcome=welcome, admins=admins)


async def members_changed(
    *, uow: UnitOfWork, now: datetime, where: ConversationRef, added: Sequence[Person], removed: Sequence[Person]
) -> None:
    """People joined or left the team (or chat): its roster as Teams tells it, without reading it again."""
    async with uow:
        war_room_id = await uow.war_rooms.find(where)
        if war_room_id is not None:
            await uow.members.add(war_room_id, added, via=ROSTER, now=now)
            await uow.members.remove(war_room_id, [person.aad_object_id for person in removed if person.aad_object_id])
            await uow.commit()


class PersonsWarRooms(BaseModel):
    """The war rooms a person belongs to in one tenant, and the one they chose last in their personal chat."""

    model_config = ConfigDict(frozen=True)

    rooms: tuple[WarRoom, ...] = ()
    chosen: int | None = None

    def get(self, war_room_id: object) -> WarRoom | None:
        """One of theirs by id, as a card sends it back (anything else: None)."""
        return next((room for room in self.rooms if str(room.id) == str(war_room_id)), None)


async def persons_war_rooms(*, uow: UnitOfWork, tenant_id: str | None, person: Person) -> PersonsWarRooms:
    if not person.aad_object_id:
        return PersonsWarRooms()
    async with uow:
        rooms, chosen = await uow.war_rooms.of_member(tenant_id, person.aad_object_id)
    return PersonsWarRooms(rooms=tuple(rooms), chosen=chosen)


async def remember_choice(*, uow: UnitOfWork, now: datetime, war_room_id: int, person: Person) -> None:
    """The person chose this war room in their personal chat: it is their default from now on."""
    if not person.aad_object_id:
        return
    async with uow:
        await uow.members.choose(war_room_id, person.aad_object_id, now=now)
        await uow.commit()


async def make_home(
    *, uow: UnitOfWork, now: datetime, conversation: ConversationRef, actor: Person, admins: frozenset[str]
) -> Applied[WarRoom] | Refused[WarRoom]:
    """`standup here`: stand-ups and announcements go to this channel (or group chat) from now on."""
    if conversation.is_personal:
        return Refused(reason="A personal chat cannot be the war room's home: say `standup here` in the team's channel.")
    async with uow:
        room = await uow.war_rooms.ensure_room(conversation, now=now)
        if not may(await actor_roles(uow, room.id, actor, admins), Action.SET_HOME):
            return Refused(subject=room, reason=needs_role(Action.SET_HOME, "choose where the stand-ups go"))
        await uow.war_rooms.set_home(room.id, conversation)
        room = await uow.war_rooms.get(room.id)
        await uow.commit()
    return Applied(subject=room, message="Stand-ups and announcements go to this channel from now on.")


async def setup_allowed(
    *, uow: UnitOfWork, now: datetime, conversation: ConversationRef, actor: Person, admins: frozenset[str]
) -> Applied[WarRoom] | Refused[WarRoom]:
    """The war room, when `actor` may set it up; else a refusal naming who may."""
    async with uow:
        room = await uow.war_rooms.ensure_room(conversation, now=now)
        if may(await actor_roles(uow, room.id, actor, admins), Action.SET_UP):
            await uow.commit()
            return Applied(subject=room)
        holders = (await uow.roles.holders({room.id}, Role.ADMIN)).get(room.id, ())
    who = ", ".join(person.name for person in holders) or "the admin who runs this bot"
    return Refused(subject=room, reason=f"Only an admin can set up hypercare. Ask {who}.")
