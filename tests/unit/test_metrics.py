"""Phase metrics on a timeline whose every figure was worked out by hand (see the comments)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.calendar import WorkingCalendar
from bot.domain.exit_criteria import Ratio
from bot.domain.metrics import (
    PhaseMetrics,
    RecurringGroup,
    Tally,
    compute_metrics,
    recurring_candidates,
    recurring_groups,
    runbook_coverage,
    significant_words,
)
from bot.domain.model import Area, Category, Escalation, HandledBy, Issue, Person, Resolution, ResolutionType, Severity, Status
from bot.domain.war_room import WarRoomSettings
from tests.support.factories import OMAR, make_issue

# Dubai is UTC+4 all year: local days differ from UTC days, and no daylight saving gets in the way.
DUBAI = ZoneInfo("Asia/Dubai")
SETTINGS = WarRoomSettings(
    calendar=WorkingCalendar(time_zone="Asia/Dubai"), starts_on=date(2026, 11, 23), ends_on=date(2026, 12, 11)
)
NOW = datetime(2026, 11, 27, 18, 0, tzinfo=DUBAI).astimezone(UTC)  # Friday 18:00 local, day 5 of the phase


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A Dubai wall-clock time in November 2026, as the aware UTC instant the domain works with."""
    return datetime(2026, 11, day, hour, minute, tzinfo=DUBAI).astimezone(UTC)


def resolved(at: datetime, by: HandledBy) -> Resolution:
    return Resolution(type=ResolutionType.FIXED, notes="fixed", handled_by=by, resolved_by=OMAR, resolved_at=at)


def issue(number: int, severity: Severity, raised: datetime, **overrides: object) -> Issue:
    values: dict[str, object] = {
        "id": number,
        "number": number,
        "title": f"Issue {number}",
        "severity": severity,
        "created_at": raised,
        "updated_at": raised,
        "resolve_by": None,
    }
    return make_issue(**(values | overrides))


def timeline() -> list[Issue]:
    """Ten issues over five local days (23–27 November), every time in Dubai local time."""
    return [
        # 23rd: a Sev 1 acknowledged in 15 min, resolved by support in 2 h, inside its 13:00 target.
        issue(1, Severity.SEV1, local(23, 9), acknowledged_at=local(23, 9, 15), acknowledged_by=OMAR,
              status=Status.RESOLVED, resolution=resolved(local(23, 11), HandledBy.SUPPORT), resolve_by=local(23, 13)),
        # 23rd: a Sev 1 acknowledged in 45 min, resolved by the partner the next day after 20 h: target missed.
        issue(2, Severity.SEV1, local(23, 14), acknowledged_at=local(23, 14, 45), acknowledged_by=OMAR,
              status=Status.RESOLVED, resolution=resolved(local(24, 10), HandledBy.PARTNER), resolve_by=local(23, 18)),
        # 24th: a Sev 2, acknowledged in 1 h, resolved by support in 24 h, inside target.
        issue(3, Severity.SEV2, local(24, 8), acknowledged_at=local(24, 9), acknowledged_by=OMAR,
              status=Status.RESOLVED, resolution=resolved(local(25, 8), HandledBy.SUPPORT), resolve_by=local(26, 8)),
        # 21:30 UTC on the 24th is 01:30 on the 25th in Dubai: a 25th issue. Acknowledged in 1 h, still open
        # past its target (26th 02:30): a missed SLA.
        issue(4, Severity.SEV2, datetime(2026, 11, 24, 21, 30, tzinfo=UTC), acknowledged_at=local(25, 2, 30),
              acknowledged_by=OMAR, status=Status.ACKNOWLEDGED, resolve_by=local(26, 2, 30)),
        # 25th: a Sev 3 nobody has acknowledged, in another area and category.
        issue(5, Severity.SEV3, local(25, 10), category=Category.DATA, area=Area.GENERAL_LEDGER),
        # 25th: a Sev 3 acknowledged in 1 h, resolved by support in 24 h.
        issue(6, Severity.SEV3, local(25, 11), acknowledged_at=local(25, 12), acknowledged_by=OMAR,
              status=Status.RESOLVED, resolution=resolved(local(26, 11), HandledBy.SUPPORT)),
        # 26th: a Sev 4 deferred at 15:00 (its last change), no area.
        issue(7, Severity.SEV4, local(26, 9), status=Status.DEFERRED, updated_at=local(26, 15),
              category=Category.ENHANCEMENT, area=None),
        # 26th: a Sev 3 closed as a duplicate on the 27th at 09:00, no category.
        issue(8, Severity.SEV3, local(26, 10), status=Status.DUPLICATE, duplicate_of=5, updated_at=local(27, 9),
              category=None),
        # 27th: a Sev 2 acknowledged in 30 min, resolved by support in 4 h, inside target.
        issue(9, Severity.SEV2, local(27, 9), acknowledged_at=local(27, 9, 30), acknowledged_by=OMAR,
              status=Status.RESOLVED, resolution=resolved(local(27, 13), HandledBy.SUPPORT), resolve_by=local(28, 9)),
        # 27th: a Sev 1 acknowledged in 10 min, in progress, past its 14:00 target at 18:00.
        issue(10, Severity.SEV1, local(27, 10), acknowledged_at=local(27, 10, 10), acknowledged_by=OMAR,
              status=Status.IN_PROGRESS, assignee=OMAR, resolve_by=local(27, 14)),
    ]


