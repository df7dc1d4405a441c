"""Triage: commands on an issue (from its card or the chat), snoozing its reminders, finding and listing issues."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.domain.model import Issue, IssueQuery, NewRunbook, Person, Role
from bot.domain.permissions import Action, may, needs_role
from bot.domain.ports import StaleIssue, UnitOfWork
from bot.domain.reminders import rebase_reminders, restart_reminders
from bot.domain.results import Applied, NotFound, Refused, Stale, TriageResult
from bot.domain.events import MERGED, SNOOZED, Event, describe_change
from bot.domain.triage import (
    ChangeSeverity,
    DecidePriority,
    Escalate,
    MarkDuplicate,
    Refusal,
    Reopen,
    Resolve,
    StillBroken,
    TriageCommand,
    decide,
    merge_followers,
)
from bot.domain.messages import ConversationRef
from bot.services.roles import actor_roles, room_and_actor_roles


async def triage_issue(
    *,
    uow: UnitOfWork,
    now: datetime,
    conversation: ConversationRef,
    actor: Person,
    issue_id: int | None = None,
    number: int | None = None,
    card_version: int | None = None,
    command: TriageCommand,
    admins: frozenset[str],
) -> TriageResult:
    """Apply one triage command to an issue of this conversation's war room.

    From a card, `issue_id` and the card's version; from a chat command, the issue `number` and no version.
    """
    async with uow:
        room, roles = await room_and_actor_roles(uow, conversation, actor, admins, now=now)
        war_room_id = room.id
        if issue_id is not None:
            issue = await uow.issues.get(issue_id, for_update=True)
        else:
            assert number is not None
            issue = await uow.issues.get_by_number(war_room_id, number, for_update=True)
        if issue is None or issue.war_room_id != war_room_id:
            # The same answer for "no such issue" and "another war room's issue": nothing leaks.
            return NotFound(reason=f"There is no issue {f'#{number}' if number else 'like that'} in this war room.")
        if card_version is not None and card_version != issue.version:
            return await _stale(uow, issue, card_version, command, actor, now)
        target = None
        if isinstance(command, MarkDuplicate):
            target = await uow.issues.get_by_number(war_room_id, command.of_number, for_update=True)
        settings = room.settings
        on_call, partner_team = None, ()
        if isinstance(command, Escalate):
            # To whoever is on call; with nobody on call, to the partner team.
            on_call = room.oncall.on_call(now, settings.calendar)
            if on_call is None:
                partner_team = (await uow.roles.holders({war_room_id}, Role.PARTNER)).get(war_room_id, ())
        decision = decide(
            issue, command, actor=actor, roles=roles, now=now, policy=settings.policy, calendar=settings.calendar,
            duplicate_target=target, on_call=on_call, partner_team=partner_team,
            auto_close_working_days=settings.auto_close_working_days,
        )
        if isinstance(decision, Refusal):
            return Refused(subject=issue, reason=decision.reason, field=decision.field)
        try:
            saved = await uow.issues.save(decision.issue, expected_version=issue.version, known_followers=issue.followers)
        except StaleIssue:
            current = await uow.issues.get(issue.id)
            assert current is not None
            return Stale(subject=current, change="Someone changed this issue at the same moment.")
        await uow.events.add(saved, decision.event)
        if isinstance(command, Reopen | StillBroken):
            state = restart_reminders(await uow.issues.reminder_state(saved.id))
            await uow.issues.save_reminders(saved.id, state, next_due_at=now)
        elif isinstance(command, Resolve) and saved.resolution and saved.resolution.save_as_runbook:
            # "Save as runbook": the fix is written down the moment it happens.
            await uow.runbooks.add(
                NewRunbook(
                    war_room_id=war_room_id,
                    title=saved.resolution.runbook_title or saved.title,
                    symptoms=saved.description,
                    steps=saved.resolution.notes,
                    area=saved.area,
                    category=saved.category,
                    owner=actor,
                    issue_ids=(saved.id,),
                    created_at=now,
                )
            )
        elif isinstance(command, ChangeSeverity) or (isinstance(command, DecidePriority) and saved.severity != issue.severity):
            state = rebase_reminders(
                saved, await uow.issues.reminder_state(saved.id), rule=settings.policy.rule(saved.severity),
                calendar=settings.calendar, now=now,
            )
            await uow.issues.save_reminders(saved.id, state, next_due_at=now)
        also_changed: tuple[Issue, ...] = ()
        if target is not None:
            merged = target.model_copy(update={"followers": merge_followers(target, issue), "updated_at": now})
            saved_target = await uow.issues.save(merged, expected_version=target.version, known_followers=target.followers)
            await uow.events.add(saved_target, Event(verb=MERGED, actor=actor, at=now, from_value=f"#{issue.number}"))
            also_changed = (saved_target,)
        await uow.commit()
    return Applied(
        subject=saved,
        event=decision.event,
        announcement=decision.announcement,
        notify=decision.notify,
        notice=decision.notice,
        also_changed=also_changed,
    )


async def _stale(
    uow: UnitOfWork, issue: Issue, card_version: int, command: TriageCommand, actor: Person, now: datetime
) -> Stale:
    events = await uow.events.list_for(issue.id, after_version=card_version)
    if not events:
        return Stale(subject=issue, change="This card was out of date.")
    if len(events) == 1 and events[0].verb == command.verb.value and events[0].actor.aad_object_id == actor.aad_object_id:
        return Stale(subject=issue, change=None)  # Teams re-sent the same click: it already applied
    return Stale(subject=issue, change=describe_change(events[-1], now=now))


async def snooze_reminders(
    *,
    uow: UnitOfWork,
    now: datetime,
    conversation: ConversationRef,
    actor: Person,
    issue_id: int,
    period: timedelta,
    admins: frozenset[str],
) -> Applied[Issue] | Refused[Issue] | NotFound:
    """Postpone an issue's next reminder (an escalation is not postponed)."""
    async with uow:
        war_room_id = await uow.war_rooms.ensure(conversation, now=now)
        issue = await uow.issues.get(issue_id, for_update=True)
        if issue is None or issue.war_room_id != war_room_id:
            return NotFound(reason="There is no issue like that in this war room.")
        if not may(await actor_roles(uow, war_room_id, actor, admins), Action.SNOOZE_REMINDERS):
            return Refused(subject=issue, reason=needs_role(Action.SNOOZE_REMINDERS, "snooze reminders"))
        if not issue.status.is_open:
            return Refused(subject=issue, reason=f"#{issue.number} is {issue.status.label.lower()}: no more reminders.")
        until = now + period
        state = (await uow.issues.reminder_state(issue.id)).model_copy(update={"snoozed_until": until})
        await uow.issues.save_reminders(issue.id, state, next_due_at=until)
        event = Event(verb=SNOOZED, actor=actor, at=now, to_value=until.isoformat(timespec="minutes"))
        await uow.events.add(issue, event)
        await uow.commit()
    return Applied(subject=issue, event=event)


