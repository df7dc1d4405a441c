"""Who may do what: the whole permission table, written out by hand as README "Roles", "Triage on the issue card",
"On-call" and "Running a hypercare phase" say it (not read from bot.domain.permissions)."""

from __future__ import annotations

import pytest

from bot.domain.model import Role
from bot.domain.permissions import PERMITTED_ROLES, Action, may, needs_role, role_list

R = Role
A = Action

ONCALL, TRIAGE_LEAD, SUPPORT, PARTNER, LEADERSHIP, ADMIN = R.ONCALL, R.TRIAGE_LEAD, R.SUPPORT, R.PARTNER, R.LEADERSHIP, R.ADMIN
FLOOR_WALKER = R.FLOOR_WALKER
# Floor walkers have the support team's triage permissions.
WORKERS = {ONCALL, SUPPORT, FLOOR_WALKER, PARTNER, TRIAGE_LEAD}
EVERYONE = set(Role)

EXPECTED: dict[Action, set[Role]] = {
    # The issue card's buttons (and `ack`, `assign`, `resolve` in chat).
    A.ACKNOWLEDGE: WORKERS,
    A.TAKE: WORKERS,
    A.ASSIGN: WORKERS,
    A.RESOLVE: WORKERS,
    A.BOOK_OTHER_TEAM: {TRIAGE_LEAD},
    A.ADD_UPDATE: EVERYONE,
    A.ME_TOO: EVERYONE,
    A.CHANGE_SEVERITY: {TRIAGE_LEAD},
    A.MARK_DUPLICATE: {TRIAGE_LEAD},
    A.DEFER: {TRIAGE_LEAD},
    A.REOPEN: {TRIAGE_LEAD},
    # Signing off a resolution (Fixed for me / Still broken, the stand-up's Confirm / Reopen): the customer's side, the
    # key users being the support team; never whoever fixed it for the partner (oncall, partner, floor walker).
    A.CONFIRM_RESOLUTION: {TRIAGE_LEAD, SUPPORT},
    # "Escalate to partner": the customer's side hands an issue over; the partner's own people do not escalate to themselves.
    A.ESCALATE: {SUPPORT, FLOOR_WALKER, TRIAGE_LEAD, ADMIN},
    # A reminder's Snooze 1 h.
    A.SNOOZE_REMINDERS: {ONCALL, TRIAGE_LEAD},
    # The stand-up's "Needs a decision": keep in hypercare, defer, change severity.
    A.DECIDE_PRIORITY: {TRIAGE_LEAD},
    # The phase.
    A.SET_UP: {ADMIN},
    A.EXTEND: {LEADERSHIP, ADMIN},
    A.SIGN_OFF: {LEADERSHIP},
    A.WITHDRAW_SIGN_OFF: {LEADERSHIP},
    # The hand-over pack for steady-state support (`handover`, the celebration card's button).
    A.HAND_OVER: {TRIAGE_LEAD, LEADERSHIP, ADMIN},
    # The war room's people and knowledge.
    A.CHANGE_ON_CALL: {TRIAGE_LEAD, ADMIN},
    # `standup here`.
    A.SET_HOME: {TRIAGE_LEAD, ADMIN},
    A.MANAGE_ROLES: {ADMIN},
    A.EDIT_RUNBOOK: {TRIAGE_LEAD},
    # `floor add`, `floor remove`.
    A.MANAGE_FLOOR_WALKERS: {TRIAGE_LEAD, ADMIN},
}

CASES = [
    pytest.param(action, role, role in EXPECTED[action], id=f"{action.value}-{role.value}")
    for action in EXPECTED
    for role in Role
]


def test_the_expected_table_names_every_action() -> None:
    assert set(EXPECTED) == set(Action) == set(PERMITTED_ROLES)


@pytest.mark.parametrize(("action", "role", "allowed"), CASES)
def test_who_may(action: Action, role: Role, allowed: bool) -> None:
    assert may(frozenset({role}), action) is allowed


@pytest.mark.parametrize("action", list(Action), ids=lambda action: action.value)
def test_without_a_role_one_may_only_add_updates_and_say_me_too(action: Action) -> None:
    assert may(frozenset(), action) is (action in {A.ADD_UPDATE, A.ME_TOO})


@pytest.mark.parametrize("action", list(Action), ids=lambda action: action.value)
def test_one_permitted_role_among_others_is_enough(action: Action) -> None:
    assert may(frozenset(EVERYONE), action)


@pytest.mark.parametrize("action", list(Action), ids=lambda action: action.value)
def test_ones_own_issue_or_runbook_grants_only_reopening_signing_off_and_editing_it(action: Action) -> None:
    # The reporter reopens their own issue and says whether its fix works for them; a runbook's owner edits it.
    own = {A.REOPEN, A.CONFIRM_RESOLUTION, A.EDIT_RUNBOOK, A.ADD_UPDATE, A.ME_TOO}
    assert may(frozenset(), action, own=True) is (action in own)


REFUSALS = [
    (A.DEFER, "defer issues", "To defer issues you need the role triage_lead."),
    (A.ACKNOWLEDGE, "acknowledge issues", "To acknowledge issues you need the role floor_walker, oncall, partner, support or triage_lead."),
    (A.ESCALATE, "escalate issues to the partner",
     "To escalate issues to the partner you need the role admin, floor_walker, support or triage_lead."),
    (A.CONFIRM_RESOLUTION, "sign off the resolution of an issue you did not report",
     "To sign off the resolution of an issue you did not report you need the role support or triage_lead."),
    (A.SNOOZE_REMINDERS, "snooze reminders", "To snooze reminders you need the role oncall or triage_lead."),
    (A.SET_UP, "set up the war room", "To set up the war room you need the role admin."),
    (A.EXTEND, "move the end of hypercare", "To move the end of hypercare you need the role admin or leadership."),
    (A.SIGN_OFF, "sign off hypercare", "To sign off hypercare you need the role leadership."),
    (A.WITHDRAW_SIGN_OFF, "withdraw the sign-off", "To withdraw the sign-off you need the role leadership."),
]


@pytest.mark.parametrize(("action", "doing", "refusal"), REFUSALS, ids=[action.value for action, _, _ in REFUSALS])
def test_a_refusal_names_every_role_that_may(action: Action, doing: str, refusal: str) -> None:
    assert needs_role(action, doing) == refusal


def test_there_is_no_refusal_for_what_everyone_may_do() -> None:
    with pytest.raises(ValueError, match="everyone may"):
        needs_role(A.ME_TOO, "say me too")


def test_role_list_reads_as_a_sentence() -> None:
    assert role_list(frozenset({ADMIN})) == "admin"
    assert role_list(frozenset({TRIAGE_LEAD, ONCALL})) == "oncall or triage_lead"
    assert role_list(frozenset({TRIAGE_LEAD, ONCALL, SUPPORT})) == "oncall, support or triage_lead"
