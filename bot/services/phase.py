"""Use cases of the hypercare phase itself: set it up, see the exit criteria, sign off, extend."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict

from bot.domain.exit_criteria import ExitReport, evaluate_exit
from bot.domain.metrics import PhaseMetrics, compute_metrics
from bot.domain.model import Issue, Person, Status
from bot.domain.permissions import Action, may, needs_role
from bot.domain.ports import UnitOfWork
from bot.domain.results import Applied, Refused
from bot.domain.events import Event
from bot.domain.war_room import WarRoom, WarRoomSettings
from bot.domain.messages import ConversationRef
from bot.services.roles import actor_roles


class PhaseView(BaseModel):
    model_config = ConfigDict(frozen=True)

    room: WarRoom
    report: ExitReport
    issues: tuple[Issue, ...]


PhaseChange = Applied[PhaseView] | Refused[PhaseView]


async def _room_if_allowed(
    uow: UnitOfWork, conversation: ConversationRef, actor: Person, admins: frozenset[str], action: Action, *, now: datetime
) -> WarRoom | None:
    """The conversation's war room, if `actor` may take `action` there."""
    room = await uow.war_rooms.ensure_room(conversation, now=now)
    return room if may(await actor_roles(uow, room.id, actor, admins), action) else None


def _refusal(action: Action, what: str) -> Refused[PhaseView]:
    return Refused(reason=needs_role(action, what))


async def _view(uow: UnitOfWork, war_room_id: int, now: datetime) -> PhaseView:
    room = await uow.war_rooms.get(war_room_id)
    issues = await uow.issues.all_with_status(room.id, frozenset(Status), limit=100_000)
    report = evaluate_exit(issues, room.settings, now=now, signed_off_at=room.signed_off_at, signed_off_by=room.signed_off_by)
    return PhaseView(room=room, report=report, issues=tuple(issues))


async def phase_view(*, uow: UnitOfWork, now: datetime, conversation: ConversationRef) -> PhaseView:
    async with uow:
        war_room_id = await uow.war_rooms.ensure(conversation, now=now)
        view = await _view(uow, war_room_id, now)
        await uow.commit()
    return view


async def configure(
    *, uow: UnitOfWork, now: datetime, conversation: ConversationRef, actor: Person, settings: WarRoomSettings,
    admins: frozenset[str],
) -> PhaseChange:
    async with uow:
        room = await _room_if_allowed(uow, conversation, actor, admins, Action.SET_UP, now=now)
        if room is None:
            return _refusal(Action.SET_UP, "set up the war room")
        war_room_id = room.id
        before = room.settings
        set_up = room.model_copy(update={"settings": settings})
        await uow.war_rooms.save_settings(war_room_id, settings, next_standup_at=set_up.next_standup(now))
        await uow.war_rooms.add_event(
            war_room_id,
            Event(verb="setup", actor=actor, at=now, from_value=_dates(before), to_value=_dates(settings)),
        )
        view = await _view(uow, war_room_id, now)
        await uow.commit()
    return Applied(subject=view, message="War room settings saved.")


async def setup_form(
    *, uow: UnitOfWork, now: datetime, conversation: ConversationRef, actor: Person, admins: frozenset[str]
) -> Applied[WarRoom] | Refused[WarRoom]:
    """The war room whose setup form `actor` asked for, if they may set it up."""
    async with uow:
        room = await _room_if_allowed(uow, conversation, actor, admins, Action.SET_UP, now=now)
        await uow.commit()
    return Applied(subject=room) if room else Refused(reason=needs_role(Action.SET_UP, "set up the war room"))


def _dates(settings: WarRoomSettings) -> str:
    return f"{settings.starts_on or '?'} → {settings.ends_on or '?'}"


