"""How the hypercare phase is going, in figures: volume, backlog, speed, SLA, who handles the work, runbooks.

Pure: issues in, figures out. Every instant is aware UTC; the war room's time zone is used only to
cut the phase into local days (a day ends at local midnight, wherever daylight saving puts it).

Conventions (stated once, used everywhere):

* **Phase days**: from `settings.starts_on` (or the local day of the first issue when no start is set)
  to today, or to `settings.ends_on` once that is past. At most `MAX_PHASE_DAYS`, the latest kept.
* **Cut of a day**: the end of that local day, or `now` for today, so the last point of every trend
  is the figure "now".
* **Closed at**: a resolved issue at `resolution.resolved_at`; a deferred or duplicate issue at
  `updated_at` (the model keeps no closing time for those); an open issue never. A reopened issue
  has lost its resolution and so counts as open since it was raised.
* **MTTA / MTTR** are per *current* severity; the card shows the **median** (one stuck issue does not
  hide how fast the rest went), the export both median and mean.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from itertools import combinations
from typing import TypeVar

from pydantic import BaseModel, ConfigDict

from bot.domain.brief import Brief
from bot.domain.exit_criteria import Ratio, escalation_rate, incoming_share, sla_attainment, support_share
from bot.domain.model import Area, Category, HandledBy, Issue, Person, Severity, Status
from bot.domain.war_room import WarRoomSettings

MAX_PHASE_DAYS = 366
# A recurring group: this many issues of one area and category.
RECURRING_MIN = 3
# Two titles are "similar" when they share this many significant words.
SIMILAR_MIN_SHARED_WORDS = 2

UNSET = "unset"

B = TypeVar("B", bound=Brief)


class Tally(BaseModel):
    """How many issues have one value of a field (`key` is the enum value, or "unset")."""

    model_config = ConfigDict(frozen=True)

    key: str
    label: str
    count: int


class DurationStats(BaseModel):
    """Time to acknowledge or to resolve, for one severity; None where there are no samples."""

    model_config = ConfigDict(frozen=True)

    severity: Severity
    samples: int
    median: timedelta | None
    mean: timedelta | None


class DayFigures(BaseModel):
    """One local day of the phase."""

    model_config = ConfigDict(frozen=True)

    day: date
    cut: datetime  # the instant the "at the end of the day" figures are taken (end of the day, or now)
    incoming: int  # raised that local day
    resolved: int  # resolved that local day
    open_by_severity: dict[Severity, int]  # open at the cut
    support_share: Ratio  # the 7 days before the cut
    escalation_rate: Ratio  # issues raised in the 7 days before the cut that were escalated to the partner by then

    @property
    def open_total(self) -> int:
        return sum(self.open_by_severity.values())


class RecurringGroup(BaseModel):
    """Issues of one area and category with similar titles: a problem that keeps coming back."""

    model_config = ConfigDict(frozen=True)

    area: Area
    category: Category
    issue_ids: tuple[int, ...]
    issue_numbers: tuple[int, ...]  # ascending
    keywords: tuple[str, ...]  # the words most of its titles share, most shared first
    title: str  # the first issue's title (user text)

    @property
    def size(self) -> int:
        return len(self.issue_ids)


class FloorWalkerResolutions(BaseModel):
    """The issues one floor walker resolved (resolutions booked to the floor walkers), ascending."""

    model_config = ConfigDict(frozen=True)

    person: Person
    numbers: tuple[int, ...]


class PhaseMetrics(BaseModel):
    model_config = ConfigDict(frozen=True)

    now: datetime
    time_zone: str
    first_day: date | None  # None: nothing to show yet (no start and no issue, or the start is ahead)
    last_day: date | None
    days: tuple[DayFigures, ...]
    raised_total: int
    resolved_total: int
    deferred_total: int
    duplicate_total: int
    by_severity: tuple[Tally, ...]  # every severity, 1 to 4
    by_category: tuple[Tally, ...]  # categories that occur, in the enum's order, "unset" last
    by_area: tuple[Tally, ...]  # areas that occur, likewise
    open_now: dict[Severity, int]
    mtta: tuple[DurationStats, ...]  # Sev 1 to 4
    mttr: tuple[DurationStats, ...]
    sla: Ratio
    support_share_now: Ratio
    # The exit criterion on incoming volume, and the share of incoming issues escalated to the partner (last 7 days).
    incoming_share_now: Ratio
    escalation_rate_now: Ratio
    floor_walker_resolved: tuple[FloorWalkerResolutions, ...]  # by name
    runbook_coverage: Ratio  # recurring resolved issues linked to a runbook ÷ all recurring resolved issues
    recurring_candidates: tuple[RecurringGroup, ...]

    @property
    def open_now_total(self) -> int:
        return sum(self.open_now.values())

    @property
    def support_share_trend(self) -> tuple[tuple[date, Ratio], ...]:
        return tuple((figures.day, figures.support_share) for figures in self.days)

    @property
    def escalation_rate_trend(self) -> tuple[tuple[date, Ratio], ...]:
        return tuple((figures.day, figures.escalation_rate) for figures in self.days)


# ----------------------------------------------------------------------------------------------- helpers


def closed_at(issue: Brief) -> datetime | None:
    """When the issue stopped being hypercare work, or None while it is open (see the module notes)."""
    if issue.status.is_open:
        return None
    if issue.status is Status.RESOLVED and issue.resolved_at is not None:
        return issue.resolved_at
    return issue.updated_at


def _is_open_at(issue: Brief, moment: datetime) -> bool:
    if issue.created_at >= moment:
        return False
    closed = closed_at(issue)
    return closed is None or closed > moment


def _resolved_at(issue: Brief) -> datetime | None:
    return issue.resolved_at if issue.status is Status.RESOLVED else None


def _stats(severity: Severity, durations: list[timedelta]) -> DurationStats:
    if not durations:
        return DurationStats(severity=severity, samples=0, median=None, mean=None)
    ordered = sorted(durations)
    middle = len(ordered) // 2
    median = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    mean = sum(ordered, timedelta()) / len(ordered)
    return DurationStats(severity=severity, samples=len(ordered), median=median, mean=mean)


def _tallies(values: Iterable[Category | Area | None], members: Sequence[Category] | Sequence[Area]) -> tuple[Tally, ...]:
    counts = Counter(values)
    rows = [Tally(key=member.value, label=member.label, count=counts[member]) for member in members if counts[member]]
    if counts[None]:
        rows.append(Tally(key=UNSET, label="Not set", count=counts[None]))
    return tuple(rows)


def floor_walker_resolutions(issues: list[Issue]) -> list[FloorWalkerResolutions]:
    resolved: dict[str, tuple[Person, list[int]]] = {}
    for issue in issues:
        resolution = issue.resolution
        if _resolved_at(issue) is not None and resolution is not None and resolution.handled_by is HandledBy.FLOOR_WALKER:
            resolved.setdefault(resolution.resolved_by.key, (resolution.resolved_by, []))[1].append(issue.number)
    return sorted(
        (FloorWalkerResolutions(person=person, numbers=tuple(sorted(numbers))) for person, numbers in resolved.values()),
        key=lambda entry: entry.person.name.casefold(),
    )


def phase_days(issues: Sequence[Brief], settings: WarRoomSettings, now: datetime) -> list[date]:
    calendar = settings.calendar
    first = settings.starts_on
    if first is None and issues:
        first = min(calendar.local_date(issue.created_at) for issue in issues)
    if first is None:
        return []
    last = calendar.local_date(now)
    if settings.ends_on is not None and settings.ends_on < last:
        last = settings.ends_on
    count = (last - first).days + 1
    if count <= 0:
        return []
    count = min(count, MAX_PHASE_DAYS)
    return [last - timedelta(days=offset) for offset in range(count - 1, -1, -1)]


# ------------------------------------------------------------------------------------- recurring groups

STOP_WORDS = frozenset(
    """
    a about above after again against all am an and any are aren as at be because been before being below
    between both but by can cannot cant could couldn did didn do does doesn doing don down during each few for
    from further had hadn has hasn have haven having he her here hers herself him himself his how i if in into
    is isn it its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should shouldn so some such than that the their theirs them themselves
    then there these they this those through to too under until up very was wasn we were weren what when
    where which while who whom why will with won would wouldn you your yours yourself yourselves
    able unable also again anymore get gets getting got still keep keeps since today yesterday morning
    issue issues problem problems error errors fail fails failed failing failure work works working
    wrong broken please help urgent asap user users someone anyone everyone nobody people team
    d365 dynamics 365 fo f&o system new via using use used
    """.split()
)
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


def significant_words(title: str) -> frozenset[str]:
    """The words of a title that say what it is about: case-folded, accents kept, stop words and numbers
    dropped, apostrophes removed ("can't" → "cant"), a plural "s" dropped from words of 5+ letters."""
    words: set[str] = set()
    for match in _WORD.finditer(unicodedata.normalize("NFKC", title).casefold()):
        word = match.group().replace("'", "").replace("’", "")
        if word.isdigit() or len(word) < 2 or word in STOP_WORDS:
            continue
        if len(word) >= 5 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        if word not in STOP_WORDS:
            words.add(word)
    return frozenset(words)


def _clusters(members: Sequence[B]) -> list[list[B]]:
    """Single-link clusters: two issues are linked when their titles share SIMILAR_MIN_SHARED_WORDS (two) words.

    Two titles share two words exactly when they share a pair of words, so an index of word pairs links every such pair
    of issues without comparing all pairs: each title costs its own pairs (a handful), not one comparison per issue of
    its bucket. Members linked by one pair are chained to its first holder, which single-link clustering allows.
    """
    assert SIMILAR_MIN_SHARED_WORDS == 2, "the index is of word pairs"
    parent = list(range(len(members)))

    def root(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    first_holder: dict[tuple[str, str], int] = {}
    for index, issue in enumerate(members):
        for pair in combinations(sorted(significant_words(issue.title)), 2):
            holder = first_holder.setdefault(pair, index)
            if holder != index:
                a, b = root(holder), root(index)
                if a != b:
                    parent[max(a, b)] = min(a, b)
    groups: dict[int, list[B]] = defaultdict(list)
    for index, issue in enumerate(members):
        groups[root(index)].append(issue)
    return list(groups.values())


def _keywords(members: list[B]) -> tuple[str, ...]:
    counts = Counter(word for issue in members for word in significant_words(issue.title))
    shared = [(word, n) for word, n in counts.items() if n >= 2]
    shared.sort(key=lambda item: (-item[1], item[0]))
    return tuple(word for word, _ in shared[:5])


def recurring_groups(issues: Sequence[Brief]) -> list[RecurringGroup]:
    """Every group of ≥ RECURRING_MIN issues with the same area and category and similar titles.

    Duplicates are left out (they are one problem reported twice, already merged), and so are issues
    without an area or a category (nothing says they are the same kind of problem). Deterministic: the
    input order does not matter.
    """
    buckets: dict[tuple[Area, Category], list[Brief]] = defaultdict(list)
    for issue in issues:
        if issue.status is Status.DUPLICATE or issue.area is None or issue.category is None:
            continue
        buckets[(issue.area, issue.category)].append(issue)
    groups: list[RecurringGroup] = []
    for (area, category), members in buckets.items():
        if len(members) < RECURRING_MIN:
            continue
        members.sort(key=lambda issue: (issue.number, issue.id))
        for cluster in _clusters(members):
            if len(cluster) < RECURRING_MIN:
                continue
            groups.append(
                RecurringGroup(
                    area=area,
                    category=category,
                    issue_ids=tuple(issue.id for issue in cluster),
                    issue_numbers=tuple(issue.number for issue in cluster),
                    keywords=_keywords(cluster),
                    title=cluster[0].title,
                )
            )
    groups.sort(key=lambda group: (-group.size, group.issue_numbers[0]))
    return groups


def recurring_candidates(issues: Sequence[Brief], runbook_linked_issue_ids: set[int]) -> list[RecurringGroup]:
    """Recurring groups none of whose issues is linked to a runbook: "write a runbook" candidates."""
    return [
        group for group in recurring_groups(issues) if not runbook_linked_issue_ids.intersection(group.issue_ids)
    ]


def runbook_coverage(issues: list[Issue], runbook_linked_issue_ids: set[int]) -> Ratio:
    """Resolved issues in a recurring area+category (≥ RECURRING_MIN resolved there) that are linked to a
    runbook ÷ all such resolved issues. Titles do not matter here: a runbook is judged by what it covers."""
    resolved: dict[tuple[Area, Category], list[int]] = defaultdict(list)
    for issue in issues:
        if _resolved_at(issue) is not None and issue.area is not None and issue.category is not None:
            resolved[(issue.area, issue.category)].append(issue.id)
    recurring = [issue_id for ids in resolved.values() if len(ids) >= RECURRING_MIN for issue_id in ids]
    return Ratio(hits=sum(1 for issue_id in recurring if issue_id in runbook_linked_issue_ids), total=len(recurring))


# ------------------------------------------------------------------------------------------------ metrics


def day_figures(issues: Sequence[Brief], settings: WarRoomSettings, now: datetime) -> tuple[DayFigures, ...]:
    """Each local day of the phase (see the module notes), as of `now`."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    calendar = settings.calendar
    days = phase_days(issues, settings, now)

    incoming = Counter(calendar.local_date(issue.created_at) for issue in issues)
    resolved_days = Counter(
        calendar.local_date(moment) for issue in issues if (moment := _resolved_at(issue)) is not None
    )
    figures: list[DayFigures] = []
    for day in days:
        cut = min(calendar.at_local(day + timedelta(days=1), time(0, 0)), now)
        open_by_severity = {severity: 0 for severity in Severity}
        for issue in issues:
            if _is_open_at(issue, cut):
                open_by_severity[issue.severity] += 1
        figures.append(
            DayFigures(
                day=day,
                cut=cut,
                incoming=incoming[day],
                resolved=resolved_days[day],
                open_by_severity=open_by_severity,
                support_share=support_share(issues, now=cut),
                escalation_rate=escalation_rate(issues, now=cut),
            )
        )
    return tuple(figures)


