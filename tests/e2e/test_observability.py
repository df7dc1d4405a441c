"""What an operator sees: /metrics moving with real traffic, JSON log lines with request ids, nothing secret logged."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from pydantic import SecretStr
from prometheus_client.parser import text_string_to_metric_families

import aiohttp
from aiohttp import web

from app import ENGINE, SCHEDULER, create_worker_app
from bot.config import Settings
from bot.observability.logs import QUIET_LOGGERS, configure_logging
from tests.support.activities import OMAR, channel_message
from tests.support.clock import FrozenClock
from tests.support.connector import FakeConnector
from tests.support.databases import database_blip
from tests.support.identity import OpenIdServer, authenticated_settings, token
from tests.support.server import FixedToken, RunningBot, running_bot
from tests.support.war_room import WarRoom

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(bot: RunningBot, authorization: str | None = None) -> Samples:
    headers = {"Authorization": authorization} if authorization else {}
    async with bot.client.get(f"{bot.url}/metrics", headers=headers) as response:
        assert response.status == 200
        assert response.content_type == "text/plain"
        text = await response.text()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


async def test_a_message_a_raised_and_a_resolved_issue_and_bad_input_move_the_request_and_issue_metrics(
    bot: RunningBot, room: WarRoom
) -> None:
    await room.grant(OMAR, "oncall")
    before = await scrape(bot)
    issue = await room.raise_issue("sev1 - nobody in AP can post vendor invoices")
    await room.click(issue, "issue.resolve", {"resolve_notes": "Added the posting profile", "resolve_type": "fixed"}, sender=OMAR)
    assert await bot.post_raw(b"{not json") == 400
    after = await scrape(bot)

    assert moved(before, after, "hypercare_requests_total", activity_type="message", outcome="2xx") == 1
    assert moved(before, after, "hypercare_requests_total", activity_type="invoke", outcome="2xx") == 2
    assert moved(before, after, "hypercare_requests_total", activity_type="other", outcome="4xx") == 1
    assert moved(before, after, "hypercare_request_duration_seconds_count", activity_type="invoke") == 2
    # The form (POST) and the card replacing it for everyone (PUT), and the resolution's refresh and notice.
    assert moved(before, after, "hypercare_connector_requests_total", method="POST", status="200") >= 1
    assert moved(before, after, "hypercare_connector_requests_total", method="PUT", status="200") >= 1
    assert moved(before, after, "hypercare_issues_raised_total", severity="sev1") == 1
    assert moved(before, after, "hypercare_issues_resolved_total", severity="sev1") == 1
    assert moved(before, after, "hypercare_issues_raised_total", severity="sev2") == 0
    # The form's draft: the severity was read from "sev1", no head count was given.
    assert moved(before, after, "hypercare_parser_fields_total", field="severity", outcome="prefilled") == 1
    assert moved(before, after, "hypercare_parser_fields_total", field="affected_users", outcome="left_open") == 1
    # Labels stay low-cardinality: no tenant, user, conversation or war room ids anywhere.
    labels = {label for _, pairs in after for label, _ in pairs}
    assert labels <= {"activity_type", "outcome", "method", "status", "kind", "state", "step", "severity", "field", "le"}


async def test_a_refused_click_counts_no_resolution(bot: RunningBot, room: WarRoom) -> None:
    issue = await room.raise_issue("sev2 - invoices stuck")
    before = await scrape(bot)
    # Nobody holds a role: the resolve is refused and nothing is committed.
    await room.click(issue, "issue.resolve", {"resolve_notes": "done", "resolve_type": "fixed"})
    assert moved(before, await scrape(bot), "hypercare_issues_resolved_total", severity="sev2") == 0


async def test_a_429_is_counted_with_its_retry_after_and_the_retry(bot: RunningBot, room: WarRoom, connector: FakeConnector) -> None:
    before = await scrape(bot)
    connector.fail_next(429, headers={"Retry-After": "0"})
    await room.say("sev3 printing labels is slow")
    after = await scrape(bot)
    assert moved(before, after, "hypercare_connector_requests_total", method="POST", status="429") == 1
    assert moved(before, after, "hypercare_connector_throttled_total") == 1
    assert moved(before, after, "hypercare_connector_retry_after_seconds_count") == 1
    assert moved(before, after, "hypercare_connector_retries_total", method="POST") == 1
    assert moved(before, after, "hypercare_connector_requests_total", method="POST", status="200") == 1


async def test_a_database_blip_is_a_503_and_counted(bot: RunningBot, connector: FakeConnector) -> None:
    before = await scrape(bot)
    with database_blip(bot.app[ENGINE], "INSERT INTO processed_activities"):
        status, _ = await bot.post_activity(channel_message(connector.url, "sev2 payment journal fails"))
    assert status == 503
    after = await scrape(bot)
    assert moved(before, after, "hypercare_database_unavailable_total") == 1
    assert moved(before, after, "hypercare_requests_total", activity_type="message", outcome="503") == 1


async def test_ticks_show_outbox_depth_age_and_a_message_given_up(
    bot: RunningBot, room: WarRoom, connector: FakeConnector, clock: FrozenClock
) -> None:
    await room.raise_issue("sev1 - the warehouse app is down")
    start = clock.now()
    before = await scrape(bot)

    # 15 minutes unacknowledged: the escalation is due, and Teams is away.
    connector.fail_next(503)
    await bot.app[SCHEDULER].tick(start + timedelta(minutes=15))
    first = await scrape(bot)
    assert moved(before, first, "hypercare_scheduler_ticks_total", outcome="ok") == 1
    assert moved(before, first, "hypercare_scheduler_tick_duration_seconds_count") == 1
    assert value(first, "hypercare_scheduler_last_tick_timestamp_seconds") == (start + timedelta(minutes=15)).timestamp()
    assert moved(before, first, "hypercare_reminders_queued_total") >= 1
    assert moved(before, first, "hypercare_outbox_retried_total", kind="escalation") == 1
    assert value(first, "hypercare_outbox_messages", state="pending") >= 1
    assert value(first, "hypercare_outbox_oldest_pending_age_seconds") == 0

    # Five minutes later it is still waiting: the age says so.
    connector.fail_next(503)
    await bot.app[SCHEDULER].tick(start + timedelta(minutes=20))
    second = await scrape(bot)
    assert value(second, "hypercare_outbox_oldest_pending_age_seconds") == 300
    assert moved(before, second, "hypercare_connector_requests_total", method="POST", status="503") >= 2

    # Then Teams refuses it for good (403): given up, and counted as failed in the outbox.
    connector.fail_next(403)
    await bot.app[SCHEDULER].tick(start + timedelta(minutes=25))
    third = await scrape(bot)
    assert moved(before, third, "hypercare_outbox_given_up_total", kind="escalation") == 1
    assert value(third, "hypercare_outbox_messages", state="failed") >= 1
    assert value(third, "hypercare_outbox_messages", state="pending") == 0
    assert value(third, "hypercare_outbox_oldest_pending_age_seconds") == 0
    assert moved(before, third, "hypercare_outbox_sent_total", kind="escalation") == 0


async def test_metrics_can_be_protected_by_a_token_or_switched_off(settings: Settings, clock: FrozenClock) -> None:
    protected = settings.model_copy(update={"metrics_token": SecretStr("scrape-secret")})
    async with running_bot(protected, clock) as bot:
        async with bot.client.get(f"{bot.url}/metrics") as response:
            assert response.status == 401
        async with bot.client.get(f"{bot.url}/metrics", headers={"Authorization": "Bearer wrong"}) as response:
            assert response.status == 401
        assert "hypercare_scheduler_ticks_total" in {name for name, _ in await scrape(bot, "Bearer scrape-secret")}
    async with running_bot(settings.model_copy(update={"metrics_enabled": False}), clock) as bot:
        async with bot.client.get(f"{bot.url}/metrics") as response:
            assert response.status == 404


async def test_the_worker_serves_health_and_the_metrics_of_its_scheduler(settings: Settings, clock: FrozenClock) -> None:
    # The web replicas have their schedulers off (interval 0); the worker ticks regardless.
    app = create_worker_app(settings, clock=clock)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    try:
        await app[SCHEDULER].tick(clock.now())
        async with aiohttp.ClientSession() as client:
            async with client.get(f"{url}/healthz") as response:
                assert response.status == 200
            async with client.post(f"{url}/api/messages", json={"type": "message"}) as response:
                assert response.status == 404  # the worker answers no activities
            worker = RunningBot(url=url, client=client, app=app)
            assert value(await scrape(worker), "hypercare_scheduler_ticks_total", outcome="ok") >= 1
    finally:
        await runner.cleanup()


# -- logs ----------------------------------------------------------------------------------------


@pytest.fixture
def debug_log() -> Iterator[io.StringIO]:
    """The process's logging as `hypercare` configures it, at DEBUG and in JSON, written to a buffer."""
    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in ("", *QUIET_LOGGERS)}
    stream = io.StringIO()
    handler = configure_logging("DEBUG", "json", stream)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def log_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


