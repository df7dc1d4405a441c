"""Issue cards as the war room draws them, and each person's own view of one (Teams' user-specific views)."""

from __future__ import annotations

from typing import Any

from bot.chat.context import Chat, Clicked
from bot.domain.messages import Card, CardActionResult
from bot.domain.model import Issue
from bot.services.views import issue_card_context, view_of_issue
from cards.issue_card import render_issue_card
from cards.notice import render_notice_card


async def issue_card(chat: Chat, issue: Issue, **options: Any) -> Card:
    """The card everyone is sent: every button its status allows, the war room's wording, and who gets their own view."""
    return render_issue_card(issue, context=await issue_card_context(uow=chat.uow(), war_room_id=issue.war_room_id), **options)


async def own_view(chat: Chat, clicked: Clicked) -> CardActionResult:
    """Teams asks for one person's view of an issue card (the card's `refresh`): only the buttons they may press."""
    issue_id = clicked.action.data.get("issue_id")
    found = None
    if isinstance(issue_id, int) and not isinstance(issue_id, bool):
        found = await view_of_issue(
            uow=chat.uow(), conversation=clicked.action.conversation, viewer=clicked.sender, issue_id=issue_id, admins=chat.admins
        )
    if found is None:
        return CardActionResult(card=render_notice_card("There is no issue like that in this war room."))
    issue, viewer, context = found
    return CardActionResult(card=render_issue_card(issue, context=context, viewer=viewer), issue_id=issue.id)
