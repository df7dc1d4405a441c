"""The stand-up: built from a war room's issues, on schedule (the scheduler) or on demand."""

from __future__ import annotations

from datetime import datetime

from bot.domain.exit_criteria import evaluate_exit
from bot.domain.floor import on_duty
from bot.domain.metrics import recurring_candidates
from bot.domain.model import OPEN_STATUSES, Status
from bot.domain.ports import UnitOfWork
from bot.domain.standup import StandupSummary, build_standup
from bot.domain.war_room import WarRoom
from bot.domain.messages import ConversationRef


async def standup_summary(uow: UnitOfWork, room: WarRoom, *, now: datetime) -> StandupSummary:
    """Inside an open unit of work: the stand-up of `room` as of `now`."""
    everything = await uow.issues.all_with_status(room.id, frozenset(Status), limit=100_000)
    report = evaluate_exit(everything, room.settings, now=now, signed_off_at=room.signed_off_at, signed_off_by=room.signed_off_by)
    candidates = recurring_candidates(everything, await uow.runbooks.linked_issue_ids(room.id))
    return build_standup(
        war_room_name=room.display_name,
        open_issues=[issue for issue in everything if issue.status in OPEN_STATUSES],
        recent=await uow.issues.recent(room.id, room.last_standup_at),
        deferred_count=sum(1 for issue in everything if issue.status is Status.DEFERRED),
        since=room.last_standup_at,
        now=now,
        exit_report=report,
        runbook_candidates=tuple(
            (f"{group.area.label} · {group.category.label} ({', '.join(group.keywords[:3])})", group.issue_numbers)
            for group in candidates
        ),
        set_up=room.settings.set_up,
        floor_walkers=tuple(on_duty(await uow.floor_walkers.list(room.id), calendar=room.settings.calendar, now=now)),
    )


async def war_room_of(*, uow: UnitOfWork, conversation: ConversationRef) -> int | None:
    async with uow:
        return await uow.war_rooms.find(conversation)


async def standup_for(*, uow: UnitOfWork, now: datetime, conversation: ConversationRef) -> StandupSummary | None:
    """The stand-up on demand (`standup`); it does not count as the scheduled one."""
    async with uow:
        war_room_id = await uow.war_rooms.find(conversation)
        if war_room_id is None:
            return None
        return await standup_summary(uow, await uow.war_rooms.get(war_room_id), now=now)
