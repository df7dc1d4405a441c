"""What happens to an issue: the triage verbs, the event each change records, and how a change is told."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import Enum

from pydantic import BaseModel, ConfigDict

from bot.domain.model import Person
from bot.domain.permissions import Action


class Verb(str, Enum):
    ACKNOWLEDGE = "ack"
    TAKE = "take"
    ASSIGN = "assign"
    CHANGE_SEVERITY = "severity"
    ADD_UPDATE = "update"
    RESOLVE = "resolve"
    REOPEN = "reopen"
    ME_TOO = "metoo"
    DUPLICATE = "duplicate"
    DEFER = "defer"
    ESCALATE = "escalate"
    # Agreed at the stand-up for an issue that needed a decision: keep, defer, or another severity.
    DECIDE = "decide"
    # Signing off a resolution: confirmed (closed), or still broken (reopened with the words of who said so).
    CONFIRM = "confirm"
    STILL_BROKEN = "broken"

    @property
    def action(self) -> Action:
        return _ACTION[self]

    @property
    def infinitive(self) -> str:
        return _INFINITIVE[self]

    @property
    def on_this_issue(self) -> str:
        return _ON_THIS_ISSUE[self]


# Events also record verbs that are not commands: raising an issue, and a duplicate merged into it.
CREATED = "created"
MERGED = "merged"
SNOOZED = "snoozed"
# A new question called the floor walkers on duty in its area.
FLOOR_CALLED = "floor_called"
# A resolution nobody confirmed or called still broken closed by itself (the scheduler).
AUTO_CLOSED = "auto_closed"

_PAST_TENSE = {
    CREATED: "raised {it}",
    MERGED: "merged a duplicate into {it}",
    SNOOZED: "snoozed the reminders of {it}",
    FLOOR_CALLED: "called the floor walkers on duty to {it}",
    AUTO_CLOSED: "closed {it} automatically, unconfirmed",
    "ack": "acknowledged {it}",
    "take": "took {it}",
    "assign": "assigned {it}",
    "severity": "changed the severity of {it}",
    "update": "added an update to {it}",
    "resolve": "resolved {it}",
    "reopen": "reopened {it}",
    "metoo": "said \u201cme too\u201d to {it}",
    "duplicate": "closed {it} as a duplicate",
    "defer": "deferred {it}",
    "escalate": "escalated {it} to the partner",
    "decide": "agreed the priority of {it} at the stand-up",
    "confirm": "confirmed the fix of {it}",
    "broken": "reopened {it}: still broken",
}

_ACTION = {
    Verb.ACKNOWLEDGE: Action.ACKNOWLEDGE,
    Verb.TAKE: Action.TAKE,
    Verb.ASSIGN: Action.ASSIGN,
    Verb.CHANGE_SEVERITY: Action.CHANGE_SEVERITY,
    Verb.ADD_UPDATE: Action.ADD_UPDATE,
    Verb.RESOLVE: Action.RESOLVE,
    Verb.REOPEN: Action.REOPEN,
    Verb.ME_TOO: Action.ME_TOO,
    Verb.DUPLICATE: Action.MARK_DUPLICATE,
    Verb.DEFER: Action.DEFER,
    Verb.ESCALATE: Action.ESCALATE,
    Verb.DECIDE: Action.DECIDE_PRIORITY,
    Verb.CONFIRM: Action.CONFIRM_RESOLUTION,
    Verb.STILL_BROKEN: Action.CONFIRM_RESOLUTION,
}

_INFINITIVE = {
    Verb.ACKNOWLEDGE: "acknowledge issues",
    Verb.TAKE: "take issues",
    Verb.ASSIGN: "assign issues",
    Verb.CHANGE_SEVERITY: "change severities",
    Verb.ADD_UPDATE: "add updates",
    Verb.RESOLVE: "resolve issues",
    Verb.REOPEN: "reopen issues",
    Verb.ME_TOO: "say me too",
    Verb.DUPLICATE: "close issues as duplicates",
    Verb.DEFER: "defer issues",
    Verb.ESCALATE: "escalate issues to the partner",
    Verb.DECIDE: "agree priorities at the stand-up",
    Verb.CONFIRM: "sign off the resolution of an issue you did not report",
    Verb.STILL_BROKEN: "sign off the resolution of an issue you did not report",
}


_ON_THIS_ISSUE = {
    Verb.ACKNOWLEDGE: "acknowledge it",
    Verb.TAKE: "take it",
    Verb.ASSIGN: "assign it",
    Verb.CHANGE_SEVERITY: "change its severity",
    Verb.ADD_UPDATE: "add an update",
    Verb.RESOLVE: "resolve it",
    Verb.REOPEN: "reopen it",
    Verb.ME_TOO: "join it",
    Verb.DUPLICATE: "close it as a duplicate",
    Verb.DEFER: "defer it",
    Verb.ESCALATE: "escalate it to the partner",
    Verb.DECIDE: "decide its priority",
    Verb.CONFIRM: "confirm its fix",
    Verb.STILL_BROKEN: "call it still broken",
}


class Event(BaseModel):
    """One change to an issue, as the history shows it."""

    model_config = ConfigDict(frozen=True)

    verb: str
    actor: Person
    at: datetime
    from_value: str | None = None
    to_value: str | None = None
    reason: str | None = None


def describe_verb(verb: str, it: str = "it") -> str:
    """`resolved it`, `closed #12 as a duplicate`: what someone did, for timelines and stale-card notes."""
    return _PAST_TENSE.get(verb, "changed {it}").format(it=it)


def ago(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 1:
        return "just now"
    if minutes < 60:
        return f"{minutes} minute{'s' if minutes != 1 else ''} ago"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} hour{'s' if hours != 1 else ''} ago"
    return f"{hours // 24} days ago"


def describe_change(event: Event, *, now: datetime) -> str:
    """"Priya Shah resolved this 2 minutes ago." """
    return f"{event.actor.name} {describe_verb(event.verb, 'this')} {ago(now - event.at)}."
