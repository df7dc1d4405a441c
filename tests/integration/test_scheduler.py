"""The scheduler and the outbox on real databases, delivering to a fake Bot Connector; the clock is moved, never waited on."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections.abc import AsyncIterator
from typing import Any
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.model import IssueDraft, Person, ResolutionType, Role, Severity
from bot.domain.results import Applied
from bot.domain.mentions import MENTIONS_PER_MESSAGE
from bot.domain.triage import Acknowledge, Resolve
from bot.domain.messages import ConversationRef, OutboundMessage, OutboxItem
from bot.domain.ports import DeliveryOutcome
from bot.scheduler import Scheduler, SchedulerConfig, TickReport
from bot.services.intake import report_issue
from bot.services.oncall import change_oncall
from bot.services.triage import snooze_reminders, triage_issue
from bot.teams.connector import ConnectorClient, NoToken, RetryPolicy
from bot.domain.war_room import WarRoomSettings
from bot.teams.sender import ConnectorSender
from cards.common import MAX_CARD_BYTES, card_bytes
from storage.db import create_engine, create_session_factory
from storage.models import IssueRow, WarRoomRow
from storage.uow import SqlUnitOfWork, UnitOfWorkFactory
from tests.support.clock import FakeSleep, FrozenClock
from tests.support.connector import FakeConnector, RecordedCall
from tests.support.factories import OMAR, PRIYA
from tests.support.server import FixedToken

MONDAY_9 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # 09:00 in London too (GMT)
LENA = Person(aad_object_id="aad-lena", name="Lena Berg")
ADMIN = Person(aad_object_id="aad-admin", name="Ada Admin")
CHANNEL = "19:war-room@thread.tacv2"
_threads = itertools.count(1)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(MONDAY_9)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
        yield session


def make_scheduler(uow_factory: UnitOfWorkFactory, http: aiohttp.ClientSession, clock: FrozenClock) -> Scheduler:
    sender = ConnectorSender(ConnectorClient(http, tokens=NoToken(), retry=RetryPolicy(max_attempts=1)))
    return Scheduler(uow_factory=uow_factory, sender=sender, sleep=FakeSleep(clock))


@pytest.fixture
def scheduler(uow_factory: UnitOfWorkFactory, http: aiohttp.ClientSession, clock: FrozenClock) -> Scheduler:
    return make_scheduler(uow_factory, http, clock)


def thread(connector: FakeConnector, channel: str = CHANNEL) -> ConversationRef:
    """A new thread in `channel`; every channel other than CHANNEL is in a team (a war room) of its own."""
    return ConversationRef(
        conversation_id=f"{channel};messageid=root-{next(_threads)}",
        conversation_type="channel",
        service_url=connector.url,
        channel="msteams",
        bot_id="28:bot",
        tenant_id="tenant-1",
        team_id="19:team@thread.tacv2" if channel == CHANNEL else f"{channel}-team",
        channel_id=channel,
    )


@pytest.fixture
async def team(uow_factory: UnitOfWorkFactory, connector: FakeConnector, clock: FrozenClock) -> ConversationRef:
    """A war room set up the evening before, with Lena as triage lead and Omar on call."""
    ref = thread(connector)
    set_up = MONDAY_9 - timedelta(hours=13)
    async with uow_factory() as uow:
        war_room_id = await uow.war_rooms.ensure(ref, now=set_up)
        await uow.roles.grant(war_room_id, LENA, Role.TRIAGE_LEAD, by=ADMIN, now=set_up)
        await uow.commit()
    await change_oncall(uow=uow_factory(), now=set_up, conversation=ref, actor=LENA, admins=frozenset(), person=OMAR)
    return ref


async def raise_issue(
    uow_factory: UnitOfWorkFactory, connector: FakeConnector, at: datetime, severity: Severity, title: str = "AP blocked",
    *, channel: str = CHANNEL,
):
    return await report_issue(
        uow=uow_factory(),
        now=at,
        draft=IssueDraft(title=title, description=title, severity=severity),
        reporter=PRIYA,
        conversation=thread(connector, channel),
        form_id=f"form-{next(_threads)}",
        card_activity_id="card-1",
    )


def texts(calls: list[RecordedCall]) -> list[str]:
    return [json.dumps(call.card, ensure_ascii=False) for call in calls]


def mentioned(call: RecordedCall) -> set[str]:
    return {entity["mentioned"]["id"] for entity in (call.card or {}).get("msteams", {}).get("entities", [])}


async def tick(scheduler: Scheduler, connector: FakeConnector, at: datetime) -> list[RecordedCall]:
    """What one pass sent into issue threads (stand-ups, new channel posts, are looked at separately)."""
    return [call for call in await tick_all(scheduler, connector, at) if call.path != "/v3/conversations"]


async def tick_all(scheduler: Scheduler, connector: FakeConnector, at: datetime) -> list[RecordedCall]:
    before = len(connector.calls)
    await scheduler.tick(at)
    return connector.calls[before:]


async def test_sev1_escalates_once_then_reminds_the_on_call_every_quarter_hour(
    scheduler: Scheduler, uow_factory: UnitOfWorkFactory, connector: FakeConnector, team: ConversationRef
) -> None:
    issue = await raise_issue(uow_factory, connector, MONDAY_9, Severity.SEV1)
    assert await tick(scheduler, connector, MONDAY_9 + timedelta(minutes=14)) == []

    [escalation] = await tick(scheduler, connector, MONDAY_9 + timedelta(minutes=15))
    assert "missed its acknowledgement target" in texts([escalation])[0]
    assert mentioned(escalation) == {"aad-lena", "aad-omar"}
    assert escalation.conversation_id == issue.conversation_id  # into the issue's thread
    assert await tick(scheduler, connector, MONDAY_9 + timedelta(minutes=16)) == []

    [reminder] = await tick(scheduler, connector, MONDAY_9 + timedelta(minutes=30))
    assert "is not acknowledged yet" in texts([reminder])[0]
    assert mentioned(reminder) == {"aad-omar"}
    assert await tick(scheduler, connector, MONDAY_9 + timedelta(minutes=30)) == []


async def test_a_missed_stretch_sends_the_overdue_reminder_once(
    scheduler: Scheduler, uow_factory: UnitOfWorkFactory, connector: FakeConnector, team: ConversationRef
) -> None:
    await raise_issue(uow_factory, connector, MONDAY_9, Severity.SEV1)
    await tick(scheduler, connector, MONDAY_9 + timedelta(minutes=15))
    # The bot was down from 09:15 to 12:00: one reminder, not eleven.
    calls = await tick(scheduler, connector, MONDAY_9 + timedelta(hours=3))
    assert len(calls) == 1 and "not acknowledged yet" in texts(calls)[0]


async def test_acknowledging_stops_ack_reminders_and_open_reminders_follow(
    scheduler: Scheduler, uow_factory: UnitOfWorkFactory, connector: FakeConnector, team: ConversationRef
) -> None:
    issue = await raise_issue(uow_factory, connector, MONDAY_9, Severity.SEV1)
    acked_at = MONDAY_9 + timedelta(minutes=10)
    result = await triage_issue(uow=uow_factory(), now=acked_at, conversation=team, actor=LENA, issue_id=issue.id,
                                command=Acknowledge(), admins=frozenset())
    assert isinstance(result, Applied)
    assert await tick(scheduler, connector, MONDAY_9 + timedelta(minutes=45)) == []
    [reminder] = await tick(scheduler, connector, acked_at + timedelta(hours=2))
    assert "is still open" in texts([reminder])[0]
    [breach] = await tick(scheduler, connector, MONDAY_9 + timedelta(hours=4))
    assert "passed its resolution target" in texts([breach])[0]


async def test_resolving_stops_everything(
    scheduler: Scheduler, uow_factory: UnitOfWorkFactory, connector: FakeConnector, team: ConversationRef
) -> None:
    issue = await raise_issue(uow_factory, connector, MONDAY_9, Severity.SEV1)
    result = await triage_issue(uow=uow_factory(), now=MONDAY_9 + timedelta(minutes=5), conversation=team, actor=LENA,
                                issue_id=issue.id, command=Resolve(notes="fixed", resolution_type=ResolutionType.FIXED),
                                admins=frozenset())
    assert isinstance(result, Applied)
    assert await tick(scheduler, connector, MONDAY_9 + timedelta(hours=6)) == []


async def test_sev2_raised_friday_evening_waits_for_monday_working_hours(
    scheduler: Scheduler, uow_factory: UnitOfWorkFactory, connector: FakeConnector, team: ConversationRef
) -> None:
    friday_1730 = datetime(2026, 11, 27, 17, 30, tzinfo=UTC)
    await raise_issue(uow_factory, connector, friday_1730, Severity.SEV2)
    for moment in (datetime(2026, 11, 27, 19, 30, tzinfo=UTC), datetime(2026, 11, 28, 12, 0, tzinfo=UTC),
                   datetime(2026, 11, 30, 9, 29, tzinfo=UTC)):
        assert await tick(scheduler, connector, moment) == []
    [escalation] = await tick(scheduler, connector, datetime(2026, 11, 30, 9, 30, tzinfo=UTC))
    assert "acknowledgement target" in texts([escalation])[0]


async def test_sev4_is_never_chased(
    scheduler: Scheduler, uow_factory: UnitOfWorkFactory, connector: FakeConnector, team: ConversationRef
) -> None:
    await raise_issue(uow_factory, connector, MONDAY_9, Severity.SEV4)
    assert await tick(scheduler, connector, MONDAY_9 + timedelta(days=30)) == []


async def test_snooze_postpones_the_next_reminder_by_an_hour(
    scheduler: Scheduler, uow_factory: UnitOfWorkFactory, connector: FakeConnector, team: ConversationRef
) -> None:
    issue = await raise_issue(uow_factory, connector, MONDAY_9, Severity.SEV1)
    await tick(scheduler, connector, MONDAY_9 + timedelta(minutes=15))
    await snooze_reminders(uow=uow_factory(), now=MONDAY_9 + timedelta(minutes=20), conversation=team, actor=LENA,
                           issue_id=issue.id, period=timedelta(hours=1), admins=frozenset())
    assert await tick(scheduler, connector, MONDAY_9 + timedelta(minutes=30)) == []
    assert await tick(scheduler, connector, MONDAY_9 + timedelta(minutes=79)) == []
    [reminder] = await tick(scheduler, connector, MONDAY_9 + timedelta(minutes=80))
    assert "not acknowledged yet" in texts([reminder])[0]


async def test_without_anyone_on_call_reminders_go_to_the_triage_leads(
    scheduler: Scheduler, uow_factory: UnitOfWorkFactory, connector: FakeConnector, team: ConversationRef
) -> None:
    await change_oncall(uow=uow_factory(), now=MONDAY_9, conversation=team, actor=LENA, admins=frozenset())  # clear
    await raise_issue(uow_factory, connector, MONDAY_9, Severity.SEV1)
    await tick(scheduler, connector, MONDAY_9 + timedelta(minutes=15))
    [reminder] = await tick(scheduler, connector, MONDAY_9 + timedelta(minutes=30))
    assert mentioned(reminder) == {"aad-lena"}


async def test_an_escalation_to_a_hundred_triage_leads_names_the_on_call_and_counts_the_rest(
    scheduler: Scheduler, uow_factory: UnitOfWorkFactory, connector: FakeConnector, team: ConversationRef
) -> None:
    async with uow_factory() as uow:
        war_room_id = await uow.war_rooms.ensure(team, now=MONDAY_9)
        for n in range(100):
            lead = Person(aad_object_id=f"aad-lead-{n:03d}", name=f"Triage Lead {n:03d}")
            await uow.roles.grant(war_room_id, lead, Role.TRIAGE_LEAD, by=ADMIN, now=MONDAY_9)
        await uow.commit()
    await raise_issue(uow_factory, connector, MONDAY_9, Severity.SEV1)
    [escalation] = await tick(scheduler, connector, MONDAY_9 + timedelta(minutes=15))
    entities = escalation.card["msteams"]["entities"]  # type: ignore[index]
    assert len(entities) == MENTIONS_PER_MESSAGE
    assert entities[0]["mentioned"]["id"] == "aad-omar"  # the one on call is never among those left out
    assert f"and {101 + 1 - MENTIONS_PER_MESSAGE} others" in texts([escalation])[0]
    assert card_bytes(escalation.body) <= MAX_CARD_BYTES


async def test_standup_is_a_new_channel_post_every_working_morning(
    scheduler: Scheduler, uow_factory: UnitOfWorkFactory, connector: FakeConnector, team: ConversationRef
) -> None:
    sunday = datetime(2026, 11, 22, 20, 0, tzinfo=UTC)
    await raise_issue(uow_factory, connector, sunday, Severity.SEV1, "Nobody can post invoices")
    await raise_issue(uow_factory, connector, sunday, Severity.SEV3, "Logo is blurry")
    assert [c for c in await tick_all(scheduler, connector, MONDAY_9 - timedelta(minutes=1)) if c.path == "/v3/conversations"] == []

    posts = [c for c in await tick_all(scheduler, connector, MONDAY_9) if c.path == "/v3/conversations"]
    assert len(posts) == 1
    [post] = posts
    assert post.conversation_id == CHANNEL
    text = texts([post])[0]
    assert "Hypercare stand-up" in text and "Open now: **2**" in text and "Nobody can post invoices" in text
    assert [c for c in await tick_all(scheduler, connector, MONDAY_9 + timedelta(minutes=5)) if c.path == "/v3/conversations"] == []
    tuesday = [c for c in await tick_all(scheduler, connector, MONDAY_9 + timedelta(days=1)) if c.path == "/v3/conversations"]
    assert len(tuesday) == 1 and "New since the last stand-up (0)" in texts(tuesday)[0]
    saturday = MONDAY_9 + timedelta(days=5)
    assert [c for c in await tick_all(scheduler, connector, saturday) if c.path == "/v3/conversations"] == []


async def test_a_scheduled_standup_links_the_figures_kept_for_its_chart(
    uow_factory: UnitOfWorkFactory, http: aiohttp.ClientSession, clock: FrozenClock, connector: FakeConnector, team: ConversationRef
) -> None:
    sender = ConnectorSender(ConnectorClient(http, tokens=NoToken(), retry=RetryPolicy(max_attempts=1)))
    scheduler = Scheduler(uow_factory=uow_factory, sender=sender, sleep=FakeSleep(clock), chart_url=lambda room, chart: f"https://bot/charts/{room}/{chart}")
    await raise_issue(uow_factory, connector, datetime(2026, 11, 22, 20, 0, tzinfo=UTC), Severity.SEV1, "Nobody can post invoices")
    [post] = [c for c in await tick_all(scheduler, connector, MONDAY_9) if c.path == "/v3/conversations"]
    [image] = [e for e in (post.card or {})["body"] if e["type"] == "Image"]
    room_id, chart_id = map(int, image["url"].split("/")[-2:])
    async with uow_factory() as uow:
        series = await uow.charts.get(room_id, chart_id)
        assert await uow.charts.get(room_id + 1, chart_id) is None  # another war room's chart is not found
    assert series is not None and series.raised[-1] == 0 and series.open_by_severity[-1] == (1, 0, 0, 0)  # Monday, as of 09:00


async def test_a_standup_missed_by_more_than_two_hours_is_not_posted_late(
    scheduler: Scheduler, uow_factory: UnitOfWorkFactory, connector: FakeConnector, team: ConversationRef,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await raise_issue(uow_factory, connector, MONDAY_9 - timedelta(hours=2), Severity.SEV3)
    with caplog.at_level(logging.WARNING, logger="bot.scheduler"):
        calls = await tick_all(scheduler, connector, MONDAY_9 + timedelta(hours=2, minutes=30))
    assert [c for c in calls if c.path == "/v3/conversations"] == []
    assert "not posted late" in caplog.text
    posts = [c for c in await tick_all(scheduler, connector, MONDAY_9 + timedelta(days=1)) if c.path == "/v3/conversations"]
    assert len(posts) == 1


async def enqueue(
    uow_factory: UnitOfWorkFactory, connector: FakeConnector, now: datetime, keys: list[str], conversation: str = "19:chat",
    *, service_url: str | None = None,
) -> None:
    async with uow_factory() as uow:
        war_room_id = await uow.war_rooms.ensure(thread(connector), now=now)
        for key in keys:
            await uow.outbox.enqueue(
                OutboundMessage(
                    dedupe_key=key, war_room_id=war_room_id, tenant_id="tenant-1", service_url=service_url or connector.url, kind="message",
                    conversation_id=conversation, bot_id="28:bot",
                    card={"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "TextBlock", "text": key}]},
                ),
                now=now,
            )
        await uow.commit()


def keys_sent(connector: FakeConnector) -> list[str]:
    return [call.card["body"][0]["text"] for call in connector.calls if call.card]


async def test_429_then_success_sends_exactly_once_after_retry_after(
    scheduler: Scheduler, uow_factory: UnitOfWorkFactory, connector: FakeConnector
) -> None:
    await enqueue(uow_factory, connector, MONDAY_9, ["m1"])
    connector.fail_next(429, headers={"Retry-After": "30"})
    await scheduler.tick(MONDAY_9)
    assert keys_sent(connector) == []
    await scheduler.tick(MONDAY_9 + timedelta(seconds=29))
    assert keys_sent(connector) == [] and len(connector.failed_attempts) == 1
    await scheduler.tick(MONDAY_9 + timedelta(seconds=30))
    await scheduler.tick(MONDAY_9 + timedelta(seconds=60))
    assert keys_sent(connector) == ["m1"]


async def test_503_three_times_then_success_in_order(
    scheduler: Scheduler, uow_factory: UnitOfWorkFactory, connector: FakeConnector
) -> None:
    await enqueue(uow_factory, connector, MONDAY_9, ["first", "second", "third"])
    connector.fail_next(503, times=3)
    moment = MONDAY_9
    for _ in range(10):
        await scheduler.tick(moment)
        moment += timedelta(minutes=5)  # past the longest backoff
    assert keys_sent(connector) == ["first", "second", "third"]
    assert len(connector.failed_attempts) == 3


async def test_permanent_403_fails_without_a_retry_storm(
    scheduler: Scheduler, uow_factory: UnitOfWorkFactory, connector: FakeConnector
) -> None:
    await enqueue(uow_factory, connector, MONDAY_9, ["doomed", "fine"], conversation="19:a")
    connector.fail_next(403)
    for minutes in range(0, 60, 5):
        await scheduler.tick(MONDAY_9 + timedelta(minutes=minutes))
    assert len(connector.failed_attempts) == 1
    assert keys_sent(connector) == ["fine"]
    async with uow_factory() as uow:
        [failed] = await uow.outbox.list(status="failed")
    assert failed.dedupe_key == "doomed" and failed.attempts == 1 and "403" in (failed.last_error or "")


async def test_a_send_without_a_token_counts_an_attempt_and_goes_out_at_the_next_tick(
    uow_factory: UnitOfWorkFactory, http: aiohttp.ClientSession, connector: FakeConnector
) -> None:
    tokens = FixedToken("outbound-token")
    # The fake connector listens on loopback: listed, so the token may go there.
    client = ConnectorClient(http, tokens=tokens, retry=RetryPolicy(max_attempts=1), trusted_hosts=frozenset({"127.0.0.1"}))
    scheduler = Scheduler(uow_factory=uow_factory, sender=ConnectorSender(client), sleep=FakeSleep(FrozenClock(MONDAY_9)))
    await enqueue(uow_factory, connector, MONDAY_9, ["m1"])
    tokens.fail_next()  # Azure AD does not give the bot a token this once
    assert (await scheduler.tick(MONDAY_9)).retried == 1
    async with uow_factory() as uow:
        [waiting] = await uow.outbox.list(status="pending")
    assert waiting.attempts == 1 and "PermissionError" in (waiting.last_error or "")
    await scheduler.tick(MONDAY_9 + timedelta(minutes=5))
    assert keys_sent(connector) == ["m1"] and connector.calls[0].headers["Authorization"] == "Bearer outbound-token"


async def test_a_send_that_fails_unexpectedly_counts_an_attempt_and_the_others_still_go(
    scheduler: Scheduler, uow_factory: UnitOfWorkFactory, connector: FakeConnector
) -> None:
    await enqueue(uow_factory, connector, MONDAY_9, ["fine"], conversation="19:a")
    async with uow_factory() as uow:  # a conversation stored with a service URL that is no URL
        war_room_id = await uow.war_rooms.ensure(thread(connector), now=MONDAY_9)
        broken = OutboundMessage(
            dedupe_key="broken", war_room_id=war_room_id, tenant_id="tenant-1", service_url="smba.example/emea", kind="message",
            conversation_id="19:b", bot_id="28:bot", card={"type": "AdaptiveCard", "version": "1.5", "body": []},
        )
        await uow.outbox.enqueue(broken, now=MONDAY_9)
        await uow.commit()
    report = await scheduler.tick(MONDAY_9)
    assert (report.sent, report.retried) == (1, 1) and keys_sent(connector) == ["fine"]
    async with uow_factory() as uow:
        [waiting] = await uow.outbox.list(status="pending")
    assert (waiting.dedupe_key, waiting.attempts) == ("broken", 1)


async def test_a_hanging_connector_is_retried_after_the_timeout(
    scheduler: Scheduler, uow_factory: UnitOfWorkFactory, connector: FakeConnector
) -> None:
    await enqueue(uow_factory, connector, MONDAY_9, ["slow"])
    connector.fail_next(0)  # no answer: the 2 s client timeout ends it
    await scheduler.tick(MONDAY_9)
    await scheduler.tick(MONDAY_9 + timedelta(minutes=5))
    assert keys_sent(connector) == ["slow"]


async def test_a_restart_between_enqueue_and_send_delivers_once(
    uow_factory: UnitOfWorkFactory, http: aiohttp.ClientSession, clock: FrozenClock, connector: FakeConnector, team: ConversationRef
) -> None:
    await raise_issue(uow_factory, connector, MONDAY_9, Severity.SEV1)
    before_restart = make_scheduler(uow_factory, http, clock)
    await before_restart.plan_reminders(MONDAY_9 + timedelta(minutes=15), report=TickReport())
    assert connector.calls == []  # enqueued, the process "dies" before delivering
    after_restart = make_scheduler(uow_factory, http, clock)
    await after_restart.tick(MONDAY_9 + timedelta(minutes=16))
    await after_restart.tick(MONDAY_9 + timedelta(minutes=17))
    escalations = [call for call in connector.calls if "acknowledgement target" in json.dumps(call.card)]
    assert len(escalations) == 1


async def test_sends_to_one_conversation_keep_the_rate_limits(
    uow_factory: UnitOfWorkFactory, http: aiohttp.ClientSession, connector: FakeConnector
) -> None:
    clock = FrozenClock(MONDAY_9)
    sleep = FakeSleep(clock)
    sender = ConnectorSender(ConnectorClient(http, tokens=NoToken(), retry=RetryPolicy(max_attempts=1)))
    scheduler = Scheduler(uow_factory=uow_factory, sender=sender, sleep=sleep, config=SchedulerConfig(max_inline_wait=timedelta(seconds=5)))
    await enqueue(uow_factory, connector, MONDAY_9, [f"m{n:02d}" for n in range(20)])
    await scheduler.tick(MONDAY_9)
    assert keys_sent(connector) == [f"m{n:02d}" for n in range(20)]
    # 8 per 2 s at most: 20 messages need at least two full windows of waiting.
    assert sum(sleep.slept) >= 4.0


@pytest.mark.parametrize("workers", [2, 4])
async def test_several_workers_draining_one_outbox_send_every_message_once(
    database_url: str, http: aiohttp.ClientSession, connector: FakeConnector, workers: int
) -> None:
    engines = [create_engine(database_url) for _ in range(workers)]
    try:
        factories = [UnitOfWorkFactory(create_session_factory(engine)) for engine in engines]
        for conversation in range(20):
            await enqueue(factories[0], connector, MONDAY_9, [f"c{conversation}-m{n}" for n in range(5)], conversation=f"19:c{conversation}")
        schedulers = [make_scheduler(factory, http, FrozenClock(MONDAY_9)) for factory in factories]
        await asyncio.gather(*(scheduler.deliver(MONDAY_9, TickReport())
                               for scheduler in schedulers))
        sent = keys_sent(connector)
        assert sorted(sent) == sorted(f"c{c}-m{n}" for c in range(20) for n in range(5))
        for conversation in range(20):
            mine = [key for key in sent if key.startswith(f"c{conversation}-")]
            assert mine == [f"c{conversation}-m{n}" for n in range(5)]  # in order per conversation
    finally:
        for engine in engines:
            await engine.dispose()


async def test_a_message_too_large_for_teams_is_replaced_by_a_short_note_and_logged_once(
    scheduler: Scheduler, uow_factory: UnitOfWorkFactory, connector: FakeConnector, caplog: pytest.LogCaptureFixture
) -> None:
    huge = {"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "TextBlock", "text": "x" * MAX_CARD_BYTES}]}
    async with uow_factory() as uow:
        war_room_id = await uow.war_rooms.ensure(thread(connector), now=MONDAY_9)
        await uow.outbox.enqueue(
            OutboundMessage(
                dedupe_key="huge", war_room_id=war_room_id, tenant_id="tenant-1", service_url=connector.url, kind="message",
                conversation_id=f"{CHANNEL};messageid=root-9", bot_id="28:bot", card=huge,
            ),
            now=MONDAY_9,
        )
        await uow.commit()
    with caplog.at_level(logging.WARNING):
        await scheduler.tick(MONDAY_9)
        await scheduler.tick(MONDAY_9 + timedelta(minutes=5))
    [sent] = connector.calls
    assert card_bytes(sent.body) <= MAX_CARD_BYTES
    text = texts([sent])[0]
    assert "too large for Teams" in text and "xxxxxxxxxx" not in text
    assert "https://teams.microsoft.com/l/message/" in text  # the thread it belongs to
    assert len([record for record in caplog.records if "too large" in record.getMessage()]) == 1
    async with uow_factory() as uow:
        assert await uow.outbox.list(status="failed") == []


# -- one war room, one issue or one message that cannot be handled does not stop the others ----------------

OTHER_CHANNEL = "19:other-war-room@thread.tacv2"


async def add_other_war_room(uow_factory: UnitOfWorkFactory, connector: FakeConnector) -> None:
    """A second war room (its own team), set up the evening before, its stand-up due Monday 09:00 like the first's."""
    async with uow_factory() as uow:
        await uow.war_rooms.ensure(thread(connector, OTHER_CHANNEL), now=MONDAY_9 - timedelta(hours=13))
        await uow.commit()


