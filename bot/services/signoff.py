"""Signing off resolutions: unconfirmed ones closing by themselves (the scheduler), and the stand-up redrawn after a
sign-off on it. Confirming and calling a fix still broken go through bot/services/triage.py like every issue button."""

from __future__ import annotations

from datetime import datetime

from bot.domain.messages import ConversationRef
from bot.domain.model import Issue
from bot.domain.ports import StaleIssue, UnitOfWork
from bot.domain.signoff import auto_close
from bot.domain.standup import StandupSummary
from bot.services.standup import standup_summary


async def close_unconfirmed(*, uow: UnitOfWork, now: datetime, limit: int) -> list[Issue]:
    """Close the resolutions nobody confirmed in time, each recorded in its issue's history; one transaction."""
    closed: list[Issue] = []
    async with uow:
        due = await uow.issues.closing_due(now, limit=limit)
        rooms = {room.id: room for room in await uow.war_rooms.get_many({issue.war_room_id for issue in due})}
        for issue in due:
            decided = auto_close(issue, now=now, working_days=rooms[issue.war_room_id].settings.auto_close_working_days)
            if decided is None:
                continue
            after, event = decided
            try:
                saved = await uow.issues.save(after, expected_version=issue.version, known_followers=())
            except StaleIssue:  # confirmed or reopened this very moment: that answer stands
                continue
            await uow.events.add(saved, event)
            closed.append(saved)
        await uow.commit()
    return closed


async def standup_since(*, uow: UnitOfWork, now: datetime, conversation: ConversationRef, since: datetime | None) -> StandupSummary | None:
    """The stand-up of this conversation's war room as of now, counting "since the last stand-up" from `since` (the
    stand-up card's own), so that a sign-off on it redraws the same stand-up with that issue signed off."""
    async with uow:
        war_room_id = await uow.war_rooms.find(conversation)
        if war_room_id is None:
            return None
        room = await uow.war_rooms.get(war_room_id)
        return await standup_summary(uow, room.model_copy(update={"last_standup_at": since}), now=now)
