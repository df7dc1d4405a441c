"""Help and first contact: the help card, the welcome when the bot is added, its "Set up hypercare" button, and
`standup here`."""

from __future__ import annotations

from bot.chat.context import Chat, Clicked, Said
from bot.domain.commands import MakeHome, ShowHelp
from bot.domain.membership import NO_WAR_ROOM, war_room_label
from bot.domain.messages import CardActionResult, ConversationRef, Outbound, PostCard, ReplyCard
from bot.domain.model import Person
from bot.domain.results import Applied, Refused
from bot.services.membership import PersonsWarRooms, install, make_home, setup_allowed
from cards.help import render_help_card
from cards.notice import render_announcement, render_notice_card
from cards.phase import render_setup
from cards.welcome import render_personal_welcome, render_welcome


async def show(chat: Chat, command: ShowHelp, said: Said) -> list[Outbound]:
    return [ReplyCard(card=render_help_card(chat.bot_name))]


async def installed(chat: Chat, where: ConversationRef, installer: Person, roster: list[Person]) -> list[Outbound]:
    """Added to a team or group chat: the welcome, posted where the bot was added, once for the war room."""
    done = await install(uow=chat.uow(), now=chat.now(), where=where, installer=installer, roster=roster)
    if not done.welcome:
        return []
    card = render_welcome(bot_name=chat.bot_name, war_room_name=done.room.display_name, admins=done.admins)
    return [PostCard(conversation_id=where.conversation_id, card=card)]


def personal_welcome(chat: Chat, where: ConversationRef, personal: PersonsWarRooms) -> list[Outbound]:
    """Installed in someone's personal chat: the how-to, and which war rooms the chat acts in (nothing is stored)."""
    labels = [war_room_label(room) for room in personal.rooms]
    card = render_personal_welcome(bot_name=chat.bot_name, war_rooms=labels, no_war_room=NO_WAR_ROOM)
    return [PostCard(conversation_id=where.conversation_id, card=card)]


async def open_setup(chat: Chat, clicked: Clicked) -> CardActionResult:
    """The welcome's "Set up hypercare": the setup card for an admin; anyone else is told who may."""
    result = await setup_allowed(
        uow=chat.uow(), now=chat.now(), conversation=clicked.action.conversation, actor=clicked.sender, admins=chat.admins
    )
    match result:
        case Applied(subject=room):
            return CardActionResult(card=render_setup(room.settings))
        case Refused(reason=reason):
            return CardActionResult(card=render_notice_card(reason))
    raise AssertionError(f"unhandled result {result!r}")


async def standup_here(chat: Chat, command: MakeHome, said: Said) -> list[Outbound]:
    result = await make_home(
        uow=chat.uow(), now=chat.now(), conversation=said.message.conversation, actor=said.sender, admins=chat.admins
    )
    return [ReplyCard(card=render_announcement(result.message if isinstance(result, Applied) else result.reason))]