async def poison_settings(engine: AsyncEngine, channel: str, **sev2: str) -> None:
    """Settings written straight into the database, as they could be before spans were bounded."""
    data = WarRoomSettings().model_dump(mode="json")
    data["policy"]["rules"]["2"].update(sev2)
    async with engine.begin() as connection:
        await connection.execute(update(WarRoomRow).where(WarRoomRow.home_channel_id == channel).values(settings=data))


def channel_posts(calls: list[RecordedCall]) -> set[str | None]:
    return {call.conversation_id for call in calls if call.path == "/v3/conversations"}


async def test_a_war_room_with_poisoned_settings_stops_nobody_elses_reminders_standups_or_deliveries(
    scheduler: Scheduler, uow_factory: UnitOfWorkFactory, connector: FakeConnector, team: ConversationRef, engine: AsyncEngine,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The poisoned war room: its Sev 2 is due first, its settings remind every 0m and resolve within 99999999999d.
    await add_other_war_room(uow_factory, connector)
    await raise_issue(uow_factory, connector, MONDAY_9 - timedelta(hours=3), Severity.SEV2, "Bank file rejected", channel=OTHER_CHANNEL)
    await poison_settings(engine, OTHER_CHANNEL, remind_unacknowledged_every="0m", resolve_within="99999999999d")
    # The healthy one: an acknowledged Sev 1 due its first "still open" reminder, its stand-up at 09:00, a message queued.
    issue = await raise_issue(uow_factory, connector, MONDAY_9 - timedelta(hours=2, minutes=5), Severity.SEV1, "Nobody can post invoices")
    await triage_issue(uow=uow_factory(), now=MONDAY_9 - timedelta(hours=2, minutes=2), conversation=team, actor=LENA,
                       issue_id=issue.id, command=Acknowledge(), admins=frozenset())
    await enqueue(uow_factory, connector, MONDAY_9, ["queued"])

    with caplog.at_level(logging.WARNING, logger="bot.scheduler"):
        calls = await tick_all(scheduler, connector, MONDAY_9)
        await tick_all(scheduler, connector, MONDAY_9 + timedelta(hours=1))

    reminders = [call for call in calls if "is still open" in texts([call])[0]]
    assert [call.conversation_id for call in reminders] == [issue.conversation_id]
    assert '"queued"' in "".join(texts(calls))
    # Both stand-ups: the poisoned war room runs on the default in place of each bad value.
    assert channel_posts(calls) == {CHANNEL, OTHER_CHANNEL}
    # The operator hears of it once, as a warning naming the war room and the values, without a traceback.
    [warning] = [record for record in caplog.records if "remind_unacknowledged_every" in record.getMessage()]
    assert warning.levelno == logging.WARNING and warning.exc_info is None
    assert "'0m'" in warning.getMessage() and "'99999999999d'" in warning.getMessage() and OTHER_CHANNEL in warning.getMessage()


async def test_an_issue_that_cannot_be_planned_is_logged_once_and_held_back_while_the_others_go_out(
    uow_factory: UnitOfWorkFactory, http: aiohttp.ClientSession, clock: FrozenClock, connector: FakeConnector,
    team: ConversationRef, engine: AsyncEngine, caplog: pytest.LogCaptureFixture,
) -> None:
    sender = ConnectorSender(ConnectorClient(http, tokens=NoToken(), retry=RetryPolicy(max_attempts=1)))
    # One issue per chunk: the broken one, due first, must not hold back the chunks after it.
    scheduler = Scheduler(uow_factory=uow_factory, sender=sender, sleep=FakeSleep(clock), config=SchedulerConfig(plan_chunk=1))
    broken = await raise_issue(uow_factory, connector, MONDAY_9 - timedelta(hours=1), Severity.SEV1, "Broken", channel=OTHER_CHANNEL)
    # A row no code path writes (raised at the end of time): planning it overflows, as any unforeseen fault would.
    async with engine.begin() as connection:
        await connection.execute(
            update(IssueRow).where(IssueRow.id == broken.id).values(created_at=datetime(9999, 12, 31, 23, 59, tzinfo=UTC))
        )
    healthy = await raise_issue(uow_factory, connector, MONDAY_9 - timedelta(minutes=20), Severity.SEV1, "Nobody can post invoices")

    with caplog.at_level(logging.WARNING, logger="bot.scheduler"):
        first = await tick_all(scheduler, connector, MONDAY_9)
        later = await tick_all(scheduler, connector, MONDAY_9 + timedelta(minutes=35))

    [escalation] = [call for call in first if "acknowledgement target" in texts([call])[0]]
    assert escalation.conversation_id == healthy.conversation_id
    assert CHANNEL in channel_posts(first)  # the healthy war room's stand-up
    [reminder] = [call for call in later if "not acknowledged yet" in texts([call])[0]]
    assert reminder.conversation_id == healthy.conversation_id
    # Retried after a while (it failed again), and still logged only the first time, with what an operator needs.
    [error] = [record for record in caplog.records if record.levelno >= logging.ERROR and f"issue {broken.id}" in record.getMessage()]
    assert error.exc_info is not None and "OverflowError" in error.getMessage()


async def test_a_war_room_whose_standup_cannot_be_prepared_is_skipped_and_everyone_elses_goes_out(
    scheduler: Scheduler, uow_factory: UnitOfWorkFactory, connector: FakeConnector, team: ConversationRef, engine: AsyncEngine,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await add_other_war_room(uow_factory, connector)
    broken = await raise_issue(uow_factory, connector, MONDAY_9 - timedelta(hours=12), Severity.SEV3, "Logo blurry", channel=OTHER_CHANNEL)
    # A resolution booked to a team no code knows (written straight into the database): its row cannot be read.
    async with engine.begin() as connection:
        await connection.execute(
            update(IssueRow).where(IssueRow.id == broken.id).values(
                status="resolved", resolution_type="fixed", resolution_notes="x", handled_by="vendor", resolved_by_name="X",
                resolved_at=MONDAY_9 - timedelta(hours=11), next_due_at=None,
            )
        )
    await enqueue(uow_factory, connector, MONDAY_9, ["queued"])

    with caplog.at_level(logging.WARNING, logger="bot.scheduler"):
        calls = await tick_all(scheduler, connector, MONDAY_9)
        tuesday = await tick_all(scheduler, connector, MONDAY_9 + timedelta(days=1))

    assert channel_posts(calls) == {CHANNEL} and channel_posts(tuesday) == {CHANNEL}
    assert '"queued"' in "".join(texts(calls))
    [error] = [record for record in caplog.records if OTHER_CHANNEL in record.getMessage()]
    assert error.levelno == logging.ERROR and error.exc_info is not None and "stand-up" in error.getMessage()


class FakeSenderFailingOn:
    """The real sender, except that one message meets a fault nobody foresaw (a bug, not a Bot Connector answer)."""

    def __init__(self, sender: ConnectorSender, dedupe_key: str) -> None:
        self._sender = sender
        self._dedupe_key = dedupe_key

    async def deliver(self, item: OutboxItem) -> DeliveryOutcome:
        if item.dedupe_key == self._dedupe_key:
            raise RuntimeError("a fault nobody foresaw")
        return await self._sender.deliver(item)


async def test_a_message_that_cannot_be_sent_does_not_hold_up_the_others(
    uow_factory: UnitOfWorkFactory, http: aiohttp.ClientSession, clock: FrozenClock, connector: FakeConnector,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sender = FakeSenderFailingOn(ConnectorSender(ConnectorClient(http, tokens=NoToken(), retry=RetryPolicy(max_attempts=1))), "unsendable")
    scheduler = Scheduler(uow_factory=uow_factory, sender=sender, sleep=FakeSleep(clock))
    await enqueue(uow_factory, connector, MONDAY_9, ["first"], conversation="19:a")
    await enqueue(uow_factory, connector, MONDAY_9, ["unsendable"], conversation="19:b")
    await enqueue(uow_factory, connector, MONDAY_9, ["second"], conversation="19:c")
    with caplog.at_level(logging.WARNING, logger="bot.scheduler"):
        await scheduler.tick(MONDAY_9)
        assert sorted(keys_sent(connector)) == ["first", "second"]
        await scheduler.tick(MONDAY_9 + timedelta(minutes=5))
    # Logged once, with its traceback, though it failed on both ticks; kept for another try.
    [error] = [record for record in caplog.records if "unsendable" in record.getMessage()]
    assert error.levelno == logging.ERROR and error.exc_info is not None
    async with uow_factory() as uow:
        [queued] = await uow.outbox.list(status="pending")
    assert queued.dedupe_key == "unsendable" and queued.attempts == 2


async def test_an_issue_row_that_cannot_be_read_is_held_back_and_logged_once_while_the_others_go_out(
    scheduler: Scheduler, uow_factory: UnitOfWorkFactory, connector: FakeConnector, team: ConversationRef, engine: AsyncEngine,
    caplog: pytest.LogCaptureFixture,
) -> None:
    broken = await raise_issue(uow_factory, connector, MONDAY_9 - timedelta(hours=1), Severity.SEV1, "Broken", channel=OTHER_CHANNEL)
    async with engine.begin() as connection:  # a severity no code writes (by hand, or by another version of the bot)
        await connection.execute(update(IssueRow).where(IssueRow.id == broken.id).values(severity=9))
    healthy = await raise_issue(uow_factory, connector, MONDAY_9 - timedelta(minutes=20), Severity.SEV1, "Nobody can post invoices")
    await enqueue(uow_factory, connector, MONDAY_9, ["queued"])

    with caplog.at_level(logging.WARNING, logger="bot.scheduler"):
        first = await tick_all(scheduler, connector, MONDAY_9)
        async with engine.connect() as connection:
            held_until = (await connection.execute(select(IssueRow.next_due_at).where(IssueRow.id == broken.id))).scalar_one()
        later = await tick_all(scheduler, connector, MONDAY_9 + timedelta(minutes=35))

    [escalation] = [call for call in first if "acknowledgement target" in texts([call])[0]]
    assert escalation.conversation_id == healthy.conversation_id
    assert CHANNEL in channel_posts(first) and '"queued"' in "".join(texts(first))
    assert held_until is not None and held_until.astimezone(UTC) == MONDAY_9 + timedelta(minutes=15)
    assert [call for call in later if "not acknowledged yet" in texts([call])[0]]  # the healthy issue's reminders go on
    # Read again (and refused again) after being held back, but told to the operator once.
    [error] = [record for record in caplog.records if f"issue {broken.id} cannot be read" in record.getMessage()]
    assert error.levelno == logging.ERROR and "9 is not a valid Severity" in error.getMessage()


async def test_a_war_room_whose_on_call_arrangement_cannot_be_read_gets_its_stand_up_with_nobody_on_call(
    scheduler: Scheduler, uow_factory: UnitOfWorkFactory, connector: FakeConnector, team: ConversationRef, engine: AsyncEngine,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await add_other_war_room(uow_factory, connector)
    async with engine.begin() as connection:  # a rota whose first week does not start on its handover day
        await connection.execute(
            update(WarRoomRow).where(WarRoomRow.home_channel_id == OTHER_CHANNEL).values(
                oncall={"rota": {"people": [{"aad_object_id": "aad-omar", "name": "Omar"}], "starts": "2026-11-24",
                                 "handover_weekday": 0, "handover_time": "09:00:00"}}
            )
        )
    with caplog.at_level(logging.WARNING, logger="bot.scheduler"):
        calls = await tick_all(scheduler, connector, MONDAY_9)
        await tick_all(scheduler, connector, MONDAY_9 + timedelta(days=1))
    assert channel_posts(calls) == {CHANNEL, OTHER_CHANNEL}
    [warning] = [record for record in caplog.records if "on-call" in record.getMessage()]
    assert warning.levelno == logging.WARNING and OTHER_CHANNEL in warning.getMessage()
    assert "nobody is on call until `oncall set` or `oncall rota` sets it again" in warning.getMessage()


class FakeUnitOfWorkFactoryBreakingStandups(UnitOfWorkFactory):
    """Real units of work, except that reading the due stand-ups fails in a way no war room is isolated from."""

    def __call__(self) -> SqlUnitOfWork:
        return _UnitOfWorkBreakingStandups(self._session_factory)


class _UnitOfWorkBreakingStandups(SqlUnitOfWork):
    async def __aenter__(self) -> SqlUnitOfWork:
        await super().__aenter__()

        async def due_standups(now: datetime, *, limit: int) -> list[Any]:
            raise RuntimeError("a fault nobody foresaw")

        self.war_rooms.due_standups = due_standups  # type: ignore[method-assign]
        return self


async def test_a_failing_pass_is_logged_once_and_the_other_passes_still_run(
    engine: AsyncEngine, http: aiohttp.ClientSession, clock: FrozenClock, connector: FakeConnector, team: ConversationRef,
    caplog: pytest.LogCaptureFixture,
) -> None:
    uow_factory = FakeUnitOfWorkFactoryBreakingStandups(create_session_factory(engine))
    sender = ConnectorSender(ConnectorClient(http, tokens=NoToken(), retry=RetryPolicy(max_attempts=1)))
    scheduler = Scheduler(uow_factory=uow_factory, sender=sender, sleep=FakeSleep(clock))
    issue = await raise_issue(uow_factory, connector, MONDAY_9 - timedelta(minutes=20), Severity.SEV1, "Nobody can post invoices")
    await enqueue(uow_factory, connector, MONDAY_9, ["queued"])
    with caplog.at_level(logging.WARNING, logger="bot.scheduler"):
        calls = await tick_all(scheduler, connector, MONDAY_9)
        await tick_all(scheduler, connector, MONDAY_9 + timedelta(minutes=5))
    assert [call.conversation_id for call in calls if "acknowledgement target" in texts([call])[0]] == [issue.conversation_id]
    assert '"queued"' in "".join(texts(calls)) and channel_posts(calls) == set()
    [error] = [record for record in caplog.records if "stand-ups pass failed" in record.getMessage()]
    assert error.levelno == logging.ERROR and error.exc_info is not None


async def test_the_database_being_away_stops_the_tick_for_the_loop_to_report(
    uow_factory: UnitOfWorkFactory, engine: AsyncEngine, http: aiohttp.ClientSession, clock: FrozenClock, connector: FakeConnector
) -> None:
    sender = ConnectorSender(ConnectorClient(http, tokens=NoToken(), retry=RetryPolicy(max_attempts=1)))
    broken = FakeUnitOfWorkFactoryBreakingStandups(create_session_factory(engine))
    scheduler = Scheduler(uow_factory=broken, sender=sender, sleep=FakeSleep(clock), transient=lambda error: isinstance(error, RuntimeError))
    await enqueue(uow_factory, connector, MONDAY_9, ["queued"])
    with pytest.raises(RuntimeError, match="a fault nobody foresaw"):
        await scheduler.tick(MONDAY_9)
    assert connector.calls == []  # nothing more was tried: every pass would meet the same outage
