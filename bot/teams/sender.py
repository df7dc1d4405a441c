"""Delivers outbox messages through the Bot Connector, one attempt each: the outbox schedules retries."""

from __future__ import annotations

from bot.domain.messages import OutboxItem
from bot.domain.ports import DeliveryOutcome
from bot.teams.activities import card_message
from bot.teams.connector import ConnectorClient, ConnectorError


class ConnectorSender:
    def __init__(self, connector: ConnectorClient) -> None:
        # Give this client a single-attempt retry policy: a failed send goes back to the outbox, which
        # retries later without holding up the other conversations.
        self._connector = connector

    async def deliver(self, item: OutboxItem) -> DeliveryOutcome:
        activity = card_message(item.card)
        try:
            if item.kind == "channel_post":
                sent = await self._connector.create_channel_post(
                    item.service_url, channel_id=item.conversation_id, tenant_id=item.tenant_id, bot_id=item.bot_id,
                    activity=activity,
                )
            else:
                sent = await self._connector.send(item.service_url, item.conversation_id, activity)
        except ConnectorError as error:
            kind = "retry" if error.retryable else "failed"
            return DeliveryOutcome(kind=kind, retry_after=error.retry_after, error=str(error))
        return DeliveryOutcome(kind="sent", activity_id=sent)
