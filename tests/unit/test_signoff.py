"""Signing off resolutions: who may confirm or call a fix still broken, when an unconfirmed one closes by itself (the
war room's working days), and what a resolved but unconfirmed Sev 1 means for the exit criteria."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from pydantic import ValidationError

from bot.domain.calendar import WorkingCalendar
from bot.domain.events import AUTO_CLOSED, Verb, describe_verb
from bot.domain.exit_criteria import evaluate_exit
from bot.domain.model import (
    Confirmation,
    HandledBy,
    Issue,
    Person,
    Priority,
    PriorityDecision,
    Resolution,
    ResolutionType,
    Role,
    Severity,
    Status,
)
from bot.domain.policy import SeverityPolicy
from bot.domain.signoff import AUTO_CLOSER, auto_close, closes_by
from bot.domain.triage import ConfirmFix, Decision, Refusal, Reopen, Resolve, StillBroken, TriageCommand, decide
from bot.domain.war_room import WarRoomSettings
from tests.support.factories import OMAR, PRIYA, RAISED_AT, make_issue

LONDON = WorkingCalendar()
RAVI = Person(aad_object_id="aad-ravi", name="Ravi Menon")
SARA = Person(aad_object_id="aad-sara", name="Sara Lind")
# Monday 23 November 2026, 11:00 in London (UTC in winter).
RESOLVED_AT = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
NOW = RESOLVED_AT + timedelta(hours=2)
FIX = Resolution(
    type=ResolutionType.CONFIGURATION_CHANGED, notes="Reset the posting profile", handled_by=HandledBy.PARTNER, resolved_by=RAVI,
    resolved_at=RESOLVED_AT, close_by=datetime(2026, 11, 26, 11, 0, tzinfo=UTC),
)


def resolved(**overrides: object) -> Issue:
    """#12, reported by Priya, resolved by Ravi (partner) and waiting for confirmation."""
    return make_issue(**({"status": Status.RESOLVED, "resolution": FIX} | overrides))


def run(issue: Issue, command: TriageCommand, *, actor: Person, roles: set[Role] = set(), days: int = 3) -> Decision | Refusal:
    return decide(issue, command, actor=actor, roles=frozenset(roles), now=NOW, policy=SeverityPolicy(), calendar=LONDON,
                  auto_close_working_days=days)


def decided(result: Decision | Refusal) -> Decision:
    assert isinstance(result, Decision), result
    return result


def refused(result: Decision | Refusal) -> Refusal:
    assert isinstance(result, Refusal), result
    return result


# -- who may -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("actor", "roles"), [(PRIYA, set()), (SARA, {Role.SUPPORT}), (OMAR, {Role.TRIAGE_LEAD})],
                         ids=["the reporter", "a key user", "a triage lead"])
def test_the_reporter_a_key_user_or_a_triage_lead_confirms_a_fix_and_it_closes(actor: Person, roles: set[Role]) -> None:
    decision = decided(run(resolved(), ConfirmFix(), actor=actor, roles=roles))

    issue = decision.issue
    assert issue.status is Status.RESOLVED and not issue.awaiting_confirmation
    assert issue.resolution is not None and issue.resolution.confirmation == Confirmation(at=NOW, by=actor)
    assert issue.resolution.close_by is None  # nothing left to close
    assert issue.status_text == "Closed, confirmed"
    assert (decision.event.verb, decision.event.from_value, decision.event.to_value) == ("confirm", "Resolved, awaiting confirmation", "closed")


@pytest.mark.parametrize("role", [Role.ONCALL, Role.PARTNER, Role.FLOOR_WALKER, Role.LEADERSHIP, Role.ADMIN])
@pytest.mark.parametrize("command", [ConfirmFix(), StillBroken(text="It still fails")], ids=["confirm", "still broken"])
def test_who_fixes_it_for_the_partner_does_not_sign_it_off(role: Role, command: TriageCommand) -> None:
    reason = refused(run(resolved(), command, actor=RAVI, roles={role})).reason

    assert reason == (
        "To sign off the resolution of an issue you did not report you need the role support or triage_lead. "
        "An admin can give it with `roles add`."
    )


def test_a_reporter_without_an_aad_id_is_not_matched_to_another_guest() -> None:
    guest = Person(aad_object_id=None, name="Guest User")
    issue = resolved(reporter=guest)

    assert isinstance(run(issue, ConfirmFix(), actor=Person(aad_object_id=None, name="Guest User")), Refusal)


