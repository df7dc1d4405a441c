"""What an issue's card needs from its war room, and one person's own view of it (Teams' user-specific views)."""

from __future__ import annotations

from bot.domain.messages import ConversationRef
from bot.domain.model import Issue, Person
from bot.domain.ports import UnitOfWork
from bot.domain.priorities import unique_people
from bot.domain.views import TRIAGE_ROLES, IssueCardContext, Viewer
from bot.services.roles import actor_roles


async def _context(uow: UnitOfWork, war_room_id: int) -> IssueCardContext:
    room = await uow.war_rooms.get(war_room_id)
    members = await uow.roles.members(war_room_id)
    team = unique_people(person for person, role in sorted(members, key=lambda held: held[0].name.casefold()) if role in TRIAGE_ROLES)
    return IssueCardContext(triage_team=team, policy=room.settings.policy)


async def issue_card_context(*, uow: UnitOfWork, war_room_id: int) -> IssueCardContext:
    async with uow:
        return await _context(uow, war_room_id)


async def view_of_issue(
    *, uow: UnitOfWork, conversation: ConversationRef, viewer: Person, issue_id: int, admins: frozenset[str]
) -> tuple[Issue, Viewer, IssueCardContext] | None:
    """An issue of this conversation's war room as `viewer` sees it; None for another war room's (nothing leaks)."""
    async with uow:
        war_room_id = await uow.war_rooms.find(conversation)
        issue = await uow.issues.get(issue_id)
        if war_room_id is None or issue is None or issue.war_room_id != war_room_id:
            return None
        roles = await actor_roles(uow, war_room_id, viewer, admins)
        is_reporter = viewer.aad_object_id is not None and viewer.aad_object_id == issue.reporter.aad_object_id
        return issue, Viewer(roles=roles, is_reporter=is_reporter), await _context(uow, war_room_id)