# Issues 1 and 3 (resolved) and 5 (open) are linked to runbooks.
LINKED = {1, 3, 5}


def timeline_metrics() -> PhaseMetrics:
    return compute_metrics(timeline(), settings=SETTINGS, now=NOW, runbook_linked_issue_ids=LINKED)


def test_the_phase_runs_from_the_start_to_today_in_local_days() -> None:
    metrics = timeline_metrics()
    assert [d.day for d in metrics.days] == [date(2026, 11, day) for day in range(23, 28)]
    assert (metrics.first_day, metrics.last_day) == (date(2026, 11, 23), date(2026, 11, 27))
    # Each day is cut at local midnight (20:00 UTC the day before), today at now.
    assert metrics.days[0].cut == datetime(2026, 11, 23, 20, 0, tzinfo=UTC)
    assert metrics.days[-1].cut == NOW


def test_volume_by_local_day() -> None:
    metrics = timeline_metrics()
    # Raised: 23rd #1 #2; 24th #3; 25th #4 (01:30 local) #5 #6; 26th #7 #8; 27th #9 #10.
    assert [d.incoming for d in metrics.days] == [2, 1, 3, 2, 2]
    # Resolved: #1 23rd, #2 24th, #3 25th, #6 26th, #9 27th.
    assert [d.resolved for d in metrics.days] == [1, 1, 1, 1, 1]
    assert (metrics.raised_total, metrics.resolved_total, metrics.deferred_total, metrics.duplicate_total) == (10, 5, 1, 1)


def test_counts_by_severity_category_and_area() -> None:
    metrics = timeline_metrics()
    assert metrics.by_severity == (
        Tally(key="1", label="Sev 1", count=3),
        Tally(key="2", label="Sev 2", count=3),
        Tally(key="3", label="Sev 3", count=3),
        Tally(key="4", label="Sev 4", count=1),
    )
    assert [(t.key, t.count) for t in metrics.by_category] == [
        ("configuration", 7), ("data", 1), ("enhancement", 1), ("unset", 1),
    ]
    assert [(t.key, t.count) for t in metrics.by_area] == [("general_ledger", 1), ("accounts_payable", 8), ("unset", 1)]


def test_open_backlog_at_the_end_of_each_local_day() -> None:
    metrics = timeline_metrics()
    backlog = [[d.open_by_severity[s] for s in Severity] for d in metrics.days]
    assert backlog == [
        [1, 0, 0, 0],  # 23rd: #2 (resolved the next morning); #1 already resolved
        [0, 1, 0, 0],  # 24th: #3; #4 is raised after local midnight
        [0, 1, 2, 0],  # 25th: #4; #5 and #6 (resolved on the 26th)
        [0, 1, 2, 0],  # 26th: #4; #5, #8 (a duplicate only on the 27th); #7 deferred at 15:00 is not open
        [1, 1, 1, 0],  # now: #10; #4; #5 — #8, #9 closed
    ]
    assert metrics.open_now == {Severity.SEV1: 1, Severity.SEV2: 1, Severity.SEV3: 1, Severity.SEV4: 0}
    assert metrics.open_now_total == metrics.days[-1].open_total == 3


def test_time_to_acknowledge_and_resolve_by_severity() -> None:
    metrics = timeline_metrics()
    minutes, hours = (lambda n: timedelta(minutes=n)), (lambda n: timedelta(hours=n))
    mtta = {s.severity: (s.samples, s.median, s.mean) for s in metrics.mtta}
    assert mtta == {
        Severity.SEV1: (3, minutes(15), minutes(70) / 3),  # 10, 15, 45 min
        Severity.SEV2: (3, minutes(60), minutes(50)),  # 30, 60, 60 min
        Severity.SEV3: (1, minutes(60), minutes(60)),
        Severity.SEV4: (0, None, None),
    }
    mttr = {s.severity: (s.samples, s.median, s.mean) for s in metrics.mttr}
    assert mttr == {
        Severity.SEV1: (2, hours(11), hours(11)),  # 2 h and 20 h
        Severity.SEV2: (2, hours(14), hours(14)),  # 24 h and 4 h
        Severity.SEV3: (1, hours(24), hours(24)),
        Severity.SEV4: (0, None, None),
    }


