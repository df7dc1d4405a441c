"""Use cases. Each takes keyword arguments, a unit of work and the current time, and commits once."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

from bot.domain.model import (
    OPEN_STATUSES,
    Issue,
    IssueDraft,
    IssueQuery,
    NewIssue,
    NewRunbook,
    Person,
    Role,
    Severity,
    Status,
    Suggestion,
)
from bot.domain.exit_criteria import evaluate_exit
from bot.domain.metrics import recurring_candidates
from bot.domain.permissions import Action, may, needs_role
from bot.domain.reminders import rebase_reminders, restart_reminders
from bot.domain.standup import StandupSummary, build_standup
from bot.domain.war_room import OnCall, OnCallOverride, OnCallRota, OnCallView, WarRoom, WarRoomSettings
from bot.domain.triage import (
    CREATED,
    MERGED,
    SNOOZED,
    ChangeSeverity,
    Event,
    MarkDuplicate,
    Refusal,
    Reopen,
    Resolve,
    TriageCommand,
    decide,
    describe_change,
    merge_followers,
)
from bot.messages import ConversationRef, OutboundMessage
from storage.repositories.activities import ActivityClaim, ProcessedActivityRepository
from storage.repositories.common import DuplicateSourceForm
from storage.repositories.conversations import ConversationRepository
from storage.repositories.events import EventRepository
from storage.repositories.issues import IssueRepository, StaleIssue
from storage.repositories.outbox import OutboxRepository
from storage.repositories.roles import RoleRepository
from storage.repositories.runbooks import RunbookRepository
from storage.repositories.similar import SimilarityRepository
from storage.repositories.war_rooms import WarRoomRepository


# How many past fixes the issue form suggests.
SUGGESTIONS = 3


class UnitOfWork(Protocol):
    war_rooms: WarRoomRepository
    conversations: ConversationRepository
    activities: ProcessedActivityRepository
    issues: IssueRepository
    events: EventRepository
    roles: RoleRepository
    outbox: OutboxRepository
    runbooks: RunbookRepository
    similar: SimilarityRepository

    async def __aenter__(self) -> UnitOfWork: ...
    async def __aexit__(self, *exc: object) -> None: ...
    async def commit(self) -> None: ...


async def record_contact(*, uow: UnitOfWork, now: datetime, conversation: ConversationRef) -> None:
    """Remember where the bot can speak (for proactive messages later), and the team's name."""
    async with uow:
        war_room_id = await uow.war_rooms.ensure(conversation, now=now)
        await uow.conversations.upsert(conversation, war_room_id=war_room_id, now=now)
        if conversation.team_name:
            await uow.war_rooms.name_if_unnamed(war_room_id, conversation.team_name)
        await uow.commit()


class WarRoomClosed(Exception):
    """Hypercare is signed off here: new problems go to the steady-state support process (the message)."""


# How long a claim on an incoming activity holds while it is answered. One still unfinished after this belonged to
# a process that died (or lost the database before it could let go): Teams' next re-delivery is answered. Longer
# than a turn takes, its retries to the Bot Connector included, so that a slow answer is not given twice.
ACTIVITY_LEASE = timedelta(seconds=60)


class Received(BaseModel):
    """What one incoming message needs from storage, read in the same transaction that claims it."""

    model_config = ConfigDict(frozen=True)

    # Only a "claimed" message is answered; it is finished (`finish_activity`) or released (`release_activity`).
    claim: ActivityClaim
    room: WarRoom | None = None
    thread_issue: Issue | None = None
    suggestions: tuple[Suggestion, ...] = ()


async def receive_message(
    *,
    uow: UnitOfWork,
    now: datetime,
    conversation: ConversationRef,
    activity_id: str | None,
    report_text: str | None = None,
    look_in_thread: bool = False,
) -> Received:
    """Claim an incoming message for answering (Teams re-delivers) and read what answering it needs.

    One transaction per activity: the claim, the war room, the issue whose thread this is (`look_in_thread`), and
    past fixes that look like `report_text`. The claim is taken at `now`.
    """
    async with uow:
        if activity_id:
            claim = await uow.activities.claim(conversation.conversation_id, activity_id, now=now, lease=ACTIVITY_LEASE)
            if claim != "claimed":
                return Received(claim=claim)
        room = await uow.war_rooms.ensure_room(conversation, now=now)
        war_room_id = room.id
        await uow.conversations.upsert(conversation, war_room_id=war_room_id, now=now)
        if conversation.team_name and not room.name:
            await uow.war_rooms.name_if_unnamed(war_room_id, conversation.team_name)
        thread_issue = None
        if look_in_thread and conversation.is_thread:
            thread_issue = await uow.issues.get_latest_in_conversation(conversation.conversation_id)
        suggestions: list[Suggestion] = []
        if report_text and thread_issue is None and room.signed_off_at is None:
            suggestions = await uow.similar.similar(war_room_id, report_text, limit=SUGGESTIONS)
        await uow.commit()
    return Received(claim="claimed", room=room, thread_issue=thread_issue, suggestions=tuple(suggestions))


