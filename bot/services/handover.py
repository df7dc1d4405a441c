"""The end of hypercare: the celebration at sign-off, and the hand-over pack for steady-state support."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from bot.domain.celebration import Celebration, celebrate
from bot.domain.messages import ConversationRef
from bot.domain.metrics import PhaseMetrics, compute_metrics
from bot.domain.model import Issue, Person, Runbook, Status
from bot.domain.permissions import Action, may, needs_role
from bot.domain.ports import UnitOfWork
from bot.domain.results import Applied, Refused
from bot.domain.events import Event
from bot.domain.war_room import WarRoom
from bot.services.roles import actor_roles


class Celebrated(BaseModel):
    model_config = ConfigDict(frozen=True)

    celebration: Celebration
    chart_id: int  # the kept figures of its chart


async def celebration(*, uow: UnitOfWork, war_room_id: int, now: datetime) -> Celebrated | None:
    """The war room's celebration as of its sign-off (None while it is not signed off), its chart kept."""
    async with uow:
        room = await uow.war_rooms.get(war_room_id)
        if room.signed_off_at is None:
            return None
        issues = await uow.issues.all_with_status(room.id, frozenset(Status), limit=100_000)
        celebrated = celebrate(
            issues, settings=room.settings, war_room_name=room.display_name, signed_off_at=room.signed_off_at,
            signed_off_by=room.signed_off_by, runbooks_written=await uow.runbooks.count(room.id),
        )
        chart_id = await uow.charts.keep(room.id, celebrated.chart, now=now)
        await uow.commit()
    return Celebrated(celebration=celebrated, chart_id=chart_id)


async def may_hand_over(
    *, uow: UnitOfWork, now: datetime, conversation: ConversationRef, actor: Person, admins: frozenset[str]
) -> Applied[WarRoom] | Refused[WarRoom]:
    """Whether `actor` may take the hand-over pack of this conversation's war room."""
    async with uow:
        room = await uow.war_rooms.ensure_room(conversation, now=now)
        allowed = may(await actor_roles(uow, room.id, actor, admins), Action.HAND_OVER)
        await uow.commit()
    if not allowed:
        return Refused(reason=needs_role(Action.HAND_OVER, "download the hand-over pack"), subject=room)
    return Applied(subject=room)


class HandoverContents(BaseModel):
    """Everything the hand-over pack holds, as of `metrics.now`."""

    model_config = ConfigDict(frozen=True)

    room: WarRoom
    issues: tuple[Issue, ...]
    events_by_issue: dict[int, list[Event]]
    runbooks: tuple[Runbook, ...]
    metrics: PhaseMetrics


async def handover_contents(*, uow: UnitOfWork, now: datetime, war_room_id: int) -> HandoverContents | None:
    async with uow:
        room = await uow.war_rooms.by_reference(str(war_room_id))
        if room is None:
            return None
        issues = await uow.issues.all_with_status(room.id, frozenset(Status), limit=100_000)
        events = await uow.events.by_issue(room.id)
        runbooks = await uow.runbooks.all(room.id)
        linked = await uow.runbooks.linked_issue_ids(room.id)
    metrics = compute_metrics(issues, settings=room.settings, now=now, runbook_linked_issue_ids=linked)
    return HandoverContents(room=room, issues=tuple(issues), events_by_issue=events, runbooks=tuple(runbooks), metrics=metrics)
