"""Leaving hypercare: the exit criteria, where the phase stands, and the figures they rest on."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from bot.domain.brief import Brief
from bot.domain.model import HandledBy, Person, Severity, Status
from bot.domain.war_room import WarRoomSettings

SUPPORT_SHARE_WINDOW = timedelta(days=7)
# The stand-up warns this many working days before the planned end if the criteria are not met.
WARNING_WORKING_DAYS = 3


class Ratio(BaseModel):
    model_config = ConfigDict(frozen=True)

    hits: int
    total: int

    @property
    def percent(self) -> float | None:
        return 100.0 * self.hits / self.total if self.total else None

    def text(self) -> str:
        return "no data yet" if self.percent is None else f"{self.percent:.0f}% ({self.hits} of {self.total})"


def support_share(issues: Sequence[Brief], *, now: datetime, window: timedelta = SUPPORT_SHARE_WINDOW) -> Ratio:
    """Issues resolved by the customer's support team ÷ all resolved, in the window before `now`."""
    recent = [
        issue.handled_by
        for issue in issues
        if issue.status is Status.RESOLVED and issue.resolved_at is not None and now - window <= issue.resolved_at <= now
    ]
    return Ratio(hits=sum(1 for handled_by in recent if handled_by is HandledBy.SUPPORT), total=len(recent))


# Who counts as "the support team" for the incoming-volume criterion: its own people and the floor walkers.
_SUPPORT_SIDE = frozenset({HandledBy.SUPPORT, HandledBy.FLOOR_WALKER})


def _incoming(issues: Sequence[Brief], now: datetime, window: timedelta) -> list[Brief]:
    """Issues raised in the window before `now`; duplicates (one problem, counted once) and deferred issues (after
    hypercare) are not hypercare volume."""
    return [
        issue for issue in issues
        if now - window <= issue.created_at <= now and issue.status not in (Status.DUPLICATE, Status.DEFERRED)
    ]


def _escalated(issue: Brief, now: datetime) -> bool:
    return issue.escalated_at is not None and issue.escalated_at <= now


def _resolved_by(issue: Brief, now: datetime) -> HandledBy | None:
    if issue.status is Status.RESOLVED and issue.resolved_at is not None and issue.resolved_at <= now:
        return issue.handled_by
    return None


def incoming_share(issues: Sequence[Brief], *, now: datetime, window: timedelta = SUPPORT_SHARE_WINDOW) -> Ratio:
    """Issues raised in the window that the support team or a floor walker resolved without escalating to the
    partner ÷ those raised in the window whose outcome is known (resolved by anyone, or escalated). An issue still
    open and not escalated is left out until it is one or the other."""
    hits = known = 0
    for issue in _incoming(issues, now, window):
        escalated, resolved_by = _escalated(issue, now), _resolved_by(issue, now)
        if escalated or resolved_by is not None:
            known += 1
            hits += not escalated and resolved_by in _SUPPORT_SIDE
    return Ratio(hits=hits, total=known)


def escalation_rate(issues: Sequence[Brief], *, now: datetime, window: timedelta = SUPPORT_SHARE_WINDOW) -> Ratio:
    """Issues raised in the window that were escalated to the partner (by `now`) ÷ all issues raised in the window."""
    incoming = _incoming(issues, now, window)
    return Ratio(hits=sum(1 for issue in incoming if _escalated(issue, now)), total=len(incoming))


def _share_text(ratio: Ratio, of: str) -> str:
    return f"no {of} yet" if ratio.percent is None else f"{ratio.percent:.0f}% of {of} ({ratio.hits} of {ratio.total})"


def sla_attainment(issues: Sequence[Brief], *, now: datetime) -> Ratio:
    """Sev 1/2 issues resolved within their target ÷ those whose outcome is known.

    Known: resolved (in time or late), or still open past the target (already missed).
    """
    met = missed = 0
    for issue in issues:
        if issue.severity not in (Severity.SEV1, Severity.SEV2) or issue.resolve_by is None:
            continue
        if issue.status is Status.RESOLVED and issue.resolved_at is not None:
            if issue.resolved_at <= issue.resolve_by:
                met += 1
            else:
                missed += 1
        elif issue.status.is_open and issue.resolve_by < now:
            missed += 1
    return Ratio(hits=met, total=met + missed)


