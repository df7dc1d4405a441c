"""The celebration's figures and thanks (bot/domain/celebration.py), and the hand-over pack's Markdown (bot/handover.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from bot.domain.celebration import THANKS_LIMIT, celebrate, hand_over_backlog, thanks
from bot.domain.model import HandledBy, Person, Resolution, ResolutionType, Runbook, Severity, Status
from bot.domain.war_room import WarRoomSettings
from bot.handover import runbooks_markdown
from tests.support.factories import OMAR, PRIYA, RAISED_AT, make_issue

LENA = Person(aad_object_id="aad-lena", name="Lena Berg")
ANNA = Person(aad_object_id="aad-anna", name="anna Ahl")  # lower case: the order ignores case
GUEST = Person(aad_object_id=None, name="Guest")
SIGNED = datetime(2026, 12, 9, 15, 0, tzinfo=UTC)


def resolved(n: int, by: Person, at: datetime, handled_by: HandledBy = HandledBy.SUPPORT, **extra: object):  # type: ignore[no-untyped-def]
    return make_issue(
        id=n, number=n, status=Status.RESOLVED, created_at=at - timedelta(hours=1), updated_at=at,
        resolution=Resolution(type=ResolutionType.FIXED, notes="x", handled_by=handled_by, resolved_by=by, resolved_at=at), **extra,
    )


def test_thanks_counts_each_contribution_most_first_then_by_name_and_keeps_three() -> None:
    issues = [
        resolved(1, OMAR, RAISED_AT, reporter=PRIYA), resolved(2, OMAR, RAISED_AT, reporter=PRIYA),
        resolved(3, LENA, RAISED_AT, reporter=GUEST), resolved(4, ANNA, RAISED_AT, reporter=OMAR),
        resolved(5, GUEST, RAISED_AT, reporter=LENA),
        make_issue(id=6, number=6, reporter=PRIYA),  # open: reported, resolved by nobody
    ]
    resolvers, reporters = thanks(issues)
    assert resolvers.heading == "Resolved most" and reporters.heading == "Reported most"
    assert [(t.person.name, t.count) for t in resolvers.people] == [("Omar Haddad", 2), ("anna Ahl", 1), ("Guest", 1)]
    assert [(t.person.name, t.count) for t in reporters.people] == [("Priya Shah", 3), ("Guest", 1), ("Lena Berg", 1)]
    assert len(resolvers.people) == THANKS_LIMIT
    # A reopened issue lost its resolution: its resolver is not thanked for it.
    assert thanks([resolved(1, OMAR, RAISED_AT).model_copy(update={"status": Status.REOPENED})])[0].people == ()


def test_the_phase_in_numbers_as_of_the_sign_off() -> None:
    start = date(2026, 11, 23)
    week1 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    issues = [
        resolved(1, OMAR, week1, HandledBy.PARTNER, severity=Severity.SEV1, acknowledged_at=week1 - timedelta(minutes=50)),
        resolved(2, LENA, week1, HandledBy.SUPPORT, severity=Severity.SEV2),
        resolved(3, LENA, SIGNED - timedelta(days=1), HandledBy.SUPPORT, severity=Severity.SEV2),
        make_issue(id=4, number=4, severity=Severity.SEV4, status=Status.DEFERRED, resolve_by=None),
        make_issue(id=5, number=5, severity=Severity.SEV3, status=Status.DEFERRED),
        make_issue(id=6, number=6, severity=Severity.SEV4, status=Status.DEFERRED, resolve_by=None),
        make_issue(id=7, number=7, severity=Severity.SEV3, status=Status.DUPLICATE, duplicate_of=5),
    ]
    settings = WarRoomSettings(starts_on=start, ends_on=date(2026, 12, 11), steady_state_support="the IT service desk")
    c = celebrate(issues, settings=settings, war_room_name="Contoso", signed_off_at=SIGNED, signed_off_by=LENA, runbooks_written=4)
    assert (c.first_day, c.last_day, c.days) == (start, date(2026, 12, 9), 17)
    assert (c.raised, c.resolved, c.runbooks_written) == (7, 3, 4)
    assert (c.support_share_first_week.hits, c.support_share_first_week.total) == (1, 2)
    assert (c.support_share_last_week.hits, c.support_share_last_week.total) == (1, 1)
    assert c.mtta[0].median == timedelta(minutes=10) and c.mttr[1].samples == 2
    assert [issue.number for issue in c.backlog] == [5, 4, 6]  # Sev 3 first, then by number; a duplicate is not backlog
    assert c.steady_state_support == "the IT service desk" and c.signed_off_by == LENA
    assert c.chart.days[0] == start and c.chart.days[-1] == date(2026, 12, 9)


def test_without_a_start_the_phase_begins_with_its_first_issue_and_nothing_makes_zero_days() -> None:
    c = celebrate([resolved(1, OMAR, datetime(2026, 12, 1, 12, 0, tzinfo=UTC))], settings=WarRoomSettings(),
                  war_room_name="x", signed_off_at=SIGNED, signed_off_by=None, runbooks_written=0)
    assert (c.first_day, c.days) == (date(2026, 12, 1), 9)
    empty = celebrate([], settings=WarRoomSettings(), war_room_name="x", signed_off_at=SIGNED, signed_off_by=None, runbooks_written=0)
    assert (empty.first_day, empty.days, empty.raised, empty.backlog, empty.chart.days) == (None, 0, 0, (), ())
    assert hand_over_backlog([]) == ()


def test_runbooks_markdown_shows_user_text_as_typed_not_as_markup() -> None:
    runbook = Runbook(
        id=3, war_room_id=1, title="# [click](https://evil) <script>", symptoms="", steps="1. Open *AP*\n2. Repost",
        area=None, category=None, owner=OMAR, issue_ids=(11, 99), created_at=SIGNED, updated_at=SIGNED,
    )
    markdown = runbooks_markdown([runbook], {11: 4}, war_room_name="Contoso [go-live]", as_of="2026-12-09 15:00")
    assert markdown.startswith("# Runbook library · Contoso \\[go-live\\]\n")
    assert "## R3 · \\# \\[click\\](https://evil) \\<script\\>" in markdown
    assert "Issues: #4" in markdown and "#99" not in markdown  # numbers in this war room only
    assert "### Symptoms" not in markdown and "### Steps\n\n1. Open \\*AP\\*\n2. Repost" in markdown
