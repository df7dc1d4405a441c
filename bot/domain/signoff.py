"""Signing off resolutions: a resolved issue waits for its reporter (or a triage lead or key user) to confirm it, and
closes by itself when nobody does within the war room's working days.

Confirming and calling it still broken are triage commands (bot/domain/triage.py); what is here is the clock.
"""

from __future__ import annotations

from datetime import datetime

from bot.domain.calendar import WorkingCalendar
from bot.domain.events import AUTO_CLOSED, Event
from bot.domain.model import Confirmation, Issue, Person

# Who the history names for a resolution that closed by itself.
AUTO_CLOSER = Person(aad_object_id=None, name="Hypercare")


def closes_by(resolved_at: datetime, *, calendar: WorkingCalendar, working_days: int) -> datetime:
    """When an unconfirmed resolution closes: `working_days` days of the war room's working time after it.

    Counted in working time, like the Sev 2 target: resolved on Friday at 17:00 with 3 working days (08:00–18:00,
    Monday to Friday) closes on Wednesday at 17:00; resolved on a Saturday, on Wednesday at 18:00.
    """
    return calendar.add(resolved_at, working_days * calendar.working_day_length)


def auto_close(issue: Issue, *, now: datetime, working_days: int) -> tuple[Issue, Event] | None:
    """The issue closed automatically, and the event its history records; None while it is not due (or not waiting)."""
    resolution = issue.resolution
    if not issue.awaiting_confirmation or resolution is None or resolution.close_by is None or resolution.close_by > now:
        return None
    closed = resolution.model_copy(update={"confirmation": Confirmation(at=now), "close_by": None})
    event = Event(
        verb=AUTO_CLOSED, actor=AUTO_CLOSER, at=now, from_value=issue.status_text, to_value="closed",
        reason=f"Nobody confirmed it or said it was still broken within {working_days} working day{'s' if working_days != 1 else ''}.",
    )
    return issue.model_copy(update={"resolution": closed, "updated_at": now}), event
