"""Use cases. Each takes keyword arguments, a unit of work and the current time, and commits once."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from bot.domain.model import Issue, IssueDraft, NewIssue, Person, Severity, Status
from bot.domain.policy import SeverityPolicy
from bot.messages import ConversationRef
from storage.repositories import (
    ConversationRepository,
    DuplicateSourceForm,
    IssueRepository,
    ProcessedActivityRepository,
    WarRoomRepository,
)


class UnitOfWork(Protocol):
    war_rooms: WarRoomRepository
    conversations: ConversationRepository
    activities: ProcessedActivityRepository
    issues: IssueRepository

    async def __aenter__(self) -> UnitOfWork: ...
    async def __aexit__(self, *exc: object) -> None: ...
    async def commit(self) -> None: ...


async def record_contact(
    *, uow: UnitOfWork, now: datetime, conversation: ConversationRef, activity_id: str | None
) -> bool:
    """Remember where the user spoke (for proactive messages later); False if this activity was seen before."""
    async with uow:
        if activity_id and not await uow.activities.claim(conversation.conversation_id, activity_id, now=now):
            return False
        war_room_id = await uow.war_rooms.ensure(conversation, now=now)
        await uow.conversations.upsert(conversation, war_room_id=war_room_id, now=now)
        await uow.commit()
    return True


async def report_issue(
    *,
    uow: UnitOfWork,
    now: datetime,
    draft: IssueDraft,
    reporter: Person,
    conversation: ConversationRef,
    form_id: str,
    card_activity_id: str | None,
    policy: SeverityPolicy,
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
            policy=policy,
        )
    except DuplicateSourceForm:
        # A double click or a retried invoke raced us: the other request's issue is the answer.
        async with uow:
            existing = await uow.issues.get_by_source_form(form_id)
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
    policy: SeverityPolicy,
) -> Issue:
    async with uow:
        existing = await uow.issues.get_by_source_form(form_id)
        if existing is not None:
            return existing
        war_room_id = await uow.war_rooms.ensure(conversation, now=now)
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
                status=Status.NEW,
                reporter=reporter,
                tenant_id=conversation.tenant_id,
                team_id=conversation.team_id,
                channel_id=conversation.channel_id,
                conversation_id=conversation.conversation_id,
                card_activity_id=card_activity_id,
                source_form_id=form_id,
                created_at=now,
                resolve_by=policy.resolve_by(severity, raised_at=now),
            )
        )
        await uow.commit()
    return issue


async def purge_processed_activities(*, uow: UnitOfWork, older_than: datetime) -> int:
    async with uow:
        purged = await uow.activities.purge_received_before(older_than)
        await uow.commit()
    return purged