def test_a_closed_resolution_is_not_signed_off_again_and_says_how_it_closed() -> None:
    confirmed = resolved(resolution=FIX.model_copy(update={"confirmation": Confirmation(at=NOW, by=SARA)}))
    automatic = resolved(resolution=FIX.model_copy(update={"confirmation": Confirmation(at=NOW)}))

    assert refused(run(confirmed, ConfirmFix(), actor=PRIYA)).reason == (
        "#12 is already closed: Sara Lind confirmed the fix. Reopen it if it is broken again."
    )
    assert refused(run(automatic, StillBroken(text="x"), actor=PRIYA)).reason == (
        "#12 is already closed: it closed automatically. Reopen it if it is broken again."
    )
    # Reopen still works on a closed issue, for the reporter and a triage lead.
    assert decided(run(confirmed, Reopen(reason="Broken again"), actor=PRIYA)).issue.status is Status.REOPENED


@pytest.mark.parametrize("status", [Status.NEW, Status.IN_PROGRESS, Status.REOPENED, Status.DEFERRED, Status.DUPLICATE])
def test_only_a_resolved_issue_is_signed_off(status: Status) -> None:
    reason = refused(run(make_issue(status=status), ConfirmFix(), actor=PRIYA)).reason

    assert reason == f"#12 is {status.label.lower()}, so you cannot confirm its fix now."


# -- still broken --------------------------------------------------------------------------------


def test_still_broken_needs_the_words_of_who_says_so() -> None:
    for text in ("", "   ", "x" * 501):
        with pytest.raises(ValidationError):
            StillBroken(text=text)


def test_still_broken_reopens_it_with_the_reporters_words_and_tells_the_resolver() -> None:
    issue = resolved(acknowledged_at=RAISED_AT, acknowledged_by=OMAR)

    decision = decided(run(issue, StillBroken(text="  DEMF invoices still fail  "), actor=PRIYA))

    assert decision.issue.status is Status.REOPENED
    assert decision.issue.resolution is None and decision.issue.acknowledged_by is None  # to be picked up again
    assert (decision.event.verb, decision.event.to_value, decision.event.reason) == ("broken", "reopened", "DEMF invoices still fail")
    assert decision.notify == (RAVI,)
    assert decision.notice == "Still broken: #12 AP cannot post vendor invoices is reopened. Priya Shah says:\nDEMF invoices still fail"


def test_a_resolver_who_calls_their_own_fix_still_broken_is_not_told_of_it() -> None:
    issue = resolved(resolution=FIX.model_copy(update={"resolved_by": SARA}))

    assert decided(run(issue, StillBroken(text="no"), actor=SARA, roles={Role.SUPPORT})).notify == ()


def test_history_wording() -> None:
    assert describe_verb(Verb.CONFIRM.value, "#12") == "confirmed the fix of #12"
    assert describe_verb(Verb.STILL_BROKEN.value, "#12") == "reopened #12: still broken"
    assert describe_verb(AUTO_CLOSED, "#12") == "closed #12 automatically, unconfirmed"


# -- closing by itself ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resolved_at", "days", "closes"),
    [
        # Monday 11:00 + 3 working days (10 h each) = Thursday 11:00.
        (datetime(2026, 11, 23, 11, 0, tzinfo=UTC), 3, datetime(2026, 11, 26, 11, 0, tzinfo=UTC)),
        # Friday 17:00: an hour on Friday, Monday, Tuesday, and nine hours on Wednesday.
        (datetime(2026, 11, 27, 17, 0, tzinfo=UTC), 3, datetime(2026, 12, 2, 17, 0, tzinfo=UTC)),
        # On a Saturday nothing counts until Monday 08:00: three whole working days end on Wednesday at 18:00.
        (datetime(2026, 11, 28, 14, 0, tzinfo=UTC), 3, datetime(2026, 12, 2, 18, 0, tzinfo=UTC)),
        # After hours on Tuesday: from Wednesday 08:00, one working day ends Wednesday 18:00.
        (datetime(2026, 11, 24, 20, 0, tzinfo=UTC), 1, datetime(2026, 11, 25, 18, 0, tzinfo=UTC)),
        # Five working days from Monday 11:00 is next Monday 11:00.
        (datetime(2026, 11, 23, 11, 0, tzinfo=UTC), 5, datetime(2026, 11, 30, 11, 0, tzinfo=UTC)),
    ],
)
def test_an_unconfirmed_resolution_closes_after_the_war_rooms_working_days(resolved_at: datetime, days: int, closes: datetime) -> None:
    assert closes_by(resolved_at, calendar=LONDON, working_days=days) == closes


