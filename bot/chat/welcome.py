"""Help and first contact: what the bot can do, for `help` or an empty mention."""

from __future__ import annotations

from bot.chat.context import Chat, Said
from bot.domain.commands import ShowHelp
from bot.domain.messages import Outbound, ReplyCard
from cards.help import render_help_card


async def show(chat: Chat, command: ShowHelp, said: Said) -> list[Outbound]:
    return [ReplyCard(card=render_help_card(chat.bot_name))]