async def finish_activity(*, uow: UnitOfWork, now: datetime, conversation_id: str, activity_id: str, claimed_at: datetime) -> bool:
    """The activity claimed at `claimed_at` was answered (sent or queued): a re-delivery of it is a duplicate now.

    False when the claim had run out and another delivery took it over (which may answer it again)."""
    async with uow:
        finished = await uow.activities.finish(conversation_id, activity_id, claimed_at=claimed_at, now=now)
        await uow.commit()
    return finished


async def release_activity(*, uow: UnitOfWork, conversation_id: str, activity_id: str, claimed_at: datetime) -> None:
    """Answering the activity claimed at `claimed_at` failed: Teams' re-delivery of it is answered."""
    async with uow:
        await uow.activities.release(conversation_id, activity_id, claimed_at=claimed_at)
        await uow.commit()


async def report_issue(
    *,
    uow: UnitOfWork,
    now: datetime,
    draft: IssueDraft,
    reporter: Person,
    conversation: ConversationRef,
    form_id: str,
    card_activity_id: str | None,
    source_url: str | None = None,
) -> Issue:
    """Store a confirmed issue. Submitting the same form again returns the issue it already made."""
    if draft.severity is None:
        raise ValueError("a reported issue needs a severity")
    try:
        return await _store_new_issue(
            uow=uow,
            now=now,
            draft=draft,
            severity=draft.severity,
            reporter=reporter,
            conversation=conversation,
            form_id=form_id,
            card_activity_id=card_activity_id,
            source_url=source_url,
        )
    except DuplicateSourceForm:
        # A double click or a retried invoke raced us: the other request's issue is the answer.
        async with uow:
            war_room_id = await uow.war_rooms.find(conversation)
            assert war_room_id is not None  # the duplicate is in it
            existing = await uow.issues.get_by_source_form(war_room_id, form_id)
        assert existing is not None
        return existing


async def _store_new_issue(
    *,
    uow: UnitOfWork,
    now: datetime,
    draft: IssueDraft,
    severity: Severity,
    reporter: Person,
    conversation: ConversationRef,
    form_id: str,
    card_activity_id: str | None,
    source_url: str | None,
) -> Issue:
    async with uow:
        # A second submit of the same form is caught by the form id, unique per war room (DuplicateSourceForm), not a read first.
        room = await uow.war_rooms.ensure_room(conversation, now=now)
        if room.signed_off_at is not None:
            raise WarRoomClosed(room.settings.steady_state_support or "the usual support process (ask your admin to name it in `setup`)")
        war_room_id, settings = room.id, room.settings
        await uow.conversations.upsert(conversation, war_room_id=war_room_id, now=now)
        number = await uow.war_rooms.next_issue_number(war_room_id)
        issue = await uow.issues.add(
            NewIssue(
                war_room_id=war_room_id,
                number=number,
                title=draft.title,
                description=draft.description,
                severity=severity,
                category=draft.category,
                area=draft.area,
                company=draft.company,
                affected_users=draft.affected_users,
                # Scope discipline: an enhancement goes straight to the post-go-live backlog.
                status=Status.DEFERRED if severity is Severity.SEV4 else Status.NEW,
                reporter=reporter,
                tenant_id=conversation.tenant_id,
                team_id=conversation.team_id,
                channel_id=conversation.channel_id,
                conversation_id=conversation.conversation_id,
                card_activity_id=card_activity_id,
                source_form_id=form_id,
                source_url=source_url,
                created_at=now,
                resolve_by=settings.policy.resolve_by(severity, raised_at=now, calendar=settings.calendar),
            )
        )
        await uow.events.add(issue, Event(verb=CREATED, actor=reporter, at=now, to_value=severity.label))
        await uow.commit()
    return issue


