"""Floor walkers: who is on the floor, a triage lead or admin adding or removing one, and a new question calling them."""

from __future__ import annotations

from datetime import datetime

from bot.domain.calendar import WorkingCalendar
from bot.domain.floor import FLOOR_WALKERS_MAX, FloorView, FloorWalker, on_duty, to_call
from bot.domain.messages import ConversationRef
from bot.domain.model import Person, Role
from bot.domain.permissions import Action, may, needs_role
from bot.domain.ports import UnitOfWork
from bot.domain.results import Applied, Refused
from bot.domain.events import FLOOR_CALLED, Event
from bot.services.roles import actor_roles


async def show_floor(*, uow: UnitOfWork, now: datetime, conversation: ConversationRef) -> FloorView:
    async with uow:
        war_room_id = await uow.war_rooms.find(conversation)
        if war_room_id is None:
            return FloorView(walkers=(), today=(), calendar=WorkingCalendar(), now=now)
        calendar = (await uow.war_rooms.get(war_room_id)).settings.calendar
        walkers = await uow.floor_walkers.list(war_room_id)
    return FloorView(walkers=tuple(walkers), today=tuple(on_duty(walkers, calendar=calendar, now=now)), calendar=calendar, now=now)


async def add_floor_walker(
    *, uow: UnitOfWork, now: datetime, conversation: ConversationRef, actor: Person, walker: FloorWalker, admins: frozenset[str]
) -> Applied[FloorWalker] | Refused[FloorWalker]:
    """Give `walker.person` the floor_walker role with their areas, days and site (replacing what was stored)."""
    person = walker.person
    async with uow:
        war_room_id = await uow.war_rooms.ensure(conversation, now=now)
        if not may(await actor_roles(uow, war_room_id, actor, admins), Action.MANAGE_FLOOR_WALKERS):
            return Refused(reason=needs_role(Action.MANAGE_FLOOR_WALKERS, "manage floor walkers"))
        if not person.aad_object_id:
            return Refused(reason=f"I could not tell who {person.name} is; mention them with @.")
        known = {w.person.aad_object_id for w in await uow.floor_walkers.list(war_room_id)}
        if person.aad_object_id not in known and len(known) >= FLOOR_WALKERS_MAX:
            return Refused(reason=f"A war room has at most {FLOOR_WALKERS_MAX} floor walkers; `floor remove` one first.")
        await uow.roles.grant(war_room_id, person, Role.FLOOR_WALKER, by=actor, now=now)
        await uow.floor_walkers.put(war_room_id, walker, by=actor, now=now)
        await uow.commit()
    areas = ", ".join(area.label for area in walker.areas)
    where = f" at {walker.site}" if walker.site else ""
    verb = "now walks" if person.aad_object_id in known else "walks"
    return Applied(subject=walker, message=f"{person.name} {verb} the floor for {areas} on {walker.days_text()}{where}.")


async def remove_floor_walker(
    *, uow: UnitOfWork, now: datetime, conversation: ConversationRef, actor: Person, person: Person, admins: frozenset[str]
) -> Applied[Person] | Refused[Person]:
    async with uow:
        war_room_id = await uow.war_rooms.ensure(conversation, now=now)
        if not may(await actor_roles(uow, war_room_id, actor, admins), Action.MANAGE_FLOOR_WALKERS):
            return Refused(reason=needs_role(Action.MANAGE_FLOOR_WALKERS, "manage floor walkers"))
        if not person.aad_object_id:
            return Refused(reason=f"I could not tell who {person.name} is; mention them with @.")
        removed = await uow.floor_walkers.remove(war_room_id, person.aad_object_id)
        revoked = await uow.roles.revoke(war_room_id, person.aad_object_id, Role.FLOOR_WALKER)
        await uow.commit()
    if not (removed or revoked):
        return Applied(subject=person, message=f"{person.name} was not a floor walker.", changed=False)
    return Applied(subject=person, message=f"{person.name} no longer walks the floor.")


async def call_floor_walkers(*, uow: UnitOfWork, now: datetime, issue_id: int) -> tuple[Person, ...]:
    """The floor walkers a newly raised issue calls (see `bot.domain.floor.to_call`), once: the call is recorded in
    its history, so the same form submitted twice does not call them again."""
    async with uow:
        issue = await uow.issues.get(issue_id, for_update=True)
        if issue is None or any(event.verb == FLOOR_CALLED for event in await uow.events.list_for(issue_id)):
            return ()
        room = await uow.war_rooms.get(issue.war_room_id)
        people = to_call(issue, await uow.floor_walkers.list(room.id), calendar=room.settings.calendar, now=now)
        if not people:
            return ()
        names = ", ".join(person.name for person in people)
        await uow.events.add(issue, Event(verb=FLOOR_CALLED, actor=issue.reporter, at=now, to_value=names[:200]))
        await uow.commit()
    return people
