"""When to remind and when to escalate, computed from the issue and what was already sent.

Reminders are numbered by the interval they belong to ("the 3rd quarter-hour since it was raised"),
so a missed tick or a restart sends the overdue one once, never once per missed interval, and a
dedupe key per number keeps every replica from sending it twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict

from bot.domain.calendar import WorkingCalendar
from bot.domain.model import Issue, Person, Severity, Status
from bot.domain.policy import SeverityRule

ReminderKind = Literal["unacknowledged", "open"]

# How long "Snooze" on a reminder postpones the next one (an escalation is never postponed).
SNOOZE_PERIOD = timedelta(hours=1)


class ReminderState(BaseModel):
    """What has been sent for an issue so far (stored with it)."""

    model_config = ConfigDict(frozen=True)

    kind: ReminderKind | None = None
    seq: int = 0
    # Bumped when the cadence starts over (reopened, severity changed), so reminder numbers never repeat a key.
    generation: int = 0
    snoozed_until: datetime | None = None
    ack_escalated: bool = False
    # The resolution target that was escalated; a new target (severity changed) can escalate again.
    resolve_escalated_for: datetime | None = None
    # Held while the war room is signed off: nothing is sent, and the issue is not looked at until a withdrawal.
    paused: bool = False


@dataclass(frozen=True, slots=True)
class RemindedIssue:
    """What reminders and escalations read of an issue: all the scheduler loads of a due one. A plain dataclass,
    not an `Issue`: loading whole issues as ORM rows and validated `Issue`s cost more than planning them."""

    id: int
    war_room_id: int
    number: int
    title: str
    severity: Severity
    status: Status
    created_at: datetime
    resolve_by: datetime | None
    acknowledged_at: datetime | None
    assignee: Person | None
    version: int
    conversation_id: str

    @classmethod
    def of(cls, issue: Issue) -> RemindedIssue:
        return cls(
            id=issue.id, war_room_id=issue.war_room_id, number=issue.number, title=issue.title, severity=issue.severity,
            status=issue.status, created_at=issue.created_at, resolve_by=issue.resolve_by, acknowledged_at=issue.acknowledged_at,
            assignee=issue.assignee, version=issue.version, conversation_id=issue.conversation_id,
        )


# The rules below read only what `RemindedIssue` has; a whole `Issue` does as well.
Reminded = Issue | RemindedIssue


class Due(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: Literal["reminder", "ack_breach", "resolve_breach"]
    dedupe_key: str
    reminder_kind: ReminderKind | None = None
    seq: int = 0


def who_to_tell(due: Due, issue: Reminded, *, on_call: Person | None, leads: tuple[Person, ...]) -> tuple[Person, ...]:
    """Who a reminder or escalation @mentions, each once: an escalation goes to the one on call first (mentions
    are capped, and they must never be among those only counted) and the triage leads; a "still open" reminder to
    the assignee; any other reminder to the one on call, or the triage leads when nobody is."""
    if due.kind != "reminder":
        people = (*([on_call] if on_call else []), *leads)
    elif due.reminder_kind == "open" and issue.assignee:
        people = (issue.assignee,)
    else:
        people = (on_call,) if on_call else leads
    unique: dict[str, Person] = {}
    for person in people:
        unique.setdefault(person.key, person)
    return tuple(unique.values())


class Plan(BaseModel):
    model_config = ConfigDict(frozen=True)

    due: tuple[Due, ...]
    state: ReminderState
    next_due_at: datetime | None


def plan_reminders(
    issue: Reminded, state: ReminderState, *, rule: SeverityRule, calendar: WorkingCalendar, now: datetime
) -> Plan:
    if not issue.status.is_open:
        return Plan(due=(), state=state, next_due_at=None)
    due: list[Due] = []
    upcoming: list[datetime] = []
    acknowledged = issue.acknowledged_at is not None and issue.status is not Status.REOPENED

    if rule.acknowledge_within and not acknowledged and not state.ack_escalated:
        acknowledge_by = rule.after(issue.created_at, rule.acknowledge_within, calendar)
        if now >= acknowledge_by:
            due.append(Due(kind="ack_breach", dedupe_key=f"escalation:ack:{issue.id}"))
            state = state.model_copy(update={"ack_escalated": True})
        else:
            upcoming.append(acknowledge_by)

    if issue.resolve_by is not None and state.resolve_escalated_for != issue.resolve_by:
        if now >= issue.resolve_by:
            stamp = issue.resolve_by.strftime("%Y%m%dT%H%M%S")
            due.append(Due(kind="resolve_breach", dedupe_key=f"escalation:resolve:{issue.id}:{stamp}"))
            state = state.model_copy(update={"resolve_escalated_for": issue.resolve_by})
        else:
            upcoming.append(issue.resolve_by)

    kind: ReminderKind = "open" if acknowledged else "unacknowledged"
    every = rule.remind_open_every if acknowledged else rule.remind_unacknowledged_every
    since = (issue.acknowledged_at if acknowledged else issue.created_at) or issue.created_at
    if every is not None:
        interval = rule.reminder_interval(every, calendar)
        current = int(rule.elapsed(since, now, calendar) / interval)
        last = state.seq if state.kind == kind else 0
        snoozed = state.snoozed_until is not None and now < state.snoozed_until
        # On a working-hours clock nobody is chased at night or at the weekend (a snooze may end there).
        after_hours = rule.clock == "working" and calendar.add(now, timedelta()) != now
        if current > last and not snoozed and not after_hours:
            # An escalation posted this very moment already says it all: the reminder is skipped, not queued.
            if not due:
                key = f"reminder:{issue.id}:{state.generation}:{kind}:{current}"
                due.append(Due(kind="reminder", dedupe_key=key, reminder_kind=kind, seq=current))
            last = current
        state = state.model_copy(update={"kind": kind, "seq": last})
        next_reminder = rule.after_duration(since, interval * (last + 1), calendar)
        if snoozed and state.snoozed_until is not None:
            next_reminder = max(next_reminder, rule.after_duration(state.snoozed_until, timedelta(), calendar))
        if current > last and after_hours:
            next_reminder = calendar.add(now, timedelta())
        upcoming.append(next_reminder)

    if state.paused:
        # The first plan after a withdrawn sign-off: what fell due meanwhile counts as done, and the issue gets at
        # most one message, the most urgent (an escalation before a reminder), never one per missed interval.
        due, state = due[:1], state.model_copy(update={"paused": False})
    return Plan(due=tuple(due), state=state, next_due_at=min(upcoming) if upcoming else None)


def pause_reminders(state: ReminderState) -> ReminderState:
    """Hypercare is signed off: the issue is chased no more until a withdrawal resumes it."""
    return state.model_copy(update={"paused": True})


def rebase_reminders(issue: Issue, state: ReminderState, *, rule: SeverityRule, calendar: WorkingCalendar, now: datetime) -> ReminderState:
    """After a severity change, count reminders in the new cadence: the next one comes at its next interval."""
    acknowledged = issue.acknowledged_at is not None and issue.status is not Status.REOPENED
    kind: ReminderKind = "open" if acknowledged else "unacknowledged"
    every = rule.remind_open_every if acknowledged else rule.remind_unacknowledged_every
    if every is None:
        return state.model_copy(update={"kind": kind, "seq": 0, "generation": state.generation + 1})
    since = (issue.acknowledged_at if acknowledged else issue.created_at) or issue.created_at
    current = int(rule.elapsed(since, now, calendar) / rule.reminder_interval(every, calendar))
    return state.model_copy(update={"kind": kind, "seq": current, "generation": state.generation + 1})


def restart_reminders(state: ReminderState) -> ReminderState:
    """A reopened issue is chased afresh; its first life's acknowledgement and resolution escalations stand."""
    return state.model_copy(
        update={"kind": None, "seq": 0, "generation": state.generation + 1, "snoozed_until": None, "ack_escalated": True}
    )
