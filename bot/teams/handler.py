"""The botbuilder activity handler: translate, ask `Conversation`, deliver the answer."""

from __future__ import annotations

from botbuilder.core import ActivityHandler, InvokeResponse, TurnContext
from botbuilder.schema import AdaptiveCardInvokeResponse

from bot.conversation import Conversation
from bot.teams.activities import (
    ADAPTIVE_CARD,
    card_activity,
    executed_card_action,
    submitted_card_action,
    to_inbound_message,
)

ADAPTIVE_CARD_ACTION = "adaptiveCard/action"


class HypercareActivityHandler(ActivityHandler):
    def __init__(self, conversation: Conversation) -> None:
        self._conversation = conversation

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        action = submitted_card_action(activity) if not (activity.text or "").strip() else None
        if action is not None:
            result = await self._conversation.on_card_action(action)
            replacement = card_activity(result.card)
            if action.card_activity_id:
                replacement.id = action.card_activity_id
                await turn_context.update_activity(replacement)
            else:
                await turn_context.send_activity(replacement)
            return
        for reply in await self._conversation.on_message(to_inbound_message(activity)):
            await turn_context.send_activity(card_activity(reply.card))

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        # Overridden whole: botbuilder's own adaptive-card path serialises the body twice and
        # answers 500, and it answers 501 to invokes it does not know (TEAMS_NOTES.md).
        if turn_context.activity.name != ADAPTIVE_CARD_ACTION:
            return InvokeResponse(status=200, body={})
        result = await self._conversation.on_card_action(executed_card_action(turn_context.activity))
        return InvokeResponse(
            status=200,
            body=AdaptiveCardInvokeResponse(status_code=200, type=ADAPTIVE_CARD, value=result.card),
        )
