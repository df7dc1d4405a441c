"""bot/services/standup.py on the in-memory unit of work: the stand-up built from a war room's issues."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.model import HandledBy, Severity, Status
from bot.domain.war_room import WarRoom
from bot.services.standup import standup_for, standup_summary, war_room_of
from tests.support.factories import make_conversation, make_issue
from tests.support.fakes import FakeStore, FakeUnitOfWork
from tests.support.scene import CHANNEL, NOW, resolved_by_support

NOWHERE = make_conversation(team_id="19:unknown")


async def test_the_stand_up_counts_open_new_resolved_and_deferred_issues(uow: FakeUnitOfWork, store: FakeStore, room: WarRoom) -> None:
    store.war_rooms[1] = room.model_copy(update={"name": "Contoso go-live", "last_standup_at": NOW - timedelta(days=1)})
    store.add_issue(make_issue(id=1, number=1, created_at=NOW - timedelta(hours=3)))
    store.add_issue(make_issue(id=2, number=2, severity=Severity.SEV3, status=Status.IN_PROGRESS, created_at=NOW - timedelta(days=3)))
    store.add_issue(resolved_by_support(id=3, number=3, created_at=NOW - timedelta(days=3)))
    store.add_issue(make_issue(id=4, number=4, severity=Severity.SEV4, status=Status.DEFERRED, created_at=NOW - timedelta(days=3)))

    standup = await standup_for(uow=uow, now=NOW, conversation=CHANNEL)

    assert standup is not None and standup.war_room_id == 1
    summary = standup.summary
    assert summary.war_room_name == "Contoso go-live" and summary.since == NOW - timedelta(days=1)
    assert summary.open_total == 2 and summary.open_by_severity[Severity.SEV1] == 1
    assert [issue.number for issue in summary.new] == [1]
    assert [issue.number for issue in summary.resolved] == [3] and summary.resolved_by[HandledBy.SUPPORT] == 1
    assert summary.deferred_count == 1 and summary.exit_report is not None
    assert uow.commits == 0 and store.war_rooms[1].last_standup_at == NOW - timedelta(days=1)  # on demand: not the scheduled one


async def test_a_war_room_not_met_yet_has_no_stand_up(uow: FakeUnitOfWork, store: FakeStore) -> None:
    assert await standup_for(uow=uow, now=NOW, conversation=NOWHERE) is None
    assert await war_room_of(uow=uow, conversation=NOWHERE) is None
    assert store.war_rooms == {}


async def test_the_war_room_of_a_conversation(uow: FakeUnitOfWork, room: WarRoom) -> None:
    assert await war_room_of(uow=uow, conversation=CHANNEL) == room.id


async def test_the_summary_is_read_inside_an_open_unit_of_work(uow: FakeUnitOfWork, room: WarRoom) -> None:
    async with uow:
        summary = await standup_summary(uow, room, now=NOW)

    assert summary.open_total == 0 and summary.war_room_name == "this war room"
