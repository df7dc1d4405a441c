"""On call: who is on call now, an override until a local time, or a weekly rota."""

from __future__ import annotations

from datetime import datetime, time

from bot.domain.model import Person
from bot.domain.permissions import Action, may
from bot.domain.ports import UnitOfWork
from bot.domain.results import Applied, Refused
from bot.domain.war_room import OnCall, OnCallOverride, OnCallRota, OnCallView, WarRoomSettings
from bot.domain.messages import ConversationRef
from bot.services.roles import actor_roles


# Worded by hand, as README says it: needs_role() would name the roles in alphabetical order.
_NOT_AN_ON_CALL_MANAGER: Refused[OnCall] = Refused(reason="To change who is on call you need the role triage_lead or admin.")


async def oncall_refusal(
    *, uow: UnitOfWork, now: datetime, conversation: ConversationRef, actor: Person, admins: frozenset[str]
) -> Refused[OnCall] | None:
    """The refusal when `actor` may not change who is on call here: asked before the people mentioned are looked up."""
    async with uow:
        war_room_id = await uow.war_rooms.ensure(conversation, now=now)
        allowed = may(await actor_roles(uow, war_room_id, actor, admins), Action.CHANGE_ON_CALL)
        await uow.commit()
    return None if allowed else _NOT_AN_ON_CALL_MANAGER


async def show_oncall(*, uow: UnitOfWork, now: datetime, conversation: ConversationRef) -> OnCallView:
    async with uow:
        war_room_id = await uow.war_rooms.find(conversation)
        if war_room_id is None:
            return OnCallView(on_call=None, oncall=OnCall(), settings=WarRoomSettings())
        room = await uow.war_rooms.get(war_room_id)
    return OnCallView(on_call=room.oncall.on_call(now, room.settings.calendar), oncall=room.oncall, settings=room.settings)


async def change_oncall(
    *,
    uow: UnitOfWork,
    now: datetime,
    conversation: ConversationRef,
    actor: Person,
    admins: frozenset[str],
    person: Person | None = None,
    until_local: datetime | None = None,
    rota: tuple[Person, ...] = (),
    handover_weekday: int = 0,
    handover_time: time | None = None,
) -> Applied[OnCall] | Refused[OnCall]:
    """Set who is on call (until a local time), clear that, or set a weekly rota starting with its first person now."""
    async with uow:
        war_room_id = await uow.war_rooms.ensure(conversation, now=now)
        if not may(await actor_roles(uow, war_room_id, actor, admins), Action.CHANGE_ON_CALL):
            return _NOT_AN_ON_CALL_MANAGER
        room = await uow.war_rooms.get(war_room_id)
        calendar = room.settings.calendar
        if rota:
            new_rota = OnCallRota.starting_now(
                rota, handover_weekday=handover_weekday, handover_time=handover_time, now=now, calendar=calendar
            )
            oncall = room.oncall.model_copy(update={"rota": new_rota})
            message = new_rota.describe()
        elif person is None:
            oncall = room.oncall.model_copy(update={"override": None})
            message = "The on-call override is cleared; the rota (if any) applies."
        else:
            until = calendar.at_local(until_local.date(), until_local.time()) if until_local else None
            if until is not None and until <= now:
                return Refused(reason="That end time has already passed.")
            oncall = room.oncall.model_copy(update={"override": OnCallOverride(person=person, until=until)})
            message = f"{person.name} is on call" + (f" until {until_local:%Y-%m-%d %H:%M} ({calendar.time_zone})." if until_local else ".")
        await uow.war_rooms.save_oncall(war_room_id, oncall)
        await uow.commit()
    return Applied(subject=oncall, message=message)
