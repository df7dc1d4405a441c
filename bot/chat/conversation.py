"""What `bot/teams` calls: a message or card action in, the answer out, each through the routing table.

Channel-neutral: `bot/teams` turns activities into the inbound messages used here and delivers the answers.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from bot.chat import intake, triage, welcome
from bot.chat.context import Chat, Clicked, NoDirectory, Said
from bot.chat.routes import CARD_VERBS, COMMANDS
from bot.domain.commands import CommandError, ReportIssue, ShowHelp, parse_command
from bot.domain.membership import NO_WAR_ROOM, acting_war_room, named_war_room, several_war_rooms
from bot.domain.messages import (
    Card,
    CardActionResult,
    ConversationRef,
    InboundCardAction,
    InboundMessage,
    Outbound,
    ReplyCard,
    SourceMessage,
)
from bot.domain.model import Person
from bot.domain.ports import PeopleDirectory
from bot.domain.war_room import WarRoom
from bot.services.intake import finish_activity, receive_message, record_contact, release_activity
from bot.services.membership import PersonsWarRooms, members_changed, persons_war_rooms, remember_choice
from bot.services.outbox import enqueue_message
from bot.services.triage import attach_card, issue_war_room
from cards.notice import render_notice_card

log = logging.getLogger(__name__)

# Sends a turn's answer (or queues what the channel would not take now, for the conversation as acted in).
Deliver = Callable[[list[Outbound], ConversationRef], Awaitable[None]]


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
        personal, named = None, None
        if message.conversation.is_personal:
            # A personal chat acts in one of its person's war rooms: the one named (`list in Finance`), their only
            # one, or the one they chose last.
            personal = await self._persons_war_rooms(message.sender, message.conversation)
            text, named = named_war_room(message.text, personal.rooms)
            message = _acting_in(message.model_copy(update={"text": text}), acting_war_room(personal.rooms, named=named, chosen=personal.chosen))
        command = parse_command(message.text) if message.text.strip() else ShowHelp()
        report_text = message.text if command is None else command.text if isinstance(command, ReportIssue) else None
        claimed_at = chat.now()
        received = await receive_message(
            uow=chat.uow(), now=claimed_at, conversation=message.conversation, activity_id=message.activity_id,
            report_text=report_text, look_in_thread=command is None, sender=message.sender,
        )
        if received.claim == "done":
            return
        if received.claim == "busy":
            raise StillAnswering(f"activity {message.activity_id} is being answered by another delivery")
        said = Said(message=message, directory=directory or NoDirectory(), received=received, personal=personal)
        try:
            if named is not None:
                await remember_choice(uow=chat.uow(), now=chat.now(), war_room_id=named.id, person=message.sender)
            await deliver(await self._answer(command, said), message.conversation)
        except BaseException:
            await self._release(message, claimed_at)
            raise
        await self._finish(message, claimed_at)

    async def _answer(self, command: object, said: Said) -> list[Outbound]:
        if isinstance(command, CommandError):
            return [ReplyCard(card=render_notice_card(command.message))]
        personal = said.personal
        if personal is not None and not said.message.conversation.acting_in and not isinstance(command, ShowHelp):
            if not personal.rooms:
                return [ReplyCard(card=render_notice_card(NO_WAR_ROOM))]
            if command is not None and not isinstance(command, ReportIssue):
                return [ReplyCard(card=render_notice_card(several_war_rooms(personal.rooms)))]
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
        clicked = await self._clicked(action, directory)
        if isinstance(clicked, str):
            return CardActionResult(card=render_notice_card(clicked))
        return await handler(self._chat, clicked)

    async def _clicked(self, action: InboundCardAction, directory: PeopleDirectory | None) -> Clicked | str:
        """The click, acting in a war room of the person when it comes from a personal chat (else why not)."""
        if not action.conversation.is_personal:
            return Clicked(action=action, directory=directory or NoDirectory())
        personal = await self._persons_war_rooms(action.sender, action.conversation)
        if not personal.rooms:
            return NO_WAR_ROOM
        room: WarRoom | None
        if "war_room" in action.data:  # chosen on the issue form
            room = personal.get(action.data["war_room"])
            if room is None:
                return "That war room is not one of yours. Mention me in your team's channel, or choose one of yours on the form."
            await remember_choice(uow=self._chat.uow(), now=self._chat.now(), war_room_id=room.id, person=action.sender)
        elif isinstance(action.data.get("issue_id"), int):  # a button on an issue's card: that issue's war room
            war_room_id = await issue_war_room(uow=self._chat.uow(), issue_id=action.data["issue_id"])
            room = personal.get(war_room_id) or acting_war_room(personal.rooms, chosen=personal.chosen)
        else:
            room = acting_war_room(personal.rooms, chosen=personal.chosen)
        if room is None:
            return several_war_rooms(personal.rooms)
        acting = action.conversation.model_copy(update={"acting_in": room.key})
        return Clicked(action=action.model_copy(update={"conversation": acting}), directory=directory or NoDirectory(), personal=personal)

    async def on_raise_from_message(self, source: SourceMessage) -> Card:
        """The issue form, prefilled from the chosen message, for the dialog Teams opens."""
        if not source.conversation.is_personal:
            return await intake.form_for_message(self._chat, source)
        personal = await self._persons_war_rooms(source.sender, source.conversation)
        room = acting_war_room(personal.rooms, chosen=personal.chosen)
        if not personal.rooms:
            return render_notice_card(NO_WAR_ROOM)
        acting = source.conversation.model_copy(update={"acting_in": (room or personal.rooms[0]).key})
        return await intake.form_for_message(self._chat, source.model_copy(update={"conversation": acting}), personal=personal, chosen=room)

    async def on_raise_from_message_submitted(self, action: InboundCardAction) -> CardActionResult:
        clicked = await self._clicked(action, None)
        if isinstance(clicked, str):
            return CardActionResult(card=render_notice_card(clicked))
        return await intake.submit_issue_dialog(self._chat, clicked)

    async def on_installed(self, where: ConversationRef, installer: Person, roster: list[Person]) -> list[Outbound]:
        """The bot was added to a team, a group chat or someone's personal chat: its first words there (once)."""
        if where.is_personal:
            personal = await self._persons_war_rooms(installer, where)
            return welcome.personal_welcome(self._chat, where, personal)
        return await welcome.installed(self._chat, where, installer, roster)

    async def on_conversation_changed(self, where: ConversationRef, added: list[Person], removed: list[Person]) -> None:
        """Something changed where the bot is (people joined or left, a channel or the team renamed): remember it."""
        if where.is_personal:
            return
        await record_contact(uow=self._chat.uow(), now=self._chat.now(), conversation=where)
        if added or removed:
            await members_changed(uow=self._chat.uow(), now=self._chat.now(), where=where, added=added, removed=removed)

    async def deliver_later(self, where: ConversationRef, card: Card, *, dedupe_key: str, person: Person | None = None) -> None:
        """A message the channel would not take now: the outbox delivers it when it can.

        An outbox message belongs to a war room: one for a personal chat goes with the war room its `person` acts in.
        """
        if where.is_personal and not where.acting_in:
            personal = await self._persons_war_rooms(person, where) if person else PersonsWarRooms()
            room = acting_war_room(personal.rooms, chosen=personal.chosen)
            if room is None:
                log.warning("a message for personal chat %s could not be sent and has no war room to queue it in", where.conversation_id)
                return
            where = where.model_copy(update={"acting_in": room.key})
        await enqueue_message(uow=self._chat.uow(), now=self._chat.now(), conversation=where, card=card, dedupe_key=dedupe_key)

    async def _persons_war_rooms(self, person: Person, where: ConversationRef) -> PersonsWarRooms:
        return await persons_war_rooms(uow=self._chat.uow(), tenant_id=where.tenant_id, person=person)

    async def card_posted(self, issue_id: int, activity_id: str, thread: ConversationRef) -> None:
        """The issue's card was posted as `activity_id` in `thread`, where the issue lives from now on."""
        await attach_card(uow=self._chat.uow(), now=self._chat.now(), issue_id=issue_id, activity_id=activity_id, thread=thread)


def _acting_in(message: InboundMessage, room: WarRoom | None) -> InboundMessage:
    if room is None:
        return message
    return message.model_copy(update={"conversation": message.conversation.model_copy(update={"acting_in": room.key})})
