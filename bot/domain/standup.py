"""The daily stand-up summary: what the partner team, key users, IT and leadership look at each morning."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict

from bot.domain.exit_criteria import ExitReport
from bot.domain.floor import FloorWalker
from bot.domain.model import HandledBy, Issue, Person, Priority, Severity, Status
from bot.domain.events import ago
from bot.domain.policy import DEFAULT_POLICY, SeverityPolicy
from bot.domain.priorities import ScopeLine, chasing, scope_in_hypercare, unique_people
from bot.domain.war_room import WarRoom

# Lists on the card stop here and say how many more there are.
LIST_LIMIT = 8


class StandupSummary(BaseModel):
    model_config = ConfigDict(frozen=True)

    war_room_name: str
    now: datetime
    since: datetime | None
    new: tuple[Issue, ...]
    open_by_severity: dict[Severity, int]
    urgent: tuple[Issue, ...]  # open Sev1 and Sev2, most severe and oldest first
    breached: tuple[Issue, ...]
    resolved: tuple[Issue, ...]
    resolved_by: dict[HandledBy, int]
    deferred_count: int
    oldest_open: tuple[Issue, ...]
    needs_decision: tuple[tuple[Issue, str], ...]
    exit_report: ExitReport | None = None
    # Recurring problems with no runbook: (what they have in common, the issue numbers).
    runbook_candidates: tuple[tuple[str, tuple[int, ...]], ...] = ()
    # The window has an agreed end; until then the stand-up opens with a prompt to set it up.
    set_up: bool = True
    # Who is on the floor today (the war room's local date), by name.
    floor_walkers: tuple[FloorWalker, ...] = ()
    # The stand-up's local date: decisions taken from its card are recorded as taken at it.
    standup_on: date | None = None
    # Priorities agreed at this stand-up so far (its card is redrawn after each).
    decided: tuple[Issue, ...] = ()
    # Scope discipline: Sev 3/4 issues still worked in hypercare, and how the policy chases a Sev 3.
    scope: ScopeLine = ScopeLine(total=0, owners=(), unassigned=0)
    sev3_chasing: str = chasing(Severity.SEV3, DEFAULT_POLICY)
    # The tenant and the team's name, for links to issue cards.
    tenant_id: str | None = None
    team_name: str | None = None
    # "Resolved since the last stand-up: sign off": every resolution still waiting for confirmation (most severe and
    # oldest first), then those resolved since the last stand-up that are closed already.
    sign_off: tuple[Issue, ...] = ()

    @property
    def open_total(self) -> int:
        return sum(self.open_by_severity.values())

    @property
    def owners_to_tell(self) -> tuple[Person, ...]:
        """The owners of what is past its target or waits for a decision: the stand-up @mentions them."""
        issues = (*self.breached, *(issue for issue, _ in self.needs_decision))
        return unique_people(issue.assignee for issue in issues if issue.assignee is not None)


def build_standup(
    *,
    war_room_name: str,
    open_issues: list[Issue],
    recent: list[Issue],
    deferred_count: int,
    since: datetime | None,
    now: datetime,
    exit_report: ExitReport | None = None,
    runbook_candidates: tuple[tuple[str, tuple[int, ...]], ...] = (),
    set_up: bool = True,
    floor_walkers: tuple[FloorWalker, ...] = (),
    standup_on: date | None = None,
    policy: SeverityPolicy = DEFAULT_POLICY,
    decided: tuple[Issue, ...] = (),
    tenant_id: str | None = None,
    team_name: str | None = None,
    awaiting_confirmation: list[Issue] | None = None,
) -> StandupSummary:
    """`open_issues`: every open issue; `recent`: issues raised or resolved since the last stand-up; `decided`: issues
    whose priority was agreed at the stand-up of `standup_on` (deferred ones are no longer open);
    `awaiting_confirmation`: every resolved issue nobody confirmed yet (however long ago it was resolved)."""
    ordered = sorted(open_issues, key=lambda issue: (issue.severity, issue.created_at))
    new = tuple(issue for issue in recent if since is None or issue.created_at >= since)
    resolved = tuple(
        issue
        for issue in recent
        if issue.status is Status.RESOLVED and issue.resolution and (since is None or issue.resolution.resolved_at >= since)
    )
    resolved_by = {handled_by: 0 for handled_by in HandledBy}
    for issue in resolved:
        assert issue.resolution is not None
        resolved_by[issue.resolution.handled_by] += 1
    needs_decision: list[tuple[Issue, str]] = []
    for issue in ordered:
        if issue.decision is not None:
            continue  # agreed at a stand-up; a reopening asks again
        if issue.severity <= Severity.SEV2 and issue.assignee is None:
            needs_decision.append((issue, "unassigned"))
        elif issue.status is Status.REOPENED:
            needs_decision.append((issue, "reopened"))
    waiting = sorted(awaiting_confirmation or (), key=lambda issue: (issue.severity, issue.resolution.resolved_at if issue.resolution else now))
    listed = {issue.id for issue in waiting}
    return StandupSummary(
        sign_off=(*waiting, *(issue for issue in resolved if issue.id not in listed)),
        war_room_name=war_room_name,
        now=now,
        since=since,
        new=new,
        open_by_severity={severity: sum(1 for i in ordered if i.severity is severity) for severity in Severity},
        urgent=tuple(issue for issue in ordered if issue.severity <= Severity.SEV2),
        breached=tuple(issue for issue in ordered if issue.resolve_by is not None and issue.resolve_by < now),
        resolved=resolved,
        resolved_by=resolved_by,
        deferred_count=deferred_count,
        oldest_open=tuple(sorted(ordered, key=lambda issue: issue.created_at)[:3]),
        needs_decision=tuple(needs_decision),
        exit_report=exit_report,
        runbook_candidates=runbook_candidates,
        set_up=set_up,
        floor_walkers=tuple(sorted(floor_walkers, key=lambda walker: walker.person.name.casefold())),
        standup_on=standup_on,
        decided=tuple(sorted(decided, key=lambda issue: issue.number)),
        scope=scope_in_hypercare(ordered),
        sev3_chasing=chasing(Severity.SEV3, policy),
        tenant_id=tenant_id,
        team_name=team_name,
    )


class StandupNotices(BaseModel):
    """What a scheduled stand-up tells besides the summary, and the marks that make each of it said once.

    The marks are stored with the war room in the transaction that queues the stand-up, so neither a restart nor a
    second replica says it again.
    """

    model_config = ConfigDict(frozen=True)

    # No agreed end yet: the stand-up opens with a prompt, its admins and triage leads @mentioned.
    setup_prompt: bool
    # The first stand-up past this planned end: leadership is @mentioned (the overrun itself is said every day).
    overrun_mention: bool
    # The exit criteria pass and leadership has not been told: "ready for sign-off", with the button.
    ready_for_sign_off: bool
    overrun_told_for: date | None
    ready_told_at: datetime | None


def asked_to_set_up(admins: tuple[Person, ...], leads: tuple[Person, ...]) -> tuple[Person, ...]:
    """Who the setup prompt @mentions: the war room's admins, then its triage leads, each once."""
    unique: dict[str, Person] = {}
    for person in (*admins, *leads):
        unique.setdefault(person.key, person)
    return tuple(unique.values())