async def test_json_log_lines_carry_the_request_id_from_ms_cv_into_the_outbound_calls(
    bot: RunningBot, connector: FakeConnector, debug_log: io.StringIO
) -> None:
    message = channel_message(connector.url, "sev2 payment journal fails")
    status, _ = await bot.post_activity(message, headers={"MS-CV": "Xa1bC2dE3fG4hI5jK6lM7n.1"})
    assert status == 200
    await bot.settle()
    lines = log_lines(debug_log)
    assert lines and all(set(line) >= {"time", "level", "logger", "message", "request_id", "activity_id", "war_room_id"} for line in lines)
    [answered] = [line for line in lines if line["logger"] == "bot.teams.endpoint" and "answered" in line["message"]]
    assert answered["request_id"] == "Xa1bC2dE3fG4hI5jK6lM7n.1"
    assert answered["activity_id"] == message["id"] and isinstance(answered["war_room_id"], int)
    [reply] = connector.calls
    assert reply.headers["MS-CV"] == "Xa1bC2dE3fG4hI5jK6lM7n.1"


async def test_a_request_without_an_id_gets_one_and_a_hostile_header_is_not_trusted(
    bot: RunningBot, connector: FakeConnector, debug_log: io.StringIO
) -> None:
    hostile = 'x", "level": "CRITICAL" ' + "a" * 300
    for headers in ({}, {"X-Request-Id": hostile}):
        before = len(connector.calls)
        message = channel_message(connector.url, "sev2 payment journal fails")
        status, _ = await bot.post_activity(message, headers=headers)
        assert status == 200
        sent = connector.calls[before]
        assert sent.headers["MS-CV"] and sent.headers["MS-CV"] != hostile
    ids = {line["request_id"] for line in log_lines(debug_log) if line["logger"] == "bot.teams.endpoint"}
    assert len(ids) == 2 and None not in ids and hostile not in ids


