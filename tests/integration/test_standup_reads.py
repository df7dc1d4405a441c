"""The stand-up's narrow reads (storage/repositories/briefs.py) agree with the whole issues, on both databases."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.brief import IssueBrief
from bot.domain.model import Category, Area, IssueDraft, Issue, Severity, Status
from bot.services.intake import report_issue
from storage.models import IssueRow
from storage.uow import UnitOfWorkFactory
from tests.support.factories import PRIYA, make_conversation

RAISED = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
STANDUP_ON = date(2026, 11, 25)
_forms = itertools.count(1)


def brief_of(issue: Issue) -> IssueBrief:
    return IssueBrief(
        id=issue.id, number=issue.number, title=issue.title, status=issue.status, severity=issue.severity, area=issue.area,
        category=issue.category, created_at=issue.created_at, updated_at=issue.updated_at, resolve_by=issue.resolve_by, resolved_at=issue.resolved_at,
        handled_by=issue.handled_by, escalated_at=issue.escalated_at, awaiting_confirmation=issue.awaiting_confirmation,
    )


async def test_briefs_and_the_listed_issues_agree_with_the_whole_issues(uow_factory: UnitOfWorkFactory, engine: AsyncEngine) -> None:
    team = f"19:reads-{next(_forms)}@thread.tacv2"
    ref = make_conversation(team_id=team, channel_id=team, conversation_id=f"{team};messageid=1")
    ids = []
    for n in range(8):
        issue = await report_issue(
            uow=uow_factory(), now=RAISED + timedelta(minutes=n),
            draft=IssueDraft(title=f"Vendor invoice posting {n}", description="d", severity=Severity(n % 4 + 1),
                             area=Area.ACCOUNTS_PAYABLE, category=Category.CONFIGURATION),
            reporter=PRIYA, conversation=ref, form_id=f"reads-{next(_forms)}", card_activity_id=None,
        )
        ids.append(issue.id)
    resolved = {"resolution_type": "fixed", "resolved_at": RAISED + timedelta(hours=2), "handled_by": "support",
                "resolved_by_id": "aad-omar", "resolved_by_name": "Omar"}
    rows = {
        ids[1]: {"status": "resolved", **resolved},  # awaiting confirmation: listed
        ids[2]: {"status": "resolved", **resolved, "confirmed_at": RAISED + timedelta(hours=3)},  # confirmed: counted only
        ids[3]: {"status": "resolved", **resolved, "handled_by": None},  # no recorded resolution: neither resolved nor listed
        ids[4]: {"status": "deferred", "decision": "defer", "decided_at": RAISED, "decided_by_name": "Lena",
                 "decided_standup_on": STANDUP_ON},  # decided at the stand-up: listed though closed
        ids[5]: {"status": "deferred", "decision": "defer", "decided_at": RAISED, "decided_standup_on": STANDUP_ON - timedelta(days=1)},
        ids[6]: {"escalated_at": RAISED + timedelta(hours=1), "escalated_by_name": "Omar"},  # open, escalated
        ids[7]: {"status": "duplicate", "duplicate_of": 1},
    }
    async with engine.begin() as connection:
        for issue_id, values in rows.items():
            await connection.execute(update(IssueRow).where(IssueRow.id == issue_id).values(**values))
    async with uow_factory() as uow:
        war_room_id = (await uow.issues.get(ids[0])).war_room_id  # type: ignore[union-attr]
        whole = await uow.issues.all_with_status(war_room_id, frozenset(Status), limit=100)
        briefs = await uow.issues.briefs(war_room_id)
        listed = await uow.issues.for_standup(war_room_id, standup_on=STANDUP_ON)
    assert briefs == sorted((brief_of(issue) for issue in whole), key=lambda brief: brief.id)
    assert {brief.id for brief in briefs if brief.awaiting_confirmation} == {ids[1]}
    assert [brief.escalated_at is not None for brief in briefs] == [False] * 6 + [True, False]
    assert {issue.id for issue in listed} == {ids[0], ids[1], ids[4], ids[6]}
    assert listed == [issue for issue in whole if issue.id in {ids[0], ids[1], ids[4], ids[6]}]  # same order: severity, raised