class Criterion(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    label: str
    value: str
    target: str
    passed: bool


class PhaseDay(BaseModel):
    model_config = ConfigDict(frozen=True)

    day: int
    of: int
    working_days_left: int
    # Working days (by the war room's calendar) since the planned end; 0 until it has passed.
    past_end: int = 0

    @property
    def overrun(self) -> bool:
        """Today is after the planned end (and nobody signed off, or the report would not be asked)."""
        return self.day > self.of

    def text(self) -> str:
        if not self.overrun:
            return f"Day {self.day} of {self.of}"
        if not self.past_end:  # the planned end was the last working day before a weekend
            return f"Day {self.day}: past the planned end"
        return f"Day {self.day}: {self.past_end} working day{'s' if self.past_end != 1 else ''} past the planned end"


class ExitReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    criteria: tuple[Criterion, ...]
    signed_off_at: datetime | None
    signed_off_by: Person | None
    phase: PhaseDay | None
    ends_on_text: str | None

    @property
    def measured_pass(self) -> bool:
        """Criteria 1–4, the ones the bot measures: sign-off is allowed only when all pass."""
        return all(criterion.passed for criterion in self.criteria)

    @property
    def warning(self) -> str | None:
        """Said plainly on the stand-up from three working days before the planned end, and every day after it."""
        if self.signed_off_at or not self.phase:
            return None
        failing = "; ".join(c.label for c in self.criteria if not c.passed)
        if self.phase.overrun:
            state = "the exit criteria are met" if self.measured_pass else f"the exit criteria are not met ({failing})"
            return (f"Hypercare has run past its planned end ({self.ends_on_text}) and {state}. "
                    "Leadership: extend it (`extend 2w REASON`) or sign it off (`exit`).")
        if self.measured_pass or self.phase.working_days_left > WARNING_WORKING_DAYS:
            return None
        left = self.phase.working_days_left
        when = "today" if left == 0 else f"in {left} working day{'s' if left != 1 else ''}"
        return f"Hypercare is planned to end {when} and the exit criteria are not met ({failing}). Decide: fix, or `extend`."


def phase_day(settings: WarRoomSettings, now: datetime) -> PhaseDay | None:
    if not (settings.starts_on and settings.ends_on):
        return None
    calendar = settings.calendar
    today = calendar.local_date(now)
    total = (settings.ends_on - settings.starts_on).days + 1
    day = max((today - settings.starts_on).days + 1, 0)
    # Counted from today, or (before the phase starts) from the eve of its first day: never more days than the phase has.
    counted_from = max(today, settings.starts_on - timedelta(days=1))
    left = sum(
        1
        for offset in range(1, (settings.ends_on - counted_from).days + 1)
        if calendar.is_working_day(counted_from + timedelta(days=offset))
    ) if today <= settings.ends_on else 0
    past_end = sum(
        1 for offset in range(1, (today - settings.ends_on).days + 1) if calendar.is_working_day(settings.ends_on + timedelta(days=offset))
    )
    return PhaseDay(day=day, of=total, working_days_left=left, past_end=past_end)


def evaluate_exit(
    issues: Sequence[Brief], settings: WarRoomSettings, *, now: datetime, signed_off_at: datetime | None = None,
    signed_off_by: Person | None = None,
) -> ExitReport:
    open_issues = [issue for issue in issues if issue.status.is_open]
    # A Sev 1 is gone only once its fix is confirmed (or closed by itself): a resolution nobody confirmed still counts.
    unconfirmed_sev1 = sum(1 for issue in issues if issue.severity is Severity.SEV1 and issue.awaiting_confirmation)
    sev1 = sum(1 for issue in open_issues if issue.severity is Severity.SEV1) + unconfirmed_sev1
    sev2 = sum(1 for issue in open_issues if issue.severity is Severity.SEV2)
    share = support_share(issues, now=now)
    incoming = incoming_share(issues, now=now)
    sla = sla_attainment(issues, now=now)
    criteria = (
        Criterion(
            key="sev1", label="No open Sev 1", target="0", passed=sev1 == 0,
            value=f"{sev1} ({unconfirmed_sev1} resolved, awaiting confirmation)" if unconfirmed_sev1 else str(sev1),
        ),
        Criterion(
            key="sev2", label="Sev 2 backlog under the cap", value=str(sev2), target=f"≤ {settings.sev2_cap}",
            passed=sev2 <= settings.sev2_cap,
        ),
        Criterion(
            # Judged on the incoming volume; the share of resolutions (the earlier measure) is shown beside it.
            key="support_share", label="Support team handles the incoming volume",
            value=f"{_share_text(incoming, 'incoming')} · {_share_text(share, 'resolutions')}",
            target=f"≥ {settings.support_share_target}% of incoming issues, last 7 days",
            # Without an outcome in the window there is nothing to show the support team copes.
            passed=incoming.percent is not None and incoming.percent >= settings.support_share_target,
        ),
        Criterion(
            key="sla", label="Sev 1/2 resolved within target", value=sla.text(), target=f"≥ {settings.sla_target}%",
            passed=sla.percent is None or sla.percent >= settings.sla_target,
        ),
    )
    return ExitReport(
        criteria=criteria,
        signed_off_at=signed_off_at,
        signed_off_by=signed_off_by,
        phase=phase_day(settings, now),
        ends_on_text=settings.ends_on.isoformat() if settings.ends_on else None,
    )
