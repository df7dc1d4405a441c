"""What `bot/teams` calls: a message or card action in, the answer out, each through the routing table.

Channel-neutral: `bot/teams` turns activities into the inbound messages used here and delivers the answers.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from bot.chat import intake, triage
from bot.chat.context import Chat, Clicked, NoDirectory, Said
from bot.chat.routes import CARD_VERBS, COMMANDS
from bot.domain.commands import CommandError, ReportIssue, ShowHelp, parse_command
from bot.domain.messages import Card, CardActionResult, ConversationRef, InboundCardAction, InboundMessage, Outbound, ReplyCard, SourceMessage
from bot.domain.ports import PeopleDirectory
from bot.services.intake import finish_activity, receive_message, record_contact, release_activity
from bot.services.outbox import enqueue_message
from bot.services.triage import attach_card
from cards.notice import render_notice_card

log = logging.getLogger(__name__)

# Sends a turn's answer (or queues what the channel would not take now).
Deliver = Callable[[list[Outbound]], Awaitable[None]]


class StillAnswering(Exception):
    """The channel delivered a message again while its first delivery is still being answered: try again later."""


class Conversation:
    def __init__(self, chat: Chat) -> None:
        self._chat = chat

    async def on_message(self, message: InboundMessage, deliver: Deliver, directory: PeopleDirectory | None = None) -> None:
        """Answer a message through `deliver`, once however often the channel delivers it.

        The message is claimed first. The claim is finished once `deliver` has returned (the answer is sent or
        queued) and released when anything failed, so that the channel's next delivery is answered. A delivery
        while another is still being answered raises `StillAnswering`: that one may yet fail.
        """
        chat = self._chat
        command = parse_command(message.text) if message.text.strip() else ShowHelp()
        report_text = message.text if command is None else command.text if isinstance(command, ReportIssue) else None
        claimed_at = chat.now()
        received = await receive_message(
            uow=chat.uow(), now=claimed_at, conversation=message.conversation, activity_id=message.activity_id,
            report_text=report_text, look_in_thread=command is None,
        )
        if received.claim == "done":
            return
        if received.claim == "busy":
            raise StillAnswering(f"activity {message.activity_id} is being answered by another delivery")
        said = Said(message=message, directory=directory or NoDirectory(), received=received)
        try:
            await deliver(await self._answer(command, said))
        except BaseException:
            await self._release(message, claimed_at)
            raise
        await self._finish(message, claimed_at)

    async def _answer(self, command: object, said: Said) -> list[Outbound]:
        if isinstance(command, CommandError):
            return [ReplyCard(card=render_notice_card(command.message))]
        if command is None:
            thread_issue = said.received.thread_issue if said.received else None
            if thread_issue is not None:
                return await triage.add_thread_update(self._chat, thread_issue, said)
            command = ReportIssue(text=said.message.text)
        return await COMMANDS[type(command)](self._chat, command, said)

    async def _finish(self, message: InboundMessage, claimed_at: datetime) -> None:
        if not message.activity_id:
            return
        try:
            finished = await finish_activity(
                uow=self._chat.uow(), now=self._chat.now(), conversation_id=message.conversation.conversation_id,
                activity_id=message.activity_id, claimed_at=claimed_at,
            )
        except Exception as error:  # the answer is out: failing the request now would only invite a second one
            log.warning("activity %s was answered but not recorded as such (%s)", message.activity_id, type(error).__name__)
            return
        if not finished:
            log.warning("activity %s was answered after its claim ran out: a re-delivery may be answered too", message.activity_id)

    async def _release(self, message: InboundMessage, claimed_at: datetime) -> None:
        if not message.activity_id:
            return
        try:
            await release_activity(
                uow=self._chat.uow(), conversation_id=message.conversation.conversation_id, activity_id=message.activity_id,
                claimed_at=claimed_at,
            )
        except Exception as error:  # the database is away too: the claim runs out with its lease instead
            log.warning("could not release the claim on activity %s (%s)", message.activity_id, type(error).__name__)

    async def on_card_action(self, action: InboundCardAction, directory: PeopleDirectory | None = None) -> CardActionResult:
        handler = CARD_VERBS.get(action.verb or "")
        if handler is None:
            return CardActionResult(card=render_notice_card(triage.UNKNOWN_BUTTON))
        return await handler(self._chat, Clicked(action=action, directory=directory or NoDirectory()))

    async def on_raise_from_message(self, source: SourceMessage) -> Card:
        """The issue form, prefilled from the chosen message, for the dialog Teams opens."""
        return await intake.form_for_message(self._chat, source)

    async def on_raise_from_message_submitted(self, action: InboundCardAction) -> CardActionResult:
        return await intake.submit_issue_dialog(self._chat, Clicked(action=action))

    async def on_installed(self, where: ConversationRef) -> None:
        """The bot was added to a team or chat (or it changed): remember the place and its name."""
        await record_contact(uow=self._chat.uow(), now=self._chat.now(), conversation=where)

    async def deliver_later(self, where: ConversationRef, card: Card, *, dedupe_key: str) -> None:
        """A message the channel would not take now: the outbox delivers it when it can."""
        await enqueue_message(uow=self._chat.uow(), now=self._chat.now(), conversation=where, card=card, dedupe_key=dedupe_key)

    async def card_posted(self, issue_id: int, activity_id: str, thread: ConversationRef) -> None:
        """The issue's card was posted as `activity_id` in `thread`, where the issue lives from now on."""
        await attach_card(uow=self._chat.uow(), now=self._chat.now(), issue_id=issue_id, activity_id=activity_id, thread=thread)