def compute_metrics(
    issues: list[Issue], *, settings: WarRoomSettings, now: datetime, runbook_linked_issue_ids: set[int]
) -> PhaseMetrics:
    figures = day_figures(issues, settings, now)
    mtta: dict[Severity, list[timedelta]] = {severity: [] for severity in Severity}
    mttr: dict[Severity, list[timedelta]] = {severity: [] for severity in Severity}
    for issue in issues:
        if issue.acknowledged_at is not None:
            mtta[issue.severity].append(max(issue.acknowledged_at - issue.created_at, timedelta()))
        if (resolved := _resolved_at(issue)) is not None:
            mttr[issue.severity].append(max(resolved - issue.created_at, timedelta()))

    severity_counts = Counter(issue.severity for issue in issues)
    return PhaseMetrics(
        now=now,
        time_zone=settings.calendar.time_zone,
        first_day=figures[0].day if figures else None,
        last_day=figures[-1].day if figures else None,
        days=figures,
        raised_total=len(issues),
        resolved_total=sum(1 for issue in issues if _resolved_at(issue) is not None),
        deferred_total=sum(1 for issue in issues if issue.status is Status.DEFERRED),
        duplicate_total=sum(1 for issue in issues if issue.status is Status.DUPLICATE),
        by_severity=tuple(
            Tally(key=str(int(severity)), label=severity.label, count=severity_counts[severity]) for severity in Severity
        ),
        by_category=_tallies((issue.category for issue in issues), list(Category)),
        by_area=_tallies((issue.area for issue in issues), list(Area)),
        open_now={severity: sum(1 for i in issues if i.status.is_open and i.severity is severity) for severity in Severity},
        mtta=tuple(_stats(severity, mtta[severity]) for severity in Severity),
        mttr=tuple(_stats(severity, mttr[severity]) for severity in Severity),
        sla=sla_attainment(issues, now=now),
        support_share_now=support_share(issues, now=now),
        incoming_share_now=incoming_share(issues, now=now),
        escalation_rate_now=escalation_rate(issues, now=now),
        floor_walker_resolved=tuple(floor_walker_resolutions(issues)),
        runbook_coverage=runbook_coverage(issues, runbook_linked_issue_ids),
        recurring_candidates=tuple(recurring_candidates(issues, runbook_linked_issue_ids)),
    )