async def find_issue(
    *, uow: UnitOfWork, conversation: ConversationRef, number: int | None = None, issue_id: int | None = None
) -> Issue | None:
    """An issue of this conversation's war room, by number or id; never another war room's."""
    async with uow:
        war_room_id = await uow.war_rooms.find(conversation)
        if war_room_id is None:
            return None
        if issue_id is not None:
            issue = await uow.issues.get(issue_id)
            return issue if issue is not None and issue.war_room_id == war_room_id else None
        assert number is not None
        return await uow.issues.get_by_number(war_room_id, number)


async def issue_history(*, uow: UnitOfWork, conversation: ConversationRef, number: int) -> tuple[Issue, list[Event]] | None:
    async with uow:
        war_room_id = await uow.war_rooms.find(conversation)
        issue = await uow.issues.get_by_number(war_room_id, number) if war_room_id is not None else None
        if issue is None:
            return None
        return issue, await uow.events.list_for(issue.id)


async def list_issues(
    *, uow: UnitOfWork, now: datetime, conversation: ConversationRef, query: IssueQuery
) -> tuple[list[Issue], int]:
    async with uow:
        war_room_id = await uow.war_rooms.find(conversation)
        if war_room_id is None:
            return [], 0
        return await uow.issues.list(war_room_id, query, now=now)


async def attach_card(*, uow: UnitOfWork, now: datetime, issue_id: int, activity_id: str, thread: ConversationRef) -> None:
    """Remember the message showing an issue's card (to update it in place) and the thread it is in.

    Only for an issue of the thread's own war room: another war room's issue is never moved there.
    """
    async with uow:
        issue = await uow.issues.get(issue_id)
        if issue is None or issue.war_room_id != await uow.war_rooms.find(thread):
            return
        await uow.issues.set_card_activity(issue_id, activity_id, thread.conversation_id)
        # Reminders for the issue go into this thread: remember how to reach it.
        await uow.conversations.upsert(thread, war_room_id=issue.war_room_id, now=now)
        await uow.commit()


async def issue_war_room(*, uow: UnitOfWork, issue_id: int) -> int | None:
    """The war room an issue belongs to (a click on its card in a personal chat acts there, if it is the clicker's)."""
    async with uow:
        issue = await uow.issues.get(issue_id)
    return issue.war_room_id if issue is not None else None
