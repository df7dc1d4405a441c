"""Scenario 3: the Bot Connector answers 503 for 60 s, then recovers.

The real `Scheduler` over a real database (SQLite and PostgreSQL) sends through the real connector client to a
fake Bot Connector over HTTP. Time is a `FrozenClock` moved by the test (and by `FakeSleep` when the scheduler
waits for a rate limit); the connector refuses every call until that clock passes t0 + 60 s, so the test does
not wait a real minute. Afterwards every queued reminder, escalation, stand-up and queued reply must have been
delivered exactly once, in order per conversation.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from bot.scheduler import Scheduler, SchedulerConfig
from bot.teams.connector import ConnectorClient, NoToken, RetryPolicy
from bot.teams.sender import ConnectorSender
from storage.uow import UnitOfWorkFactory
from tests.resilience.connector import RecordingConnector
from tests.resilience.seeding import Database, group_chat, match_deliveries, queue_replies, seed_overdue_sev1, seed_thread
from tests.support.clock import FakeSleep, FrozenClock

MONDAY_9 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a working day, 09:00 in London: stand-up time
OUTAGE = timedelta(seconds=60)
TICK_EVERY = timedelta(seconds=5)  # the default HYPERCARE_SCHEDULER_INTERVAL_SECONDS


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(MONDAY_9 - timedelta(hours=2))


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
        yield session


async def test_connector_503_for_a_minute_then_everything_queued_is_delivered_once_in_order(
    uow_factory: UnitOfWorkFactory, database_url: str, connector: RecordingConnector, clock: FrozenClock,
    http: aiohttp.ClientSession, figures: dict[str, Any],
) -> None:
    async with asyncio.timeout(120):
        # War rooms created at 07:00 have their first stand-up at 09:00; their Sev1 issues (never acknowledged)
        # are past the 15-minute acknowledgement target by then.
        raised = clock.now()
        teams = await seed_overdue_sev1(uow_factory, connector.url, prefix="c503", rooms=3, per_room=3, raised_at=raised)
        chat = group_chat(connector.url, "c503")
        in_chat = await seed_overdue_sev1(uow_factory, connector.url, prefix="c503chat", rooms=1, per_room=4, raised_at=raised, conversation=chat)
        await queue_replies(uow_factory, chat, count=3, now=raised + timedelta(minutes=30), prefix="c503chat")
        await queue_replies(uow_factory, seed_thread(connector.url, "c503", 0, 0), count=2, now=raised + timedelta(minutes=30), prefix="c503thread")

        clock.advance(timedelta(hours=2))
        t0 = clock.now()
        accepted_at: list[datetime] = []

        def outage(call: Any) -> int | None:
            if clock.now() < t0 + OUTAGE:
                return 503
            accepted_at.append(clock.now())
            return None

        connector.failure_for = outage
        scheduler = Scheduler(
            uow_factory=uow_factory,
            sender=ConnectorSender(ConnectorClient(http, tokens=NoToken(), retry=RetryPolicy(max_attempts=1))),
            sleep=FakeSleep(clock),
        )
        database = Database(database_url)
        began, ticks = time.monotonic(), 0
        try:
            drained_at = None
            while clock.now() < t0 + timedelta(minutes=12):
                await scheduler.tick(clock.now())
                ticks += 1
                counts = await database.outbox_counts()
                if clock.now() >= t0 + OUTAGE and counts["pending"] == 0:
                    drained_at = clock.now()
                    break
                clock.advance(TICK_EVERY)
            rows = await database.outbox()
        finally:
            await database.close()

        check = match_deliveries(rows, connector)
        by_status = defaultdict(list)
        for row in rows:
            by_status[row.status].append(row.dedupe_key)
        figures.update(
            outbox_rows=len(rows),
            refused_during_outage=connector.refused,
            ticks=ticks,
            simulated_seconds_until_drained=(drained_at - t0).total_seconds() if drained_at else None,
            real_seconds=round(time.monotonic() - began, 2),
            max_attempts_of_a_message=max(row.attempts for row in rows),
            standups=sum(1 for row in rows if row.dedupe_key.startswith("standup:")),
            escalations_and_reminders=sum(1 for row in rows if row.dedupe_key.startswith(("escalation:", "reminder:"))),
            queued_replies=sum(1 for row in rows if row.dedupe_key.startswith("turn:")),
            # With the default backoff, an outage this long (from a message's first attempt) can use up its attempts
            # and mark it failed for good: the shortest (full jitter) and the longest case.
            outage_that_can_fail_a_message_s=_attempts_exhausted_after(jitter=0.5),
            outage_that_always_fails_a_message_s=_attempts_exhausted_after(jitter=1.0),
        )

        assert connector.refused > 0, "the outage was never seen: nothing was tried in the first minute"
        assert all(at >= t0 + OUTAGE for at in accepted_at)
        assert drained_at is not None, f"outbox not drained 12 simulated minutes after the outage began: {dict(by_status)}"
        assert not by_status["failed"], f"given up on after the outage: {by_status['failed']}"
        # 3 stand-ups (the teams; a group chat holds none until its window is set up), one escalation per issue, every
        # queued reply.
        assert figures["standups"] == 3, [row.dedupe_key for row in rows]
        keys = {row.dedupe_key for row in rows}
        assert {f"escalation:ack:{issue_id}" for issue_id in teams.issue_ids + in_chat.issue_ids} <= keys
        assert figures["queued_replies"] == 5
        assert check.lost == [], f"never delivered: {[row.dedupe_key for row in rows if row.id in check.lost]}"
        assert check.duplicated == {}, f"delivered more than once: {check.duplicated}"
        assert check.unmatched_posts == 0, "the connector received messages that are in no outbox row"
        # Order per conversation: the outbox's order (its ids) is the order they arrived in.
        arrivals: dict[str, list[tuple[float, int]]] = defaultdict(list)
        for row in rows:
            arrivals[row.conversation_id].append((check.copies[row.id][0], row.id))
        for conversation_id, sent in arrivals.items():
            ids_in_arrival_order = [row_id for _, row_id in sorted(sent)]
            assert ids_in_arrival_order == sorted(ids_in_arrival_order), f"out of order in {conversation_id}: {ids_in_arrival_order}"
        assert len(arrivals[chat.conversation_id]) >= 8  # the group chat really had a queue to keep in order


def _attempts_exhausted_after(*, jitter: float) -> float:
    config = SchedulerConfig()
    delays = [min(config.backoff_max, config.backoff_base * 2 ** (attempt - 1)) for attempt in range(1, config.max_attempts)]
    return sum(delay.total_seconds() for delay in delays) * jitter