def test_sla_attainment_and_support_share_now() -> None:
    metrics = timeline_metrics()
    # Met: #1, #3, #9. Missed: #2 (late), #4 and #10 (open past target).
    assert metrics.sla == Ratio(hits=3, total=6)
    # Resolutions in the last 7 days: #1 #3 #6 #9 by support, #2 by the partner.
    assert metrics.support_share_now == Ratio(hits=4, total=5)
    assert [ratio for _, ratio in metrics.support_share_trend] == [
        Ratio(hits=1, total=1), Ratio(hits=1, total=2), Ratio(hits=2, total=3), Ratio(hits=3, total=4), Ratio(hits=4, total=5),
    ]


def test_runbook_coverage_in_the_timeline() -> None:
    # Resolved in accounts payable / configuration: #1 #2 #3 #6 #9 — recurring; #1 and #3 have a runbook.
    assert timeline_metrics().runbook_coverage == Ratio(hits=2, total=5)


def test_support_share_trend_is_a_seven_day_window_at_each_days_end() -> None:
    settings = WarRoomSettings(starts_on=date(2026, 11, 2), ends_on=date(2026, 11, 30))  # Europe/London, UTC in November
    now = datetime(2026, 11, 12, 20, 0, tzinfo=UTC)
    at = lambda day: datetime(2026, 11, day, 10, 0, tzinfo=UTC)  # noqa: E731
    issues = [
        issue(1, Severity.SEV3, at(2) - timedelta(hours=1), status=Status.RESOLVED, resolution=resolved(at(2), HandledBy.PARTNER)),
        issue(2, Severity.SEV3, at(6) - timedelta(hours=1), status=Status.RESOLVED, resolution=resolved(at(6), HandledBy.SUPPORT)),
        issue(3, Severity.SEV3, at(11) - timedelta(hours=1), status=Status.RESOLVED, resolution=resolved(at(11), HandledBy.SUPPORT)),
    ]
    metrics = compute_metrics(issues, settings=settings, now=now, runbook_linked_issue_ids=set())
    trend = {day.day: (ratio.hits, ratio.total) for day, ratio in zip(metrics.days, (d.support_share for d in metrics.days))}
    assert trend == {
        date(2026, 11, 2): (0, 1), date(2026, 11, 3): (0, 1), date(2026, 11, 4): (0, 1), date(2026, 11, 5): (0, 1),
        date(2026, 11, 6): (1, 2), date(2026, 11, 7): (1, 2), date(2026, 11, 8): (1, 2),
        # From the end of the 9th the window starts after the 2nd's partner resolution.
        date(2026, 11, 9): (1, 1), date(2026, 11, 10): (1, 1),
        date(2026, 11, 11): (2, 2), date(2026, 11, 12): (2, 2),
    }
    assert metrics.support_share_now == Ratio(hits=2, total=2)


def test_without_a_start_the_phase_begins_on_the_first_issues_local_day() -> None:
    settings = WarRoomSettings(calendar=WorkingCalendar(time_zone="Asia/Dubai"))
    metrics = compute_metrics(timeline()[2:], settings=settings, now=NOW, runbook_linked_issue_ids=set())
    assert metrics.first_day == date(2026, 11, 24)
    assert len(metrics.days) == 4


def test_a_past_planned_end_closes_the_phase() -> None:
    settings = SETTINGS.model_copy(update={"ends_on": date(2026, 11, 25)})
    metrics = compute_metrics(timeline(), settings=settings, now=NOW, runbook_linked_issue_ids=set())
    assert metrics.last_day == date(2026, 11, 25)
    assert [d.incoming for d in metrics.days] == [2, 1, 3]
    # The last day's figures are taken at its end, not now.
    assert metrics.days[-1].cut == datetime(2026, 11, 25, 20, 0, tzinfo=UTC)


