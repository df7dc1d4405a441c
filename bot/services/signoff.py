"""Signing off resolutions: unconfirmed ones closing by themselves (the scheduler). The stand-up redrawn after a
sign-off on it is `redraw_standup` (bot/services/standup.py), as after a decision on it; confirming and calling a fix
still broken go through bot/services/triage.py like every issue button."""

from __future__ import annotations

from datetime import datetime

from bot.domain.model import Issue
from bot.domain.ports import StaleIssue, UnitOfWork
from bot.domain.signoff import auto_close


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

