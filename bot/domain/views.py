"""Which buttons each person sees on an issue's card (Teams' user-specific views, docs/teams-platform.md).

The card everyone is sent offers every button the issue's status allows; Teams then asks the bot, for each person
listed on the card (the reporter and the triage team, at most 60), for that person's own view. What a view shows is
decided here, from the viewer's roles and whether they reported the issue. It only hides: every action is checked
again when it is pressed (bot/domain/triage.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pydantic import BaseModel, ConfigDict

from bot.domain.events import Verb
from bot.domain.model import Person, Role
from bot.domain.permissions import PERMITTED_ROLES, may
from bot.domain.policy import DEFAULT_POLICY, SeverityPolicy
from bot.domain.priorities import unique_people

# Teams refreshes a card for at most this many listed people; anyone beyond sees the card everyone is sent.
REFRESH_USERS_MAX = 60

# The triage buttons: what some roles may do and others not (Add update and Me too are everyone's).
TRIAGE_VERBS = frozenset(verb for verb in Verb if PERMITTED_ROLES[verb.action] is not None and verb is not Verb.DECIDE)
# Who may press at least one of them: the triage team, whose members get their own view of every issue card.
TRIAGE_ROLES = frozenset(role for role in Role if any(may(frozenset({role}), verb.action) for verb in TRIAGE_VERBS))


def visible_verbs(offered: Iterable[Verb], roles: frozenset[Role], *, is_reporter: bool) -> frozenset[Verb]:
    """Of the buttons the issue's status offers, those this viewer may press."""
    return frozenset(verb for verb in offered if may(roles, verb.action, own=is_reporter))


def refresh_viewers(reporter: Person, team: Sequence[Person]) -> tuple[Person, ...]:
    """Who gets their own view: the reporter first (only they see their own-issue buttons), then the triage team;
    each once, only those Teams knows by an AAD object id, at most REFRESH_USERS_MAX."""
    known = [person for person in unique_people((reporter, *team)) if person.aad_object_id]
    return tuple(known[:REFRESH_USERS_MAX])


class IssueCardContext(BaseModel):
    """What an issue's card needs from its war room: who gets their own view, and the policy its wording follows."""

    model_config = ConfigDict(frozen=True)

    triage_team: tuple[Person, ...] = ()
    policy: SeverityPolicy = DEFAULT_POLICY


class Viewer(BaseModel):
    """Someone looking at an issue's card: their roles in its war room, and whether they reported it."""

    model_config = ConfigDict(frozen=True)

    roles: frozenset[Role]
    is_reporter: bool
