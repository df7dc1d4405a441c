"""What an in-memory database holds: plain dicts and lists, one FakeStore shared by the units of work of a test.

Tests arrange a scene by writing here directly (`add_issue`, `grant`) and assert on it afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from bot.domain.charts import ChartSeries
from bot.domain.floor import FloorWalker
from bot.domain.messages import ConversationRef, OutboundMessage
from bot.domain.model import Issue, Person, Role, Runbook
from bot.domain.reminders import ReminderState
from bot.domain.events import Event
from bot.domain.war_room import WarRoom


class IssueEvent(NamedTuple):
    issue_id: int
    # The issue version the event produced (a card drawn from an older one is stale).
    version: int
    event: Event


@dataclass
class ActivityClaimRecord:
    received_at: datetime
    done_at: datetime | None = None


@dataclass
class MemberRecord:
    name: str
    via: str
    added_at: datetime
    chosen_at: datetime | None = None


@dataclass
class OutboxRecord:
    message: OutboundMessage
    created_at: datetime
    next_attempt_at: datetime
    status: str = "pending"
    attempts: int = 0
    claimed_until: datetime | None = None
    sent_at: datetime | None = None
    sent_activity_id: str | None = None
    last_error: str | None = None


@dataclass
class FakeStore:
    war_rooms: dict[int, WarRoom] = field(default_factory=dict)
    last_issue_numbers: dict[int, int] = field(default_factory=dict)
    war_room_events: list[tuple[int, Event]] = field(default_factory=list)
    # conversation id -> (the reference as stored, its war room)
    conversations: dict[str, tuple[ConversationRef, int]] = field(default_factory=dict)
    activities: dict[tuple[str, str], ActivityClaimRecord] = field(default_factory=dict)
    issues: dict[int, Issue] = field(default_factory=dict)
    issue_forms: dict[int, str] = field(default_factory=dict)
    # issue id -> (what was sent so far, when it is next due)
    reminders: dict[int, tuple[ReminderState, datetime | None]] = field(default_factory=dict)
    events: list[IssueEvent] = field(default_factory=list)
    roles: dict[tuple[int, str], tuple[Person, frozenset[Role]]] = field(default_factory=dict)
    outbox: dict[int, OutboxRecord] = field(default_factory=dict)
    runbooks: dict[int, Runbook] = field(default_factory=dict)
    runbook_forms: dict[int, str | None] = field(default_factory=dict)
    # (war room id, person's object id) -> membership
    members: dict[tuple[int, str], MemberRecord] = field(default_factory=dict)
    # (war room id, object id) -> the floor walker
    floor_walkers: dict[tuple[int, str], FloorWalker] = field(default_factory=dict)
    # war room id -> when it was welcomed
    welcomed: dict[int, datetime] = field(default_factory=dict)
    # snapshot id -> (its war room, the figures)
    charts: dict[int, tuple[int, ChartSeries]] = field(default_factory=dict)

    def add_issue(self, issue: Issue, *, form_id: str | None = None) -> Issue:
        """An issue stored as it was raised (its reminders not started), numbered as `issue.number`."""
        self.issues[issue.id] = issue
        self.issue_forms[issue.id] = form_id or f"form-{issue.id}"
        self.reminders[issue.id] = (ReminderState(), None)
        self.last_issue_numbers[issue.war_room_id] = max(self.last_issue_numbers.get(issue.war_room_id, 0), issue.number)
        return issue

    def add_runbook(self, runbook: Runbook, *, form_id: str | None = None) -> Runbook:
        self.runbooks[runbook.id] = runbook
        self.runbook_forms[runbook.id] = form_id
        return runbook

    def grant(self, war_room_id: int, person: Person, *roles: Role) -> None:
        assert person.aad_object_id
        held = self.roles.get((war_room_id, person.aad_object_id), (person, frozenset()))[1]
        self.roles[(war_room_id, person.aad_object_id)] = (person, held | set(roles))

    def events_of(self, issue_id: int) -> list[Event]:
        return [stored.event for stored in self.events if stored.issue_id == issue_id]
