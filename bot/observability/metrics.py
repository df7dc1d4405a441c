"""The bot's Prometheus metrics (docs/deploy.md says what to alert on), on a registry the application owns.

`app.py` makes one `Metrics` per application, so several apps in one process (tests, the worker) never share
counters. Labels stay low-cardinality: no tenant, user, war room or conversation ids, only fixed vocabularies
(an activity type Teams might invent tomorrow is counted as "other").
"""

from __future__ import annotations

from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from bot.domain.model import IssueDraft, Severity
from bot.domain.ports import OutboxStats
from bot.domain.events import CREATED, Verb

ACTIVITY_TYPES = frozenset(
    {
        "message", "invoke", "conversationUpdate", "installationUpdate", "messageReaction", "messageUpdate",
        "messageDelete", "event", "typing", "endOfConversation",
    }
)
# Outbox messages by the prefix of their dedupe key (bot/domain/reminders.py, bot/scheduler.py, bot/teams/handler.py).
MESSAGE_KINDS = {"reminder": "reminder", "escalation": "escalation", "standup": "standup"}
# The fields of an issue draft the parser may leave for the reporter (None in IssueDraft).
DRAFT_FIELDS = ("severity", "category", "area", "company", "affected_users")
SEVERITIES = tuple(f"sev{severity.value}" for severity in Severity)

_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_TICK_SECONDS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
_RETRY_AFTER_SECONDS = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)


def activity_type(value: object) -> str:
    return value if isinstance(value, str) and value in ACTIVITY_TYPES else "other"


def outcome(status: int) -> str:
    """2xx, 4xx, 5xx; 503 on its own: the answer that means "the database is away, Teams, try again"."""
    return "503" if status == 503 else f"{status // 100}xx"


def message_kind(dedupe_key: str) -> str:
    """reminder, escalation, standup, or reply (a turn's answer that had to wait in the outbox)."""
    return MESSAGE_KINDS.get(dedupe_key.partition(":")[0], "reply")


