"""The daily stand-up: what goes in which group, and how the plain-text version reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.domain.model import HandledBy, Issue, Person, Resolution, ResolutionType, Severity, Status
from bot.domain.standup import LIST_LIMIT, StandupSummary, build_standup, standup_text
from tests.support.factories import OMAR, PRIYA, make_issue

SINCE = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
RAVI = Person(aad_object_id="aad-ravi", name="Ravi Menon")


def at(day: int, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def issue(
    number: int,
    severity: Severity,
    created_at: datetime,
    *,
    status: Status = Status.NEW,
    assignee: Person | None = None,
    resolve_by: datetime | None = None,
    **overrides: object,
) -> Issue:
    return make_issue(
        id=number,
        number=number,
        title=f"Issue {number}",
        severity=severity,
        created_at=created_at,
        updated_at=created_at,
        status=status,
        assignee=assignee,
        resolve_by=resolve_by,
        **overrides,
    )


def resolved(number: int, created_at: datetime, resolved_at: datetime, handled_by: HandledBy) -> Issue:
    resolution = Resolution(
        type=ResolutionType.FIXED, notes="Fixed.", handled_by=handled_by, resolved_by=RAVI, resolved_at=resolved_at
    )
    return issue(number, Severity.SEV3, created_at, status=Status.RESOLVED, assignee=RAVI, resolution=resolution)


# Open issues.
A = issue(1, Severity.SEV3, at(10), status=Status.IN_PROGRESS, assignee=PRIYA, resolve_by=at(24, 8))  # breached
B = issue(2, Severity.SEV1, at(23, 10), resolve_by=at(23, 14))  # new, unassigned, breached
C = issue(3, Severity.SEV2, at(20), status=Status.IN_PROGRESS, assignee=OMAR, resolve_by=at(25))
D = issue(4, Severity.SEV1, at(22), status=Status.REOPENED, assignee=OMAR, resolve_by=at(22, 16))  # reopened, breached
E = issue(5, Severity.SEV4, at(5))  # deferrable kind, but open: no target
F = issue(6, Severity.SEV2, at(23, 15), resolve_by=at(25))  # new, unassigned
G = issue(7, Severity.SEV3, at(18), status=Status.REOPENED, assignee=PRIYA, resolve_by=at(30, 9))  # reopened
OPEN = [A, B, C, D, E, F, G]

# Raised or resolved since the last stand-up (and one resolved just before it).
R1 = resolved(8, at(19), at(23, 11), HandledBy.SUPPORT)
R2 = resolved(9, at(23, 9, 30), at(23, 16), HandledBy.PARTNER)  # raised and resolved since
R3 = resolved(10, at(16), at(22, 18), HandledBy.SUPPORT)  # resolved before SINCE
R4 = issue(11, Severity.SEV3, at(23, 12), status=Status.DUPLICATE, duplicate_of=1)
RECENT = [B, F, R1, R2, R3, R4]


def summary(**overrides: object) -> StandupSummary:
    values: dict[object, object] = {
        "war_room_name": "Contoso finance go-live",
        "open_issues": OPEN,
        "recent": RECENT,
        "deferred_count": 3,
        "since": SINCE,
        "now": NOW,
    }
    return build_standup(**(values | overrides))  # type: ignore[arg-type]


def numbers(issues: tuple[Issue, ...]) -> list[int]:
    return [i.number for i in issues]


# -- build_standup ---------------------------------------------------------------------------------


def test_new_since_the_last_standup_is_what_was_raised_since() -> None:
    assert numbers(summary().new) == [2, 6, 9, 11]


def test_an_issue_raised_exactly_at_the_last_standup_is_new() -> None:
    on_the_dot = issue(30, Severity.SEV3, SINCE)
    just_before = issue(31, Severity.SEV3, SINCE - timedelta(microseconds=1))
    assert numbers(summary(recent=[on_the_dot, just_before]).new) == [30]


def test_everything_recent_is_new_at_the_first_standup() -> None:
    assert numbers(summary(since=None).new) == [2, 6, 8, 9, 10, 11]


def test_open_by_severity_counts_every_severity_including_empty_ones() -> None:
    result = summary()
    assert result.open_by_severity == {Severity.SEV1: 2, Severity.SEV2: 2, Severity.SEV3: 2, Severity.SEV4: 1}
    assert result.open_total == 7
    only_sev3 = summary(open_issues=[A])
    assert only_sev3.open_by_severity == {Severity.SEV1: 0, Severity.SEV2: 0, Severity.SEV3: 1, Severity.SEV4: 0}


def test_urgent_is_open_sev1_and_sev2_most_severe_then_oldest_first() -> None:
    assert numbers(summary().urgent) == [4, 2, 3, 6]


def test_breached_is_open_issues_past_their_target_in_severity_order() -> None:
    assert numbers(summary().breached) == [4, 2, 1]
    # A target exactly now is not yet breached.
    on_the_dot = issue(20, Severity.SEV2, at(23), resolve_by=NOW)
    assert numbers(summary(open_issues=[on_the_dot]).breached) == []


def test_resolved_since_the_last_standup_with_support_and_partner_counts() -> None:
    result = summary()
    assert numbers(result.resolved) == [8, 9]
    assert result.resolved_by == {HandledBy.SUPPORT: 1, HandledBy.PARTNER: 1, HandledBy.FLOOR_WALKER: 0}
    first = summary(since=None)
    assert numbers(first.resolved) == [8, 9, 10]
    assert first.resolved_by == {HandledBy.SUPPORT: 2, HandledBy.PARTNER: 1, HandledBy.FLOOR_WALKER: 0}


def test_deferred_count_is_passed_through() -> None:
    assert summary().deferred_count == 3
    assert summary(deferred_count=0).deferred_count == 0


def test_needs_decision_is_unassigned_sev1_and_sev2_and_reopened() -> None:
    assert [(i.number, why) for i, why in summary().needs_decision] == [
        (4, "reopened"),
        (2, "unassigned"),
        (6, "unassigned"),
        (7, "reopened"),
    ]


def test_an_unassigned_sev3_does_not_need_a_decision() -> None:
    lone = issue(21, Severity.SEV3, at(23))
    assert summary(open_issues=[lone]).needs_decision == ()


def test_oldest_three_open() -> None:
    assert numbers(summary().oldest_open) == [5, 1, 7]
    assert numbers(summary(open_issues=[B, C]).oldest_open) == [3, 2]


def test_a_recent_duplicate_is_new_but_not_resolved() -> None:
    result = summary()
    assert 11 in numbers(result.new)
    assert 11 not in numbers(result.resolved)
    assert sum(result.resolved_by.values()) == len(result.resolved)


# -- standup_text ----------------------------------------------------------------------------------


def test_text_header_and_counts() -> None:
    text = standup_text(summary())
    lines = text.splitlines()
    assert lines[0] == "Hypercare stand-up — Contoso finance go-live — 2026-11-24 09:00 UTC"
    assert lines[1].startswith("Open: 7 (Sev 1: 2, Sev 2: 2, Sev 3: 2, Sev 4: 1); deferred")
    assert lines[1].endswith(": 3")
    assert "New since the last stand-up (4)" in lines
    assert "Open Sev 1 and Sev 2 (4)" in lines
    assert "Past their resolution target (3)" in lines
    assert "Resolved since the last stand-up: sign off (support team 1, partner 1) (2)" in lines
    assert "Needs a decision (4)" in lines
    assert "Oldest open (3)" in lines


def test_text_lines_describe_each_issue() -> None:
    lines = standup_text(summary()).splitlines()
    assert "  #2 Sev 1 Issue 2 — new, unassigned, raised 23 hours ago" in lines
    assert "  #4 Sev 1 Issue 4 — reopened, Omar Haddad, raised 45 hours ago [reopened]" in lines
    assert "  #6 Sev 2 Issue 6 — new, unassigned, raised 18 hours ago [unassigned]" in lines
    assert "  #3 Sev 2 Issue 3 — in progress, Omar Haddad, raised 3 days ago" in lines


def test_a_resolved_issue_names_who_resolved_it_though_nobody_had_taken_it() -> None:
    untaken = R2.model_copy(update={"assignee": None})
    lines = standup_text(summary(recent=[untaken])).splitlines()
    assert f"  #9 Sev 3 Issue 9 — resolved by {RAVI.name}, raised 23 hours ago" in lines


def test_text_sections_list_in_summary_order() -> None:
    lines = standup_text(summary()).splitlines()
    start = lines.index("Open Sev 1 and Sev 2 (4)")
    assert [line.split()[0] for line in lines[start + 1 : start + 5]] == ["#4", "#2", "#3", "#6"]


def test_text_shows_and_n_more_beyond_eight_items() -> None:
    many = [issue(100 + n, Severity.SEV1, at(23, 10, n)) for n in range(11)]
    text = standup_text(summary(open_issues=many, recent=[]))
    lines = text.splitlines()
    start = lines.index("Open Sev 1 and Sev 2 (11)")
    shown = lines[start + 1 : start + 1 + LIST_LIMIT]
    assert LIST_LIMIT == 8
    assert [line.split()[0] for line in shown] == [f"#{100 + n}" for n in range(8)]
    assert lines[start + 1 + LIST_LIMIT] == "  …and 3 more (`list` shows them)"
    assert "#108" not in "\n".join(lines[start : start + 1 + LIST_LIMIT])
    assert text.count("…and 3 more") == 2  # the urgent list and needs-a-decision (all unassigned)


def test_text_shows_exactly_eight_without_and_more() -> None:
    eight = [issue(100 + n, Severity.SEV2, at(23, 10, n)) for n in range(8)]
    text = standup_text(summary(open_issues=eight, recent=[]))
    assert "Open Sev 1 and Sev 2 (8)" in text.splitlines()
    assert "more" not in text


def test_an_empty_day_reads_sensibly() -> None:
    text = standup_text(summary(open_issues=[], recent=[], deferred_count=0))
    lines = text.splitlines()
    assert lines[0] == "Hypercare stand-up — Contoso finance go-live — 2026-11-24 09:00 UTC"
    assert lines[1].startswith("Open: 0 (Sev 1: 0, Sev 2: 0, Sev 3: 0, Sev 4: 0); deferred")
    assert lines[1].endswith(": 0")
    assert lines[2:] == [
        "New since the last stand-up (0)",
        "Open Sev 1 and Sev 2 (0)",
        "Past their resolution target (0)",
        "Resolved since the last stand-up: sign off (support team 0, partner 0) (0)",
        "Needs a decision (0)",
        "Oldest open (0)",
        "Sev 3/4 worked in hypercare: 0. A Sev 3 is reminded every working day until acknowledged, then reviewed at the stand-up "
        "and not chased.",
    ]
    assert "more" not in text
    assert "None" not in text


def test_empty_summary_values() -> None:
    result = summary(open_issues=[], recent=[], deferred_count=0, since=None)
    assert result.open_total == 0
    assert (result.new, result.urgent, result.breached, result.resolved, result.oldest_open, result.needs_decision) == (
        (), (), (), (), (), ()
    )
    assert result.resolved_by == {HandledBy.SUPPORT: 0, HandledBy.PARTNER: 0, HandledBy.FLOOR_WALKER: 0}


def test_text_uses_the_time_passed_not_the_clock() -> None:
    later = NOW + timedelta(days=1, hours=2, minutes=30)
    assert standup_text(summary(now=later)).splitlines()[0].endswith("— 2026-11-25 11:30 UTC")
