"""Metric labels, the parser-confidence hook, request ids and the JSON log line, without a server."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.model import Area, IssueDraft, Severity
from bot.domain.ports import OutboxStats
from bot.observability.logs import ACTIVITY_ID, WAR_ROOM_ID, ContextFilter, JsonFormatter, request_context, request_id_from
from bot.observability.metrics import Metrics, activity_type, message_kind, outcome


def test_labels_come_from_fixed_vocabularies() -> None:
    assert [activity_type(value) for value in ("message", "invoke", "x" * 500, None, 7)] == ["message", "invoke", "other", "other", "other"]
    assert [outcome(status) for status in (200, 202, 400, 401, 413, 500, 503)] == ["2xx", "2xx", "4xx", "4xx", "4xx", "5xx", "503"]
    assert [message_kind(key) for key in ("reminder:1:0:open:2", "escalation:ack:1", "standup:3:2026-11-23", "turn:a:b:0", "issue-card:9")] == [
        "reminder", "escalation", "standup", "reply", "reply"
    ]


def test_each_app_has_its_own_registry() -> None:
    first, second = Metrics(), Metrics()
    first.issue_event("created", Severity.SEV1)
    assert first.registry.get_sample_value("hypercare_issues_raised_total", {"severity": "sev1"}) == 1
    assert second.registry.get_sample_value("hypercare_issues_raised_total", {"severity": "sev1"}) == 0


def test_the_parser_hook_counts_prefilled_and_open_fields() -> None:
    metrics = Metrics()
    metrics.draft_parsed(IssueDraft(title="AP posting fails", severity=Severity.SEV1, area=Area.ACCOUNTS_PAYABLE))
    metrics.draft_parsed(IssueDraft(title="something"))
    sample = metrics.registry.get_sample_value
    assert sample("hypercare_parser_fields_total", {"field": "severity", "outcome": "prefilled"}) == 1
    assert sample("hypercare_parser_fields_total", {"field": "severity", "outcome": "left_open"}) == 1
    assert sample("hypercare_parser_fields_total", {"field": "company", "outcome": "left_open"}) == 2
    assert sample("hypercare_parser_fields_total", {"field": "area", "outcome": "prefilled"}) == 1


def test_outbox_gauges_show_depth_and_the_age_of_the_oldest() -> None:
    metrics, now = Metrics(), datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    metrics.outbox(OutboxStats(pending=3, failed=1, oldest_pending_at=now - timedelta(minutes=4)), now)
    sample = metrics.registry.get_sample_value
    assert (sample("hypercare_outbox_messages", {"state": "pending"}), sample("hypercare_outbox_messages", {"state": "failed"})) == (3, 1)
    assert sample("hypercare_outbox_oldest_pending_age_seconds") == 240
    metrics.outbox(OutboxStats(pending=0, failed=1, oldest_pending_at=None), now)
    assert sample("hypercare_outbox_oldest_pending_age_seconds") == 0


def test_the_request_id_comes_from_ms_cv_then_x_request_id_else_is_made_up() -> None:
    assert request_id_from({"MS-CV": "Xa1bC2dE3fG4hI5jK6lM7n.1", "X-Request-Id": "proxy-1"}) == "Xa1bC2dE3fG4hI5jK6lM7n.1"
    assert request_id_from({"X-Request-Id": "0f8fad5b-d9cb-469f-a165-70867728950e"}) == "0f8fad5b-d9cb-469f-a165-70867728950e"
    made_up = {request_id_from({"X-Request-Id": bad}) for bad in ("a b", "x" * 200, "", 'q"uote')}
    assert len(made_up) == 4 and all(len(value) == 24 and value.endswith(".0") for value in made_up)


@pytest.mark.parametrize("exc", [False, True])
def test_a_json_line_has_the_fields_and_the_context(exc: bool) -> None:
    record = logging.LogRecord("bot.scheduler", logging.WARNING, __file__, 1, "sent %d", (3,), None)
    if exc:
        try:
            raise ValueError("boom")
        except ValueError:
            record.exc_info = sys.exc_info()
    with request_context("req-1"):
        ACTIVITY_ID.set("1:abc")
        WAR_ROOM_ID.set(7)
        ContextFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert {key: line[key] for key in ("level", "logger", "message", "request_id", "activity_id", "war_room_id")} == {
        "level": "WARNING", "logger": "bot.scheduler", "message": "sent 3", "request_id": "req-1", "activity_id": "1:abc",
        "war_room_id": 7,
    }
    assert datetime.fromisoformat(line["time"]).tzinfo is not None
    assert ("ValueError: boom" in line.get("exception", "")) is exc
    # Leaving the context forgets the ids.
    ContextFilter().filter(record)
    assert (record.request_id, record.activity_id, record.war_room_id) == (None, None, None)  # type: ignore[attr-defined]
