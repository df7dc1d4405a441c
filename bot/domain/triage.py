"""Triage rules: who may do what to an issue, from which status, and what it changes."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.domain.model import (
    OPEN_STATUSES,
    Confirmation,
    Escalation,
    HandledBy,
    Issue,
    Person,
    Priority,
    PriorityDecision,
    ProgressNote,
    Resolution,
    ResolutionType,
    Role,
    Severity,
    Status,
)
from bot.domain.calendar import WorkingCalendar
from bot.domain.events import Event, Verb
from bot.domain.permissions import Action, may, needs_role
from bot.domain.policy import SeverityPolicy
from bot.domain.signoff import closes_by

NOTE_MAX = 2000
REASON_MAX = 500
RESOLUTION_NOTES_MAX = 4000


class _Command(BaseModel):
    model_config = ConfigDict(frozen=True, str_strip_whitespace=True)


class Acknowledge(_Command):
    verb: Verb = Verb.ACKNOWLEDGE


class Take(_Command):
    verb: Verb = Verb.TAKE


class Assign(_Command):
    verb: Verb = Verb.ASSIGN
    assignee: Person


class ChangeSeverity(_Command):
    verb: Verb = Verb.CHANGE_SEVERITY
    severity: Severity
    reason: str = Field(min_length=1, max_length=REASON_MAX)


class AddUpdate(_Command):
    verb: Verb = Verb.ADD_UPDATE
    text: str = Field(min_length=1, max_length=NOTE_MAX)


class Resolve(_Command):
    verb: Verb = Verb.RESOLVE
    notes: str = Field(min_length=1, max_length=RESOLUTION_NOTES_MAX)
    resolution_type: ResolutionType
    # None: taken from the resolver's role (support team member → support, anyone else → partner); only a
    # triage lead may give another (it feeds the exit criterion "the support team handles the volume").
    handled_by: HandledBy | None = None
    save_as_runbook: bool = False
    runbook_title: str | None = Field(default=None, max_length=120)


class Reopen(_Command):
    verb: Verb = Verb.REOPEN
    reason: str = Field(min_length=1, max_length=REASON_MAX)


class MeToo(_Command):
    verb: Verb = Verb.ME_TOO


class MarkDuplicate(_Command):
    verb: Verb = Verb.DUPLICATE
    of_number: int = Field(ge=1)


class Defer(_Command):
    verb: Verb = Verb.DEFER
    reason: str | None = Field(default=None, max_length=REASON_MAX)


class Escalate(_Command):
    """The support team (or a floor walker) hands the issue to the partner: to whoever is on call, else the partner team."""

    verb: Verb = Verb.ESCALATE
    reason: str = Field(min_length=1, max_length=REASON_MAX)


class DecidePriority(_Command):
    """Agreed at the stand-up of `standup_on` (local date) for an issue that needed a decision."""

    verb: Verb = Verb.DECIDE
    priority: Priority
    standup_on: date
    severity: Severity | None = None  # Priority.SEVERITY only
    reason: str | None = Field(default=None, max_length=REASON_MAX)

    @model_validator(mode="after")
    def _severity_when_changing_it(self) -> DecidePriority:
        if (self.priority is Priority.SEVERITY) != (self.severity is not None):
            raise ValueError("a new severity goes with a severity decision, and only with it")
        return self


class ConfirmFix(_Command):
    """"Fixed for me" (the reporter), or Confirm at the stand-up (a triage lead or key user): the resolution is closed."""

    verb: Verb = Verb.CONFIRM


class StillBroken(_Command):
    """"Still broken" (the reporter), or Reopen at the stand-up: reopened, with what is still wrong in their words."""

    verb: Verb = Verb.STILL_BROKEN
    text: str = Field(min_length=1, max_length=REASON_MAX)


TriageCommand = (
    Acknowledge | Take | Assign | ChangeSeverity | AddUpdate | Resolve | Reopen | MeToo | MarkDuplicate | Defer | Escalate
    | DecidePriority | ConfirmFix | StillBroken
)

_CLOSED = frozenset({Status.RESOLVED, Status.DEFERRED, Status.DUPLICATE})
ALLOWED_FROM: dict[Verb, frozenset[Status]] = {
    Verb.ACKNOWLEDGE: frozenset({Status.NEW, Status.REOPENED}),
    Verb.TAKE: OPEN_STATUSES,
    Verb.ASSIGN: OPEN_STATUSES,
    Verb.CHANGE_SEVERITY: OPEN_STATUSES | {Status.DEFERRED},
    Verb.ADD_UPDATE: frozenset(Status),
    Verb.RESOLVE: OPEN_STATUSES,
    Verb.REOPEN: _CLOSED,
    Verb.ME_TOO: OPEN_STATUSES | {Status.DEFERRED},
    Verb.DUPLICATE: OPEN_STATUSES | {Status.DEFERRED},
    Verb.DEFER: OPEN_STATUSES,
    Verb.ESCALATE: OPEN_STATUSES,
    Verb.DECIDE: OPEN_STATUSES,
    # Only while it waits for confirmation: a closed issue is reopened with Reopen.
    Verb.CONFIRM: frozenset({Status.RESOLVED}),
    Verb.STILL_BROKEN: frozenset({Status.RESOLVED}),
}

DEFERRABLE = frozenset({Severity.SEV3, Severity.SEV4})


class Refusal(BaseModel):
    model_config = ConfigDict(frozen=True)

    reason: str
    # The command's field the refusal is about, if one: the card shows the reason there, with what was typed.
    field: str | None = None


class Decision(BaseModel):
    """What a command does: the issue afterwards, the event to record, and what to tell the thread."""

    model_config = ConfigDict(frozen=True)

    issue: Issue
    event: Event
    announcement: str | None = None
    # People to @mention with `notice` in the issue's thread (e.g. "it is resolved").
    notify: tuple[Person, ...] = ()
    notice: str | None = None


def permission_refusal(verb: Verb, roles: frozenset[Role], *, is_reporter: bool) -> Refusal | None:
    if may(roles, verb.action, own=is_reporter):
        return None
    return Refusal(reason=f"{needs_role(verb.action, verb.infinitive)} An admin can give it with `roles add`.")


def _status_refusal(issue: Issue, verb: Verb) -> Refusal | None:
    if verb in (Verb.CONFIRM, Verb.STILL_BROKEN) and issue.resolution and issue.resolution.confirmation:
        confirmation = issue.resolution.confirmation
        how = "it closed automatically" if confirmation.by is None else f"{confirmation.by.name} confirmed the fix"
        return Refusal(reason=f"#{issue.number} is already closed: {how}. Reopen it if it is broken again.")
    if issue.status in ALLOWED_FROM[verb]:
        return None
    if verb is Verb.ACKNOWLEDGE and issue.status.is_open and issue.acknowledged_by is not None:
        return Refusal(reason=f"#{issue.number} was already acknowledged by {issue.acknowledged_by.name}.")
    return Refusal(reason=f"#{issue.number} is {issue.status.label.lower()}, so you cannot {verb.on_this_issue} now.")


def decide(
    issue: Issue,
    command: TriageCommand,
    *,
    actor: Person,
    roles: frozenset[Role],
    now: datetime,
    policy: SeverityPolicy,
    calendar: WorkingCalendar,
    duplicate_target: Issue | None = None,
    on_call: Person | None = None,
    partner_team: tuple[Person, ...] = (),
    auto_close_working_days: int = 3,
) -> Decision | Refusal:
    """`on_call` and `partner_team`: whom an escalation goes to (the war room's on-call person, else the partner role).
    `auto_close_working_days`: how long a resolution waits for its confirmation (the war room's setting)."""
    is_reporter = actor.aad_object_id is not None and actor.aad_object_id == issue.reporter.aad_object_id
    refusal = permission_refusal(command.verb, roles, is_reporter=is_reporter) or _status_refusal(issue, command.verb)
    if refusal is not None:
        return refusal
    event = Event(verb=command.verb.value, actor=actor, at=now)

    def changed(event: Event, **updates: object) -> Decision:
        return Decision(issue=issue.model_copy(update={**updates, "updated_at": now}), event=event)

    match command:
        case Acknowledge():
            return changed(
                event.model_copy(update={"from_value": issue.status.value, "to_value": Status.ACKNOWLEDGED.value}),
                status=Status.ACKNOWLEDGED,
                acknowledged_at=now,
                acknowledged_by=actor,
            )
        case Take() | Assign():
            assignee = actor if isinstance(command, Take) else command.assignee
            already = issue.status is Status.IN_PROGRESS and issue.assignee is not None and issue.assignee.key == assignee.key
            if already:
                return Refusal(reason=f"#{issue.number} is already assigned to {assignee.name}.")
            # Taking an issue acknowledges it: nobody takes work they have not seen.
            acknowledgement = {} if issue.acknowledged_at else {"acknowledged_at": now, "acknowledged_by": actor}
            return changed(
                event.model_copy(
                    update={"from_value": issue.assignee.name if issue.assignee else None, "to_value": assignee.name}
                ),
                status=Status.IN_PROGRESS,
                assignee=assignee,
                **acknowledgement,
            )
        case ChangeSeverity(severity=severity, reason=reason):
            if severity == issue.severity:
                return Refusal(reason=f"#{issue.number} is already {severity.label}.")
            # A deferred issue that turns out to matter more is hypercare work again.
            back = {"status": Status.REOPENED} if issue.status is Status.DEFERRED and severity not in DEFERRABLE else {}
            decision = changed(
                event.model_copy(
                    update={"from_value": str(int(issue.severity)), "to_value": str(int(severity)), "reason": reason}
                ),
                severity=severity,
                resolve_by=policy.resolve_by(severity, raised_at=issue.created_at, calendar=calendar),
                **back,
            )
            if Severity.SEV1 in (severity, issue.severity):
                direction = "raised to" if severity < issue.severity else "lowered to"
                announcement = f"#{issue.number} {direction} {severity.label} (was {issue.severity.label}) by {actor.name}: {reason}"
                decision = decision.model_copy(update={"announcement": announcement})
            return decision
        case AddUpdate(text=text):
            return changed(
                event.model_copy(update={"reason": text}),
                latest_update=ProgressNote(text=text, author=actor, at=now),
            )
        case Resolve():
            by_role = (
                HandledBy.SUPPORT if Role.SUPPORT in roles
                else HandledBy.FLOOR_WALKER if Role.FLOOR_WALKER in roles
                else HandledBy.PARTNER
            )
            handled_by = command.handled_by or by_role
            booked = handled_by.label
            if handled_by is not by_role:
                if not may(roles, Action.BOOK_OTHER_TEAM):
                    return Refusal(
                        field="handled_by",
                        reason=f"Handled by follows your role: the {by_role.label.lower()}. Only a triage lead can book it to the "
                        f"{handled_by.label.lower()}; leave Handled by on “From my role”, or ask a triage lead to resolve it.",
                    )
                booked += f", booked by triage lead {actor.name} instead of {by_role.label.lower()}"
            resolution = Resolution(
                type=command.resolution_type,
                notes=command.notes,
                handled_by=handled_by,
                resolved_by=actor,
                resolved_at=now,
                save_as_runbook=command.save_as_runbook,
                runbook_title=(command.runbook_title or issue.title) if command.save_as_runbook else None,
                close_by=closes_by(now, calendar=calendar, working_days=auto_close_working_days),
            )
            decision = changed(
                event.model_copy(
                    update={
                        "from_value": issue.status.value,
                        "to_value": Status.RESOLVED.value,
                        "reason": f"{command.resolution_type.label} ({booked}): {command.notes}",
                    }
                ),
                status=Status.RESOLVED,
                resolution=resolution,
            )
            return decision.model_copy(
                update={
                    "notify": (issue.reporter, *issue.followers),
                    "notice": f"Resolved: #{issue.number} {issue.title} ({command.resolution_type.label}).\n{command.notes}",
                }
            )
        case Reopen(reason=reason):
            return changed(
                event.model_copy(update={"from_value": issue.status.value, "to_value": Status.REOPENED.value, "reason": reason}),
                status=Status.REOPENED,
                resolution=None,
                duplicate_of=None,
                acknowledged_at=None,
                acknowledged_by=None,
                decision=None,  # back on the stand-up's "needs a decision"
            )
        case ConfirmFix():
            assert issue.resolution is not None  # resolved and unconfirmed, as _status_refusal checked
            confirmed = issue.resolution.model_copy(update={"confirmation": Confirmation(at=now, by=actor), "close_by": None})
            return changed(event.model_copy(update={"from_value": issue.status_text, "to_value": "closed"}), resolution=confirmed)
        case StillBroken(text=text):
            assert issue.resolution is not None
            resolver = issue.resolution.resolved_by
            decision = changed(
                event.model_copy(update={"from_value": issue.status_text, "to_value": Status.REOPENED.value, "reason": text}),
                status=Status.REOPENED, resolution=None, acknowledged_at=None, acknowledged_by=None,
                decision=None,  # reopened like Reopen: back on the stand-up's "needs a decision"
            )
            # Whoever resolved it hears that the fix did not hold, in the words of who found it.
            notice = f"Still broken: #{issue.number} {issue.title} is reopened. {actor.name} says:\n{text}"
            return decision.model_copy(update={"notify": (resolver,) if resolver.key != actor.key else (), "notice": notice})
        case MeToo():
            known = {person.key for person in (issue.reporter, *issue.followers)}
            if actor.key in known:
                return Refusal(reason=f"You are already on #{issue.number}; you will hear when it is resolved.")
            return changed(event, followers=(*issue.followers, actor))
        case MarkDuplicate(of_number=number):
            if duplicate_target is None:
                return Refusal(reason=f"There is no issue #{number} in this war room.")
            if duplicate_target.id == issue.id:
                return Refusal(reason="An issue cannot be a duplicate of itself.")
            if duplicate_target.status is Status.DUPLICATE:
                return Refusal(
                    reason=f"#{number} is itself a duplicate of #{duplicate_target.duplicate_of}; use that number."
                )
            decision = changed(
                event.model_copy(update={"from_value": issue.status.value, "to_value": f"#{number}"}),
                status=Status.DUPLICATE,
                duplicate_of=number,
            )
            if duplicate_target.resolution is not None:
                # Its reporter joins an issue that is already fixed: tell them now, not at a resolution that came before.
                fix = duplicate_target.resolution
                notice = f"#{issue.number} is a duplicate of #{number}, already resolved ({fix.type.label}).\n{fix.notes}"
                decision = decision.model_copy(update={"notify": (issue.reporter, *issue.followers), "notice": notice})
            return decision
        case Defer(reason=reason):
            if issue.severity not in DEFERRABLE:
                return Refusal(
                    reason=f"Only Sev 3 and Sev 4 issues go to the post-go-live backlog; #{issue.number} is {issue.severity.label}."
                )
            return changed(
                event.model_copy(update={"from_value": issue.status.value, "to_value": Status.DEFERRED.value, "reason": reason}),
                status=Status.DEFERRED,
            )
        case Escalate(reason=reason):
            if issue.escalation is not None:
                return Refusal(
                    reason=f"#{issue.number} was already escalated to the partner by {issue.escalation.escalated_by.name}. "
                    "Assign it if someone else should have it."
                )
            # The one escalating has looked at it: that acknowledges it, as taking it would.
            acknowledgement = {} if issue.acknowledged_at else {"acknowledged_at": now, "acknowledged_by": actor}
            decision = changed(
                event.model_copy(
                    update={
                        "from_value": issue.assignee.name if issue.assignee else None,
                        "to_value": on_call.name if on_call else "the partner team",
                        "reason": reason,
                    }
                ),
                escalation=Escalation(escalated_by=actor, escalated_at=now, reason=reason, to=on_call),
                assignee=on_call,
                # Without an on-call person it waits, seen but unowned, for the partner team to take it.
                status=Status.IN_PROGRESS if on_call else Status.ACKNOWLEDGED,
                **acknowledgement,
            )
            return decision.model_copy(
                update={
                    "notify": (on_call,) if on_call else partner_team,
                    "notice": f"Escalated to the partner by {actor.name}: #{issue.number} {issue.title}.\nWhy: {reason}",
                }
            )
        case DecidePriority():
            return _decide_priority(issue, command, event, actor=actor, now=now, policy=policy, calendar=calendar)
    raise AssertionError(f"unhandled command {command!r}")


def _decide_priority(
    issue: Issue, command: DecidePriority, event: Event, *, actor: Person, now: datetime, policy: SeverityPolicy,
    calendar: WorkingCalendar,
) -> Decision | Refusal:
    agreed = PriorityDecision(priority=command.priority, by=actor, at=now, standup_on=command.standup_on)
    reason = f"At the stand-up of {command.standup_on.isoformat()}" + (f": {command.reason}" if command.reason else "")
    event = event.model_copy(update={"reason": reason})
    updates: dict[str, object] = {"decision": agreed, "updated_at": now}
    match command.priority:
        case Priority.KEEP:
            event = event.model_copy(update={"to_value": Priority.KEEP.label})
        case Priority.DEFER:
            if issue.severity not in DEFERRABLE:
                return Refusal(reason=f"Only Sev 3 and Sev 4 issues go to the post-go-live backlog; #{issue.number} is {issue.severity.label}.")
            event = event.model_copy(update={"from_value": issue.status.value, "to_value": Priority.DEFER.label})
            updates["status"] = Status.DEFERRED
        case Priority.SEVERITY:
            severity = command.severity
            assert severity is not None  # checked by the command
            if severity == issue.severity:
                return Refusal(reason=f"#{issue.number} is already {severity.label}.")
            event = event.model_copy(update={"from_value": str(int(issue.severity)), "to_value": str(int(severity))})
            updates |= {"severity": severity, "resolve_by": policy.resolve_by(severity, raised_at=issue.created_at, calendar=calendar)}
    return Decision(issue=issue.model_copy(update=updates), event=event)


def merge_followers(target: Issue, duplicate: Issue) -> tuple[Person, ...]:
    """The duplicate's reporter and followers join the target's followers, once each."""
    seen = {person.key for person in (target.reporter, *target.followers)}
    merged = list(target.followers)
    for person in (duplicate.reporter, *duplicate.followers):
        if person.key not in seen:
            seen.add(person.key)
            merged.append(person)
    return tuple(merged)
