"""Roles: who holds which role in a war room, and an admin granting or revoking one."""

from __future__ import annotations

from datetime import datetime

from bot.domain.model import Person, Role
from bot.domain.permissions import Action, may
from bot.domain.ports import UnitOfWork
from bot.domain.results import Applied, Refused
from bot.domain.messages import ConversationRef
from bot.domain.war_room import WarRoom


async def actor_roles(uow: UnitOfWork, war_room_id: int, actor: Person, admins: frozenset[str]) -> frozenset[Role]:
    """The roles `actor` holds in the war room; admin too when the operator named them (`admins`, lower-case object ids)."""
    return _with_admin(await uow.roles.of(war_room_id, actor.aad_object_id), actor, admins)


async def room_and_actor_roles(
    uow: UnitOfWork, conversation: ConversationRef, actor: Person, admins: frozenset[str], *, now: datetime
) -> tuple[WarRoom, frozenset[Role]]:
    """The conversation's war room (created on first contact) and `actor_roles` there, read together in one statement."""
    room, roles = await uow.war_rooms.ensure_room_with_roles(conversation, now=now, aad_object_id=actor.aad_object_id)
    return room, _with_admin(roles, actor, admins)


def _with_admin(roles: frozenset[Role], actor: Person, admins: frozenset[str]) -> frozenset[Role]:
    if actor.aad_object_id and actor.aad_object_id.lower() in admins:
        return roles | {Role.ADMIN}
    return roles


async def change_role(
    *,
    uow: UnitOfWork,
    now: datetime,
    conversation: ConversationRef,
    actor: Person,
    person: Person,
    role: Role,
    grant: bool,
    admins: frozenset[str],
) -> Applied[Person] | Refused[Person]:
    async with uow:
        war_room_id = await uow.war_rooms.ensure(conversation, now=now)
        if not may(await actor_roles(uow, war_room_id, actor, admins), Action.MANAGE_ROLES):
            return Refused(reason="Only an admin can change roles.")
        if not person.aad_object_id:
            return Refused(reason=f"I could not tell who {person.name} is; mention them with @.")
        if grant:
            changed = await uow.roles.grant(war_room_id, person, role, by=actor, now=now)
            message = f"{person.name} is now {role.label} ({role.value})." if changed else f"{person.name} already was {role.value}."
        else:
            changed = await uow.roles.revoke(war_room_id, person.aad_object_id, role)
            if role is Role.FLOOR_WALKER:
                # Without the role they are not on the floor either: their areas and days go with it.
                changed = await uow.floor_walkers.remove(war_room_id, person.aad_object_id) or changed
            message = f"{person.name} is no longer {role.value}." if changed else f"{person.name} did not have the role {role.value}."
        await uow.commit()
    return Applied(subject=person, message=message, changed=changed)


async def list_roles(*, uow: UnitOfWork, conversation: ConversationRef) -> list[tuple[Person, Role]]:
    async with uow:
        war_room_id = await uow.war_rooms.find(conversation)
        return await uow.roles.members(war_room_id) if war_room_id is not None else []
