"""Agreeing priorities at the stand-up: who takes part, who is @mentioned, and scope discipline made visible."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from pydantic import BaseModel, ConfigDict, Field

from bot.domain.mentions import Mentions, plan_mentions
from bot.domain.model import Issue, Person, Role, Severity
from bot.domain.policy import SeverityPolicy, SeverityRule, Span

# The people named one by one in a war room's participants (roles add everyone holding them).
PARTICIPANT_PEOPLE_MAX = 100
# Issues below this severity are not what hypercare is for: the stand-up counts those still being worked.
SCOPE_SEVERITIES = frozenset({Severity.SEV3, Severity.SEV4})


class StandupParticipants(BaseModel):
    """Who the scheduled stand-up @mentions: everyone holding one of `roles`, and `people` by name."""

    model_config = ConfigDict(frozen=True)

    roles: tuple[Role, ...] = (Role.TRIAGE_LEAD,)
    people: tuple[Person, ...] = Field(default=(), max_length=PARTICIPANT_PEOPLE_MAX)

    def describe(self) -> str:
        parts = [", ".join(role.value for role in self.roles)] if self.roles else []
        parts += [", ".join(person.name for person in self.people)] if self.people else []
        return "; ".join(parts) or "nobody"


def unique_people(people: Iterable[Person]) -> tuple[Person, ...]:
    """Each person once, in the order first met."""
    seen: dict[str, Person] = {}
    for person in people:
        seen.setdefault(person.key, person)
    return tuple(seen.values())


def standup_mentions(owners: Sequence[Person], participants: Sequence[Person]) -> Mentions:
    """Who one stand-up @mentions: the owners of what is breached or undecided first (they have to act), then the
    participants; each once, as many as one message may mention, the rest counted."""
    return plan_mentions(unique_people((*owners, *participants)), messages=1)


class ScopeLine(BaseModel):
    """Sev 3/4 issues still being worked in hypercare, and by whom (most first; "unassigned" counted apart)."""

    model_config = ConfigDict(frozen=True)

    total: int
    owners: tuple[tuple[str, int], ...]
    unassigned: int


def scope_in_hypercare(open_issues: Iterable[Issue]) -> ScopeLine:
    low = [issue for issue in open_issues if issue.severity in SCOPE_SEVERITIES]
    counts = Counter(issue.assignee.name for issue in low if issue.assignee)
    owners = tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0].casefold())))
    return ScopeLine(total=len(low), owners=owners, unassigned=sum(1 for issue in low if issue.assignee is None))


def _every(span: Span, rule: SeverityRule) -> str:
    """`every working day`, `every 2 hours`, `every 15 minutes`, as the rule's clock counts them."""
    amount = int(span.amount) if span.amount.is_integer() else span.amount
    unit = {"m": "minute", "h": "hour", "d": "day"}[span.unit]
    if rule.clock == "working" and span.unit != "m":
        unit = f"working {unit}"
    return f"every {unit}" if amount == 1 else f"every {amount} {unit}s"


def chasing(severity: Severity, policy: SeverityPolicy) -> str:
    """How the war room's policy chases an issue of `severity`, in words: the card says what the reminders do."""
    rule = policy.rule(severity)
    unacknowledged = (
        f"reminded {_every(rule.remind_unacknowledged_every, rule)} until acknowledged"
        if rule.remind_unacknowledged_every else "not reminded until acknowledged"
    )
    if rule.remind_open_every:
        return f"{unacknowledged}, then {_every(rule.remind_open_every, rule)} while open"
    return f"{unacknowledged}, then reviewed at the stand-up and not chased"


def scope_note(severity: Severity, policy: SeverityPolicy) -> str | None:
    """Scope discipline on an issue's card: what a Sev 3 or Sev 4 means for hypercare work, as the policy has it."""
    if severity is Severity.SEV3:
        return f"Sev 3: annoying, not blocking. Fixed in weeks; {chasing(severity, policy)}."
    if severity is Severity.SEV4:
        return "Sev 4: an enhancement. It goes to the post-go-live backlog (`list deferred`), not into hypercare work."
    return None
