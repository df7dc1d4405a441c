"""Severity policy: how fast each severity must be acknowledged and resolved, and how often to remind.

Data, not code: every war room holds its own copy (these are the defaults), edited with `setup` or
`hypercare settings`.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_serializer, field_validator, model_validator

from bot.domain.calendar import WorkingCalendar
from bot.domain.model import Severity, Status

_SPAN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|min|minutes?|h|hours?|d|days?)\s*$", re.IGNORECASE)
# The longest span in each unit: a year. Longer targets mean nothing in hypercare, and overflow date arithmetic.
_MOST = {"m": 365 * 24 * 60, "h": 365 * 24, "d": 365}
# Reminders closer together than this are noise (and 0m made the reminder planner divide by zero).
REMINDER_MIN_MINUTES = 5


def status_when_raised(severity: Severity) -> Status:
    """Scope discipline: an enhancement (Sev 4) goes straight to the after-hypercare backlog."""
    return Status.DEFERRED if severity is Severity.SEV4 else Status.NEW


class Span(BaseModel):
    """A duration as people state it: "15m", "2h", "1d". On a working-hours clock a day is a working day."""

    model_config = ConfigDict(frozen=True)

    amount: float
    unit: Literal["m", "h", "d"]

    @model_validator(mode="after")
    def _bounded(self) -> Span:
        if not self.amount > 0:
            raise ValueError(f"'{self}' is no time at all (give a duration such as 15m, or none)")
        if self.amount > _MOST[self.unit]:
            raise ValueError(f"'{self}' is longer than a year (at most 365d, 8760h or 525600m)")
        return self

    @property
    def minutes(self) -> float:
        """The nominal length, a day counted as 24 hours."""
        return self.amount * {"m": 1, "h": 60, "d": 24 * 60}[self.unit]

    @classmethod
    def parse(cls, text: str) -> Span:
        match = _SPAN.match(text)
        if not match:
            raise ValueError(f"{text!r} is not a duration like 15m, 2h or 1d")
        return cls(amount=float(match.group(1)), unit=match.group(2)[0].lower())  # type: ignore[arg-type]

    def __str__(self) -> str:
        amount = int(self.amount) if self.amount.is_integer() else self.amount
        return f"{amount}{self.unit}"

    def duration(self, day_length: timedelta) -> timedelta:
        if self.unit == "m":
            return timedelta(minutes=self.amount)
        if self.unit == "h":
            return timedelta(hours=self.amount)
        return day_length * self.amount


def _span(value: object) -> object:
    return Span.parse(value) if isinstance(value, str) else value


class SeverityRule(BaseModel):
    model_config = ConfigDict(frozen=True)

    acknowledge_within: Span | None
    remind_unacknowledged_every: Span | None
    remind_open_every: Span | None
    resolve_within: Span | None  # None: deferred to after hypercare
    clock: Literal["24x7", "working"]

    _parse = field_validator(
        "acknowledge_within", "remind_unacknowledged_every", "remind_open_every", "resolve_within", mode="before"
    )(_span)

    @field_validator("remind_unacknowledged_every", "remind_open_every")
    @classmethod
    def _not_too_often(cls, value: Span | None) -> Span | None:
        if value is not None and value.minutes < REMINDER_MIN_MINUTES:
            raise ValueError(f"'{value}' is too often: reminders come at least {REMINDER_MIN_MINUTES} minutes apart")
        return value

    @field_serializer("acknowledge_within", "remind_unacknowledged_every", "remind_open_every", "resolve_within")
    def _as_text(self, value: Span | None) -> str | None:
        return str(value) if value is not None else None

    def _day(self, calendar: WorkingCalendar) -> timedelta:
        return timedelta(hours=24) if self.clock == "24x7" else calendar.working_day_length

    def after(self, start: datetime, span: Span, calendar: WorkingCalendar) -> datetime:
        """The instant `span` after `start` on this rule's clock (working time pauses outside working hours)."""
        return self.after_duration(start, self.length(span, calendar), calendar)

    def after_duration(self, start: datetime, duration: timedelta, calendar: WorkingCalendar) -> datetime:
        return start + duration if self.clock == "24x7" else calendar.add(start, duration)

    def elapsed(self, start: datetime, end: datetime, calendar: WorkingCalendar) -> timedelta:
        return max(end - start, timedelta()) if self.clock == "24x7" else calendar.between(start, end)

    def length(self, span: Span, calendar: WorkingCalendar) -> timedelta:
        return span.duration(self._day(calendar))

    def reminder_interval(self, every: Span, calendar: WorkingCalendar) -> timedelta:
        """Time between reminders on this rule's clock; a very short working day cannot bring them under the minimum."""
        return max(self.length(every, calendar), timedelta(minutes=REMINDER_MIN_MINUTES))


class SeverityPolicy(BaseModel):
    model_config = ConfigDict(frozen=True)

    rules: dict[Severity, SeverityRule] = {
        Severity.SEV1: SeverityRule.model_validate(
            {"acknowledge_within": "15m", "remind_unacknowledged_every": "15m", "remind_open_every": "2h",
             "resolve_within": "4h", "clock": "24x7"}
        ),
        Severity.SEV2: SeverityRule.model_validate(
            {"acknowledge_within": "2h", "remind_unacknowledged_every": "2h", "remind_open_every": "1d",
             "resolve_within": "2d", "clock": "working"}
        ),
        Severity.SEV3: SeverityRule.model_validate(
            {"acknowledge_within": "1d", "remind_unacknowledged_every": "1d", "remind_open_every": None,
             "resolve_within": "10d", "clock": "working"}
        ),
        Severity.SEV4: SeverityRule.model_validate(
            {"acknowledge_within": None, "remind_unacknowledged_every": None, "remind_open_every": None,
             "resolve_within": None, "clock": "working"}
        ),
    }

    def rule(self, severity: Severity) -> SeverityRule:
        return self.rules[severity]

    def resolve_by(self, severity: Severity, *, raised_at: datetime, calendar: WorkingCalendar) -> datetime | None:
        rule = self.rules[severity]
        return rule.after(raised_at, rule.resolve_within, calendar) if rule.resolve_within else None

    def acknowledge_by(self, severity: Severity, *, raised_at: datetime, calendar: WorkingCalendar) -> datetime | None:
        rule = self.rules[severity]
        return rule.after(raised_at, rule.acknowledge_within, calendar) if rule.acknowledge_within else None


DEFAULT_POLICY = SeverityPolicy()
