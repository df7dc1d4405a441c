"""The botbuilder activity handler: translate, ask `Conversation` (bot/chat), deliver the answer."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from botbuilder.core import ActivityHandler, InvokeResponse, TurnContext
from botbuilder.schema import Activity, ActivityTypes

from bot.chat.conversation import Conversation
from bot.domain.messages import Card, ConversationRef, Outbound, PostCard, PostIssueCard, ReplyCard, UpdateCard
from bot.teams.activities import (
    ADAPTIVE_CARD,
    SerialisedCard,
    bot_was_added,
    card_message,
    conversation_ref,
    people_changed,
    executed_card_action,
    message_action_submission,
    reply_to,
    sender,
    source_message,
    submitted_card_action,
    to_inbound_message,
)
from bot.teams.adapter import INVOKE_RESPONSE_KEY, HypercareAdapter
from bot.teams.connector import ConnectorClient, ConnectorError
from bot.teams.directory import ConnectorDirectory, roster

log = logging.getLogger(__name__)

ADAPTIVE_CARD_ACTION = "adaptiveCard/action"
FETCH_TASK = "composeExtension/fetchTask"
SUBMIT_ACTION = "composeExtension/submitAction"


def _dialog(card: Card) -> dict[str, object]:
    """A Teams dialog (task module) showing `card`."""
    return {
        "task": {
            "type": "continue",
            "value": {
                "title": "Raise hypercare issue",
                "height": "large",
                "width": "medium",
                "card": {"contentType": ADAPTIVE_CARD, "content": card},
            },
        }
    }


@dataclass(frozen=True)
class _CardPut:
    """`UpdateCard` with the card serialised already (for the invoke answer)."""

    conversation_id: str
    activity_id: str
    card: SerialisedCard


class HypercareActivityHandler(ActivityHandler):
    def __init__(self, conversation: Conversation, adapter: HypercareAdapter, connector: ConnectorClient) -> None:
        self._conversation = conversation
        self._adapter = adapter
        self._connector = connector

    def _directory(self, activity: Activity) -> ConnectorDirectory:
        return ConnectorDirectory(self._connector, service_url=activity.service_url, conversation_id=activity.conversation.id)

    async def on_turn(self, turn_context: TurnContext) -> None:
        if turn_context.activity.type == ActivityTypes.invoke:
            # The answer is stored for the adapter, not sent: botbuilder's send path deep-copies the whole card.
            response = await self.on_invoke_activity(turn_context)
            turn_context.turn_state[INVOKE_RESPONSE_KEY] = Activity(type=ActivityTypes.invoke_response, value=response)
            return
        await super().on_turn(turn_context)

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        action = submitted_card_action(activity) if not (activity.text or "").strip() else None
        if action is not None:
            result = await self._conversation.on_card_action(action, self._directory(activity))
            answer: list[Outbound] = [ReplyCard(card=result.card)]
            if action.card_activity_id:
                try:
                    await self._connector.update(
                        activity.service_url, activity.conversation.id, action.card_activity_id,
                        card_message(result.card, activity_id=action.card_activity_id),
                    )
                    answer = []
                except ConnectorError as error:
                    # The clicked card cannot be replaced (gone, or not ours): answer with a new message instead.
                    log.warning("could not update the clicked card: %s", error)
            await self._deliver(turn_context, [*answer, *result.side_effects])
            return
        await self._conversation.on_message(
            to_inbound_message(activity), partial(self._deliver, turn_context), self._directory(activity)
        )

    async def on_conversation_update_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        if bot_was_added(activity):
            await self._installed(turn_context)
            return
        # People joined or left, a channel or the team changed: remember where we are and who is there.
        added, removed = people_changed(activity)
        await self._conversation.on_conversation_changed(conversation_ref(activity), added, removed)

    async def on_installation_update(self, turn_context: TurnContext) -> None:
        if bot_was_added(turn_context.activity):  # `remove` leaves the war room as it is, for a re-install
            await self._installed(turn_context)

    async def _installed(self, turn_context: TurnContext) -> None:
        """Added to a team or chat (docs/teams-platform.md): read who is there, then the welcome (once)."""
        activity = turn_context.activity
        where = conversation_ref(activity)
        people = [] if where.is_personal else await roster(
            self._connector, service_url=activity.service_url, conversation_id=where.team_id or where.conversation_id
        )
        await self._deliver(turn_context, await self._conversation.on_installed(where, sender(activity), people))

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        # Overridden whole: botbuilder's own adaptive-card path serialises the body twice and
        # answers 500, and it answers 501 to invokes it does not know (docs/teams-platform.md).
        activity = turn_context.activity
        if activity.name == FETCH_TASK:
            form = await self._conversation.on_raise_from_message(source_message(activity))
            return InvokeResponse(status=200, body=_dialog(form))
        if activity.name == SUBMIT_ACTION:
            return await self._raise_from_message(turn_context)
        if activity.name != ADAPTIVE_CARD_ACTION:
            return InvokeResponse(status=200, body={})
        action = executed_card_action(activity)
        result = await self._conversation.on_card_action(action, self._directory(activity))
        # The answer becomes the message's card, under the same size limit as any message the connector sends. Serialised
        # here once for the answer and the PUT, written as it is by our endpoint (botbuilder's own path would serialise
        # a model twice).
        card = SerialisedCard.of(result.card, conversation_id=activity.conversation.id)
        after: list[Outbound | _CardPut] = list(result.side_effects)
        if result.refresh_for_everyone and action.card_activity_id:
            # The invoke answer replaces the card for the clicker only; everyone else gets a PUT.
            after.insert(0, _CardPut(conversation_id=activity.conversation.id, activity_id=action.card_activity_id, card=card))
        if after:
            self._adapter.run_after_turn(self._deliver(turn_context, after))
        return InvokeResponse(status=200, body=card.invoke_answer())

    async def _raise_from_message(self, turn_context: TurnContext) -> InvokeResponse:
        result = await self._conversation.on_raise_from_message_submitted(message_action_submission(turn_context.activity))
        if result.issue_id is None:
            return InvokeResponse(status=200, body=_dialog(result.card))  # the form again, with its errors
        self._adapter.run_after_turn(self._deliver(turn_context, list(result.side_effects)))
        where = "your war room's channel" if conversation_ref(turn_context.activity).is_personal else "the thread"
        return InvokeResponse(status=200, body={"task": {"type": "message", "value": f"Issue raised: its card is in {where}."}})

    async def _post_issue_card(self, post: PostIssueCard) -> None:
        where = post.where
        try:
            sent_id = await self._connector.send(where.service_url, where.conversation_id, card_message(post.card))
        except ConnectorError as error:
            # The user was told where the card is: the outbox puts it there (not attached to the issue, so later
            # changes are announced in the thread rather than shown on this card).
            log.warning("could not post the card of issue %s now (%s); it goes to the outbox", post.issue_id, error)
            await self._conversation.deliver_later(where, post.card, dedupe_key=f"issue-card:{post.issue_id}")
            return
        if sent_id:
            if where.conversation_type == "channel" and not where.is_thread:
                # A post straight into a channel starts a thread: the issue lives in that thread from now on.
                where = where.model_copy(update={"conversation_id": f"{where.conversation_id};messageid={sent_id}"})
            await self._conversation.card_posted(post.issue_id, sent_id, where)

    async def _deliver(
        self, turn_context: TurnContext, outbound: Sequence[Outbound | _CardPut], acting: ConversationRef | None = None
    ) -> None:
        """Send what the turn produced. A message Teams would not take even after retries goes to the outbox (of the
        war room `acting` is in, when given: a personal chat's)."""
        activity = turn_context.activity
        for position, message in enumerate(outbound):
            if isinstance(message, PostIssueCard):
                await self._post_issue_card(message)
                continue
            try:
                match message:
                    case ReplyCard(card=card):
                        await self._connector.send(activity.service_url, activity.conversation.id, reply_to(activity, card))
                    case UpdateCard(conversation_id=conversation_id, activity_id=activity_id, card=card):
                        await self._connector.update(
                            activity.service_url, conversation_id, activity_id, card_message(card, activity_id=activity_id)
                        )
                    case _CardPut(conversation_id=conversation_id, activity_id=activity_id, card=serialised):
                        await self._connector.update_serialised(
                            activity.service_url, conversation_id, activity_id, serialised.update_body(activity_id)
                        )
                    case PostCard(conversation_id=conversation_id, card=card):
                        await self._connector.send(activity.service_url, conversation_id, card_message(card))
            except ConnectorError as error:
                if isinstance(message, UpdateCard | _CardPut):
                    # A card left stale is corrected by the next change to the issue; nothing is lost.
                    log.warning("could not update card %s: %s", message.activity_id, error)
                    continue
                target = message.conversation_id if isinstance(message, PostCard) else activity.conversation.id
                key = f"turn:{activity.conversation.id}:{activity.id or uuid.uuid4().hex}:{position}"
                log.warning("could not deliver a message now (%s); it goes to the outbox", error)
                where = (acting or conversation_ref(activity)).model_copy(update={"conversation_id": target})
                await self._conversation.deliver_later(where, message.card, dedupe_key=key, person=sender(activity))
