"""Issues, their reminder state and their history (storage/repositories/issues.py, events.py)."""

from __future__ import annotations

import builtins
from collections.abc import Callable
from datetime import date, datetime

from bot.domain.brief import IssueBrief
from bot.domain.model import OPEN_STATUSES, Issue, IssueQuery, NewIssue, Person, Status
from bot.domain.ports import DueIssues, DuplicateSourceForm, StaleIssue
from bot.domain.reminders import RemindedIssue, ReminderState
from bot.domain.events import Event
from tests.support.fakes.base import FakeRepository
from tests.support.fakes.store import IssueEvent

# What `save` writes (the rest of an issue is fixed when it is raised), as the real UPDATE does.
SAVED_FIELDS = (
    "severity", "status", "updated_at", "resolve_by", "card_activity_id", "acknowledged_at", "acknowledged_by", "assignee",
    "latest_update", "resolution", "duplicate_of",
)


class FakeIssues(FakeRepository):
    async def add(self, new: NewIssue, *, created: Event) -> Issue:
        store = self._store
        if any(form == new.source_form_id and store.issues[issue_id].war_room_id == new.war_room_id
               for issue_id, form in store.issue_forms.items()):
            raise DuplicateSourceForm(new.source_form_id)
        number = store.last_issue_numbers.get(new.war_room_id, 0) + 1
        store.last_issue_numbers[new.war_room_id] = number
        issue_id = max(store.issues, default=0) + 1
        issue = Issue.model_validate(new.model_dump() | {"id": issue_id, "number": number, "updated_at": new.created_at, "version": 1})
        store.issues[issue_id] = issue
        store.issue_forms[issue_id] = new.source_form_id
        store.events.append(IssueEvent(issue_id=issue_id, version=1, event=created))
        # The scheduler plans its reminders on its next pass.
        store.reminders[issue_id] = (ReminderState(), new.created_at if new.status.is_open else None)
        return issue

    async def get(self, issue_id: int, *, for_update: bool = False) -> Issue | None:
        return self._store.issues.get(issue_id)

    async def get_by_number(self, war_room_id: int, number: int, *, for_update: bool = False) -> Issue | None:
        return self._first(lambda issue: issue.war_room_id == war_room_id and issue.number == number)

    async def get_by_source_form(self, war_room_id: int, form_id: str) -> Issue | None:
        forms = self._store.issue_forms
        return self._first(lambda issue: issue.war_room_id == war_room_id and forms.get(issue.id) == form_id)

    async def get_latest_in_conversation(self, conversation_id: str) -> Issue | None:
        found = [issue for issue in self._store.issues.values() if issue.conversation_id == conversation_id]
        return max(found, key=lambda issue: issue.id, default=None)

    async def list(self, war_room_id: int, query: IssueQuery, *, now: datetime) -> tuple[builtins.list[Issue], int]:
        def matches(issue: Issue) -> bool:
            assignee_id = issue.assignee.aad_object_id if issue.assignee else None
            return (
                issue.war_room_id == war_room_id
                and issue.status in query.statuses
                and (query.severity is None or issue.severity == query.severity)
                and (query.assignee_id is None or assignee_id == query.assignee_id)
                and (not query.unassigned or assignee_id is None)
                and (not query.breached or (issue.resolve_by is not None and issue.resolve_by < now))
            )

        found = sorted(filter(matches, self._store.issues.values()), key=lambda issue: (issue.severity, issue.created_at))
        return found[: query.limit], len(found)

    async def save(self, issue: Issue, *, expected_version: int, known_followers: tuple[Person, ...] | None = None) -> Issue:
        stored = self._store.issues.get(issue.id)
        if stored is None or stored.version != expected_version:
            raise StaleIssue(issue.id)
        known = {person.aad_object_id or person.name for person in stored.followers}
        added = tuple(person for person in issue.followers if (person.aad_object_id or person.name) not in known)
        changes = {name: getattr(issue, name) for name in SAVED_FIELDS}
        self._store.issues[issue.id] = stored.model_copy(
            update=changes | {"version": expected_version + 1, "followers": stored.followers + added}
        )
        state, _ = self._store.reminders[issue.id]
        # Any change may move reminders: re-planned on the scheduler's next pass.
        self._store.reminders[issue.id] = (state, issue.updated_at if issue.status.is_open else None)
        return issue.model_copy(update={"version": expected_version + 1})

    async def due(self, now: datetime, *, limit: int) -> DueIssues:
        due = sorted(
            ((issue_id, due_at) for issue_id, (_, due_at) in self._store.reminders.items() if due_at is not None and due_at <= now),
            key=lambda item: item[1],
        )[:limit]
        return DueIssues(
            issues=[(RemindedIssue.of(self._store.issues[issue_id]), self._store.reminders[issue_id][0]) for issue_id, _ in due],
            unreadable=[],
        )

    async def closing_due(self, now: datetime, *, limit: int) -> builtins.list[Issue]:
        def due(issue: Issue) -> bool:
            close_by = issue.resolution.close_by if issue.resolution else None
            return issue.awaiting_confirmation and close_by is not None and close_by <= now

        found = sorted(filter(due, self._store.issues.values()), key=lambda issue: issue.resolution.close_by)  # type: ignore[union-attr,arg-type,return-value]
        return [self._without_followers(issue) for issue in found[:limit]]

    async def hold_back(self, issue_ids: builtins.list[int], *, until: datetime) -> None:
        for issue_id in issue_ids:
            self._store.reminders[issue_id] = (self._store.reminders[issue_id][0], until)

    async def save_reminders(self, issue_id: int, state: ReminderState, *, next_due_at: datetime | None) -> None:
        self._store.reminders[issue_id] = (state, next_due_at)

    async def save_reminders_many(self, states: builtins.list[tuple[int, ReminderState, datetime | None]]) -> None:
        for issue_id, state, next_due_at in states:
            self._store.reminders[issue_id] = (state, next_due_at)

    async def resume_reminders(self, war_room_id: int, *, now: datetime) -> int:
        paused = [issue_id for issue_id, (state, _) in self._store.reminders.items()
                  if state.paused and self._store.issues[issue_id].war_room_id == war_room_id]
        for issue_id in paused:
            self._store.reminders[issue_id] = (self._store.reminders[issue_id][0], now)
        return len(paused)

    async def reminder_state(self, issue_id: int) -> ReminderState:
        return self._store.reminders[issue_id][0]

    async def recent(self, war_room_id: int, since: datetime | None) -> builtins.list[Issue]:
        def recent(issue: Issue) -> bool:
            resolved_at = issue.resolution.resolved_at if issue.resolution else None
            return since is None or issue.created_at >= since or (resolved_at is not None and resolved_at >= since)

        return [self._without_followers(issue) for _, issue in sorted(self._store.issues.items())
                if issue.war_room_id == war_room_id and recent(issue)]

    async def all_with_status(self, war_room_id: int, statuses: frozenset[Status], *, limit: int = 2000) -> builtins.list[Issue]:
        found = [issue for issue in self._store.issues.values() if issue.war_room_id == war_room_id and issue.status in statuses]
        return [self._without_followers(issue) for issue in sorted(found, key=lambda issue: (issue.severity, issue.created_at))[:limit]]

    async def briefs(self, war_room_id: int) -> builtins.list[IssueBrief]:
        return [
            IssueBrief(
                id=issue.id, number=issue.number, title=issue.title, status=issue.status, severity=issue.severity, area=issue.area,
                category=issue.category, created_at=issue.created_at, updated_at=issue.updated_at, resolve_by=issue.resolve_by, resolved_at=issue.resolved_at,
                handled_by=issue.handled_by, escalated_at=issue.escalated_at, awaiting_confirmation=issue.awaiting_confirmation,
            )
            for _, issue in sorted(self._store.issues.items()) if issue.war_room_id == war_room_id
        ]

    async def for_standup(self, war_room_id: int, *, standup_on: date) -> builtins.list[Issue]:
        def listed(issue: Issue) -> bool:
            decided_on = issue.decision.standup_on if issue.decision else None
            return issue.status in OPEN_STATUSES or issue.awaiting_confirmation or decided_on == standup_on

        found = [issue for issue in self._store.issues.values() if issue.war_room_id == war_room_id and listed(issue)]
        return [self._without_followers(issue) for issue in sorted(found, key=lambda issue: (issue.severity, issue.created_at))]

    async def count(self, war_room_id: int, statuses: frozenset[Status]) -> int:
        return sum(1 for issue in self._store.issues.values() if issue.war_room_id == war_room_id and issue.status in statuses)

    async def set_card_activity(self, issue_id: int, activity_id: str, conversation_id: str) -> None:
        issue = self._store.issues[issue_id]
        self._store.issues[issue_id] = issue.model_copy(update={"card_activity_id": activity_id, "conversation_id": conversation_id})

    def _first(self, wanted: Callable[[Issue], bool]) -> Issue | None:
        return next((issue for _, issue in sorted(self._store.issues.items()) if wanted(issue)), None)

    @staticmethod
    def _without_followers(issue: Issue) -> Issue:
        # Lists of many issues are read without their followers, as the real repository reads them.
        return issue.model_copy(update={"followers": ()})


class FakeEvents(FakeRepository):
    async def add(self, issue: Issue, event: Event) -> None:
        self._store.events.append(IssueEvent(issue_id=issue.id, version=issue.version, event=event))

    async def list_for(self, issue_id: int, *, after_version: int = 0) -> list[Event]:
        found = [stored for stored in self._store.events if stored.issue_id == issue_id and stored.version > after_version]
        return [stored.event for stored in sorted(found, key=lambda stored: stored.version)]

    async def by_issue(self, war_room_id: int) -> dict[int, list[Event]]:
        grouped: dict[int, list[Event]] = {}
        for stored in self._store.events:
            if self._store.issues[stored.issue_id].war_room_id == war_room_id:
                grouped.setdefault(stored.issue_id, []).append(stored.event)
        return grouped