def test_before_the_start_and_without_issues_there_are_no_days() -> None:
    early = compute_metrics(timeline(), settings=SETTINGS, now=local(22, 12), runbook_linked_issue_ids=set())
    assert early.days == () and early.first_day is None
    empty = compute_metrics([], settings=WarRoomSettings(), now=NOW, runbook_linked_issue_ids=set())
    assert empty.days == ()
    assert empty.raised_total == 0 and empty.open_now_total == 0
    assert empty.sla == Ratio(hits=0, total=0) and empty.runbook_coverage == Ratio(hits=0, total=0)
    assert all(s.median is None and s.samples == 0 for s in (*empty.mtta, *empty.mttr))
    assert empty.by_category == () and empty.by_area == ()
    assert [t.count for t in empty.by_severity] == [0, 0, 0, 0]


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        compute_metrics([], settings=SETTINGS, now=datetime(2026, 11, 27, 12, 0), runbook_linked_issue_ids=set())


# ------------------------------------------------------------------------------------------ recurring


def test_significant_words_drop_stop_words_numbers_and_plurals() -> None:
    assert significant_words("Users can't post the 3 invoices in USMF!") == {"post", "invoice", "usmf"}
    assert significant_words("Posting PROFILE profile") == {"posting", "profile"}
    assert significant_words("Issue 12") == frozenset()


def ap(number: int, title: str, **overrides: object) -> Issue:
    return issue(number, Severity.SEV3, local(23, 9) + timedelta(minutes=number), title=title, **overrides)


def clustering_issues() -> list[Issue]:
    sales_data = {"area": Area.SALES, "category": Category.DATA}
    return [
        # A real cluster of three in accounts payable / configuration (the factory's defaults).
        ap(21, "Vendor invoice posting profile missing"),
        ap(22, "Cannot post vendor invoice: posting profile"),
        ap(23, "Posting profile error on vendor invoice journal"),
        # A pair in the same area and category: similar to each other, not to the cluster (only "journal").
        ap(25, "Payment journal export file empty"),
        ap(26, "Payment journal export stuck"),
        # A cluster of three already covered by a runbook (through #28).
        ap(27, "Sales price missing on order lines", **sales_data),
        ap(28, "Sales order lines show wrong price", **sales_data),
        ap(29, "Price on sales order line is zero", **sales_data),
        # Same words as the real cluster, but another area; and a duplicate of it; and one without an area.
        ap(30, "Vendor invoice posting profile missing", area=Area.GENERAL_LEDGER),
        ap(31, "Vendor invoice posting profile missing again", status=Status.DUPLICATE, duplicate_of=21),
        ap(32, "Vendor invoice posting profile", area=None),
    ]


def test_recurring_candidates_are_uncovered_clusters_of_three_similar_titles() -> None:
    candidates = recurring_candidates(clustering_issues(), {28})
    assert candidates == [
        RecurringGroup(
            area=Area.ACCOUNTS_PAYABLE,
            category=Category.CONFIGURATION,
            issue_ids=(21, 22, 23),
            issue_numbers=(21, 22, 23),
            keywords=("invoice", "posting", "profile", "vendor"),
            title="Vendor invoice posting profile missing",
        )
    ]
    # Without runbooks the covered cluster is a candidate too; the pair never is.
    groups = recurring_groups(clustering_issues())
    assert [g.issue_numbers for g in groups] == [(21, 22, 23), (27, 28, 29)]
    assert recurring_candidates(clustering_issues(), set()) == groups


def test_clustering_is_single_link_and_order_independent() -> None:
    chain = [
        ap(41, "Bank statement import fails"),  # shares bank+statement with 42
        ap(42, "Bank statement reconciliation stuck"),  # shares statement+reconciliation with 43
        ap(43, "Statement reconciliation totals differ"),  # shares nothing with 41 but 1 word
    ]
    assert [g.issue_numbers for g in recurring_groups(chain)] == [(41, 42, 43)]
    assert recurring_groups(list(reversed(chain))) == recurring_groups(chain)
    assert recurring_groups(list(reversed(clustering_issues()))) == recurring_groups(clustering_issues())


def test_compute_metrics_carries_the_candidates() -> None:
    metrics = compute_metrics(clustering_issues(), settings=SETTINGS, now=NOW, runbook_linked_issue_ids={28})
    assert [g.issue_numbers for g in metrics.recurring_candidates] == [(21, 22, 23)]