class _Result(BaseModel):
    model_config = ConfigDict(frozen=True)


class Applied(_Result):
    issue: Issue
    event: Event
    announcement: str | None = None
    # People to @mention with `notice` in the issue's thread.
    notify: tuple[Person, ...] = ()
    notice: str | None = None
    # Other issues the change touched (a duplicate's target), whose cards need refreshing too.
    also_changed: tuple[Issue, ...] = ()


class Refused(_Result):
    issue: Issue
    reason: str
    # The command's field the refusal is about, if one (see triage.Refusal).
    field: str | None = None


class Stale(_Result):
    """The card was older than the issue; `change` says what happened since (None: the same click again)."""

    issue: Issue
    change: str | None


class NotFound(_Result):
    reason: str


TriageResult = Applied | Refused | Stale | NotFound


async def actor_roles(uow: UnitOfWork, war_room_id: int, actor: Person, admins: frozenset[str]) -> frozenset[Role]:
    """The roles `actor` holds in the war room; admin too when the operator named them (`admins`, lower-case object ids)."""
    roles = await uow.roles.of(war_room_id, actor.aad_object_id)
    if actor.aad_object_id and actor.aad_object_id.lower() in admins:
        roles |= {Role.ADMIN}
    return roles


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
        room = await uow.war_rooms.ensure_room(conversation, now=now)
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
        roles = await actor_roles(uow, war_room_id, actor, admins)
        target = None
        if isinstance(command, MarkDuplicate):
            target = await uow.issues.get_by_number(war_room_id, command.of_number, for_update=True)
        settings = room.settings
        decision = decide(
            issue, command, actor=actor, roles=roles, now=now, policy=settings.policy, calendar=settings.calendar,
            duplicate_target=target,
        )
        if isinstance(decision, Refusal):
            return Refused(issue=issue, reason=decision.reason, field=decision.field)
        try:
            saved = await uow.issues.save(decision.issue, expected_version=issue.version, known_followers=issue.followers)
        except StaleIssue:
            current = await uow.issues.get(issue.id)
            assert current is not None
            return Stale(issue=current, change="Someone changed this issue at the same moment.")
        await uow.events.add(saved, decision.event)
        if isinstance(command, Reopen):
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
        elif isinstance(command, ChangeSeverity):
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
        issue=saved,
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
        return Stale(issue=issue, change="This card was out of date.")
    if len(events) == 1 and events[0].verb == command.verb.value and events[0].actor.aad_object_id == actor.aad_object_id:
        return Stale(issue=issue, change=None)  # Teams re-sent the same click: it already applied
    return Stale(issue=issue, change=describe_change(events[-1], now=now))


async def snooze_reminders(
    *,
    uow: UnitOfWork,
    now: datetime,
    conversation: ConversationRef,
    actor: Person,
    issue_id: int,
    period: timedelta,
    admins: frozenset[str],
) -> Applied | Refused | NotFound:
    """Postpone an issue's next reminder (an escalation is not postponed)."""
    async with uow:
        war_room_id = await uow.war_rooms.ensure(conversation, now=now)
        issue = await uow.issues.get(issue_id, for_update=True)
        if issue is None or issue.war_room_id != war_room_id:
            return NotFound(reason="There is no issue like that in this war room.")
        if not may(await actor_roles(uow, war_room_id, actor, admins), Action.SNOOZE_REMINDERS):
            return Refused(issue=issue, reason=needs_role(Action.SNOOZE_REMINDERS, "snooze reminders"))
        if not issue.status.is_open:
            return Refused(issue=issue, reason=f"#{issue.number} is {issue.status.label.lower()}: no more reminders.")
        until = now + period
        state = (await uow.issues.reminder_state(issue.id)).model_copy(update={"snoozed_until": until})
        await uow.issues.save_reminders(issue.id, state, next_due_at=until)
        event = Event(verb=SNOOZED, actor=actor, at=now, to_value=until.isoformat(timespec="minutes"))
        await uow.events.add(issue, event)
        await uow.commit()
    return Applied(issue=issue, event=event)


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