def test_the_working_days_are_the_war_rooms_own() -> None:
    # Sunday to Thursday, 07:00–15:00 in Dubai (UTC+4): resolved Thursday 14:00 local closes Monday 14:00 local.
    dubai = WorkingCalendar(time_zone="Asia/Dubai", working_days=frozenset({6, 0, 1, 2, 3}), day_start=time(7), day_end=time(15))
    resolved_at = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)

    assert closes_by(resolved_at, calendar=dubai, working_days=2) == datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def test_resolving_sets_when_it_closes_by_itself_from_the_setting() -> None:
    command = Resolve(notes="Reset", resolution_type=ResolutionType.FIXED)

    decision = decided(run(make_issue(status=Status.IN_PROGRESS), command, actor=RAVI, roles={Role.PARTNER}, days=5))

    assert decision.issue.resolution is not None
    assert decision.issue.resolution.close_by == datetime(2026, 11, 30, 13, 0, tzinfo=UTC)  # Monday 13:00 + 5 working days


def test_it_closes_by_itself_at_its_time_not_before_and_the_history_says_why() -> None:
    issue = resolved()

    assert auto_close(issue, now=FIX.close_by - timedelta(seconds=1), working_days=3) is None  # type: ignore[operator]
    closed = auto_close(issue, now=FIX.close_by, working_days=3)  # type: ignore[arg-type]

    assert closed is not None
    after, event = closed
    assert after.resolution is not None and after.resolution.confirmation == Confirmation(at=FIX.close_by)
    assert after.status_text == "Closed automatically" and after.updated_at == FIX.close_by
    assert (event.verb, event.actor, event.from_value, event.to_value) == (AUTO_CLOSED, AUTO_CLOSER, "Resolved, awaiting confirmation", "closed")
    assert event.reason == "Nobody confirmed it or said it was still broken within 3 working days."


def test_only_a_resolution_still_waiting_closes_by_itself() -> None:
    later = FIX.close_by + timedelta(days=1)  # type: ignore[operator]
    confirmed = resolved(resolution=FIX.model_copy(update={"confirmation": Confirmation(at=NOW, by=PRIYA), "close_by": None}))

    assert auto_close(confirmed, now=later, working_days=3) is None
    assert auto_close(make_issue(status=Status.REOPENED), now=later, working_days=3) is None


# -- the exit criteria ---------------------------------------------------------------------------


def sev1_criterion(*issues: Issue) -> tuple[bool, str]:
    criterion = next(c for c in evaluate_exit(list(issues), WarRoomSettings(), now=NOW).criteria if c.key == "sev1")
    return criterion.passed, criterion.value


def test_a_sev1_is_not_no_longer_open_until_it_is_confirmed_or_closed_by_itself() -> None:
    waiting = resolved(severity=Severity.SEV1)
    confirmed = waiting.model_copy(update={"resolution": FIX.model_copy(update={"confirmation": Confirmation(at=NOW, by=PRIYA)})})
    automatic = waiting.model_copy(update={"resolution": FIX.model_copy(update={"confirmation": Confirmation(at=NOW)})})

    assert sev1_criterion(waiting) == (False, "1 (1 resolved, awaiting confirmation)")
    assert sev1_criterion(waiting, make_issue(id=2, number=2, status=Status.NEW)) == (False, "2 (1 resolved, awaiting confirmation)")
    assert sev1_criterion(confirmed) == (True, "0")
    assert sev1_criterion(automatic) == (True, "0")


def test_other_criteria_take_a_resolution_when_it_is_made_confirmed_or_not() -> None:
    # A resolved, unconfirmed Sev 2 is not in the Sev 2 backlog; it counts as resolved within target.
    waiting = resolved(severity=Severity.SEV2, resolve_by=RESOLVED_AT + timedelta(hours=1))
    report = evaluate_exit([waiting], WarRoomSettings(sev2_cap=0), now=NOW)

    criteria = {c.key: c for c in report.criteria}
    assert criteria["sev2"].passed and criteria["sev2"].value == "0"
    assert criteria["sla"].value == "100% (1 of 1)"


def test_still_broken_puts_the_issue_back_on_the_standups_needs_a_decision() -> None:
    # Agreed at an earlier stand-up, resolved, then found still broken: like Reopen, the agreement no longer holds.
    agreed = resolved(decision=PriorityDecision(priority=Priority.KEEP, by=OMAR, at=RESOLVED_AT, standup_on=date(2026, 11, 23)))

    reopened = decided(run(agreed, StillBroken(text="Back in DEMF"), actor=PRIYA)).issue

    assert reopened.status is Status.REOPENED and reopened.decision is None