async def extend(
    *, uow: UnitOfWork, now: datetime, conversation: ConversationRef, actor: Person, reason: str, admins: frozenset[str],
    until: date | None = None, weeks: int = 0,
) -> Applied[WarRoomSettings] | Refused[WarRoomSettings]:
    """Move the planned end to `until`, or `weeks` later."""
    async with uow:
        room = await _room_if_allowed(uow, conversation, actor, admins, Action.EXTEND, now=now)
        if room is None:
            return _refusal(Action.EXTEND, "move the end of hypercare")
        war_room_id = room.id
        settings = room.settings
        ends_on = settings.extended_end(now=now, until=until, weeks=weeks)
        if settings.starts_on and ends_on <= settings.starts_on:
            return Refused(reason=f"The end must be after the start ({settings.starts_on}).")
        if ends_on < settings.calendar.local_date(now):
            return Refused(reason="The new end is in the past.")
        try:
            extended = settings.ending_on(ends_on)
        except ValueError as error:
            return Refused(reason=f"The end was not moved: {error}.")
        await uow.war_rooms.save_settings(war_room_id, extended, next_standup_at=room.model_copy(update={"settings": extended}).next_standup(now))
        await uow.war_rooms.add_event(
            war_room_id,
            Event(verb="extend", actor=actor, at=now, from_value=str(settings.ends_on or "not set"), to_value=str(ends_on), reason=reason),
        )
        await uow.commit()
    return Applied(
        subject=extended,
        message=f"Hypercare now ends on {ends_on:%A %d %B %Y}.",
        announcement=f"{actor.name} moved the end of hypercare to {ends_on:%A %d %B %Y}: {reason}",
    )


async def sign_off(*, uow: UnitOfWork, now: datetime, conversation: ConversationRef, actor: Person, admins: frozenset[str]) -> PhaseChange:
    """Leadership signs off, only while criteria 1–4 pass as of now (a regression since the card was drawn locks it again)."""
    async with uow:
        room = await _room_if_allowed(uow, conversation, actor, admins, Action.SIGN_OFF, now=now)
        if room is None:
            return _refusal(Action.SIGN_OFF, "sign off hypercare")
        war_room_id = room.id
        view = await _view(uow, war_room_id, now)
        if view.room.signed_off_at:
            by = view.room.signed_off_by.name if view.room.signed_off_by else "someone"
            return Refused(subject=view, reason=f"Already signed off by {by}.")
        if not view.report.measured_pass:
            failing = ", ".join(c.label for c in view.report.criteria if not c.passed)
            return Refused(subject=view, reason=f"Not yet: {failing}.")
        # No more stand-ups; the issues' reminders are held as each comes due (the scheduler sees the sign-off).
        await uow.war_rooms.set_sign_off(war_room_id, by=actor, at=now, next_standup_at=None)
        await uow.war_rooms.add_event(war_room_id, Event(verb="signoff", actor=actor, at=now))
        view = await _view(uow, war_room_id, now)
        await uow.commit()
    route = view.room.settings.steady_state_support or "the usual support process"
    return Applied(
        subject=view,
        message="Hypercare is signed off.",
        announcement=f"Hypercare is signed off by {actor.name}: the exit criteria are met. New problems go to {route}.",
    )


async def withdraw_sign_off(
    *, uow: UnitOfWork, now: datetime, conversation: ConversationRef, actor: Person, reason: str, admins: frozenset[str]
) -> PhaseChange:
    async with uow:
        room = await _room_if_allowed(uow, conversation, actor, admins, Action.WITHDRAW_SIGN_OFF, now=now)
        if room is None:
            return _refusal(Action.WITHDRAW_SIGN_OFF, "withdraw the sign-off")
        war_room_id = room.id
        if not room.signed_off_at:
            return Refused(reason="Hypercare is not signed off.")
        resumed = room.model_copy(update={"signed_off_at": None, "signed_off_by": None})
        await uow.war_rooms.set_sign_off(war_room_id, by=None, at=None, next_standup_at=resumed.next_standup(now))
        await uow.issues.resume_reminders(war_room_id, now=now)
        await uow.war_rooms.add_event(war_room_id, Event(verb="withdraw", actor=actor, at=now, reason=reason))
        view = await _view(uow, war_room_id, now)
        await uow.commit()
    return Applied(
        subject=view,
        message="The sign-off is withdrawn; the war room takes hypercare issues again.",
        announcement=f"{actor.name} withdrew the hypercare sign-off: {reason}",
    )


class PhaseFigures(BaseModel):
    """Everything `status`, the chart and the export show about a war room's phase."""

    model_config = ConfigDict(frozen=True)

    room: WarRoom
    issues: tuple[Issue, ...]
    metrics: PhaseMetrics
    report: ExitReport


async def phase_figures(*, uow: UnitOfWork, now: datetime, war_room_id: int) -> PhaseFigures | None:
    async with uow:
        if await uow.war_rooms.by_reference(str(war_room_id)) is None:
            return None
        view = await _view(uow, war_room_id, now)
        linked = await uow.runbooks.linked_issue_ids(war_room_id)
    metrics = compute_metrics(list(view.issues), settings=view.room.settings, now=now, runbook_linked_issue_ids=linked)
    return PhaseFigures(room=view.room, issues=view.issues, metrics=metrics, report=view.report)
