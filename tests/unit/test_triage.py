"""Triage rules: who may do what to an issue, from which status, and what each command changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError

from bot.domain.calendar import WorkingCalendar
from bot.domain.model import (
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
from bot.domain.policy import SeverityPolicy
from bot.domain.events import Event, Verb, ago, describe_change
from bot.domain.mentions import MENTIONS_PER_MESSAGE, NOTICE_MESSAGES_MAX, plan_mentions
from bot.domain.triage import (
    Acknowledge,
    AddUpdate,
    Assign,
    ChangeSeverity,
    Decision,
    DecidePriority,
    Defer,
    Escalate,
    MarkDuplicate,
    MeToo,
    Refusal,
    ConfirmFix,
    Reopen,
    Resolve,
    StillBroken,
    Take,
    TriageCommand,
    decide,
    merge_followers,
)
from tests.support.factories import OMAR, PRIYA, RAISED_AT, make_issue

NOW = datetime(2026, 11, 24, 15, 30, tzinfo=UTC)
POLICY = SeverityPolicy()

RAVI = Person(aad_object_id="aad-ravi", name="Ravi Menon")
LENA = Person(aad_object_id="aad-lena", name="Lena Fischer")

S1, S2, S3, S4 = Severity.SEV1, Severity.SEV2, Severity.SEV3, Severity.SEV4
R = Role
ALL_ROLES = tuple(Role)

# The duplicate target used wherever a MarkDuplicate needs one: #7, a different issue, still open.
TARGET = make_issue(id=2, number=7, title="Vendor invoices fail to post", reporter=OMAR)


def run(
    issue: Issue,
    command: TriageCommand,
    *,
    roles: frozenset[Role] | set[Role],
    actor: Person = OMAR,
    target: Issue | None = None,
    now: datetime = NOW,
    on_call: Person | None = None,
    partner_team: tuple[Person, ...] = (),
) -> Decision | Refusal:
    return decide(
        issue, command, actor=actor, roles=frozenset(roles), now=now, policy=POLICY, calendar=WorkingCalendar(),
        duplicate_target=target, on_call=on_call, partner_team=partner_team,
    )


def decided(result: Decision | Refusal) -> Decision:
    assert isinstance(result, Decision), f"expected a decision, got {result!r}"
    return result


def refused(result: Decision | Refusal) -> Refusal:
    assert isinstance(result, Refusal), f"expected a refusal, got {result!r}"
    return result


STANDUP_ON = date(2026, 11, 24)


def command_for(verb: Verb) -> TriageCommand:
    """A well-formed command for each verb (on a Sev 3 issue reported by Priya, acted on by Omar)."""
    commands: dict[Verb, TriageCommand] = {
        Verb.ACKNOWLEDGE: Acknowledge(),
        Verb.TAKE: Take(),
        Verb.ASSIGN: Assign(assignee=RAVI),
        Verb.CHANGE_SEVERITY: ChangeSeverity(severity=S2, reason="Month-end close is blocked"),
        Verb.ADD_UPDATE: AddUpdate(text="Checking the posting profile"),
        Verb.RESOLVE: Resolve(notes="Reset the posting profile", resolution_type=ResolutionType.CONFIGURATION_CHANGED),
        Verb.REOPEN: Reopen(reason="Still failing in DEMF"),
        Verb.ME_TOO: MeToo(),
        Verb.DUPLICATE: MarkDuplicate(of_number=7),
        Verb.DEFER: Defer(reason="Nice to have, after go-live"),
        Verb.ESCALATE: Escalate(reason="Needs a code fix in the posting class"),
        Verb.DECIDE: DecidePriority(priority=Priority.KEEP, standup_on=STANDUP_ON),
        Verb.CONFIRM: ConfirmFix(),
        Verb.STILL_BROKEN: StillBroken(text="Still fails for DEMF invoices"),
    }
    return commands[verb]


def test_command_for_covers_every_verb() -> None:
    assert {command_for(verb).verb for verb in Verb} == set(Verb)


# -- permissions ----------------------------------------------------------------------------

WORKERS = {R.ONCALL, R.SUPPORT, R.FLOOR_WALKER, R.PARTNER, R.TRIAGE_LEAD}
LEADS = {R.TRIAGE_LEAD}
# The customer's side escalates to the partner (and a triage lead or admin on their behalf).
ESCALATORS = {R.SUPPORT, R.FLOOR_WALKER, R.TRIAGE_LEAD, R.ADMIN}
EVERYONE = set(Role)

# What the product owner asked for, written out by hand (not read from bot.domain.permissions).
EXPECTED_PERMISSIONS: dict[Verb, set[Role]] = {
    Verb.ACKNOWLEDGE: WORKERS,
    Verb.TAKE: WORKERS,
    Verb.ASSIGN: WORKERS,
    Verb.RESOLVE: WORKERS,
    Verb.CHANGE_SEVERITY: LEADS,
    Verb.DUPLICATE: LEADS,
    Verb.DEFER: LEADS,
    Verb.REOPEN: LEADS,
    Verb.ADD_UPDATE: EVERYONE,
    Verb.ME_TOO: EVERYONE,
    Verb.ESCALATE: ESCALATORS,
    Verb.DECIDE: LEADS,
    # Signing off a resolution: the customer's side (key users are the support team), not whoever fixed it.
    Verb.CONFIRM: {R.TRIAGE_LEAD, R.SUPPORT},
    Verb.STILL_BROKEN: {R.TRIAGE_LEAD, R.SUPPORT},
}

# How a resolved issue in these tables was resolved (by Ravi, so Omar and Priya are neither resolver nor reporter-resolver).
FIX = Resolution(type=ResolutionType.FIXED, notes="Reset the posting profile", handled_by=HandledBy.PARTNER, resolved_by=RAVI,
                 resolved_at=RAISED_AT + timedelta(hours=1))


def with_status(status: Status, **overrides: object) -> Issue:
    """A Sev 3 issue in `status`; a resolved one with its resolution, waiting for confirmation."""
    return make_issue(severity=S3, status=status, resolution=FIX if status is Status.RESOLVED else None, **overrides)


def issue_for_permissions(verb: Verb) -> Issue:
    """An issue every verb may act on, status-wise, so only the role decides."""
    return with_status(Status.RESOLVED if verb in (Verb.REOPEN, Verb.CONFIRM, Verb.STILL_BROKEN) else Status.NEW)


PERMISSION_CASES = [
    pytest.param(verb, role, role in EXPECTED_PERMISSIONS[verb], id=f"{verb.value}-{role.value}")
    for verb in Verb
    for role in ALL_ROLES
]


@pytest.mark.parametrize(("verb", "role", "allowed"), PERMISSION_CASES)
def test_permission_table(verb: Verb, role: Role, allowed: bool) -> None:
    result = run(issue_for_permissions(verb), command_for(verb), roles={role}, target=TARGET)

    if allowed:
        assert decided(result).event.verb == verb.value
    else:
        reason = refused(result).reason
        for needed in EXPECTED_PERMISSIONS[verb]:
            assert needed.value in reason, f"the refusal should name {needed.value}: {reason}"
        # ("escalate issues to the partner" names what it does, not the role.)
        assert role.value not in reason.replace("An admin can give it", "").replace(verb.infinitive, "")
        assert verb.infinitive in reason


@pytest.mark.parametrize("verb", list(Verb), ids=lambda verb: verb.value)
def test_no_role_at_all_may_only_update_and_say_me_too(verb: Verb) -> None:
    result = run(issue_for_permissions(verb), command_for(verb), roles=set(), target=TARGET)

    assert isinstance(result, Decision) is (verb in {Verb.ADD_UPDATE, Verb.ME_TOO})


def test_refusal_for_a_lead_verb_names_exactly_the_triage_lead_role() -> None:
    reason = refused(run(make_issue(severity=S3), command_for(Verb.DEFER), roles={R.ONCALL})).reason

    assert reason == "To defer issues you need the role triage_lead. An admin can give it with `roles add`."


def test_refusal_for_a_worker_verb_lists_the_five_worker_roles() -> None:
    reason = refused(run(make_issue(), Acknowledge(), roles={R.LEADERSHIP, R.ADMIN})).reason

    assert "floor_walker, oncall, partner, support or triage_lead" in reason


def test_one_permitted_role_among_others_is_enough() -> None:
    result = run(make_issue(), Acknowledge(), roles={R.LEADERSHIP, R.SUPPORT})

    assert decided(result).issue.status is Status.ACKNOWLEDGED


@pytest.mark.parametrize("status", [Status.RESOLVED, Status.DEFERRED, Status.DUPLICATE], ids=lambda s: s.value)
def test_the_reporter_may_reopen_their_own_issue_without_a_role(status: Status) -> None:
    issue = make_issue(status=status, severity=S3, reporter=PRIYA)

    result = run(issue, Reopen(reason="Still broken"), roles=set(), actor=PRIYA)

    assert decided(result).issue.status is Status.REOPENED


@pytest.mark.parametrize("role", [R.ONCALL, R.SUPPORT, R.PARTNER, R.LEADERSHIP, R.ADMIN], ids=lambda r: r.value)
def test_someone_else_without_triage_lead_may_not_reopen(role: Role) -> None:
    issue = make_issue(status=Status.RESOLVED, reporter=PRIYA)

    reason = refused(run(issue, Reopen(reason="Still broken"), roles={role}, actor=OMAR)).reason

    assert "triage_lead" in reason


def test_being_the_reporter_grants_reopen_only() -> None:
    issue = make_issue(status=Status.NEW, severity=S3, reporter=PRIYA)

    for verb in (Verb.DEFER, Verb.CHANGE_SEVERITY, Verb.DUPLICATE, Verb.ACKNOWLEDGE, Verb.RESOLVE):
        assert isinstance(run(issue, command_for(verb), roles=set(), actor=PRIYA, target=TARGET), Refusal), verb


def test_a_reporter_without_an_aad_id_is_not_matched_to_another_person_without_one() -> None:
    anonymous_reporter = Person(aad_object_id=None, name="Guest User")
    someone_else = Person(aad_object_id=None, name="Other Guest")
    issue = make_issue(status=Status.RESOLVED, reporter=anonymous_reporter)

    assert isinstance(run(issue, Reopen(reason="Still broken"), roles=set(), actor=someone_else), Refusal)


def test_a_permission_refusal_comes_before_a_status_refusal() -> None:
    closed = make_issue(status=Status.RESOLVED)

    reason = refused(run(closed, Acknowledge(), roles={R.LEADERSHIP})).reason

    assert "oncall" in reason
    assert "resolved" not in reason


# -- statuses ---------------------------------------------------------------------------------

OPEN = {Status.NEW, Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.REOPENED}
CLOSED = {Status.RESOLVED, Status.DEFERRED, Status.DUPLICATE}

EXPECTED_ALLOWED_FROM: dict[Verb, set[Status]] = {
    Verb.ACKNOWLEDGE: {Status.NEW, Status.REOPENED},
    Verb.TAKE: OPEN,
    Verb.ASSIGN: OPEN,
    Verb.CHANGE_SEVERITY: OPEN | {Status.DEFERRED},
    Verb.ADD_UPDATE: OPEN | CLOSED,
    Verb.RESOLVE: OPEN,
    Verb.REOPEN: CLOSED,
    Verb.ME_TOO: OPEN | {Status.DEFERRED},
    Verb.DUPLICATE: OPEN | {Status.DEFERRED},
    Verb.DEFER: OPEN,
    Verb.ESCALATE: OPEN,
    Verb.DECIDE: OPEN,
    Verb.CONFIRM: {Status.RESOLVED},
    Verb.STILL_BROKEN: {Status.RESOLVED},
}

STATUS_CASES = [
    pytest.param(verb, status, status in EXPECTED_ALLOWED_FROM[verb], id=f"{verb.value}-from-{status.value}")
    for verb in Verb
    for status in Status
]


@pytest.mark.parametrize(("verb", "status", "allowed"), STATUS_CASES)
def test_status_table(verb: Verb, status: Status, allowed: bool) -> None:
    issue = with_status(status)

    result = run(issue, command_for(verb), roles={R.TRIAGE_LEAD}, target=TARGET)

    if allowed:
        assert decided(result).event.verb == verb.value
    else:
        assert f"#12 is {status.label.lower()}" in refused(result).reason


def test_open_and_closed_statuses() -> None:
    assert {status for status in Status if status.is_open} == OPEN
    assert not Status.DEFERRED.is_open


# -- every decision's event -----------------------------------------------------------------

# (issue status before, expected from_value, to_value, reason) for the happy path of each verb.
EXPECTED_EVENTS: dict[Verb, tuple[Status, str | None, str | None, str | None]] = {
    Verb.ACKNOWLEDGE: (Status.NEW, "new", "acknowledged", None),
    Verb.TAKE: (Status.NEW, None, "Omar Haddad", None),
    Verb.ASSIGN: (Status.NEW, None, "Ravi Menon", None),
    Verb.CHANGE_SEVERITY: (Status.NEW, "3", "2", "Month-end close is blocked"),
    Verb.ADD_UPDATE: (Status.NEW, None, None, "Checking the posting profile"),
    Verb.RESOLVE: (Status.IN_PROGRESS, "in_progress", "resolved", None),  # reason checked separately
    Verb.REOPEN: (Status.RESOLVED, "resolved", "reopened", "Still failing in DEMF"),
    Verb.ME_TOO: (Status.NEW, None, None, None),
    Verb.DUPLICATE: (Status.NEW, "new", "#7", None),
    Verb.DEFER: (Status.ACKNOWLEDGED, "acknowledged", "deferred", "Nice to have, after go-live"),
    # Nobody on call in this table: it goes to the partner team.
    Verb.ESCALATE: (Status.NEW, None, "the partner team", "Needs a code fix in the posting class"),
    Verb.DECIDE: (Status.REOPENED, None, "kept in hypercare", "At the stand-up of 2026-11-24"),
    Verb.CONFIRM: (Status.RESOLVED, "Resolved, awaiting confirmation", "closed", None),
    Verb.STILL_BROKEN: (Status.RESOLVED, "Resolved, awaiting confirmation", "reopened", "Still fails for DEMF invoices"),
}


@pytest.mark.parametrize("verb", list(Verb), ids=lambda verb: verb.value)
def test_every_decision_records_an_event_and_touches_updated_at(verb: Verb) -> None:
    before, from_value, to_value, reason = EXPECTED_EVENTS[verb]
    issue = with_status(before)

    decision = decided(run(issue, command_for(verb), roles={R.TRIAGE_LEAD}, target=TARGET))

    event = decision.event
    assert (event.verb, event.actor, event.at) == (verb.value, OMAR, NOW)
    assert (event.from_value, event.to_value) == (from_value, to_value)
    if verb is not Verb.RESOLVE:
        assert event.reason == reason
    assert decision.issue.updated_at == NOW
    assert issue.updated_at == RAISED_AT  # the input issue is left as it was
    assert decision.issue.id == issue.id and decision.issue.number == issue.number


# -- acknowledge ------------------------------------------------------------------------------


def test_acknowledge_records_who_and_when() -> None:
    decision = decided(run(make_issue(status=Status.NEW), Acknowledge(), roles={R.ONCALL}))

    assert decision.issue.status is Status.ACKNOWLEDGED
    assert decision.issue.acknowledged_by == OMAR
    assert decision.issue.acknowledged_at == NOW
    assert decision.announcement is None
    assert decision.notify == ()


def test_acknowledge_a_reopened_issue() -> None:
    decision = decided(run(make_issue(status=Status.REOPENED), Acknowledge(), roles={R.PARTNER}))

    assert (decision.issue.status, decision.issue.acknowledged_by) == (Status.ACKNOWLEDGED, OMAR)
    assert decision.event.from_value == "reopened"


def test_a_second_acknowledge_is_refused_naming_who_acknowledged() -> None:
    first = decided(run(make_issue(), Acknowledge(), roles={R.ONCALL}, actor=OMAR))

    second = run(first.issue, Acknowledge(), roles={R.SUPPORT}, actor=RAVI, now=NOW + timedelta(minutes=1))

    assert refused(second).reason == "#12 was already acknowledged by Omar Haddad."


def test_acknowledging_an_issue_someone_took_names_who_took_it() -> None:
    taken = decided(run(make_issue(), Take(), roles={R.ONCALL}, actor=RAVI))

    reason = refused(run(taken.issue, Acknowledge(), roles={R.ONCALL}, actor=OMAR)).reason

    assert "already acknowledged by Ravi Menon" in reason


# -- take / assign ----------------------------------------------------------------------------


def test_take_moves_to_in_progress_assigns_the_actor_and_acknowledges() -> None:
    decision = decided(run(make_issue(status=Status.NEW), Take(), roles={R.SUPPORT}))

    issue = decision.issue
    assert issue.status is Status.IN_PROGRESS
    assert issue.assignee == OMAR
    assert (issue.acknowledged_by, issue.acknowledged_at) == (OMAR, NOW)


def test_take_keeps_an_earlier_acknowledgement() -> None:
    earlier = NOW - timedelta(hours=1)
    acknowledged = make_issue(status=Status.ACKNOWLEDGED, acknowledged_by=RAVI, acknowledged_at=earlier)

    issue = decided(run(acknowledged, Take(), roles={R.ONCALL})).issue

    assert (issue.acknowledged_by, issue.acknowledged_at) == (RAVI, earlier)
    assert (issue.status, issue.assignee) == (Status.IN_PROGRESS, OMAR)


def test_assign_sets_the_assignee_and_the_assigner_acknowledges() -> None:
    decision = decided(run(make_issue(status=Status.NEW), Assign(assignee=RAVI), roles={R.TRIAGE_LEAD}))

    issue = decision.issue
    assert (issue.status, issue.assignee) == (Status.IN_PROGRESS, RAVI)
    assert (issue.acknowledged_by, issue.acknowledged_at) == (OMAR, NOW)
    assert decision.event.actor == OMAR


def test_reassigning_records_the_previous_assignee() -> None:
    in_progress = make_issue(status=Status.IN_PROGRESS, assignee=RAVI, acknowledged_by=RAVI, acknowledged_at=RAISED_AT)

    decision = decided(run(in_progress, Assign(assignee=LENA), roles={R.ONCALL}))

    assert (decision.event.from_value, decision.event.to_value) == ("Ravi Menon", "Lena Fischer")
    assert decision.issue.assignee == LENA
    assert decision.issue.acknowledged_by == RAVI


def test_taking_an_issue_already_yours_in_progress_is_refused() -> None:
    mine = make_issue(status=Status.IN_PROGRESS, assignee=OMAR, acknowledged_by=OMAR, acknowledged_at=RAISED_AT)

    assert refused(run(mine, Take(), roles={R.ONCALL})).reason == "#12 is already assigned to Omar Haddad."


def test_the_previous_owner_may_take_a_reopened_issue_back() -> None:
    reopened = make_issue(status=Status.REOPENED, assignee=OMAR)

    decision = decided(run(reopened, Take(), roles={R.ONCALL}))

    assert decision.issue.status is Status.IN_PROGRESS
    assert (decision.issue.acknowledged_by, decision.issue.acknowledged_at) == (OMAR, NOW)


def test_assigning_a_different_person_without_an_aad_id() -> None:
    first = Person(aad_object_id=None, name="Contractor One")
    second = Person(aad_object_id=None, name="Contractor Two")
    in_progress = make_issue(status=Status.IN_PROGRESS, assignee=first, acknowledged_by=OMAR, acknowledged_at=RAISED_AT)

    decision = decided(run(in_progress, Assign(assignee=second), roles={R.TRIAGE_LEAD}))

    assert decision.issue.assignee == second


# -- change severity --------------------------------------------------------------------------


def test_change_severity_needs_a_reason() -> None:
    with pytest.raises(ValidationError):
        ChangeSeverity(severity=S2, reason="")


@pytest.mark.parametrize(
    ("old", "new", "resolve_by"),
    [
        # Raised Monday 09:05 London. Sev2: 2 working days of 10 h → Wednesday 09:05; Sev1: 4 h round the clock;
        # Sev3: 10 working days → Monday two weeks on.
        (S3, S2, datetime(2026, 11, 25, 9, 5, tzinfo=UTC)),
        (S2, S1, RAISED_AT + timedelta(hours=4)),
        (S1, S3, datetime(2026, 12, 7, 9, 5, tzinfo=UTC)),
        (S2, S4, None),
        (S4, S2, datetime(2026, 11, 25, 9, 5, tzinfo=UTC)),
    ],
    ids=lambda value: getattr(value, "name", None) or str(value),
)
def test_change_severity_recomputes_the_target_from_creation(old: Severity, new: Severity, resolve_by: datetime | None) -> None:
    issue = make_issue(severity=old, created_at=RAISED_AT, resolve_by=POLICY.resolve_by(old, raised_at=RAISED_AT, calendar=WorkingCalendar()))

    decision = decided(run(issue, ChangeSeverity(severity=new, reason="Re-triaged"), roles={R.TRIAGE_LEAD}))

    assert decision.issue.severity is new
    assert decision.issue.resolve_by == resolve_by
    assert decision.event.reason == "Re-triaged"
    assert (decision.event.from_value, decision.event.to_value) == (str(int(old)), str(int(new)))


def test_raising_to_sev1_is_announced() -> None:
    issue = make_issue(severity=S2)

    decision = decided(run(issue, ChangeSeverity(severity=S1, reason="Payroll run blocked"), roles={R.TRIAGE_LEAD}))

    assert decision.announcement == "#12 raised to Sev 1 (was Sev 2) by Omar Haddad: Payroll run blocked"


def test_lowering_from_sev1_is_announced() -> None:
    issue = make_issue(severity=S1)

    decision = decided(run(issue, ChangeSeverity(severity=S3, reason="Workaround found"), roles={R.TRIAGE_LEAD}))

    assert decision.announcement == "#12 lowered to Sev 3 (was Sev 1) by Omar Haddad: Workaround found"


@pytest.mark.parametrize(
    ("old", "new"),
    [(S2, S3), (S3, S2), (S2, S4), (S4, S3), (S3, S4)],
    ids=lambda s: s.name,
)
def test_changes_that_do_not_touch_sev1_are_not_announced(old: Severity, new: Severity) -> None:
    decision = decided(run(make_issue(severity=old), ChangeSeverity(severity=new, reason="Re-triaged"), roles={R.TRIAGE_LEAD}))

    assert decision.issue.severity is new
    assert decision.announcement is None


def test_changing_to_the_same_severity_is_refused() -> None:
    reason = refused(run(make_issue(severity=S2), ChangeSeverity(severity=S2, reason="x"), roles={R.TRIAGE_LEAD})).reason

    assert reason == "#12 is already Sev 2."


# -- add update -------------------------------------------------------------------------------


def test_add_update_sets_the_latest_update() -> None:
    decision = decided(run(make_issue(), AddUpdate(text="Patch deployed to UAT"), roles=set(), actor=RAVI))

    assert decision.issue.latest_update == ProgressNote(text="Patch deployed to UAT", author=RAVI, at=NOW)
    assert decision.issue.status is Status.NEW


# -- resolve ----------------------------------------------------------------------------------


def test_resolve_needs_notes_and_a_resolution_type() -> None:
    with pytest.raises(ValidationError):
        Resolve(notes="", resolution_type=ResolutionType.FIXED)
    with pytest.raises(ValidationError):
        Resolve(notes="Fixed it")  # type: ignore[call-arg]


def test_resolve_records_the_resolution_and_notifies_followers() -> None:
    issue = make_issue(status=Status.IN_PROGRESS, followers=(RAVI,))
    command = Resolve(notes="Reset the posting profile", resolution_type=ResolutionType.CONFIGURATION_CHANGED)

    decision = decided(run(issue, command, roles={R.SUPPORT}))

    assert decision.issue.status is Status.RESOLVED
    assert decision.issue.resolution == Resolution(
        type=ResolutionType.CONFIGURATION_CHANGED,
        notes="Reset the posting profile",
        handled_by=HandledBy.SUPPORT,
        resolved_by=OMAR,
        resolved_at=NOW,
        # Tuesday 15:30 in London, three working days on: it waits for its confirmation until Friday 15:30.
        close_by=datetime(2026, 11, 27, 15, 30, tzinfo=UTC),
    )
    assert decision.issue.awaiting_confirmation
    assert decision.notify == (decision.issue.reporter, *decision.issue.followers)
    assert decision.notice is not None and "Reset the posting profile" in decision.notice
    assert decision.event.reason is not None and "Reset the posting profile" in decision.event.reason
    assert (decision.event.from_value, decision.event.to_value) == ("in_progress", "resolved")


@pytest.mark.parametrize(
    ("roles", "given", "expected"),
    [
        ({R.SUPPORT}, None, HandledBy.SUPPORT),
        ({R.ONCALL}, None, HandledBy.PARTNER),
        ({R.PARTNER}, None, HandledBy.PARTNER),
        ({R.TRIAGE_LEAD}, None, HandledBy.PARTNER),
        ({R.SUPPORT, R.TRIAGE_LEAD}, None, HandledBy.SUPPORT),
        ({R.ONCALL, R.SUPPORT}, None, HandledBy.SUPPORT),
        ({R.SUPPORT}, HandledBy.SUPPORT, HandledBy.SUPPORT),
        ({R.PARTNER}, HandledBy.PARTNER, HandledBy.PARTNER),
        ({R.FLOOR_WALKER}, None, HandledBy.FLOOR_WALKER),
        ({R.FLOOR_WALKER, R.PARTNER}, None, HandledBy.FLOOR_WALKER),
        ({R.FLOOR_WALKER, R.SUPPORT}, None, HandledBy.SUPPORT),
    ],
    ids=[
        "support-role",
        "oncall-role",
        "partner-role",
        "triage-lead-role",
        "support-and-lead",
        "oncall-and-support",
        "support-says-support",
        "partner-says-partner",
        "floor-walker-role",
        "floor-walker-and-partner",
        "floor-walker-and-support",
    ],
)
def test_resolve_handled_by_follows_the_role(roles: set[Role], given: HandledBy | None, expected: HandledBy) -> None:
    command = Resolve(notes="Fixed", resolution_type=ResolutionType.FIXED, handled_by=given)

    decision = decided(run(make_issue(status=Status.ACKNOWLEDGED), command, roles=roles))

    assert decision.issue.resolution is not None
    assert decision.issue.resolution.handled_by is expected
    assert decision.event.reason == f"Fixed ({expected.label}): Fixed"


@pytest.mark.parametrize(
    ("roles", "given"),
    [({R.PARTNER}, HandledBy.SUPPORT), ({R.ONCALL}, HandledBy.SUPPORT), ({R.SUPPORT}, HandledBy.PARTNER)],
    ids=["partner-books-support", "oncall-books-support", "support-books-partner"],
)
def test_only_a_triage_lead_books_a_resolution_to_another_team_than_their_roles(roles: set[Role], given: HandledBy) -> None:
    command = Resolve(notes="Fixed", resolution_type=ResolutionType.FIXED, handled_by=given)

    refusal = refused(run(make_issue(status=Status.ACKNOWLEDGED), command, roles=roles))

    assert refusal.field == "handled_by"
    assert f"Only a triage lead can book it to the {given.label.lower()}" in refusal.reason


@pytest.mark.parametrize(
    ("roles", "given", "instead_of"),
    [({R.TRIAGE_LEAD}, HandledBy.SUPPORT, HandledBy.PARTNER), ({R.TRIAGE_LEAD, R.SUPPORT}, HandledBy.PARTNER, HandledBy.SUPPORT)],
    ids=["lead-books-support", "lead-in-support-books-partner"],
)
def test_a_triage_lead_books_another_team_and_the_history_says_who(roles: set[Role], given: HandledBy, instead_of: HandledBy) -> None:
    command = Resolve(notes="Posting profile added", resolution_type=ResolutionType.FIXED, handled_by=given)

    decision = decided(run(make_issue(status=Status.ACKNOWLEDGED), command, roles=roles, actor=LENA))

    assert decision.issue.resolution is not None and decision.issue.resolution.handled_by is given
    assert decision.event.actor == LENA
    assert decision.event.reason == (
        f"Fixed ({given.label}, booked by triage lead Lena Fischer instead of {instead_of.label.lower()}): Posting profile added"
    )


def test_resolve_as_runbook_defaults_the_title_to_the_issue_title() -> None:
    command = Resolve(notes="Fixed", resolution_type=ResolutionType.USER_TRAINED, save_as_runbook=True)

    resolution = decided(run(make_issue(), command, roles={R.SUPPORT})).issue.resolution

    assert resolution is not None
    assert (resolution.save_as_runbook, resolution.runbook_title) == (True, "AP cannot post vendor invoices")


# -- reopen -----------------------------------------------------------------------------------


def test_reopen_needs_a_reason() -> None:
    with pytest.raises(ValidationError):
        Reopen(reason="")


def test_reopen_clears_the_resolution_and_the_acknowledgement() -> None:
    resolved = decided(
        run(
            make_issue(status=Status.IN_PROGRESS, assignee=OMAR, acknowledged_by=OMAR, acknowledged_at=RAISED_AT),
            Resolve(notes="Fixed", resolution_type=ResolutionType.FIXED),
            roles={R.ONCALL},
        )
    ).issue
    assert resolved.resolution is not None

    decision = decided(run(resolved, Reopen(reason="Still failing in DEMF"), roles={R.TRIAGE_LEAD}, actor=RAVI))

    issue = decision.issue
    assert issue.status is Status.REOPENED
    assert issue.resolution is None
    assert (issue.acknowledged_by, issue.acknowledged_at) == (None, None)
    assert decision.event.reason == "Still failing in DEMF"
    assert issue.status.is_open


def test_reopening_a_duplicate_clears_duplicate_of() -> None:
    duplicate = make_issue(status=Status.DUPLICATE, duplicate_of=7)

    issue = decided(run(duplicate, Reopen(reason="Not the same problem"), roles={R.TRIAGE_LEAD})).issue

    assert (issue.status, issue.duplicate_of) == (Status.REOPENED, None)


# -- me too -----------------------------------------------------------------------------------


def test_me_too_adds_the_actor_to_followers_once() -> None:
    first = decided(run(make_issue(reporter=PRIYA), MeToo(), roles=set(), actor=OMAR))
    assert first.issue.followers == (OMAR,)

    again = run(first.issue, MeToo(), roles=set(), actor=OMAR)

    assert refused(again).reason == "You are already on #12; you will hear when it is resolved."


def test_me_too_appends_after_existing_followers() -> None:
    issue = make_issue(reporter=PRIYA, followers=(RAVI,))

    decision = decided(run(issue, MeToo(), roles={R.LEADERSHIP}, actor=LENA))

    assert decision.issue.followers == (RAVI, LENA)
    assert decision.event.verb == "metoo"


def test_the_reporter_cannot_say_me_too() -> None:
    assert isinstance(run(make_issue(reporter=PRIYA), MeToo(), roles=set(), actor=PRIYA), Refusal)


def test_an_existing_follower_cannot_say_me_too_again() -> None:
    issue = make_issue(reporter=PRIYA, followers=(RAVI, OMAR))

    assert isinstance(run(issue, MeToo(), roles=set(), actor=OMAR), Refusal)


# -- duplicate --------------------------------------------------------------------------------


def test_mark_duplicate_closes_the_issue_pointing_at_the_target() -> None:
    decision = decided(run(make_issue(status=Status.ACKNOWLEDGED), MarkDuplicate(of_number=7), roles={R.TRIAGE_LEAD}, target=TARGET))

    assert (decision.issue.status, decision.issue.duplicate_of) == (Status.DUPLICATE, 7)
    assert not decision.issue.status.is_open
    assert (decision.event.from_value, decision.event.to_value) == ("acknowledged", "#7")


def test_duplicate_of_a_missing_issue_is_refused() -> None:
    result = run(make_issue(), MarkDuplicate(of_number=99), roles={R.TRIAGE_LEAD}, target=None)

    assert refused(result).reason == "There is no issue #99 in this war room."


def test_duplicate_of_itself_is_refused() -> None:
    issue = make_issue()

    result = run(issue, MarkDuplicate(of_number=12), roles={R.TRIAGE_LEAD}, target=issue)

    assert refused(result).reason == "An issue cannot be a duplicate of itself."


def test_duplicate_of_a_duplicate_is_refused_pointing_at_the_original() -> None:
    chained = make_issue(id=2, number=7, status=Status.DUPLICATE, duplicate_of=3)

    result = run(make_issue(), MarkDuplicate(of_number=7), roles={R.TRIAGE_LEAD}, target=chained)

    assert refused(result).reason == "#7 is itself a duplicate of #3; use that number."


def test_mark_duplicate_needs_a_positive_number() -> None:
    with pytest.raises(ValidationError):
        MarkDuplicate(of_number=0)


def test_merge_followers_moves_reporter_and_followers_without_repeats() -> None:
    target = make_issue(id=2, number=7, reporter=OMAR, followers=(RAVI,))
    duplicate = make_issue(id=1, number=12, reporter=PRIYA, followers=(RAVI, OMAR, LENA, LENA))

    assert merge_followers(target, duplicate) == (RAVI, PRIYA, LENA)


def test_merge_followers_skips_the_shared_reporter() -> None:
    target = make_issue(id=2, number=7, reporter=PRIYA)
    duplicate = make_issue(id=1, number=12, reporter=PRIYA, followers=(OMAR,))

    assert merge_followers(target, duplicate) == (OMAR,)


def test_merge_followers_tells_people_without_an_aad_id_apart_by_name() -> None:
    guest_one = Person(aad_object_id=None, name="Guest One")
    guest_two = Person(aad_object_id=None, name="Guest Two")
    target = make_issue(id=2, number=7, reporter=OMAR, followers=(guest_one,))
    duplicate = make_issue(id=1, number=12, reporter=guest_two, followers=(guest_one,))

    assert merge_followers(target, duplicate) == (guest_one, guest_two)


# -- defer ------------------------------------------------------------------------------------


@pytest.mark.parametrize("severity", [S1, S2], ids=lambda s: s.name)
def test_only_sev3_and_sev4_may_be_deferred(severity: Severity) -> None:
    reason = refused(run(make_issue(severity=severity), Defer(), roles={R.TRIAGE_LEAD})).reason

    assert reason == f"Only Sev 3 and Sev 4 issues go to the post-go-live backlog; #12 is {severity.label}."


@pytest.mark.parametrize("severity", [S3, S4], ids=lambda s: s.name)
def test_defer_closes_a_sev3_or_sev4(severity: Severity) -> None:
    decision = decided(run(make_issue(severity=severity, status=Status.IN_PROGRESS), Defer(reason="After go-live"), roles={R.TRIAGE_LEAD}))

    assert decision.issue.status is Status.DEFERRED
    assert not decision.issue.status.is_open
    assert (decision.event.from_value, decision.event.to_value, decision.event.reason) == (
        "in_progress",
        "deferred",
        "After go-live",
    )


# -- describe_change / ago --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(0), "just now"),
        (timedelta(seconds=59), "just now"),
        (timedelta(seconds=-30), "just now"),
        (timedelta(minutes=1), "1 minute ago"),
        (timedelta(seconds=119), "1 minute ago"),
        (timedelta(minutes=2), "2 minutes ago"),
        (timedelta(minutes=59), "59 minutes ago"),
        (timedelta(hours=1), "1 hour ago"),
        (timedelta(hours=2), "2 hours ago"),
        (timedelta(hours=2, minutes=59), "2 hours ago"),
        (timedelta(hours=47), "47 hours ago"),
        (timedelta(hours=48), "2 days ago"),
        (timedelta(days=3), "3 days ago"),
        (timedelta(days=3, hours=23), "3 days ago"),
    ],
    ids=str,
)
def test_ago(delta: timedelta, expected: str) -> None:
    assert ago(delta) == expected


@pytest.mark.parametrize(
    ("verb", "at", "expected"),
    [
        ("resolve", NOW - timedelta(minutes=2), "Priya Shah resolved this 2 minutes ago."),
        ("ack", NOW - timedelta(seconds=10), "Priya Shah acknowledged this just now."),
        ("take", NOW - timedelta(minutes=1), "Priya Shah took this 1 minute ago."),
        ("severity", NOW - timedelta(hours=2), "Priya Shah changed the severity of this 2 hours ago."),
        ("duplicate", NOW - timedelta(days=3), "Priya Shah closed this as a duplicate 3 days ago."),
        ("metoo", NOW - timedelta(minutes=5), "Priya Shah said \u201cme too\u201d to this 5 minutes ago."),
        ("merged", NOW - timedelta(minutes=5), "Priya Shah merged a duplicate into this 5 minutes ago."),
        ("created", NOW - timedelta(minutes=5), "Priya Shah raised this 5 minutes ago."),
        ("something-new", NOW - timedelta(minutes=5), "Priya Shah changed this 5 minutes ago."),
    ],
    ids=lambda value: value if isinstance(value, str) and " " not in value else None,
)
def test_describe_change(verb: str, at: datetime, expected: str) -> None:
    assert describe_change(Event(verb=verb, actor=PRIYA, at=at), now=NOW) == expected


def test_describe_change_of_a_real_decision() -> None:
    decision = decided(run(make_issue(), Take(), roles={R.ONCALL}))

    assert describe_change(decision.event, now=NOW + timedelta(hours=1)) == "Omar Haddad took this 1 hour ago."


def people(count: int) -> tuple[Person, ...]:
    return tuple(Person(aad_object_id=f"aad-{n}", name=f"Person {n}") for n in range(count))


@pytest.mark.parametrize(
    ("count", "sizes", "others"),
    [
        (0, [], 0),
        (1, [1], 0),
        (MENTIONS_PER_MESSAGE, [MENTIONS_PER_MESSAGE], 0),
        (MENTIONS_PER_MESSAGE + 1, [MENTIONS_PER_MESSAGE, 1], 0),
        (MENTIONS_PER_MESSAGE * NOTICE_MESSAGES_MAX, [MENTIONS_PER_MESSAGE] * NOTICE_MESSAGES_MAX, 0),
        (1001, [MENTIONS_PER_MESSAGE] * NOTICE_MESSAGES_MAX, 1001 - MENTIONS_PER_MESSAGE * NOTICE_MESSAGES_MAX),
    ],
)
def test_mentions_are_split_into_a_few_messages_and_the_rest_counted(count: int, sizes: list[int], others: int) -> None:
    everyone = people(count)
    plan = plan_mentions(everyone)
    assert [len(batch) for batch in plan.batches] == sizes and plan.others == others
    named = [person for batch in plan.batches for person in batch]
    assert named == list(everyone[: len(named)])  # in order: whoever comes first (the reporter) is always named


def test_a_single_message_names_the_first_and_counts_the_rest() -> None:
    plan = plan_mentions(people(100), messages=1)
    assert [len(batch) for batch in plan.batches] == [MENTIONS_PER_MESSAGE] and plan.others == 100 - MENTIONS_PER_MESSAGE


# -- escalate to the partner ----------------------------------------------------------------------

SUPPORT_AGENT = Person(aad_object_id="aad-sara", name="Sara Lind")


def test_escalate_assigns_the_on_call_person_mentions_them_and_records_why() -> None:
    issue = make_issue(status=Status.NEW, title="Vendor invoice posting fails")

    decision = decided(
        run(issue, Escalate(reason="Needs a code fix"), roles={R.SUPPORT}, actor=SUPPORT_AGENT, on_call=OMAR, partner_team=(RAVI,))
    )

    escalation = decision.issue.escalation
    assert escalation is not None
    assert (escalation.escalated_by, escalation.escalated_at, escalation.reason, escalation.to) == (SUPPORT_AGENT, NOW, "Needs a code fix", OMAR)
    assert (decision.issue.assignee, decision.issue.status) == (OMAR, Status.IN_PROGRESS)
    # The support agent looked at it before handing it over: that is its acknowledgement.
    assert (decision.issue.acknowledged_by, decision.issue.acknowledged_at) == (SUPPORT_AGENT, NOW)
    assert (decision.event.verb, decision.event.from_value, decision.event.to_value, decision.event.reason) == (
        "escalate", None, "Omar Haddad", "Needs a code fix"
    )
    assert decision.notify == (OMAR,)  # the on-call person only, not the whole partner team
    assert decision.notice == "Escalated to the partner by Sara Lind: #12 Vendor invoice posting fails.\nWhy: Needs a code fix"


def test_escalate_without_anyone_on_call_goes_to_the_partner_team_unassigned() -> None:
    issue = make_issue(status=Status.IN_PROGRESS, assignee=SUPPORT_AGENT, acknowledged_by=SUPPORT_AGENT, acknowledged_at=RAISED_AT)

    decision = decided(run(issue, Escalate(reason="Beyond us"), roles={R.FLOOR_WALKER}, actor=SUPPORT_AGENT, partner_team=(RAVI, LENA)))

    assert decision.issue.escalation is not None and decision.issue.escalation.to is None
    assert (decision.issue.assignee, decision.issue.status) == (None, Status.ACKNOWLEDGED)
    assert decision.issue.acknowledged_at == RAISED_AT  # kept: it was acknowledged before
    assert (decision.event.from_value, decision.event.to_value) == ("Sara Lind", "the partner team")
    assert decision.notify == (RAVI, LENA)


def test_escalate_twice_is_refused_with_who_did_it() -> None:
    issue = decided(run(make_issue(), Escalate(reason="Code fix"), roles={R.SUPPORT}, actor=SUPPORT_AGENT, on_call=OMAR)).issue

    refusal = refused(run(issue, Escalate(reason="Again"), roles={R.TRIAGE_LEAD}, actor=LENA, on_call=OMAR))

    assert refusal.reason == "#12 was already escalated to the partner by Sara Lind. Assign it if someone else should have it."


@pytest.mark.parametrize("status", [Status.RESOLVED, Status.DEFERRED, Status.DUPLICATE], ids=lambda s: s.value)
def test_a_closed_issue_is_not_escalated(status: Status) -> None:
    refusal = refused(run(make_issue(status=status, severity=S3), Escalate(reason="x"), roles={R.SUPPORT}, on_call=OMAR))

    assert refusal.reason == f"#12 is {status.label.lower()}, so you cannot escalate it to the partner now."


def test_escalate_needs_a_reason() -> None:
    with pytest.raises(ValidationError):
        Escalate(reason="   ")
    with pytest.raises(ValidationError):
        Escalate(reason="x" * 501)


def test_the_escalation_survives_reopening() -> None:
    escalated = decided(run(make_issue(), Escalate(reason="Code fix"), roles={R.SUPPORT}, actor=SUPPORT_AGENT, on_call=OMAR)).issue
    resolved = decided(run(escalated, command_for(Verb.RESOLVE), roles={R.ONCALL})).issue

    reopened = decided(run(resolved, Reopen(reason="Still failing"), roles={R.TRIAGE_LEAD})).issue

    assert reopened.escalation == escalated.escalation


# -- priorities agreed at the stand-up ----------------------------------------------------------


def test_keeping_it_in_hypercare_records_who_decided_at_which_standup() -> None:
    issue = make_issue(status=Status.REOPENED, severity=S2)

    decision = decided(run(issue, DecidePriority(priority=Priority.KEEP, standup_on=STANDUP_ON), roles={R.TRIAGE_LEAD}, actor=LENA))

    assert decision.issue.decision == PriorityDecision(priority=Priority.KEEP, by=LENA, at=NOW, standup_on=STANDUP_ON)
    assert decision.issue.status is Status.REOPENED  # kept as it is: hypercare work
    assert (decision.event.verb, decision.event.actor, decision.event.reason) == ("decide", LENA, "At the stand-up of 2026-11-24")


def test_deferring_at_the_standup_moves_a_sev3_to_the_backlog_and_refuses_a_sev2() -> None:
    command = DecidePriority(priority=Priority.DEFER, standup_on=STANDUP_ON, reason="After go-live")

    deferred = decided(run(make_issue(status=Status.REOPENED, severity=S3), command, roles={R.TRIAGE_LEAD}))
    refusal = refused(run(make_issue(status=Status.NEW, severity=S2), command, roles={R.TRIAGE_LEAD}))

    assert deferred.issue.status is Status.DEFERRED and deferred.issue.decision is not None
    assert (deferred.event.from_value, deferred.event.to_value) == ("reopened", "deferred to after hypercare")
    assert deferred.event.reason == "At the stand-up of 2026-11-24: After go-live"
    assert "Only Sev 3 and Sev 4" in refusal.reason


def test_changing_the_severity_at_the_standup_recomputes_the_target_and_needs_another_severity() -> None:
    issue = make_issue(status=Status.NEW, severity=S2)
    command = DecidePriority(priority=Priority.SEVERITY, severity=S3, standup_on=STANDUP_ON)

    decision = decided(run(issue, command, roles={R.TRIAGE_LEAD}))
    same = refused(run(issue, DecidePriority(priority=Priority.SEVERITY, severity=S2, standup_on=STANDUP_ON), roles={R.TRIAGE_LEAD}))

    assert decision.issue.severity is S3 and decision.issue.resolve_by != issue.resolve_by
    assert (decision.event.from_value, decision.event.to_value) == ("2", "3")
    assert decision.issue.decision is not None and decision.issue.decision.priority is Priority.SEVERITY
    assert "already Sev 2" in same.reason


def test_a_severity_decision_needs_the_severity() -> None:
    with pytest.raises(ValidationError):
        DecidePriority(priority=Priority.SEVERITY, standup_on=STANDUP_ON)


def test_reopening_asks_for_a_decision_again() -> None:
    agreed = PriorityDecision(priority=Priority.KEEP, by=LENA, at=NOW, standup_on=STANDUP_ON)
    issue = make_issue(status=Status.RESOLVED, severity=S2, decision=agreed)

    assert decided(run(issue, Reopen(reason="Back again"), roles={R.TRIAGE_LEAD})).issue.decision is None


def test_only_a_triage_lead_agrees_priorities() -> None:
    refusal = refused(run(make_issue(status=Status.REOPENED), DecidePriority(priority=Priority.KEEP, standup_on=STANDUP_ON),
                          roles={R.ONCALL, R.SUPPORT, R.PARTNER}))

    assert refusal.reason.startswith("To agree priorities at the stand-up you need the role triage_lead.")
