"""Stand-ups prepared ahead of their minute (`SchedulerConfig.standup_lead`) and sent at it, on real databases; the
clock is moved, never waited on."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
import pytest

from bot.domain.events import ago
from bot.domain.model import Severity
from bot.scheduler import Scheduler, SchedulerConfig
from bot.teams.connector import ConnectorClient, NoToken, RetryPolicy
from bot.teams.sender import ConnectorSender
from storage.db import create_engine, create_session_factory
from storage.uow import UnitOfWorkFactory
from tests.integration.test_scheduler import CHANNEL, MONDAY_9, make_scheduler, raise_issue, texts, thread, tick_all
from tests.support.clock import FakeSleep, FrozenClock
from tests.support.connector import FakeConnector, RecordedCall

LEAD = SchedulerConfig().standup_lead


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
        yield session


async def war_room(uow_factory: UnitOfWorkFactory, connector: FakeConnector, channel: str = CHANNEL) -> None:
    """A war room set up the evening before: its first stand-up is Monday 09:00 (London)."""
    async with uow_factory() as uow:
        await uow.war_rooms.ensure(thread(connector, channel), now=MONDAY_9 - timedelta(hours=13))
        await uow.commit()


def posts(calls: list[RecordedCall]) -> list[RecordedCall]:
    return [call for call in calls if call.path == "/v3/conversations"]


async def queued_standups(uow_factory: UnitOfWorkFactory) -> list[str]:
    async with uow_factory() as uow:
        return [entry.dedupe_key for entry in await uow.outbox.list(status="pending") if entry.dedupe_key.startswith("standup:")]


async def test_a_standup_is_prepared_ahead_and_sent_at_its_minute_as_of_the_minute(
    uow_factory: UnitOfWorkFactory, http: aiohttp.ClientSession, connector: FakeConnector
) -> None:
    await war_room(uow_factory, connector)
    scheduler = make_scheduler(uow_factory, http, FrozenClock(MONDAY_9 - LEAD))
    await raise_issue(uow_factory, connector, MONDAY_9 - timedelta(hours=1), Severity.SEV3, "Logo is blurry")

    assert posts(await tick_all(scheduler, connector, MONDAY_9 - LEAD - timedelta(seconds=1))) == []
    assert await queued_standups(uow_factory) == []  # not prepared earlier than the lead

    assert posts(await tick_all(scheduler, connector, MONDAY_9 - LEAD)) == []
    assert len(await queued_standups(uow_factory)) == 1  # prepared, waiting for its minute
    await raise_issue(uow_factory, connector, MONDAY_9 - timedelta(minutes=1), Severity.SEV1, "Nobody can post invoices")
    assert posts(await tick_all(scheduler, connector, MONDAY_9 - timedelta(seconds=1))) == []

    [post] = posts(await tick_all(scheduler, connector, MONDAY_9))
    text = texts([post])[0]
    # The minute's clock ("raised 1 hour ago", not 58 minutes), the issues as they were when it was prepared.
    assert "Logo is blurry" in text and ago(timedelta(hours=1)) in text and ago(timedelta(hours=1) - LEAD) not in text
    assert "Nobody can post invoices" not in text
    assert posts(await tick_all(scheduler, connector, MONDAY_9 + timedelta(minutes=5))) == []

    # What the prepared one could not show is new at the next stand-up: it counts from when the last was prepared.
    [tuesday] = posts(await tick_all(scheduler, connector, MONDAY_9 + timedelta(days=1)))
    assert "New since the last stand-up (1)" in texts([tuesday])[0] and "Nobody can post invoices" in texts([tuesday])[0]


async def test_two_replicas_preparing_ahead_at_once_send_each_standup_once(
    database_url: str, http: aiohttp.ClientSession, connector: FakeConnector
) -> None:
    engines = [create_engine(database_url) for _ in range(2)]
    try:
        factories = [UnitOfWorkFactory(create_session_factory(engine)) for engine in engines]
        channels = [f"19:ahead-{n}@thread.tacv2" for n in range(6)]
        for channel in channels:
            await war_room(factories[0], connector, channel)
        schedulers: list[Scheduler] = [make_scheduler(factory, http, FrozenClock(MONDAY_9 - LEAD)) for factory in factories]
        for moment in (MONDAY_9 - LEAD, MONDAY_9 - timedelta(minutes=1), MONDAY_9, MONDAY_9 + timedelta(seconds=5)):
            await asyncio.gather(*(scheduler.tick(moment) for scheduler in schedulers))
        sent = sorted(call.conversation_id or "" for call in posts(connector.calls))
        assert sent == sorted(channels)
    finally:
        for engine in engines:
            await engine.dispose()


async def test_a_tick_prepares_one_chunk_and_sends_what_is_due_before_the_loop_comes_back_for_the_rest(
    uow_factory: UnitOfWorkFactory, http: aiohttp.ClientSession, connector: FakeConnector
) -> None:
    for n in range(3):
        await war_room(uow_factory, connector, f"19:chunked-{n}@thread.tacv2")
    clock = FrozenClock(MONDAY_9)
    sender = ConnectorSender(ConnectorClient(http, tokens=NoToken(), retry=RetryPolicy(max_attempts=1)))
    scheduler = Scheduler(uow_factory=uow_factory, sender=sender, sleep=FakeSleep(clock), config=SchedulerConfig(standup_chunk=2))
    first = await scheduler.tick(MONDAY_9)
    assert (first.standups, first.sent, first.more_due) == (2, 2, True)  # the chunk's stand-ups went out in its tick
    second = await scheduler.tick(MONDAY_9)
    assert (second.standups, second.sent, second.more_due) == (1, 1, False)
    assert len(posts(connector.calls)) == 3
