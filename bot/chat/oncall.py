"""Who is on call: show it, set or clear an override, set a weekly rota."""

from __future__ import annotations

from bot.chat.context import Chat, Said
from bot.domain.commands import MAX_MENTIONS, SetOnCall, SetRota, ShowOnCall
from bot.domain.messages import Outbound, ReplyCard
from bot.domain.results import Applied, Refused
from bot.domain.war_room import OnCall
from bot.services.oncall import change_oncall, oncall_refusal, show_oncall
from cards.notice import render_announcement, render_notice_card
from cards.oncall import render_oncall


async def show(chat: Chat, command: ShowOnCall, said: Said) -> list[Outbound]:
    now = chat.now()
    view = await show_oncall(uow=chat.uow(), now=now, conversation=said.message.conversation)
    return [ReplyCard(card=render_oncall(view, now=now))]


async def set_override(chat: Chat, command: SetOnCall, said: Said) -> list[Outbound]:
    person = None
    if not command.clear:
        person = await said.mentioned_person()
        if person is None:
            return [ReplyCard(card=render_notice_card("Mention who is on call: `oncall set @person [until 2026-12-01 18:00]`."))]
    result = await change_oncall(
        uow=chat.uow(), now=chat.now(), conversation=said.message.conversation, actor=said.sender, admins=chat.admins,
        person=person, until_local=command.until_local,
    )
    return [_answer(result)]


async def set_rota(chat: Chat, command: SetRota, said: Said) -> list[Outbound]:
    mentions = said.message.mentions
    if not mentions:
        return [ReplyCard(card=render_notice_card("Mention the people in turn: `oncall rota @a @b @c [handover mon 09:00]`."))]
    # Nobody is looked up for someone who may not set the rota, nor for more people than a rota holds.
    conversation = said.message.conversation
    refusal = await oncall_refusal(uow=chat.uow(), now=chat.now(), conversation=conversation, actor=said.sender, admins=chat.admins)
    if refusal is not None:
        return [ReplyCard(card=render_notice_card(refusal.reason))]
    if len(mentions) > MAX_MENTIONS:
        return [ReplyCard(card=render_notice_card(f"A rota holds at most {MAX_MENTIONS} people; this message mentions {len(mentions)}."))]
    people = tuple([await said.person(mentioned.user_id, mentioned.name) for mentioned in mentions])
    result = await change_oncall(
        uow=chat.uow(), now=chat.now(), conversation=conversation, actor=said.sender, admins=chat.admins, rota=people,
        handover_weekday=command.handover_weekday, handover_time=command.handover_time,
    )
    return [_answer(result)]


def _answer(result: Applied[OnCall] | Refused[OnCall]) -> ReplyCard:
    return ReplyCard(card=render_announcement(result.message if isinstance(result, Applied) else result.reason))
