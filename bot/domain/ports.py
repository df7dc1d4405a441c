"""What the use cases (bot/services) and the scheduler need from storage, in domain terms.

`storage/` implements these Protocols (storage/uow.py, storage/repositories/); services see only this module, so
a unit test runs them on an in-memory fake. Each repository Protocol lists the methods that are called through a
unit of work, no more. The exceptions and result models here are what the implementations raise and return.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict

from bot.domain.brief import IssueBrief
from bot.domain.charts import ChartSeries
from bot.domain.floor import FloorWalker
from bot.domain.prefill import LabelledExample
from bot.domain.model import Area, Category, Issue, IssueQuery, NewIssue, NewRunbook, Person, Role, Runbook, Status, Suggestion
from bot.domain.reminders import RemindedIssue, ReminderState
from bot.domain.events import Event
from bot.domain.war_room import OnCall, WarRoom, WarRoomSettings
from bot.domain.messages import ConversationRef, OutboundMessage, OutboxItem, Settled

# "claimed": this delivery answers the activity; "busy": another delivery is answering it now; "done": it was answered.
ActivityClaim = Literal["claimed", "busy", "done"]


class DuplicateSourceForm(Exception):
    """An issue or runbook from this form was stored in this war room by another request first."""


class NotAWarRoom(Exception):
    """A personal chat has no war room of its own: it acts in its person's (`ConversationRef.acting_in`)."""


class StaleIssue(Exception):
    """The issue changed since it was read (another click or replica wrote first)."""


class DueIssues(BaseModel):
    """Issues whose reminders are due, and the due rows that cannot be read as issues (id, why): a row written by
    hand or by another version must not stop everyone else's reminders."""

    issues: list[tuple[RemindedIssue, ReminderState]]
    unreadable: list[tuple[int, str]]

    def __len__(self) -> int:
        return len(self.issues) + len(self.unreadable)


class OutboxEntry(BaseModel):
    """An outbox row as `hypercare outbox` lists it."""

    id: int
    dedupe_key: str
    conversation_id: str
    status: str
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    last_error: str | None


class OutboxStats(BaseModel):
    """How the outbox stands: messages waiting, messages given up on, and since when the oldest has waited."""

    pending: int
    failed: int
    oldest_pending_at: datetime | None


class DueWork(BaseModel):
    """Which scheduler passes have anything to do (each may be a false yes, never a false no), and the outbox gauges."""

    reminders: bool
    # Resolutions nobody confirmed whose time to close has come.
    closings: bool
    standups: bool
    deliveries: bool
    purge: bool
    outbox: OutboxStats


class WarRooms(Protocol):
    async def ensure(self, ref: ConversationRef, *, now: datetime) -> int: ...
    async def ensure_room(self, ref: ConversationRef, *, now: datetime) -> WarRoom: ...

    async def ensure_room_with_roles(
        self, ref: ConversationRef, *, now: datetime, aad_object_id: str | None
    ) -> tuple[WarRoom, frozenset[Role]]:
        """`ensure_room`, and the roles the person holds there, read in the same statement."""
        ...

    async def find(self, ref: ConversationRef) -> int | None: ...
    async def get(self, war_room_id: int) -> WarRoom: ...
    async def all(self) -> builtins.list[WarRoom]: ...
    async def by_reference(self, reference: str) -> WarRoom | None: ...
    async def get_many(self, war_room_ids: set[int]) -> builtins.list[WarRoom]: ...
    async def save_settings(self, war_room_id: int, settings: WarRoomSettings, *, next_standup_at: datetime | None) -> None: ...
    async def save_oncall(self, war_room_id: int, oncall: OnCall) -> None: ...
    async def name_if_unnamed(self, war_room_id: int, name: str) -> None: ...
    async def set_sign_off(self, war_room_id: int, *, by: Person | None, at: datetime | None, next_standup_at: datetime | None) -> None: ...
    async def save_told(self, war_room_id: int, *, overrun_told_for: date | None, ready_told_at: datetime | None) -> None: ...
    async def set_home(self, war_room_id: int, ref: ConversationRef) -> None: ...
    async def of_member(self, tenant_id: str | None, aad_object_id: str) -> tuple[builtins.list[WarRoom], int | None]: ...
    async def mark_welcomed(self, war_room_id: int, *, now: datetime) -> bool: ...
    async def add_event(self, war_room_id: int, event: Event) -> None: ...
    async def due_standups(self, now: datetime, *, limit: int) -> builtins.list[WarRoom]: ...
    async def standup_done(self, war_room_id: int, *, posted_at: datetime | None, next_at: datetime | None) -> None: ...


