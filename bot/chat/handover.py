"""The end of hypercare: the celebration card, and the hand-over pack's link for those who may take it."""

from __future__ import annotations

from bot.chat.context import Chat, Clicked, Said
from bot.domain.commands import HandOver
from bot.domain.messages import Card, CardActionResult, Outbound, ReplyCard
from bot.domain.results import Applied, Refused
from bot.services.handover import celebration, may_hand_over
from cards.celebration import render_celebration, render_handover
from cards.notice import render_notice_card

# An Action.Submit answer replaces the card for everyone (bot/teams): the link must not go there.
OLD_CLIENT = "Your Teams client cannot show the link to you alone: open this card in the current Teams app."


async def celebration_card(chat: Chat, war_room_id: int, *, handover_url: str | None = None, notice: str | None = None) -> Card | None:
    """The war room's celebration, as of its sign-off; None while it is not signed off."""
    celebrated = await celebration(uow=chat.uow(), war_room_id=war_room_id, now=chat.now())
    if celebrated is None:
        return None
    chart_url = chat.chart_url(war_room_id, celebrated.chart_id)
    return render_celebration(celebrated.celebration, chart_url=chart_url, handover_url=handover_url, notice=notice)


async def offer(chat: Chat, command: HandOver, said: Said) -> list[Outbound]:
    """`handover`: the card with the button that gets each allowed person their own link (never the link itself)."""
    result = await may_hand_over(uow=chat.uow(), now=chat.now(), conversation=said.message.conversation, actor=said.sender, admins=chat.admins)
    match result:
        case Applied(subject=room):
            return [ReplyCard(card=render_handover(room.display_name))]
        case Refused(reason=reason):
            return [ReplyCard(card=render_notice_card(reason))]
    raise AssertionError(f"unhandled result {result!r}")


async def give_link(chat: Chat, clicked: Clicked) -> CardActionResult:
    """The card pressed, drawn again for the clicker alone: with their link, or with why not."""
    now = chat.now()
    result = await may_hand_over(uow=chat.uow(), now=now, conversation=clicked.action.conversation, actor=clicked.sender, admins=chat.admins)
    room = result.subject
    assert room is not None
    notice = result.reason if isinstance(result, Refused) else OLD_CLIENT if clicked.action.via != "execute" else None
    url = None if notice else chat.handover_url(room.id, now)
    card = await celebration_card(chat, room.id, handover_url=url, notice=notice) if clicked.text("from") == "celebration" else None
    return CardActionResult(card=card or render_handover(room.display_name, url=url, notice=notice))
