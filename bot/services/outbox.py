"""The outbox: messages queued for a conversation, sent by the scheduler's outbox pass."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.domain.ports import UnitOfWork
from bot.domain.messages import ConversationRef, OutboundMessage


async def enqueue_message(
    *, uow: UnitOfWork, now: datetime, conversation: ConversationRef, card: dict[str, Any], dedupe_key: str
) -> None:
    """Queue a message for a conversation; the scheduler's outbox pass sends it."""
    async with uow:
        war_room_id = await uow.war_rooms.ensure(conversation, now=now)
        await uow.outbox.enqueue(
            OutboundMessage(
                dedupe_key=dedupe_key,
                war_room_id=war_room_id,
                tenant_id=conversation.tenant_id,
                service_url=conversation.service_url,
                kind="message",
                conversation_id=conversation.conversation_id,
                bot_id=conversation.bot_id,
                card=card,
            ),
            now=now,
        )
        await uow.commit()