class Conversations(Protocol):
    async def upsert(self, ref: ConversationRef, *, war_room_id: int, now: datetime) -> None: ...
    async def get_many(self, conversation_ids: set[str]) -> dict[str, ConversationRef]: ...


class Members(Protocol):
    async def add(self, war_room_id: int, people: Sequence[Person], *, via: str, now: datetime) -> None: ...
    async def remove(self, war_room_id: int, aad_object_ids: Sequence[str]) -> None: ...
    async def choose(self, war_room_id: int, aad_object_id: str, *, now: datetime) -> None: ...


class Activities(Protocol):
    async def claim(self, conversation_id: str, activity_id: str, *, now: datetime, lease: timedelta) -> ActivityClaim: ...
    async def finish(self, conversation_id: str, activity_id: str, *, claimed_at: datetime, now: datetime) -> bool: ...
    async def release(self, conversation_id: str, activity_id: str, *, claimed_at: datetime) -> None: ...
    async def purge_received_before(self, cutoff: datetime) -> int: ...


class Issues(Protocol):
    async def add(self, new: NewIssue, *, created: Event) -> Issue:
        """Store `new` under its war room's next number, with `created`, the event of its first version.

        Numbers are without gaps and never twice, whatever the number of concurrent callers and replicas. Raises
        DuplicateSourceForm when the form already made an issue in this war room."""
        ...

    async def get(self, issue_id: int, *, for_update: bool = False) -> Issue | None: ...
    async def get_by_number(self, war_room_id: int, number: int, *, for_update: bool = False) -> Issue | None: ...
    async def get_by_source_form(self, war_room_id: int, form_id: str) -> Issue | None: ...
    async def get_latest_in_conversation(self, conversation_id: str) -> Issue | None: ...
    async def list(self, war_room_id: int, query: IssueQuery, *, now: datetime) -> tuple[builtins.list[Issue], int]: ...

    async def save(self, issue: Issue, *, expected_version: int, known_followers: tuple[Person, ...] | None = None) -> Issue:
        """Raises StaleIssue when someone else wrote the issue since `expected_version`."""
        ...

    async def due(self, now: datetime, *, limit: int) -> DueIssues: ...
    async def closing_due(self, now: datetime, *, limit: int) -> builtins.list[Issue]: ...
    async def hold_back(self, issue_ids: builtins.list[int], *, until: datetime) -> None: ...
    async def save_reminders(self, issue_id: int, state: ReminderState, *, next_due_at: datetime | None) -> None: ...
    async def save_reminders_many(self, states: builtins.list[tuple[int, ReminderState, datetime | None]]) -> None: ...
    async def resume_reminders(self, war_room_id: int, *, now: datetime) -> int: ...
    async def reminder_state(self, issue_id: int) -> ReminderState: ...
    async def recent(self, war_room_id: int, since: datetime | None) -> builtins.list[Issue]: ...
    async def briefs(self, war_room_id: int) -> builtins.list[IssueBrief]: ...
    async def for_standup(self, war_room_id: int, *, standup_on: date) -> builtins.list[Issue]: ...
    async def all_with_status(self, war_room_id: int, statuses: frozenset[Status], *, limit: int = 2000) -> builtins.list[Issue]: ...
    async def count(self, war_room_id: int, statuses: frozenset[Status]) -> int: ...
    async def set_card_activity(self, issue_id: int, activity_id: str, conversation_id: str) -> None: ...


class Events(Protocol):
    async def add(self, issue: Issue, event: Event) -> None: ...
    async def list_for(self, issue_id: int, *, after_version: int = 0) -> list[Event]: ...
    async def by_issue(self, war_room_id: int) -> dict[int, list[Event]]: ...


class Roles(Protocol):
    async def of(self, war_room_id: int, aad_object_id: str | None) -> frozenset[Role]: ...
    async def grant(self, war_room_id: int, person: Person, role: Role, *, by: Person, now: datetime) -> bool: ...
    async def revoke(self, war_room_id: int, aad_object_id: str, role: Role) -> bool: ...
    async def holders(self, war_room_ids: set[int], role: Role) -> dict[int, tuple[Person, ...]]: ...
    async def members(self, war_room_id: int) -> list[tuple[Person, Role]]: ...


