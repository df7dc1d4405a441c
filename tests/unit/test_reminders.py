"""Reminder and escalation cadence, walked tick by tick with explicit `now` values.

Every walk feeds the returned `plan.state` into the next call, as the scheduler does.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.calendar import WorkingCalendar
from bot.domain.model import Issue, Person, Severity, Status
from bot.domain.policy import DEFAULT_POLICY
from bot.domain.reminders import Due, Plan, ReminderState, plan_reminders, rebase_reminders, restart_reminders, who_to_tell
from tests.support.factories import OMAR, RAISED_AT, make_issue

LONDON = ZoneInfo("Europe/London")
CAL = WorkingCalendar()
T0 = RAISED_AT  # Monday 2026-11-23 09:05 UTC (= London, GMT)
M = timedelta(minutes=1)
H = timedelta(hours=1)


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LONDON).astimezone(UTC)


def issue_of(severity: Severity, *, created_at: datetime = T0, **overrides: object) -> Issue:
    """An issue whose resolution target is what the default policy gives it."""
    resolve_by = DEFAULT_POLICY.resolve_by(severity, raised_at=created_at, calendar=CAL)
    values: dict[str, object] = {"severity": severity, "created_at": created_at, "updated_at": created_at, "resolve_by": resolve_by}
    return make_issue(**(values | overrides))


def acknowledged(issue: Issue, at: datetime) -> Issue:
    return issue.model_copy(update={"status": Status.ACKNOWLEDGED, "acknowledged_at": at, "acknowledged_by": OMAR})


def with_severity(issue: Issue, severity: Severity) -> Issue:
    """What a severity change does to the issue: a new severity and a target recomputed from when it was raised."""
    target = DEFAULT_POLICY.resolve_by(severity, raised_at=issue.created_at, calendar=CAL)
    return issue.model_copy(update={"severity": severity, "resolve_by": target})


class Walk:
    """Ticks an issue like the scheduler: plan, keep the state, plan again later."""

    def __init__(self, issue: Issue, state: ReminderState | None = None) -> None:
        self.issue = issue
        self.state = state or ReminderState()

    def at(self, now: datetime) -> Plan:
        rule = DEFAULT_POLICY.rule(self.issue.severity)
        plan = plan_reminders(self.issue, self.state, rule=rule, calendar=CAL, now=now)
        self.state = plan.state
        return plan

    def change_severity(self, severity: Severity, now: datetime) -> None:
        """What bot/services/triage.py does on a severity change: new severity and target, reminders rebased to the new cadence."""
        self.issue = with_severity(self.issue, severity)
        rule = DEFAULT_POLICY.rule(severity)
        self.state = rebase_reminders(self.issue, self.state, rule=rule, calendar=CAL, now=now)


def kinds(plan: Plan) -> list[str]:
    return [due.kind for due in plan.due]


def keys(plan: Plan) -> list[str]:
    return [due.dedupe_key for due in plan.due]


def test_the_factory_issue_has_the_default_sev1_target() -> None:
    assert make_issue().resolve_by == T0 + 4 * H == issue_of(Severity.SEV1).resolve_by


# -- Sev1, 24x7 ------------------------------------------------------------------------------------


def test_sev1_unacknowledged_walk() -> None:
    walk = Walk(issue_of(Severity.SEV1))

    plan = walk.at(T0)
    assert plan.due == ()
    assert plan.next_due_at == T0 + 15 * M

    plan = walk.at(T0 + 14 * M)
    assert plan.due == ()
    assert plan.next_due_at == T0 + 15 * M

    plan = walk.at(T0 + 15 * M)  # acknowledgement target breached: the escalation only, not reminder #1 as well
    assert kinds(plan) == ["ack_breach"]
    assert keys(plan) == ["escalation:ack:1"]
    assert plan.state.ack_escalated is True
    assert plan.next_due_at == T0 + 30 * M

    plan = walk.at(T0 + 20 * M)
    assert plan.due == ()
    assert plan.next_due_at == T0 + 30 * M

    plan = walk.at(T0 + 30 * M)
    assert kinds(plan) == ["reminder"]
    (due,) = plan.due
    assert (due.seq, due.reminder_kind, due.dedupe_key) == (2, "unacknowledged", "reminder:1:0:unacknowledged:2")
    assert plan.next_due_at == T0 + 45 * M

    assert walk.at(T0 + 30 * M).due == ()  # the same tick again (another replica): nothing new

    plan = walk.at(T0 + 3 * H)  # missed ticks: one catch-up reminder with the latest number
    assert kinds(plan) == ["reminder"]
    assert plan.due[0].seq == 12
    assert plan.due[0].dedupe_key == "reminder:1:0:unacknowledged:12"
    assert plan.next_due_at == T0 + 3 * H + 15 * M

    plan = walk.at(T0 + 3 * H + 15 * M)
    assert [due.seq for due in plan.due] == [13]

    plan = walk.at(T0 + 4 * H)  # resolution target breached: the escalation only, reminder #16 skipped
    assert kinds(plan) == ["resolve_breach"]
    assert keys(plan) == ["escalation:resolve:1:20261123T130500"]
    assert plan.state.resolve_escalated_for == T0 + 4 * H
    assert plan.next_due_at == T0 + 4 * H + 15 * M

    plan = walk.at(T0 + 4 * H + 15 * M)
    assert kinds(plan) == ["reminder"]
    assert plan.due[0].seq == 17

    plan = walk.at(T0 + 5 * H)  # the escalations are never repeated
    assert kinds(plan) == ["reminder"]
    assert plan.due[0].seq == 20


def test_sev1_first_tick_after_the_ack_target_sends_the_escalation_without_a_reminder() -> None:
    walk = Walk(issue_of(Severity.SEV1))
    plan = walk.at(T0 + 40 * M)  # 15m and 30m were both missed
    assert kinds(plan) == ["ack_breach"]
    assert plan.state.seq == 2  # reminder #2 is consumed, not queued behind the escalation
    assert plan.next_due_at == T0 + 45 * M
    plan = walk.at(T0 + 45 * M)
    assert [(due.kind, due.seq) for due in plan.due] == [("reminder", 3)]


def test_sev1_ack_and_resolve_breach_at_the_same_tick_both_escalate_once() -> None:
    walk = Walk(issue_of(Severity.SEV1))
    plan = walk.at(T0 + 5 * H)
    assert kinds(plan) == ["ack_breach", "resolve_breach"]
    assert walk.at(T0 + 5 * H).due == ()
    plan = walk.at(T0 + 5 * H + 15 * M)
    assert kinds(plan) == ["reminder"]


def test_sev1_acknowledged_walk_reminds_every_two_hours_from_the_acknowledgement() -> None:
    walk = Walk(acknowledged(issue_of(Severity.SEV1), T0 + 10 * M))

    plan = walk.at(T0 + 10 * M)
    assert plan.due == ()
    assert plan.next_due_at == T0 + 2 * H + 10 * M

    plan = walk.at(T0 + 15 * M)  # acknowledged in time: no acknowledgement escalation
    assert plan.due == ()

    plan = walk.at(T0 + 2 * H + 10 * M)
    assert [(d.kind, d.reminder_kind, d.seq, d.dedupe_key) for d in plan.due] == [
        ("reminder", "open", 1, "reminder:1:0:open:1")
    ]
    assert plan.next_due_at == T0 + 4 * H  # the resolution target comes first

    plan = walk.at(T0 + 4 * H)
    assert kinds(plan) == ["resolve_breach"]
    assert plan.next_due_at == T0 + 4 * H + 10 * M

    assert walk.at(T0 + 4 * H + 5 * M).due == ()  # once

    plan = walk.at(T0 + 4 * H + 10 * M)
    assert [(d.kind, d.seq) for d in plan.due] == [("reminder", 2)]
    assert plan.next_due_at == T0 + 6 * H + 10 * M

    plan = walk.at(T0 + 6 * H + 10 * M)
    assert [(d.kind, d.seq) for d in plan.due] == [("reminder", 3)]


def test_sev1_open_reminder_at_the_same_moment_as_the_resolve_breach_is_skipped() -> None:
    walk = Walk(acknowledged(issue_of(Severity.SEV1), T0))
    assert [d.seq for d in walk.at(T0 + 2 * H).due] == [1]
    plan = walk.at(T0 + 4 * H)  # open reminder #2 and the resolve breach coincide
    assert kinds(plan) == ["resolve_breach"]
    assert plan.next_due_at == T0 + 6 * H
    assert [(d.kind, d.seq) for d in walk.at(T0 + 6 * H).due] == [("reminder", 3)]


def test_acknowledging_switches_to_open_reminders_counted_from_the_acknowledgement() -> None:
    walk = Walk(issue_of(Severity.SEV1))
    walk.at(T0 + 15 * M)
    walk.at(T0 + 30 * M)
    assert (walk.state.kind, walk.state.seq) == ("unacknowledged", 2)

    walk.issue = acknowledged(walk.issue, T0 + 40 * M)
    plan = walk.at(T0 + 45 * M)  # the unacknowledged #3 is no longer due
    assert plan.due == ()
    assert (plan.state.kind, plan.state.seq) == ("open", 0)
    assert plan.next_due_at == T0 + 2 * H + 40 * M

    plan = walk.at(T0 + 2 * H + 40 * M)
    assert [(d.reminder_kind, d.seq) for d in plan.due] == [("open", 1)]


# -- Sev2, working hours ---------------------------------------------------------------------------


def test_sev2_raised_friday_evening_is_quiet_all_weekend() -> None:
    raised = local(2026, 11, 20, 17, 30)  # Friday 17:30 London
    walk = Walk(issue_of(Severity.SEV2, created_at=raised))
    assert walk.issue.resolve_by == local(2026, 11, 24, 17, 30)  # 2 working days: Tuesday 17:30
    monday_0930 = local(2026, 11, 23, 9, 30)

    for now in (raised, local(2026, 11, 20, 17, 59), local(2026, 11, 20, 23, 0), local(2026, 11, 21, 12, 0),
                local(2026, 11, 22, 23, 59), local(2026, 11, 23, 8, 0), local(2026, 11, 23, 9, 29)):
        plan = walk.at(now)
        assert plan.due == (), now
        assert plan.next_due_at == monday_0930, now

    plan = walk.at(monday_0930)
    assert kinds(plan) == ["ack_breach"]
    assert plan.next_due_at == local(2026, 11, 23, 11, 30)

    plan = walk.at(local(2026, 11, 23, 11, 30))
    assert [(d.kind, d.reminder_kind, d.seq) for d in plan.due] == [("reminder", "unacknowledged", 2)]

    plan = walk.at(local(2026, 11, 23, 17, 45))  # #3 at 13:30, #4 at 15:30, #5 at 17:30 missed: one catch-up
    assert [d.seq for d in plan.due] == [5]
    assert plan.next_due_at == local(2026, 11, 24, 9, 30)  # 30 minutes left on Monday, 1h30 on Tuesday

    plan = walk.at(local(2026, 11, 23, 22, 0))
    assert plan.due == ()

    plan = walk.at(local(2026, 11, 24, 17, 30))
    assert kinds(plan) == ["resolve_breach"]


def test_sev2_escalation_across_the_march_change_is_monday_0930_bst() -> None:
    raised = datetime(2026, 3, 27, 17, 30, tzinfo=UTC)  # Friday 17:30 GMT
    walk = Walk(issue_of(Severity.SEV2, created_at=raised))
    plan = walk.at(datetime(2026, 3, 29, 12, 0, tzinfo=UTC))
    assert plan.due == ()
    assert plan.next_due_at == datetime(2026, 3, 30, 8, 30, tzinfo=UTC) == local(2026, 3, 30, 9, 30)
    assert walk.at(datetime(2026, 3, 30, 8, 29, tzinfo=UTC)).due == ()
    assert kinds(walk.at(datetime(2026, 3, 30, 8, 30, tzinfo=UTC))) == ["ack_breach"]


def test_sev2_acknowledged_reminds_once_a_working_day() -> None:
    walk = Walk(acknowledged(issue_of(Severity.SEV2), T0 + 25 * M))  # acknowledged Monday 09:30
    plan = walk.at(T0 + 25 * M)
    assert plan.due == ()
    assert plan.next_due_at == local(2026, 11, 24, 9, 30)  # Tuesday 09:30, before the Wednesday target

    plan = walk.at(local(2026, 11, 24, 9, 30))
    assert [(d.reminder_kind, d.seq) for d in plan.due] == [("open", 1)]
    assert plan.next_due_at == walk.issue.resolve_by == local(2026, 11, 25, 9, 5)


# -- Sev3, working hours, daily ---------------------------------------------------------------------


def test_sev3_unacknowledged_is_reminded_daily_over_working_days() -> None:
    walk = Walk(issue_of(Severity.SEV3))
    assert walk.issue.resolve_by == local(2026, 12, 7, 9, 5)  # 10 working days

    plan = walk.at(local(2026, 11, 23, 17, 0))
    assert plan.due == ()
    assert plan.next_due_at == local(2026, 11, 24, 9, 5)

    assert kinds(walk.at(local(2026, 11, 24, 9, 5))) == ["ack_breach"]
    assert [d.seq for d in walk.at(local(2026, 11, 25, 9, 5)).due] == [2]
    assert walk.at(local(2026, 11, 25, 17, 0)).due == ()
    assert [d.seq for d in walk.at(local(2026, 11, 26, 9, 5)).due] == [3]
    plan = walk.at(local(2026, 11, 27, 9, 5))
    assert [d.seq for d in plan.due] == [4]
    assert plan.next_due_at == local(2026, 11, 30, 9, 5)  # Friday -> Monday

    assert walk.at(local(2026, 11, 28, 12, 0)).due == ()  # Saturday
    assert [d.seq for d in walk.at(local(2026, 11, 30, 9, 5)).due] == [5]


def test_sev3_acknowledged_has_no_open_reminders_only_the_resolve_breach() -> None:
    walk = Walk(acknowledged(issue_of(Severity.SEV3), T0 + H))
    plan = walk.at(T0 + H)
    assert plan.due == ()
    assert plan.next_due_at == local(2026, 12, 7, 9, 5)

    for day in range(24, 31):
        assert walk.at(local(2026, 11, day, 12, 0)).due == ()

    plan = walk.at(local(2026, 12, 7, 9, 5))
    assert kinds(plan) == ["resolve_breach"]
    assert plan.next_due_at is None  # nothing else will ever be due

    assert walk.at(local(2026, 12, 8, 9, 5)).due == ()


# -- Sev4 and closed issues ------------------------------------------------------------------------


def test_sev4_never_gets_anything() -> None:
    walk = Walk(issue_of(Severity.SEV4))
    assert walk.issue.resolve_by is None
    for now in (T0, T0 + 15 * M, T0 + 4 * H, T0 + timedelta(days=3), T0 + timedelta(days=400)):
        plan = walk.at(now)
        assert plan.due == ()
        assert plan.next_due_at is None
    assert walk.state == ReminderState()


@pytest.mark.parametrize("status", [Status.RESOLVED, Status.DEFERRED, Status.DUPLICATE])
@pytest.mark.parametrize("severity", [Severity.SEV1, Severity.SEV2, Severity.SEV3])
def test_closed_issues_get_nothing(status: Status, severity: Severity) -> None:
    state = ReminderState(kind="unacknowledged", seq=3)
    issue = issue_of(severity, status=status)
    for now in (T0 + 15 * M, T0 + 4 * H, T0 + timedelta(days=30)):
        plan = plan_reminders(issue, state, rule=DEFAULT_POLICY.rule(severity), calendar=CAL, now=now)
        assert plan.due == ()
        assert plan.next_due_at is None
        assert plan.state == state


def test_resolving_mid_walk_stops_everything() -> None:
    walk = Walk(issue_of(Severity.SEV1))
    assert kinds(walk.at(T0 + 15 * M)) == ["ack_breach"]
    walk.issue = walk.issue.model_copy(update={"status": Status.RESOLVED})
    plan = walk.at(T0 + 5 * H)
    assert plan.due == ()
    assert plan.next_due_at is None


def test_reminders_after_reopen_and_reacknowledge_do_not_reuse_dedupe_keys() -> None:
    walk = Walk(acknowledged(issue_of(Severity.SEV1), T0 + 5 * M))
    first_life = [key for minutes in (125, 245, 365) for key in keys(walk.at(T0 + minutes * M))]
    assert "reminder:1:0:open:1" in first_life

    # Resolved, then reopened at T0+7h: what triage and services store.
    walk.issue = walk.issue.model_copy(
        update={"status": Status.REOPENED, "acknowledged_at": None, "acknowledged_by": None}
    )
    walk.state = restart_reminders(walk.state)
    walk.at(T0 + 7 * H)
    again = T0 + 7 * H + 10 * M
    walk.issue = acknowledged(walk.issue, again)  # acknowledged again
    second_life = [key for now in (again + 2 * H, again + 4 * H) for key in keys(walk.at(now))]
    assert [key.startswith("reminder:1:1:open:") for key in second_life] == [True, True]
    assert set(first_life).isdisjoint(second_life), sorted(set(first_life) & set(second_life))


def test_reopened_issue_is_reminded_as_unacknowledged_without_a_second_ack_escalation() -> None:
    issue = acknowledged(issue_of(Severity.SEV1), T0 + 5 * M).model_copy(update={"status": Status.REOPENED})
    # What reopening stores: reminders start over, the first life's acknowledgement target is not escalated again.
    walk = Walk(issue, ReminderState(ack_escalated=True, resolve_escalated_for=T0 + 4 * H))
    plan = walk.at(T0 + 6 * H)
    assert "ack_breach" not in kinds(plan)
    assert [d.reminder_kind for d in plan.due] == ["unacknowledged"]
    assert plan.state.kind == "unacknowledged"


# -- snooze ----------------------------------------------------------------------------------------


def test_snooze_postpones_the_next_reminder_until_snoozed_until() -> None:
    walk = Walk(issue_of(Severity.SEV1))
    assert kinds(walk.at(T0 + 15 * M)) == ["ack_breach"]
    walk.state = walk.state.model_copy(update={"snoozed_until": T0 + 50 * M})

    plan = walk.at(T0 + 30 * M)  # #2 would be due
    assert plan.due == ()
    assert plan.next_due_at == T0 + 50 * M

    plan = walk.at(T0 + 49 * M)
    assert plan.due == ()
    assert plan.next_due_at == T0 + 50 * M

    plan = walk.at(T0 + 50 * M)
    assert [(d.kind, d.seq) for d in plan.due] == [("reminder", 3)]
    assert plan.next_due_at == T0 + 60 * M

    assert [d.seq for d in walk.at(T0 + 60 * M).due] == [4]


def test_snooze_does_not_postpone_escalations() -> None:
    walk = Walk(issue_of(Severity.SEV1), ReminderState(snoozed_until=T0 + 5 * H))
    plan = walk.at(T0 + 5 * M)
    assert plan.next_due_at == T0 + 15 * M  # the acknowledgement target still counts
    assert kinds(walk.at(T0 + 15 * M)) == ["ack_breach"]
    plan = walk.at(T0 + 30 * M)
    assert plan.due == ()
    assert plan.next_due_at == T0 + 4 * H
    assert kinds(walk.at(T0 + 4 * H)) == ["resolve_breach"]
    plan = walk.at(T0 + 4 * H + 30 * M)
    assert plan.due == ()
    assert plan.next_due_at == T0 + 5 * H
    assert [d.seq for d in walk.at(T0 + 5 * H).due] == [20]


def test_a_working_hours_snooze_within_the_day_resumes_at_snoozed_until() -> None:
    raised = local(2026, 11, 23, 10, 0)  # Monday
    walk = Walk(issue_of(Severity.SEV2, created_at=raised))
    assert kinds(walk.at(local(2026, 11, 23, 12, 0))) == ["ack_breach"]
    walk.state = walk.state.model_copy(update={"snoozed_until": local(2026, 11, 23, 15, 0)})
    plan = walk.at(local(2026, 11, 23, 14, 0))
    assert plan.due == ()
    assert plan.next_due_at == local(2026, 11, 23, 15, 0)
    plan = walk.at(local(2026, 11, 23, 15, 0))
    assert [(d.kind, d.seq) for d in plan.due] == [("reminder", 2)]
    assert plan.next_due_at == local(2026, 11, 23, 16, 0)


def test_a_working_hours_reminder_snoozed_past_closing_waits_for_working_time() -> None:
    raised = local(2026, 11, 20, 10, 0)  # Friday 10:00; Sev2 reminds every 2 working hours
    walk = Walk(issue_of(Severity.SEV2, created_at=raised))
    assert kinds(walk.at(local(2026, 11, 20, 12, 0))) == ["ack_breach"]
    assert [d.seq for d in walk.at(local(2026, 11, 20, 14, 0)).due] == [2]
    # Snoozed at 15:00 "until tomorrow 10:00", which is a Saturday.
    walk.state = walk.state.model_copy(update={"snoozed_until": local(2026, 11, 21, 10, 0)})
    plan = walk.at(local(2026, 11, 20, 16, 0))
    assert plan.due == ()
    assert plan.next_due_at is not None
    assert CAL.is_working_day(CAL.local_date(plan.next_due_at)), plan.next_due_at  # not on the weekend
    assert walk.at(local(2026, 11, 21, 10, 0)).due == ()  # Saturday: no working-hours reminder
    monday = walk.at(local(2026, 11, 23, 10, 0))
    assert [d.kind for d in monday.due] == ["reminder"]


def test_a_snooze_that_has_ended_does_not_hold_anything_back() -> None:
    walk = Walk(issue_of(Severity.SEV1), ReminderState(snoozed_until=T0 + 10 * M))
    assert kinds(walk.at(T0 + 15 * M)) == ["ack_breach"]
    assert [d.seq for d in walk.at(T0 + 30 * M).due] == [2]


# -- severity changes ------------------------------------------------------------------------------


def test_a_new_resolution_target_after_a_severity_change_escalates_again() -> None:
    walk = Walk(acknowledged(issue_of(Severity.SEV2), T0 + 25 * M))
    first_target = walk.issue.resolve_by
    assert first_target == local(2026, 11, 25, 9, 5)

    plan = walk.at(first_target)
    assert kinds(plan) == ["resolve_breach"]
    assert keys(plan) == ["escalation:resolve:1:20261125T090500"]
    assert walk.at(first_target + 20 * M).due == ()  # once (open reminder #2 is at 09:30)

    walk.change_severity(Severity.SEV1, first_target + 55 * M)  # the Sev1 target (raised + 4h) is long past
    assert walk.issue.resolve_by == T0 + 4 * H
    plan = walk.at(first_target + 55 * M)
    assert kinds(plan) == ["resolve_breach"]
    assert keys(plan) == ["escalation:resolve:1:20261123T130500"]
    assert plan.state.resolve_escalated_for == T0 + 4 * H

    assert "resolve_breach" not in kinds(walk.at(first_target + 60 * M))


def test_a_later_target_after_a_downgrade_is_waited_for_then_escalated() -> None:
    walk = Walk(acknowledged(issue_of(Severity.SEV1), T0 + 5 * M))
    assert kinds(walk.at(T0 + 4 * H)) == ["resolve_breach"]

    walk.change_severity(Severity.SEV2, T0 + 4 * H + 5 * M)
    new_target = walk.issue.resolve_by
    assert new_target == local(2026, 11, 25, 9, 5)
    plan = walk.at(T0 + 4 * H + 5 * M)
    assert "resolve_breach" not in kinds(plan)
    assert plan.next_due_at is not None and plan.next_due_at <= new_target

    plan = walk.at(new_target)
    assert "resolve_breach" in kinds(plan)
    assert "escalation:resolve:1:20261125T090500" in keys(plan)


def test_after_a_downgrade_reminders_follow_the_new_cadence() -> None:
    walk = Walk(issue_of(Severity.SEV1))
    for minutes in (15, 30, 45, 60):
        walk.at(T0 + minutes * M)
    assert (walk.state.kind, walk.state.seq) == ("unacknowledged", 4)

    walk.change_severity(Severity.SEV2, T0 + 61 * M)  # still unacknowledged, now every 2 working hours
    assert (walk.state.kind, walk.state.seq) == ("unacknowledged", 0)
    assert walk.state.ack_escalated is True  # the Sev1 escalation is not repeated for the Sev2 target
    plan = walk.at(T0 + 61 * M)
    assert plan.due == ()
    assert plan.next_due_at == T0 + 2 * H  # Monday 11:05, two working hours after it was raised
    plan = walk.at(T0 + 2 * H)
    assert [(d.kind, d.reminder_kind, d.seq) for d in plan.due] == [("reminder", "unacknowledged", 1)]
    assert plan.next_due_at == T0 + 4 * H


def test_after_an_upgrade_the_next_reminder_comes_at_the_next_new_interval_not_at_once() -> None:
    walk = Walk(issue_of(Severity.SEV3))
    assert kinds(walk.at(local(2026, 11, 24, 9, 5))) == ["ack_breach"]  # Sev3: one working day
    walk.change_severity(Severity.SEV1, local(2026, 11, 24, 10, 0))
    assert walk.state.seq == 99  # 24h55m in quarter-hours
    plan = walk.at(local(2026, 11, 24, 10, 0))
    assert kinds(plan) == ["resolve_breach"]  # the Sev1 target (raised + 4h) is past: escalated, no reminder
    assert plan.next_due_at == local(2026, 11, 24, 10, 5)
    assert [d.seq for d in walk.at(local(2026, 11, 24, 10, 5)).due] == [100]


def test_rebase_to_a_severity_without_reminders_clears_the_count() -> None:
    walk = Walk(acknowledged(issue_of(Severity.SEV2), T0 + 25 * M))
    walk.at(local(2026, 11, 24, 9, 30))
    assert (walk.state.kind, walk.state.seq) == ("open", 1)
    walk.change_severity(Severity.SEV3, local(2026, 11, 24, 10, 0))  # Sev3 has no open reminders
    assert (walk.state.kind, walk.state.seq) == ("open", 0)
    plan = walk.at(local(2026, 11, 25, 12, 0))
    assert "reminder" not in kinds(plan)
    assert plan.next_due_at == walk.issue.resolve_by


def test_reminders_after_a_downgrade_do_not_reuse_dedupe_keys() -> None:
    walk = Walk(issue_of(Severity.SEV1))
    before = [key for minutes in (15, 30, 45, 60) for key in keys(walk.at(T0 + minutes * M))]
    assert "reminder:1:0:unacknowledged:2" in before

    walk.change_severity(Severity.SEV2, T0 + 61 * M)
    after = [key for hours in (2, 4, 6, 8) for key in keys(walk.at(T0 + hours * H))]
    assert len(after) == 4  # #1..#4 on the Sev2 cadence
    assert set(before).isdisjoint(after), sorted(set(before) & set(after))


# -- who a reminder or escalation @mentions -----------------------------------------------------------------

LEAD = Person(aad_object_id="aad-lena", name="Lena Berg")
ON_CALL = Person(aad_object_id="aad-omar", name="Omar Haddad")
ASSIGNEE = Person(aad_object_id="aad-sam", name="Sam Lee")


@pytest.mark.parametrize(
    ("due", "assignee", "on_call", "told"),
    [
        (Due(kind="ack_breach", dedupe_key="k"), None, ON_CALL, (ON_CALL, LEAD)),
        (Due(kind="resolve_breach", dedupe_key="k"), ASSIGNEE, None, (LEAD,)),
        (Due(kind="ack_breach", dedupe_key="k"), None, LEAD, (LEAD,)),  # on call and a lead: told once
        (Due(kind="reminder", reminder_kind="open", dedupe_key="k"), ASSIGNEE, ON_CALL, (ASSIGNEE,)),
        (Due(kind="reminder", reminder_kind="open", dedupe_key="k"), None, ON_CALL, (ON_CALL,)),
        (Due(kind="reminder", reminder_kind="unacknowledged", dedupe_key="k"), ASSIGNEE, ON_CALL, (ON_CALL,)),
        (Due(kind="reminder", reminder_kind="unacknowledged", dedupe_key="k"), None, None, (LEAD,)),
    ],
    ids=["escalation-on-call-first", "escalation-nobody-on-call", "escalation-once-each", "open-to-assignee",
         "open-unassigned-to-on-call", "unacknowledged-to-on-call", "nobody-on-call-to-leads"],
)
def test_who_is_told(due: Due, assignee: Person | None, on_call: Person | None, told: tuple[Person, ...]) -> None:
    issue = make_issue(assignee=assignee)
    assert who_to_tell(due, issue, on_call=on_call, leads=(LEAD,)) == told
