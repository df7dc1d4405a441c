"""A botbuilder adapter that keeps the turn/handler model but sends through our own connector client.

CloudAdapter builds msrest connector clients for every turn and never retries a send; this adapter
reuses one aiohttp session and retries (bot/teams/connector.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from botbuilder.core import BotAdapter, InvokeResponse, TurnContext
from botbuilder.schema import Activity, ActivityTypes, ConversationReference, ResourceResponse

from bot.teams.auth import Authenticator
from bot.teams.connector import ConnectorClient

Logic = Callable[[TurnContext], Awaitable[Any]]
# Where a turn leaves its invoke answer (botbuilder's own key, so its handlers find it too).
INVOKE_RESPONSE_KEY = BotAdapter._INVOKE_RESPONSE_KEY  # noqa: SLF001

log = logging.getLogger(__name__)


class HypercareAdapter(BotAdapter):
    def __init__(self, *, connector: ConnectorClient, authenticator: Authenticator) -> None:
        super().__init__()
        self._connector = connector
        self._authenticator = authenticator
        self._after_turn: set[asyncio.Task[Any]] = set()

    async def authenticate(self, activity: Activity, auth_header: str | None) -> None:
        """Raises `Unauthorized` unless the request comes from the Bot Framework (or local mode is on)."""
        await self._authenticator.authenticate(activity, auth_header)

    async def process(self, activity: Activity, logic: Logic) -> InvokeResponse | None:
        """Run one turn; for an invoke, the response to put in the HTTP answer."""
        context = TurnContext(self, activity)
        await self.run_pipeline(context, logic)
        if activity.type != ActivityTypes.invoke:
            return None
        answered = context.turn_state.get(INVOKE_RESPONSE_KEY)
        if answered is not None and isinstance(answered.value, InvokeResponse):
            return answered.value
        # Teams shows an error for an invoke left unanswered (botbuilder would say 501).
        return InvokeResponse(status=200, body={})

    def run_after_turn(self, job: Coroutine[Any, Any, Any]) -> None:
        """Work the user need not wait for (an invoke must be answered within 5 s), e.g. refreshing a card for everyone."""
        task = asyncio.create_task(job)
        self._after_turn.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._after_turn.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("work after a turn failed", exc_info=task.exception())

    async def drain(self) -> None:
        """Wait for the work started after turns (at shutdown, and in tests)."""
        while self._after_turn:
            await asyncio.gather(*self._after_turn, return_exceptions=True)

    async def send_activities(self, context: TurnContext, activities: list[Activity]) -> list[ResourceResponse]:
        responses = []
        for activity in activities:
            if activity.type == ActivityTypes.invoke_response:
                context.turn_state[INVOKE_RESPONSE_KEY] = activity
                responses.append(ResourceResponse())
                continue
            sent_id = await self._connector.send(activity.service_url, activity.conversation.id, activity.serialize())
            responses.append(ResourceResponse(id=sent_id or ""))
        return responses

    async def update_activity(self, context: TurnContext, activity: Activity) -> ResourceResponse:
        await self._connector.update(activity.service_url, activity.conversation.id, activity.id, activity.serialize())
        return ResourceResponse(id=activity.id)

    async def delete_activity(self, context: TurnContext, reference: ConversationReference) -> None:
        await self._connector.delete(reference.service_url, reference.conversation.id, reference.activity_id)
