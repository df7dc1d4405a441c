"""Intake: where the bot can speak, incoming messages claimed once, and new issues reported."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from bot.domain.model import Issue, IssueDraft, NewIssue, Person, Severity, Suggestion
from bot.domain.policy import status_when_raised
from bot.domain.ports import ActivityClaim, DuplicateSourceForm, UnitOfWork
from bot.domain.events import CREATED, Event
from bot.domain.prefill import LabelledExample
from bot.domain.war_room import WarRoom
from bot.domain.messages import ConversationRef


# A member of a war room because the bot saw them act there (bot/services/membership.py: ROSTER, SEEN).
SEEN = "seen"

# How many past fixes the issue form suggests.
SUGGESTIONS = 3
# How many of the war room's own issues, the nearest by full-text search, its prefill learns from.
CONFIRMED = 20


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
    # The war room's issues nearest the report, with the labels its people confirmed: what its prefill learns from.
    confirmed: tuple[LabelledExample, ...] = ()


async def receive_message(
    *,
    uow: UnitOfWork,
    now: datetime,
    conversation: ConversationRef,
    activity_id: str | None,
    report_text: str | None = None,
    look_in_thread: bool = False,
    sender: Person | None = None,
) -> Received:
    """Claim an incoming message for answering (Teams re-delivers) and read what answering it needs.

    One transaction per activity: the claim, the war room, the issue whose thread this is (`look_in_thread`), past
    fixes that look like `report_text` and the war room's own issues nearest it (for the prefill); the `sender` is remembered as a member of the war room. The claim is
    taken at `now`.
    """
    async with uow:
        if activity_id:
            claim = await uow.activities.claim(conversation.conversation_id, activity_id, now=now, lease=ACTIVITY_LEASE)
            if claim != "claimed":
                return Received(claim=claim)
        if conversation.is_personal and not conversation.acting_in:
            # A personal chat not (yet) acting in one of its person's war rooms: nothing but the claim is stored.
            await uow.commit()
            return Received(claim="claimed")
        room = await uow.war_rooms.ensure_room(conversation, now=now)
        war_room_id = room.id
        await uow.conversations.upsert(conversation, war_room_id=war_room_id, now=now)
        if sender is not None and not conversation.is_personal:
            # Seen acting here: a member of this war room, so their personal chat can act in it.
            await uow.members.add(war_room_id, [sender], via=SEEN, now=now)
        if conversation.team_name and not room.name:
            await uow.war_rooms.name_if_unnamed(war_room_id, conversation.team_name)
        thread_issue = None
        if look_in_thread and conversation.is_thread:
            thread_issue = await uow.issues.get_latest_in_conversation(conversation.conversation_id)
        suggestions: list[Suggestion] = []
        confirmed: list[LabelledExample] = []
        if report_text and thread_issue is None and room.signed_off_at is None:
            suggestions = await uow.similar.similar(war_room_id, report_text, limit=SUGGESTIONS)
            confirmed = await uow.similar.confirmed(war_room_id, report_text, limit=CONFIRMED)
        await uow.commit()
    return Received(
        claim="claimed", room=room, thread_issue=thread_issue, suggestions=tuple(suggestions), confirmed=tuple(confirmed)
    )


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


async def purge_processed_activities(*, uow: UnitOfWork, older_than: datetime) -> int:
    async with uow:
        purged = await uow.activities.purge_received_before(older_than)
        await uow.commit()
    return purged


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
            raise WarRoomClosed(room.settings.support_route)
        war_room_id, settings = room.id, room.settings
        await uow.conversations.upsert(conversation, war_room_id=war_room_id, now=now)
        issue = await uow.issues.add(
            NewIssue(
                war_room_id=war_room_id,
                title=draft.title,
                description=draft.description,
                severity=severity,
                category=draft.category,
                area=draft.area,
                company=draft.company,
                affected_users=draft.affected_users,
                environment=draft.environment,
                documents=draft.documents,
                status=status_when_raised(severity),
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
            ),
            created=Event(verb=CREATED, actor=reporter, at=now, to_value=severity.label),
        )
        await uow.commit()
    return issue