def test_runbook_coverage_counts_resolved_issues_of_recurring_area_and_category() -> None:
    done = {"status": Status.RESOLVED, "resolution": resolved(local(24, 9), HandledBy.SUPPORT)}
    gl_data = {"area": Area.GENERAL_LEDGER, "category": Category.DATA}
    ar_access = {"area": Area.ACCOUNTS_RECEIVABLE, "category": Category.ACCESS}
    issues = [
        # Accounts payable / configuration: 3 resolved (recurring), #51 linked → 1 of 3. #54 is linked but open.
        ap(51, "a", **done), ap(52, "b", **done), ap(53, "c", **done), ap(54, "d"),
        # Accounts receivable / access: only 2 resolved, not recurring, though #55 is linked.
        ap(55, "e", **done, **ar_access), ap(56, "f", **done, **ar_access),
        # General ledger / data: 4 resolved, none linked → 0 of 4.
        *(ap(n, "g", **done, **gl_data) for n in (57, 58, 59, 60)),
        # No area: not counted, however many.
        *(ap(n, "h", **done, area=None) for n in (61, 62, 63)),
    ]
    assert runbook_coverage(issues, {51, 54, 55, 61}) == Ratio(hits=1, total=7)
    assert runbook_coverage(issues, set()) == Ratio(hits=0, total=7)
    assert runbook_coverage(issues[:3], {51, 52, 53}) == Ratio(hits=3, total=3)


def test_a_similar_pair_is_not_recurring() -> None:
    pair = clustering_issues()[3:5]
    assert len(significant_words(pair[0].title) & significant_words(pair[1].title)) >= 2  # similar…
    assert recurring_groups(pair) == []  # …but only two


def test_escalation_rate_trend_incoming_share_and_what_floor_walkers_resolved() -> None:
    settings = WarRoomSettings(starts_on=date(2026, 11, 2), ends_on=date(2026, 11, 30))  # Europe/London, UTC in November
    now = datetime(2026, 11, 12, 20, 0, tzinfo=UTC)
    at = lambda day, hour: datetime(2026, 11, day, hour, 0, tzinfo=UTC)  # noqa: E731
    ana, ben = Person(aad_object_id="aad-ana", name="Ana Ruiz"), Person(aad_object_id="aad-ben", name="Ben Okoro")

    def by(person: Person, moment: datetime, handled: HandledBy = HandledBy.FLOOR_WALKER) -> Resolution:
        return Resolution(type=ResolutionType.USER_TRAINED, notes="shown", handled_by=handled, resolved_by=person, resolved_at=moment)

    def escalated(moment: datetime) -> Escalation:
        return Escalation(escalated_by=ana, escalated_at=moment, reason="code fix", to=OMAR)

    issues = [
        issue(1, Severity.SEV3, at(2, 9), status=Status.IN_PROGRESS, escalation=escalated(at(2, 10))),
        issue(2, Severity.SEV3, at(6, 9), status=Status.RESOLVED, resolution=by(ana, at(6, 12))),
        issue(3, Severity.SEV3, at(11, 9), status=Status.RESOLVED, escalation=escalated(at(11, 10)),
              resolution=by(OMAR, at(11, 15), HandledBy.PARTNER)),
        issue(4, Severity.SEV3, at(11, 9), status=Status.RESOLVED, resolution=by(ana, at(11, 11))),
        issue(5, Severity.SEV3, at(12, 9), status=Status.RESOLVED, resolution=by(ben, at(12, 10))),
    ]
    metrics = compute_metrics(issues, settings=settings, now=now, runbook_linked_issue_ids=set())

    # Worked out by hand: at the end of each day, escalated ÷ raised in the 7 days before.
    trend = {day: (ratio.hits, ratio.total) for day, ratio in metrics.escalation_rate_trend}
    assert trend == {
        date(2026, 11, 2): (1, 1), date(2026, 11, 3): (1, 1), date(2026, 11, 4): (1, 1), date(2026, 11, 5): (1, 1),
        date(2026, 11, 6): (1, 2), date(2026, 11, 7): (1, 2), date(2026, 11, 8): (1, 2),
        # From the end of the 9th the window starts after #1 was raised.
        date(2026, 11, 9): (0, 1), date(2026, 11, 10): (0, 1),
        date(2026, 11, 11): (1, 3), date(2026, 11, 12): (1, 4),
    }
    assert metrics.escalation_rate_now == Ratio(hits=1, total=4)
    # Raised in the last 7 days with an outcome: #2 #4 #5 by floor walkers, #3 escalated.
    assert metrics.incoming_share_now == Ratio(hits=3, total=4)
    assert [(entry.person.name, entry.numbers) for entry in metrics.floor_walker_resolved] == [("Ana Ruiz", (2, 4)), ("Ben Okoro", (5,))]


def test_the_timeline_has_no_escalations_and_no_floor_walkers() -> None:
    metrics = timeline_metrics()
    # Raised in the 7 days before NOW, not duplicates or deferred: #1–#6, #9, #10; none escalated.
    assert metrics.escalation_rate_now == Ratio(hits=0, total=8)
    assert metrics.floor_walker_resolved == ()
