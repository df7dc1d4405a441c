"""Who may do what in a war room: every guarded action, the roles that may take it, and how a refusal says so.

What is not named here, everyone in the war room may do: raise an issue, list and show issues, see the history,
the stand-up, the status and the exit criteria, write and search runbooks, see who is on call and who holds which role.
Admins named by the operator (`HYPERCARE_ADMINS`) hold the admin role in every war room on top of their stored roles.
"""

from __future__ import annotations

from enum import Enum

from bot.domain.model import Role


class Action(str, Enum):
    # On an issue: the card's buttons and the chat commands that do the same.
    ACKNOWLEDGE = "acknowledge"
    TAKE = "take"
    ASSIGN = "assign"
    RESOLVE = "resolve"
    # Resolve with "handled by" another team than the resolver's role books it to.
    BOOK_OTHER_TEAM = "book_other_team"
    ADD_UPDATE = "add_update"
    ME_TOO = "me_too"
    CHANGE_SEVERITY = "change_severity"
    MARK_DUPLICATE = "mark_duplicate"
    DEFER = "defer"
    REOPEN = "reopen"
    # Sign off a resolution: confirm it (closed) or say it is still broken (reopened). The reporter's "Fixed for me /
    # Still broken" in the issue's thread, and the stand-up's Confirm / Reopen.
    CONFIRM_RESOLUTION = "confirm_resolution"
    # Hand an issue the support team cannot solve to the partner (its on-call person, else the partner team).
    ESCALATE = "escalate"
    SNOOZE_REMINDERS = "snooze_reminders"
    # At the stand-up, for an issue that needs a decision: keep it in hypercare, defer it, or change its severity.
    DECIDE_PRIORITY = "decide_priority"
    # The phase.
    SET_UP = "set_up"
    EXTEND = "extend"
    SIGN_OFF = "sign_off"
    WITHDRAW_SIGN_OFF = "withdraw_sign_off"
    # Download the hand-over pack for steady-state support (the whole issue log, runbooks, backlog).
    HAND_OVER = "hand_over"
    # The war room's people and knowledge. On call: set someone, clear that, or set the rota.
    CHANGE_ON_CALL = "change_on_call"
    # `standup here`: the channel stand-ups and announcements go to.
    SET_HOME = "set_home"
    MANAGE_ROLES = "manage_roles"
    EDIT_RUNBOOK = "edit_runbook"
    # `floor add`, `floor remove`: who walks the floor, where and when.
    MANAGE_FLOOR_WALKERS = "manage_floor_walkers"


# Floor walkers have the support team's triage permissions: they take how-to questions on the floor.
_WORKERS = frozenset({Role.ONCALL, Role.SUPPORT, Role.FLOOR_WALKER, Role.PARTNER, Role.TRIAGE_LEAD})
_TRIAGE_LEAD = frozenset({Role.TRIAGE_LEAD})
# Key users: the customer's support team (`support`), the business's own super users and first line. A resolution is
# signed off by the customer's side (the reporter, a key user or a triage lead), never by those who did the fix for the
# partner (oncall, partner, floor walkers), so a fix is not accepted by whoever made it.
KEY_USERS = frozenset({Role.SUPPORT})

# None: everyone in the war room, with a role or without.
PERMITTED_ROLES: dict[Action, frozenset[Role] | None] = {
    Action.ACKNOWLEDGE: _WORKERS,
    Action.TAKE: _WORKERS,
    Action.ASSIGN: _WORKERS,
    Action.RESOLVE: _WORKERS,
    Action.BOOK_OTHER_TEAM: _TRIAGE_LEAD,
    Action.ADD_UPDATE: None,
    Action.ME_TOO: None,
    Action.CHANGE_SEVERITY: _TRIAGE_LEAD,
    Action.MARK_DUPLICATE: _TRIAGE_LEAD,
    Action.DEFER: _TRIAGE_LEAD,
    Action.REOPEN: _TRIAGE_LEAD,
    Action.CONFIRM_RESOLUTION: _TRIAGE_LEAD | KEY_USERS,
    # The customer's side escalates; the partner's own people (oncall, partner) are whom it escalates to.
    Action.ESCALATE: frozenset({Role.SUPPORT, Role.FLOOR_WALKER, Role.TRIAGE_LEAD, Role.ADMIN}),
    Action.SNOOZE_REMINDERS: frozenset({Role.ONCALL, Role.TRIAGE_LEAD}),
    # Priorities are the triage lead's call, like severities and deferrals.
    Action.DECIDE_PRIORITY: _TRIAGE_LEAD,
    Action.SET_UP: frozenset({Role.ADMIN}),
    Action.EXTEND: frozenset({Role.LEADERSHIP, Role.ADMIN}),
    Action.SIGN_OFF: frozenset({Role.LEADERSHIP}),
    Action.WITHDRAW_SIGN_OFF: frozenset({Role.LEADERSHIP}),
    Action.HAND_OVER: frozenset({Role.TRIAGE_LEAD, Role.LEADERSHIP, Role.ADMIN}),
    Action.CHANGE_ON_CALL: frozenset({Role.TRIAGE_LEAD, Role.ADMIN}),
    Action.SET_HOME: frozenset({Role.TRIAGE_LEAD, Role.ADMIN}),
    Action.MANAGE_ROLES: frozenset({Role.ADMIN}),
    Action.EDIT_RUNBOOK: _TRIAGE_LEAD,
    Action.MANAGE_FLOOR_WALKERS: frozenset({Role.TRIAGE_LEAD, Role.ADMIN}),
}

# Also allowed, whatever one's roles, on what is one's own: the reporter reopens their issue, the owner edits their runbook.
_ALSO_ON_ONES_OWN = frozenset({Action.REOPEN, Action.CONFIRM_RESOLUTION, Action.EDIT_RUNBOOK})


def may(roles: frozenset[Role], action: Action, *, own: bool = False) -> bool:
    """Whether someone holding `roles` may take `action`; `own`: the issue or runbook it is taken on is theirs."""
    allowed = PERMITTED_ROLES[action]
    return allowed is None or bool(roles & allowed) or (own and action in _ALSO_ON_ONES_OWN)


def role_list(roles: frozenset[Role]) -> str:
    """`oncall, support or triage_lead`."""
    names = sorted(role.value for role in roles)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def needs_role(action: Action, doing: str) -> str:
    """The refusal of `action`, `doing` being what it does: "To defer issues you need the role triage_lead."."""
    allowed = PERMITTED_ROLES[action]
    if allowed is None:
        raise ValueError(f"everyone may {action.value}: there is no refusal")
    return f"To {doing} you need the role {role_list(allowed)}."