async def test_a_tick_logs_and_sends_under_its_own_request_id(
    bot: RunningBot, room: WarRoom, connector: FakeConnector, clock: FrozenClock, debug_log: io.StringIO
) -> None:
    await room.raise_issue("sev1 - the warehouse app is down")
    before = len(connector.calls)
    connector.fail_next(403)
    await bot.app[SCHEDULER].tick(clock.now() + timedelta(minutes=15))
    [given_up] = [line for line in log_lines(debug_log) if "failed for good" in line["message"]]
    assert given_up["request_id"] and isinstance(given_up["war_room_id"], int)
    assert [call.headers["MS-CV"] for call in connector.failed_attempts] == [given_up["request_id"]]
    assert connector.calls[before:] == []


async def test_no_token_message_text_or_form_value_is_logged_at_debug(
    database_url: str, openid: OpenIdServer, connector: FakeConnector, clock: FrozenClock, debug_log: io.StringIO
) -> None:
    outbound = "outbound-secret-token-for-the-log-test"
    settings = authenticated_settings(database_url, f"{openid.url}/v1/.well-known/openidconfiguration")
    async with running_bot(settings, clock, tokens=FixedToken(outbound)) as bot:
        inbound = token(connector, clock)
        room = WarRoom(_Signed(bot, f"Bearer {inbound}"), connector)  # type: ignore[arg-type]
        issue = await room.raise_issue("sev2 the zebraquartz ledger mismatch in USMF")
        await room.say("history #1 kiwiplum")
        await room.click(issue, "issue.update", {"update_text": "Waiting on the pangolin vendor"})
        connector.fail_next(400)  # an answer Teams refuses: logged, with its error, still without the text
        await room.say("sev3 the marmoset report is slow")
        await bot.app[SCHEDULER].tick(clock.now() + timedelta(minutes=15))
    text = debug_log.getvalue()
    assert len(text.splitlines()) > 10  # plenty was logged, so the check below means something
    for secret in (inbound, inbound.split(".")[2], outbound, "not-used-the-credential-is-injected", "zebraquartz", "kiwiplum",
                   "pangolin", "marmoset"):
        assert secret not in text, secret


class _Signed:
    """A running bot whose activities carry a genuine Bot Framework token."""

    def __init__(self, bot: RunningBot, authorization: str) -> None:
        self._bot = bot
        self._authorization = authorization

    def __getattr__(self, name: str) -> Any:
        return getattr(self._bot, name)

    async def post_activity(self, activity: dict[str, Any], *, authorization: str | None = None) -> tuple[int, Any]:
        return await self._bot.post_activity(activity, authorization=authorization or self._authorization)