async def enqueue_message(
    *, uow: UnitOfWork, now: datetime, conversation: ConversationRef, card: dict[str, Any], dedupe_key: str
) -> None:
    """Queue a message for a conversation; the scheduler's outbox pass sends it."""
    async with uow:
        war_room_id = await uow.war_rooms.ensure(conversation, now=now)
        await uow.outbox.enqueue(
            OutboundMessage(
                dedupe_key=dedupe_key,
                war_room_id=war_room_id,
                tenant_id=conversation.tenant_id,
                service_url=conversation.service_url,
                kind="message",
                conversation_id=conversation.conversation_id,
                bot_id=conversation.bot_id,
                card=card,
            ),
            now=now,
        )
        await uow.commit()


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


class ChangeResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    changed: bool
    message: str


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
) -> ChangeResult:
    async with uow:
        war_room_id = await uow.war_rooms.ensure(conversation, now=now)
        if not may(await actor_roles(uow, war_room_id, actor, admins), Action.MANAGE_ROLES):
            return ChangeResult(changed=False, message="Only an admin can change roles.")
        if not person.aad_object_id:
            return ChangeResult(changed=False, message=f"I could not tell who {person.name} is; mention them with @.")
        if grant:
            changed = await uow.roles.grant(war_room_id, person, role, by=actor, now=now)
            message = f"{person.name} is now {role.label} ({role.value})." if changed else f"{person.name} already was {role.value}."
        else:
            changed = await uow.roles.revoke(war_room_id, person.aad_object_id, role)
            message = f"{person.name} is no longer {role.value}." if changed else f"{person.name} did not have the role {role.value}."
        await uow.commit()
    return ChangeResult(changed=changed, message=message)


async def list_roles(*, uow: UnitOfWork, conversation: ConversationRef) -> list[tuple[Person, Role]]:
    async with uow:
        war_room_id = await uow.war_rooms.find(conversation)
        return await uow.roles.members(war_room_id) if war_room_id is not None else []


async def purge_processed_activities(*, uow: UnitOfWork, older_than: datetime) -> int:
    async with uow:
        purged = await uow.activities.purge_received_before(older_than)
        await uow.commit()
    return purged


# Worded by hand, as README says it: needs_role() would name the roles in alphabetical order.
_NOT_AN_ON_CALL_MANAGER = ChangeResult(changed=False, message="To change who is on call you need the role triage_lead or admin.")


async def oncall_refusal(
    *, uow: UnitOfWork, now: datetime, conversation: ConversationRef, actor: Person, admins: frozenset[str]
) -> ChangeResult | None:
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
) -> ChangeResult:
    """Set who is on call (until a local time), clear that, or set a weekly rota starting with its first person now."""
    async with uow:
        war_room_id = await uow.war_rooms.ensure(conversation, now=now)
        if not may(await actor_roles(uow, war_room_id, actor, admins), Action.CHANGE_ON_CALL):
            return _NOT_AN_ON_CALL_MANAGER
        room = await uow.war_rooms.get(war_room_id)
        calendar = room.settings.calendar
        if rota:
            today = calendar.local_date(now)
            starts = today - timedelta(days=(today.weekday() - handover_weekday) % 7)
            handover_at = handover_time or time(9, 0)
            if calendar.at_local(starts, handover_at) > now:
                starts -= timedelta(days=7)
            oncall = room.oncall.model_copy(
                update={"rota": OnCallRota(people=rota, handover_weekday=handover_weekday, handover_time=handover_at, starts=starts)}
            )
            message = "On-call rota: " + ", ".join(p.name for p in rota) + f", a week each, handing over {handover_at:%H:%M} on " + (
                ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays")[handover_weekday]
            ) + "."
        elif person is None:
            oncall = room.oncall.model_copy(update={"override": None})
            message = "The on-call override is cleared; the rota (if any) applies."
        else:
            until = calendar.at_local(until_local.date(), until_local.time()) if until_local else None
            if until is not None and until <= now:
                return ChangeResult(changed=False, message="That end time has already passed.")
            oncall = room.oncall.model_copy(update={"override": OnCallOverride(person=person, until=until)})
            message = f"{person.name} is on call" + (f" until {until_local:%Y-%m-%d %H:%M} ({calendar.time_zone})." if until_local else ".")
        await uow.war_rooms.save_oncall(war_room_id, oncall)
        await uow.commit()
    return ChangeResult(changed=True, message=message)


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