def standup_notices(room: WarRoom, report: ExitReport, *, now: datetime) -> StandupNotices:
    """Leadership hears of an overrun once per planned end (an extension that is overrun again is news again).

    "Ready for sign-off" is said once while the criteria keep passing; a stand-up that finds them failing again
    clears the mark, so that passing again later is said again, at most once a stand-up. A withdrawn sign-off leaves
    the mark as it is: leadership withdrew knowing where the criteria stood.
    """
    overrun = report.phase is not None and report.phase.overrun and report.signed_off_at is None
    mention = overrun and room.overrun_told_for != room.settings.ends_on
    ready = report.measured_pass and report.signed_off_at is None
    tell_ready = ready and room.ready_told_at is None
    return StandupNotices(
        setup_prompt=not room.settings.set_up,
        overrun_mention=mention,
        ready_for_sign_off=tell_ready,
        overrun_told_for=room.settings.ends_on if mention else room.overrun_told_for,
        ready_told_at=now if tell_ready else room.ready_told_at if report.measured_pass else None,
    )


def where_it_stands(issue: Issue) -> str:
    """Its status and who has it; a resolved issue names who resolved it (often nobody had taken it first)."""
    if issue.status is Status.RESOLVED and issue.resolution:
        return f"resolved by {issue.resolution.resolved_by.name}"
    return f"{issue.status.label.lower()}, {issue.assignee.name if issue.assignee else 'unassigned'}"


