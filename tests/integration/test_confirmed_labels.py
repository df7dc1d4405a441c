"""The war room's own issues as labels for the next prefill (`uow.similar.confirmed`), on SQLite and PostgreSQL:
found by full-text search, with their current severity, category and area, never another war room's."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.domain.events import CREATED, Event
from bot.domain.model import Area, Category, NewIssue, Severity, Status
from bot.domain.prefill import LabelledExample
from storage.uow import UnitOfWorkFactory
from tests.support.factories import PRIYA, make_conversation

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
NORTH = make_conversation(team_id="19:north@thread.tacv2", channel_id="19:north-general@thread.tacv2",
                          conversation_id="19:north-general@thread.tacv2;messageid=1")
SOUTH = make_conversation(team_id="19:south@thread.tacv2", channel_id="19:south-general@thread.tacv2",
                          conversation_id="19:south-general@thread.tacv2;messageid=1")


async def add_issue(uow_factory: UnitOfWorkFactory, where: object, title: str, description: str, *, area: Area,
                    category: Category, status: Status = Status.NEW) -> tuple[int, int]:
    async with uow_factory() as uow:
        room = await uow.war_rooms.ensure_room(where, now=NOW)  # type: ignore[arg-type]
        issue = await uow.issues.add(NewIssue(
            war_room_id=room.id, title=title, description=description, severity=Severity.SEV3,
            category=category, area=area, company=None, affected_users=None, status=status, reporter=PRIYA,
            created_at=NOW, resolve_by=None, conversation_id=f"{where.conversation_id}-{title}",  # type: ignore[attr-defined]
            tenant_id=None, team_id=None, channel_id=None, source_form_id=f"form-{room.id}-{title}",
        ), created=Event(verb=CREATED, actor=PRIYA, at=NOW))
        await uow.commit()
    return room.id, issue.id


async def test_the_war_rooms_issues_sharing_words_come_back_with_their_current_labels(uow_factory: UnitOfWorkFactory) -> None:
    north, first = await add_issue(uow_factory, NORTH, "Zebra guns won't scan", "the Zebra guns won't scan pallets at dock 4",
                                   area=Area.WAREHOUSE, category=Category.DEFECT)
    await add_issue(uow_factory, NORTH, "Zebra guns slow", "Zebra guns take 20 s per scan in aisle 7", area=Area.WAREHOUSE,
                    category=Category.PERFORMANCE, status=Status.RESOLVED)
    await add_issue(uow_factory, NORTH, "Payroll file", "the payroll file to the bank was rejected", area=Area.HR_PAYROLL,
                    category=Category.INTEGRATION)
    # A triage lead raises the first one's severity: the label is what the issue says now.
    async with uow_factory() as uow:
        issue = await uow.issues.get(first)
        assert issue is not None
        await uow.issues.save(issue.model_copy(update={"severity": Severity.SEV1}), expected_version=1)
        await uow.commit()

    async with uow_factory() as uow:
        found = await uow.similar.confirmed(north, "new hires can't scan with the Zebra guns at the dock")
    assert found == [
        LabelledExample("the Zebra guns won't scan pallets at dock 4", Severity.SEV1, Category.DEFECT, Area.WAREHOUSE),
        LabelledExample("Zebra guns take 20 s per scan in aisle 7", Severity.SEV3, Category.PERFORMANCE, Area.WAREHOUSE),
    ]
    async with uow_factory() as uow:
        assert len(await uow.similar.confirmed(north, "Zebra guns", limit=1)) == 1
        assert await uow.similar.confirmed(north, "Zebra guns", limit=0) == []
        assert await uow.similar.confirmed(north, "the and of to is it") == []


async def test_another_war_rooms_issues_never_label_this_one(uow_factory: UnitOfWorkFactory) -> None:
    north, _ = await add_issue(uow_factory, NORTH, "Basware export", "the Basware export stopped overnight",
                               area=Area.ACCOUNTS_PAYABLE, category=Category.INTEGRATION)
    south, _ = await add_issue(uow_factory, SOUTH, "Basware screen", "Basware screen is blank for the cashiers",
                               area=Area.SALES, category=Category.DEFECT)
    async with uow_factory() as uow:
        in_north = await uow.similar.confirmed(north, "Basware is down again")
        in_south = await uow.similar.confirmed(south, "Basware is down again")
        hostile = await uow.similar.confirmed(north, '"Basware" OR NEAR( *:; DROP TABLE issues; --')
    assert [example.area for example in in_north] == [Area.ACCOUNTS_PAYABLE]
    assert [example.area for example in in_south] == [Area.SALES]
    assert [example.area for example in hostile] == [Area.ACCOUNTS_PAYABLE]
