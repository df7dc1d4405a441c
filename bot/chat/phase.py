"""The hypercare phase: its settings, the exit criteria, moving the end, signing off and withdrawing it."""

from __future__ import annotations

from bot.chat.context import Chat, Clicked, Said
from bot.chat.handover import celebration_card
from bot.domain.commands import ExtendPhase, ShowExit, ShowSetup
from bot.domain.messages import Card, CardActionResult, Outbound, PostCard, ReplyCard
from bot.domain.results import Applied, Refused
from bot.services.phase import PhaseChange, configure, extend, phase_view, sign_off, withdraw_sign_off
from cards.notice import render_announcement, render_notice_card
from cards.phase import parse_setup, render_exit, render_setup


async def show_setup(chat: Chat, command: ShowSetup, said: Said) -> list[Outbound]:
    view = await phase_view(uow=chat.uow(), now=chat.now(), conversation=said.message.conversation)
    return [ReplyCard(card=render_setup(view.room.settings))]


async def show_exit(chat: Chat, command: ShowExit, said: Said) -> list[Outbound]:
    view = await phase_view(uow=chat.uow(), now=chat.now(), conversation=said.message.conversation)
    return [ReplyCard(card=render_exit(view.report, war_room_name=view.room.display_name))]


async def move_end(chat: Chat, command: ExtendPhase, said: Said) -> list[Outbound]:
    result = await extend(
        uow=chat.uow(), now=chat.now(), conversation=said.message.conversation, actor=said.sender, until=command.until,
        weeks=command.weeks or 0, reason=command.reason, admins=chat.admins,
    )
    match result:
        case Applied(announcement=announcement, message=message):
            return [ReplyCard(card=render_announcement(announcement or message))]
        case Refused(reason=reason):
            return [ReplyCard(card=render_announcement(reason))]
    raise AssertionError(f"unhandled result {result!r}")


async def save_setup(chat: Chat, clicked: Clicked) -> CardActionResult:
    action = clicked.action
    view = await phase_view(uow=chat.uow(), now=chat.now(), conversation=action.conversation)
    parsed = parse_setup(action.data, view.room.settings)
    if isinstance(parsed, dict):
        typed = {key: str(value) for key, value in action.data.items() if isinstance(value, (str, int, float))}
        return CardActionResult(card=render_setup(view.room.settings, errors=parsed, values=typed))
    result = await configure(
        uow=chat.uow(), now=chat.now(), conversation=action.conversation, actor=clicked.sender, settings=parsed, admins=chat.admins
    )
    match result:
        case Applied(subject=saved):
            return CardActionResult(card=render_setup(saved.room.settings, saved=True), refresh_for_everyone=True)
        case Refused(reason=reason):
            return CardActionResult(card=render_notice_card(reason))
    raise AssertionError(f"unhandled result {result!r}")


async def sign(chat: Chat, clicked: Clicked) -> CardActionResult:
    """Leadership signs off; the channel gets the celebration (the phase in numbers, thanks, the backlog handed over)."""
    result = await sign_off(uow=chat.uow(), now=chat.now(), conversation=clicked.action.conversation, actor=clicked.sender, admins=chat.admins)
    celebration = await celebration_card(chat, result.subject.room.id) if isinstance(result, Applied) else None
    return _exit_answer(result, announcement_card=celebration)


async def withdraw(chat: Chat, clicked: Clicked) -> CardActionResult:
    conversation = clicked.action.conversation
    reason = clicked.text("withdraw_reason")[:500]
    if not reason:
        view = await phase_view(uow=chat.uow(), now=chat.now(), conversation=conversation)
        return CardActionResult(card=render_exit(view.report, war_room_name=view.room.display_name))
    result = await withdraw_sign_off(
        uow=chat.uow(), now=chat.now(), conversation=conversation, actor=clicked.sender, reason=reason, admins=chat.admins
    )
    return _exit_answer(result)


def _exit_answer(result: PhaseChange, *, announcement_card: Card | None = None) -> CardActionResult:
    """The exit card as it is now; a change is announced in the war room's home channel (`announcement_card`, or its words)."""
    match result:
        case Applied(subject=view, announcement=announcement):
            home = view.room.home_conversation_id
            posted = announcement_card or (render_announcement(announcement) if announcement else None)
            effects = (PostCard(conversation_id=home, card=posted),) if posted and home else ()
            card = render_exit(view.report, war_room_name=view.room.display_name)
            return CardActionResult(card=card, refresh_for_everyone=True, side_effects=effects)
        case Refused(subject=None, reason=reason):
            return CardActionResult(card=render_notice_card(reason))
        case Refused(subject=view, reason=reason):
            return CardActionResult(card=render_exit(view.report, war_room_name=view.room.display_name, notice=reason))
    raise AssertionError(f"unhandled result {result!r}")