class FloorWalkers(Protocol):
    async def list(self, war_room_id: int) -> builtins.list[FloorWalker]: ...
    async def put(self, war_room_id: int, walker: FloorWalker, *, by: Person, now: datetime) -> None: ...
    async def remove(self, war_room_id: int, aad_object_id: str) -> bool: ...


class Outbox(Protocol):
    async def enqueue(self, message: OutboundMessage, *, now: datetime) -> bool: ...
    async def enqueue_many(self, messages: builtins.list[OutboundMessage], *, now: datetime, send_at: datetime | None = None) -> int: ...
    async def claim(self, now: datetime, *, limit: int, lease: timedelta) -> builtins.list[OutboxItem]: ...
    async def settle(self, results: Sequence[Settled]) -> None:
        """Record how claimed messages ended, and release their claims: one round trip for a whole delivery round."""
        ...

    async def list(self, *, status: str, limit: int = 100) -> builtins.list[OutboxEntry]: ...
    async def stats(self) -> OutboxStats: ...


class Runbooks(Protocol):
    async def add(self, new: NewRunbook) -> Runbook:
        """Raises DuplicateSourceForm when the form already made a runbook in this war room."""
        ...

    async def get(self, runbook_id: int) -> Runbook | None: ...
    async def get_by_source_form(self, war_room_id: int, form_id: str) -> Runbook | None: ...
    async def update(
        self, runbook_id: int, *, title: str | None = None, symptoms: str | None = None, steps: str | None = None,
        area: Area | None = ..., category: Category | None = ..., now: datetime,
    ) -> Runbook | None: ...
    async def search(self, war_room_id: int, text_: str, *, limit: int = 5) -> list[Runbook]: ...
    async def linked_issue_ids(self, war_room_id: int) -> set[int]: ...
    async def all(self, war_room_id: int) -> list[Runbook]: ...
    async def count(self, war_room_id: int) -> int: ...


class ChartSnapshots(Protocol):
    async def keep(self, war_room_id: int, series: ChartSeries, *, now: datetime) -> int:
        """The id of these figures in this war room (stored once)."""
        ...

    async def get(self, war_room_id: int, snapshot_id: int) -> ChartSeries | None: ...


class Similar(Protocol):
    async def similar(self, war_room_id: int, text_: str, *, limit: int = 3) -> list[Suggestion]: ...

    async def confirmed(self, war_room_id: int, text_: str, *, limit: int = 20) -> list[LabelledExample]:
        """This war room's issues (any status) that share words with `text_`, most relevant first, as the labels its
        people confirmed: the current severity, category and area, so a triage change counts. Never another war room's."""
        ...


class Due(Protocol):
    async def probe(self, now: datetime, *, purge_before: datetime, standups_until: datetime) -> DueWork: ...


class UnitOfWork(Protocol):
    """One transaction and the repositories on it; rolled back on leaving unless committed."""

    war_rooms: WarRooms
    conversations: Conversations
    members: Members
    activities: Activities
    issues: Issues
    events: Events
    roles: Roles
    outbox: Outbox
    runbooks: Runbooks
    similar: Similar
    charts: ChartSnapshots
    floor_walkers: FloorWalkers
    due: Due

    async def __aenter__(self) -> UnitOfWork: ...
    async def __aexit__(self, *exc: object) -> None: ...
    async def commit(self) -> None: ...


class PeopleDirectory(Protocol):
    """Who someone is in the organisation, asked of the channel (Teams: the conversation's members)."""

    async def person(self, user_id: str) -> Person | None:
        """By channel user id or AAD object id."""

    async def search(self, text: str) -> Person | None:
        """The one member whose name or email matches `text`; None when none or several do."""


class Clock(Protocol):
    """Time comes from a clock that is passed in, so nothing reads the wall clock behind a test's back."""

    def now(self) -> datetime: ...


class DeliveryOutcome(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: Literal["sent", "retry", "failed"]
    activity_id: str | None = None
    retry_after: float | None = None
    error: str = ""


class Sender(Protocol):
    """Sends one outbox message once; says whether it went, may go later, or never will."""

    async def deliver(self, item: OutboxItem) -> DeliveryOutcome: ...