def severity(value: Severity) -> str:
    return f"sev{value.value}"


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry = registry or CollectorRegistry()
        self.requests = Counter(
            "hypercare_requests", "POST /api/messages requests, by activity type and outcome (2xx, 4xx, 503, 5xx)",
            ["activity_type", "outcome"], registry=registry,
        )
        self.request_seconds = Histogram(
            "hypercare_request_duration_seconds", "Time to answer POST /api/messages", ["activity_type"],
            buckets=_SECONDS, registry=registry,
        )
        self.database_unavailable = Counter(
            "hypercare_database_unavailable", "Requests answered 503 because the database was unavailable", registry=registry,
        )
        self.connector_requests = Counter(
            "hypercare_connector_requests", "Bot Connector HTTP calls, by method and status (`error`: no answer)",
            ["method", "status"], registry=registry,
        )
        self.connector_seconds = Histogram(
            "hypercare_connector_request_duration_seconds", "Time of one Bot Connector HTTP call", ["method"],
            buckets=_SECONDS, registry=registry,
        )
        self.connector_retries = Counter(
            "hypercare_connector_retries", "Bot Connector calls tried again within a turn", ["method"], registry=registry,
        )
        self.connector_throttled = Counter(
            "hypercare_connector_throttled", "429 (too many requests) answers of the Bot Connector", registry=registry,
        )
        self.connector_retry_after = Histogram(
            "hypercare_connector_retry_after_seconds", "The Retry-After of the Bot Connector's 429 answers",
            buckets=_RETRY_AFTER_SECONDS, registry=registry,
        )
        self.connector_token_failures = Counter(
            "hypercare_connector_token_failures", "Failures to obtain the bot's token for the Bot Connector", registry=registry,
        )
        self.outbox_messages = Gauge(
            "hypercare_outbox_messages", "Outbox messages by state (pending, failed = given up), as of the last scheduler tick",
            ["state"], registry=registry,
        )
        self.outbox_oldest_pending_age = Gauge(
            "hypercare_outbox_oldest_pending_age_seconds",
            "Age of the oldest message waiting in the outbox (0 when none), as of the last scheduler tick", registry=registry,
        )
        self.outbox_sent = Counter(
            "hypercare_outbox_sent", "Outbox messages delivered, by kind (reminder, escalation, standup, reply)", ["kind"],
            registry=registry,
        )
        self.outbox_retried = Counter(
            "hypercare_outbox_retried", "Outbox deliveries put off to try again later, by kind", ["kind"], registry=registry,
        )
        self.outbox_given_up = Counter(
            "hypercare_outbox_given_up", "Outbox messages given up on (never delivered), by kind", ["kind"], registry=registry,
        )
        self.tick_seconds = Histogram(
            "hypercare_scheduler_tick_duration_seconds", "Time of one scheduler pass", buckets=_TICK_SECONDS, registry=registry,
        )
        self.ticks = Counter(
            "hypercare_scheduler_ticks", "Scheduler passes, by outcome (ok, unavailable: the database was away)", ["outcome"],
            registry=registry,
        )
        self.last_tick = Gauge(
            "hypercare_scheduler_last_tick_timestamp_seconds", "When the last complete scheduler pass ran (Unix time)",
            registry=registry,
        )
        self.pass_failures = Counter(
            "hypercare_scheduler_pass_failures", "Scheduler passes (reminders, stand-ups, delivery, purge) that failed as a whole",
            ["step"], registry=registry,
        )
        self.reminders_queued = Counter(
            "hypercare_reminders_queued", "Reminders and escalations put in the outbox", registry=registry,
        )
        self.standups = Counter(
            "hypercare_standups", "Scheduled stand-ups, by outcome (queued; skipped: too late or could not be prepared)",
            ["outcome"], registry=registry,
        )
        self.issues_raised = Counter("hypercare_issues_raised", "Issues raised, by severity", ["severity"], registry=registry)
        self.issues_resolved = Counter("hypercare_issues_resolved", "Issues resolved, by severity", ["severity"], registry=registry)
        self.draft_fields = Counter(
            "hypercare_parser_fields",
            "Fields of issue forms the parser prefilled or left for the reporter (outcome: prefilled, left_open)",
            ["field", "outcome"], registry=registry,
        )
        self._zeroes()

    def _zeroes(self) -> None:
        """Every series of a fixed vocabulary exists from the start, so `rate()` and `absent()` alerts work at once."""
        for kind in (*MESSAGE_KINDS.values(), "reply"):
            for counter in (self.outbox_sent, self.outbox_retried, self.outbox_given_up):
                counter.labels(kind)
        for label in SEVERITIES:
            self.issues_raised.labels(label)
            self.issues_resolved.labels(label)
        for field in DRAFT_FIELDS:
            for state in ("prefilled", "left_open"):
                self.draft_fields.labels(field, state)
        for state in ("ok", "unavailable"):
            self.ticks.labels(state)
        for state in ("queued", "skipped"):
            self.standups.labels(state)
        for state in ("pending", "failed"):
            self.outbox_messages.labels(state)

    def exposition(self) -> tuple[bytes, str]:
        """The text a Prometheus scrape reads, and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST

    # -- what the edges report ----------------------------------------------------------------

    def request_answered(self, kind: str, status: int, seconds: float) -> None:
        self.requests.labels(kind, outcome(status)).inc()
        self.request_seconds.labels(kind).observe(seconds)

    def connector_answered(self, method: str, status: int | None, seconds: float, retry_after: float | None) -> None:
        self.connector_requests.labels(method, str(status) if status is not None else "error").inc()
        self.connector_seconds.labels(method).observe(seconds)
        if status == 429:
            self.connector_throttled.inc()
            if retry_after is not None:
                self.connector_retry_after.observe(retry_after)

    def delivery(self, dedupe_key: str, result: str) -> None:
        """One outbox delivery: sent, retry or failed (given up)."""
        counter = {"sent": self.outbox_sent, "retry": self.outbox_retried, "failed": self.outbox_given_up}[result]
        counter.labels(message_kind(dedupe_key)).inc()

    def outbox(self, stats: OutboxStats, now: datetime) -> None:
        self.outbox_messages.labels("pending").set(stats.pending)
        self.outbox_messages.labels("failed").set(stats.failed)
        oldest = stats.oldest_pending_at
        self.outbox_oldest_pending_age.set(max(0.0, (now - oldest).total_seconds()) if oldest else 0.0)

    def issue_event(self, verb: str, issue_severity: Severity) -> None:
        """A committed change to an issue (bot/domain/triage.py's verbs)."""
        if verb == CREATED:
            self.issues_raised.labels(severity(issue_severity)).inc()
        elif verb == Verb.RESOLVE.value:
            self.issues_resolved.labels(severity(issue_severity)).inc()

    def draft_parsed(self, draft: IssueDraft) -> None:
        """The parser's confidence: which fields of a new issue form it filled and which it left for the reporter.

        The hook for the issue form: call it with each draft the parser reads for a form."""
        for field in DRAFT_FIELDS:
            self.draft_fields.labels(field, "left_open" if getattr(draft, field) is None else "prefilled").inc()
