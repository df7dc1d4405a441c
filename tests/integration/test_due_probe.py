"""The scheduler's one "anything due?" statement (storage/repositories/due.py), on real databases.

The test database is shared by the session and every other test writes 2026 dates: what is made due here is in 2001,
so the probe at a 2001 moment sees only this test's rows.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from sqlalchemy import event, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.messages import OutboundMessage
from bot.domain.model import IssueDraft, Severity
from bot.scheduler import Scheduler
from bot.services.intake import report_issue
from bot.teams.connector import ConnectorClient, NoToken, RetryPolicy
from bot.teams.sender import ConnectorSender
from storage.models import IssueRow, ProcessedActivityRow, WarRoomRow
from storage.uow import UnitOfWorkFactory
from tests.support.clock import FakeSleep, FrozenClock
from tests.support.factories import PRIYA, make_conversation

LONG_AGO = datetime(2001, 3, 5, 10, 0, tzinfo=UTC)
_teams = itertools.count(1)


def conversation():  # type: ignore[no-untyped-def]
    team = f"19:probe-{next(_teams)}@thread.tacv2"
    return make_conversation(team_id=team, channel_id=team, conversation_id=f"{team};messageid=1")


async def probe(uow_factory: UnitOfWorkFactory, now: datetime = LONG_AGO, *, lead: timedelta = timedelta()):  # type: ignore[no-untyped-def]
    async with uow_factory() as uow:
        return await uow.due.probe(now, purge_before=now - timedelta(hours=48), standups_until=now + lead)


async def test_nothing_due_long_ago(uow_factory: UnitOfWorkFactory) -> None:
    due = await probe(uow_factory, datetime(1999, 1, 1, tzinfo=UTC))
    assert (due.reminders, due.standups, due.deliveries, due.purge) == (False, False, False, False)


async def test_each_kind_of_due_work_is_seen(uow_factory: UnitOfWorkFactory, engine: AsyncEngine) -> None:
    before = await probe(uow_factory)
    assert (before.reminders, before.standups, before.deliveries, before.purge) == (False, False, False, False)
    issue = await report_issue(
        uow=uow_factory(), now=LONG_AGO, draft=IssueDraft(title="Probe", description="Probe", severity=Severity.SEV2),
        reporter=PRIYA, conversation=conversation(), form_id="probe-form", card_activity_id=None,
    )
    ref = conversation()
    async with uow_factory() as uow:
        war_room_id = await uow.war_rooms.ensure(ref, now=LONG_AGO)
        await uow.outbox.enqueue(
            OutboundMessage(dedupe_key=f"probe-{war_room_id}", war_room_id=war_room_id, tenant_id="tenant-1",
                            service_url=ref.service_url, kind="message", conversation_id=ref.conversation_id, bot_id="28:bot",
                            card={"type": "AdaptiveCard", "version": "1.5", "body": []}),
            now=LONG_AGO - timedelta(minutes=1),
        )
        await uow.activities.claim(ref.conversation_id, "probe-activity", now=LONG_AGO - timedelta(days=3), lease=timedelta(seconds=60))
        await uow.commit()
    async with engine.begin() as connection:
        await connection.execute(update(WarRoomRow).where(WarRoomRow.id == war_room_id).values(next_standup_at=LONG_AGO))
    due = await probe(uow_factory)
    assert (due.reminders, due.standups, due.deliveries, due.purge) == (True, True, True, True)
    assert due.outbox.pending >= 1 and due.outbox.oldest_pending_at is not None
    # Each answer follows its own rows.
    async with engine.begin() as connection:
        await connection.execute(update(IssueRow).where(IssueRow.id == issue.id).values(next_due_at=None))
        await connection.execute(update(WarRoomRow).where(WarRoomRow.id == war_room_id).values(next_standup_at=None))
        await connection.execute(
            update(ProcessedActivityRow).where(ProcessedActivityRow.activity_id == "probe-activity").values(received_at=LONG_AGO)
        )
    due = await probe(uow_factory)
    assert (due.reminders, due.standups, due.deliveries, due.purge) == (False, False, True, False)
    # A stand-up is seen once it may be prepared: `standups_until` (its minute less the scheduler's lead), not at its minute.
    async with engine.begin() as connection:
        await connection.execute(update(WarRoomRow).where(WarRoomRow.id == war_room_id).values(next_standup_at=LONG_AGO + timedelta(minutes=2)))
    assert not (await probe(uow_factory)).standups
    assert (await probe(uow_factory, lead=timedelta(minutes=2))).standups


@pytest.fixture
def statements(engine: AsyncEngine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_connection: object, _cursor: object, statement: str, *_: object) -> None:
        seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine.sync_engine, "before_cursor_execute", record)


async def test_an_idle_tick_is_one_statement(uow_factory: UnitOfWorkFactory, statements: list[str]) -> None:
    async with aiohttp.ClientSession() as http:
        sender = ConnectorSender(ConnectorClient(http, tokens=NoToken(), retry=RetryPolicy(max_attempts=1)))
        clock = FrozenClock(datetime(1999, 1, 1, tzinfo=UTC))
        scheduler = Scheduler(uow_factory=uow_factory, sender=sender, sleep=FakeSleep(clock))
        report = await scheduler.tick(clock.now())
    assert report.planned == report.standups == report.sent == 0
    assert len(statements) == 1 and "next_due_at" in statements[0] and "next_standup_at" in statements[0]
