"""The few facts of an issue that the exit criteria, the "write a runbook" groups and the chart count with.

The stand-up counts over every issue of its war room (5,000 in a large go-live), but lists only a few of them: it reads
these facts for all of them, and whole issues only for what it shows. `Issue` has the same attributes, so the same
rules run on either.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.domain.model import Area, Category, HandledBy, Severity, Status


class Brief(Protocol):
    """What the counts read of an issue (read-only: an `Issue` or an `IssueBrief`)."""

    @property
    def id(self) -> int: ...
    @property
    def number(self) -> int: ...
    @property
    def title(self) -> str: ...
    @property
    def status(self) -> Status: ...
    @property
    def severity(self) -> Severity: ...
    @property
    def area(self) -> Area | None: ...
    @property
    def category(self) -> Category | None: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def updated_at(self) -> datetime: ...
    @property
    def resolve_by(self) -> datetime | None: ...
    @property
    def resolved_at(self) -> datetime | None: ...
    @property
    def handled_by(self) -> HandledBy | None: ...
    @property
    def escalated_at(self) -> datetime | None: ...
    @property
    def awaiting_confirmation(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class IssueBrief:
    """An issue as the counts see it. `resolved_at`/`handled_by`: of its recorded resolution (None without one, as
    `Issue.resolution`); `escalated_at`: of its escalation."""

    id: int
    number: int
    title: str
    status: Status
    severity: Severity
    area: Area | None
    category: Category | None
    created_at: datetime
    updated_at: datetime
    resolve_by: datetime | None
    resolved_at: datetime | None
    handled_by: HandledBy | None
    escalated_at: datetime | None
    awaiting_confirmation: bool
