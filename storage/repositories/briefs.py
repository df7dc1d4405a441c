"""The stand-up's reads: a few columns of every issue of a war room, and whole issues only for what it lists."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.brief import IssueBrief
from bot.domain.model import OPEN_STATUSES, Area, Category, HandledBy, Severity, Status
from storage.models import IssueRow

_ISSUES = IssueRow.__table__
_COLUMNS = [_ISSUES.c[name] for name in (
    "id", "number", "title", "status", "severity", "area", "category", "created_at", "updated_at", "resolve_by", "resolution_type",
    "resolved_at", "handled_by", "confirmed_at", "escalated_at",
)]
# Lookups, not enum calls: thousands of rows a stand-up.
_STATUS = {member.value: member for member in Status}
_SEVERITY = {member.value: member for member in Severity}
_AREA = {member.value: member for member in Area}
_CATEGORY = {member.value: member for member in Category}
_HANDLED_BY = {member.value: member for member in HandledBy}

# Recorded as `Issue.resolution` is (storage/repositories/issues.py `_to_issue`): all three set.
_RESOLVED = and_(_ISSUES.c.resolution_type.is_not(None), _ISSUES.c.resolved_at.is_not(None), _ISSUES.c.handled_by.is_not(None))


async def issue_briefs(session: AsyncSession, war_room_id: int) -> list[IssueBrief]:
    rows = await session.execute(select(*_COLUMNS).where(_ISSUES.c.war_room_id == war_room_id).order_by(_ISSUES.c.id))
    return [_to_brief(row) for row in rows]


def standup_listed(war_room_id: int, standup_on: date) -> Any:
    """The rows whole issues are read for: open, resolved and not confirmed, or decided at the stand-up of `standup_on`
    (a superset: the service filters on the mapped issues as before)."""
    return select(_ISSUES).where(
        _ISSUES.c.war_room_id == war_room_id,
        or_(
            _ISSUES.c.status.in_([status.value for status in OPEN_STATUSES]),
            and_(_ISSUES.c.status == Status.RESOLVED.value, _RESOLVED, _ISSUES.c.confirmed_at.is_(None)),
            _ISSUES.c.decided_standup_on == standup_on,
        ),
    ).order_by(_ISSUES.c.severity, _ISSUES.c.created_at)


def _to_brief(row: Any) -> IssueBrief:
    resolved = bool(row.resolution_type and row.resolved_at and row.handled_by)
    status = _STATUS[row.status]
    return IssueBrief(
        id=row.id, number=row.number, title=row.title, status=status, severity=_SEVERITY[row.severity],
        area=_AREA[row.area] if row.area else None, category=_CATEGORY[row.category] if row.category else None,
        created_at=row.created_at, updated_at=row.updated_at, resolve_by=row.resolve_by,
        resolved_at=row.resolved_at if resolved else None, handled_by=_HANDLED_BY[row.handled_by] if resolved else None,
        escalated_at=row.escalated_at,
        awaiting_confirmation=status is Status.RESOLVED and resolved and row.confirmed_at is None,
    )
