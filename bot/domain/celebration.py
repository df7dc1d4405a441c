"""The end of a hypercare phase: the phase in numbers, the people to thank, and the backlog handed over.

Pure: issues in, the celebration out, as of the sign-off (so the card drawn again later, for the hand-over
button, shows the same figures).

Conventions:
* **Days**: local calendar days from the phase's start (`starts_on`, or the day of the first issue) to the
  day of the sign-off, both counted.
* **Raised / resolved**: every issue of the phase / those resolved (deferred and duplicates are not resolved).
* **Speed**: the median time to acknowledge and to resolve per current severity (bot/domain/metrics.py).
* **Support-team share**: resolutions booked to the customer's support team ÷ all resolutions, in the first
  7 days of the phase and in the 7 days before the sign-off (the exit criterion's window).
* **Thanks**: for each kind of contribution in `CONTRIBUTIONS`, the `THANKS_LIMIT` people with most of it
  (most first, then by name). Floor walkers (issue 14) join as one more row of that table, counted from what
  they record; nothing else changes, the card shows every row.
* **Hand-over backlog**: the deferred issues (only Sev 3 and 4 can be deferred), by severity then number.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta

from pydantic import BaseModel, ConfigDict

from bot.domain.charts import ChartSeries
from bot.domain.exit_criteria import Ratio, support_share
from bot.domain.metrics import DurationStats, compute_metrics
from bot.domain.model import Issue, Person, Status
from bot.domain.war_room import WarRoomSettings

THANKS_LIMIT = 3
FIRST_WEEK = timedelta(days=7)


class Tribute(BaseModel):
    model_config = ConfigDict(frozen=True)

    person: Person
    count: int


class Thanks(BaseModel):
    """The people who did most of one kind of contribution ("Resolved most")."""

    model_config = ConfigDict(frozen=True)

    heading: str
    people: tuple[Tribute, ...]


def _resolvers(issue: Issue) -> Iterable[Person]:
    if issue.status is Status.RESOLVED and issue.resolution is not None:
        yield issue.resolution.resolved_by


def _reporters(issue: Issue) -> Iterable[Person]:
    yield issue.reporter


# What the celebration thanks people for: a heading, and who contributed to an issue that way.
CONTRIBUTIONS: tuple[tuple[str, Callable[[Issue], Iterable[Person]]], ...] = (
    ("Resolved most", _resolvers),
    ("Reported most", _reporters),
)


class Celebration(BaseModel):
    model_config = ConfigDict(frozen=True)

    war_room_name: str
    signed_off_at: datetime
    signed_off_by: Person | None
    steady_state_support: str | None
    first_day: date | None
    last_day: date
    raised: int
    resolved: int
    mtta: tuple[DurationStats, ...]  # Sev 1 to 4
    mttr: tuple[DurationStats, ...]
    support_share_first_week: Ratio
    support_share_last_week: Ratio
    runbooks_written: int
    thanks: tuple[Thanks, ...]
    backlog: tuple[Issue, ...]
    chart: ChartSeries

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1 if self.first_day else 0


def thanks(issues: list[Issue]) -> tuple[Thanks, ...]:
    groups = []
    for heading, contributors in CONTRIBUTIONS:
        counts: Counter[str] = Counter()
        people: dict[str, Person] = {}
        for issue in issues:
            for person in contributors(issue):
                counts[person.key] += 1
                people.setdefault(person.key, person)
        top = sorted(counts.items(), key=lambda item: (-item[1], people[item[0]].name.casefold(), item[0]))[:THANKS_LIMIT]
        groups.append(Thanks(heading=heading, people=tuple(Tribute(person=people[key], count=n) for key, n in top)))
    return tuple(groups)


def hand_over_backlog(issues: list[Issue]) -> tuple[Issue, ...]:
    return tuple(sorted((i for i in issues if i.status is Status.DEFERRED), key=lambda i: (int(i.severity), i.number)))


def celebrate(
    issues: list[Issue], *, settings: WarRoomSettings, war_room_name: str, signed_off_at: datetime,
    signed_off_by: Person | None, runbooks_written: int,
) -> Celebration:
    calendar = settings.calendar
    metrics = compute_metrics(issues, settings=settings, now=signed_off_at, runbook_linked_issue_ids=set())
    first_day = settings.starts_on or min((calendar.local_date(i.created_at) for i in issues), default=None)
    first_week_end = (
        min(calendar.at_local(first_day + FIRST_WEEK, time(0, 0)), signed_off_at) if first_day else signed_off_at
    )
    return Celebration(
        war_room_name=war_room_name,
        signed_off_at=signed_off_at,
        signed_off_by=signed_off_by,
        steady_state_support=settings.steady_state_support,
        first_day=first_day,
        last_day=calendar.local_date(signed_off_at),
        raised=metrics.raised_total,
        resolved=metrics.resolved_total,
        mtta=metrics.mtta,
        mttr=metrics.mttr,
        support_share_first_week=support_share(issues, now=first_week_end, window=FIRST_WEEK),
        support_share_last_week=support_share(issues, now=signed_off_at, window=FIRST_WEEK),
        runbooks_written=runbooks_written,
        thanks=thanks(issues),
        backlog=hand_over_backlog(issues),
        chart=ChartSeries.of(metrics.days),
    )