def _line(issue: Issue, now: datetime) -> str:
    return f"#{issue.number} {issue.severity.label} {issue.title} — {where_it_stands(issue)}, raised {ago(now - issue.created_at)}"


def _section(title: str, issues: list[str]) -> list[str]:
    lines = [f"{title} ({len(issues)})"]
    lines += [f"  {line}" for line in issues[:LIST_LIMIT]]
    if len(issues) > LIST_LIMIT:
        lines.append(f"  …and {len(issues) - LIST_LIMIT} more (`list` shows them)")
    return lines


def exit_lines(report: ExitReport) -> list[str]:
    """The exit criteria, one line each."""
    lines = [f"{'PASS' if c.passed else 'FAIL'} {c.label}: {c.value} (target {c.target})" for c in report.criteria]
    lines.append(f"{'PASS' if report.signed_off_at else 'OPEN'} Leadership sign-off: {'signed off' if report.signed_off_at else 'not yet'}")
    return lines


def decision_text(issue: Issue) -> str:
    """`kept in hypercare by Lena Berg`, `severity changed to Sev 3 by Lena Berg`."""
    decision = issue.decision
    if decision is None:
        return ""
    what = f"severity changed to {issue.severity.label}" if decision.priority is Priority.SEVERITY else decision.priority.label
    return f"{what} by {decision.by.name}"


def scope_text(summary: StandupSummary) -> str:
    """"Sev 3/4 worked in hypercare: 3 (Omar Haddad 2, unassigned 1)"; then how the policy chases a Sev 3."""
    scope = summary.scope
    owners = [f"{name} {count}" for name, count in scope.owners] + ([f"unassigned {scope.unassigned}"] if scope.unassigned else [])
    counted = f"Sev 3/4 worked in hypercare: {scope.total}" + (f" ({', '.join(owners)})" if owners else "")
    return f"{counted}. A Sev 3 is {summary.sev3_chasing}."


def standup_text(summary: StandupSummary) -> str:
    """The stand-up as plain text (`hypercare standup --print`)."""
    now = summary.now
    counts = ", ".join(f"{severity.label}: {count}" for severity, count in summary.open_by_severity.items())
    report = summary.exit_report
    lines = [
        f"Hypercare stand-up — {summary.war_room_name} — {now:%Y-%m-%d %H:%M} UTC"
        + (f" — {report.phase.text()}" if report and report.phase else ""),
        *(["!! Hypercare here has no agreed end yet: an admin can set it up with `setup`."] if not summary.set_up else []),
        *([f"!! {report.warning}"] if report and report.warning else []),
        *(["Exit criteria:", *(f"  {line}" for line in exit_lines(report))] if report else []),
        f"Open: {summary.open_total} ({counts}); deferred to after hypercare: {summary.deferred_count}",
        *_section("New since the last stand-up", [_line(i, now) for i in summary.new]),
        *_section("Open Sev 1 and Sev 2", [_line(i, now) for i in summary.urgent]),
        *_section("Past their resolution target", [_line(i, now) for i in summary.breached]),
        *_section(
            f"Resolved since the last stand-up: sign off (support team {summary.resolved_by[HandledBy.SUPPORT]}, "
            f"partner {summary.resolved_by[HandledBy.PARTNER]})",
            [f"{_line(i, now)} [{i.status_text.lower()}]" for i in summary.sign_off],
        ),
        *_section("Needs a decision", [f"{_line(i, now)} [{why}]" for i, why in summary.needs_decision]),
        *(_section("Agreed at this stand-up", [f"{_line(i, now)} [{decision_text(i)}]" for i in summary.decided]) if summary.decided else []),
        *_section("Oldest open", [_line(i, now) for i in summary.oldest_open]),
        scope_text(summary),
    ]
    if summary.runbook_candidates:
        lines += _section(
            "Write a runbook: recurring without one",
            [f"{label}: " + ", ".join(f"#{n}" for n in numbers) for label, numbers in summary.runbook_candidates],
        )
    return "\n".join(lines)
