"""The stand-up: built from a war room's issues, on schedule (the scheduler) or on demand."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from bot.domain.exit_criteria import evaluate_exit
from bot.domain.floor import on_duty
from bot.domain.metrics import recurring_candidates
from bot.domain.mentions import Mentions
from bot.domain.model import OPEN_STATUSES, Person, Status
from bot.domain.ports import UnitOfWork
from bot.domain.priorities import standup_mentions, unique_people
from bot.domain.standup import StandupSummary, build_standup
from bot.domain.war_room import WarRoom
from bot.domain.messages import ConversationRef


async def standup_summary(uow: UnitOfWork, room: WarRoom, *, now: datetime, since: datetime | None = None) -> StandupSummary:
    """Inside an open unit of work: the stand-up of `room` as of `now`, counting from the last one (or from `since`:
    a stand-up redrawn after a decision counts from the same stand-up as when it was posted)."""
    since = since or room.last_standup_at
    standup_on = room.settings.calendar.local_date(now)
    # The counts read a few columns of every issue; whole issues are read only for what the card may list.
    everything = await uow.issues.briefs(room.id)
    listed = await uow.issues.for_standup(room.id, standup_on=standup_on)
    report = evaluate_exit(everything, room.settings, now=now, signed_off_at=room.signed_off_at, signed_off_by=room.signed_off_by)
    candidates = recurring_candidates(everything, await uow.runbooks.linked_issue_ids(room.id))
    return build_standup(
        war_room_name=room.display_name,
        open_issues=[issue for issue in listed if issue.status in OPEN_STATUSES],
        recent=await uow.issues.recent(room.id, since),
        deferred_count=sum(1 for issue in everything if issue.status is Status.DEFERRED),
        since=since,
        now=now,
        exit_report=report,
        runbook_candidates=tuple(
            (f"{group.area.label} · {group.category.label} ({', '.join(group.keywords[:3])})", group.issue_numbers)
            for group in candidates
        ),
        set_up=room.settings.set_up,
        floor_walkers=tuple(on_duty(await uow.floor_walkers.list(room.id), calendar=room.settings.calendar, now=now)),
        standup_on=standup_on,
        policy=room.settings.policy,
        decided=tuple(issue for issue in listed if issue.decision is not None and issue.decision.standup_on == standup_on),
        tenant_id=room.tenant_id,
        team_name=room.name if room.team_id else None,
        awaiting_confirmation=[issue for issue in listed if issue.awaiting_confirmation],
    )


async def participants_of(uow: UnitOfWork, room: WarRoom) -> tuple[Person, ...]:
    """Inside an open unit of work: the stand-up's participants (the setting's roles' holders, then its people)."""
    setting = room.settings.standup_participants
    holders: list[Person] = []
    for role in setting.roles:
        holders += sorted((await uow.roles.holders({room.id}, role)).get(room.id, ()), key=lambda person: person.name.casefold())
    return unique_people((*holders, *setting.people))


async def standup_told(uow: UnitOfWork, room: WarRoom, summary: StandupSummary) -> Mentions:
    """Inside an open unit of work: who the stand-up @mentions (owners of breached and undecided items, participants)."""
    return standup_mentions(summary.owners_to_tell, await participants_of(uow, room))


class Redrawn(BaseModel):
    """A stand-up redrawn after a decision on its card: the summary, who it @mentions (if it did), its war room."""

    model_config = ConfigDict(frozen=True)

    summary: StandupSummary
    told: Mentions | None
    war_room_id: int


async def redraw_standup(
    *, uow: UnitOfWork, now: datetime, conversation: ConversationRef, since: datetime | None, told: bool = False
) -> Redrawn | None:
    """The stand-up a card showed, as of now: counting "since the last stand-up" from the card's own `since` (None: the
    war room's first stand-up, counting from the start), so a decision or sign-off on it redraws the same stand-up."""
    async with uow:
        war_room_id = await uow.war_rooms.find(conversation)
        if war_room_id is None:
            return None
        room = (await uow.war_rooms.get(war_room_id)).model_copy(update={"last_standup_at": since})
        summary = await standup_summary(uow, room, now=now)
        return Redrawn(summary=summary, told=await standup_told(uow, room, summary) if told else None, war_room_id=war_room_id)


async def war_room_of(*, uow: UnitOfWork, conversation: ConversationRef) -> int | None:
    async with uow:
        return await uow.war_rooms.find(conversation)


async def standup_for(*, uow: UnitOfWork, now: datetime, conversation: ConversationRef) -> Redrawn | None:
    """The stand-up on demand (`standup`), with its war room; it does not count as the scheduled one."""
    async with uow:
        war_room_id = await uow.war_rooms.find(conversation)
        if war_room_id is None:
            return None
        return Redrawn(summary=await standup_summary(uow, await uow.war_rooms.get(war_room_id), now=now), told=None, war_room_id=war_room_id)
