"""The hypercare phase: its settings, the exit criteria, moving the end, signing off and withdrawing it."""

from __future__ import annotations

from typing import Any

from bot.chat.context import Chat, Clicked, Said
from bot.chat.handover import celebration_card
from bot.domain.commands import ExtendPhase, ShowExit, ShowSetup
from bot.domain.messages import Card, CardActionResult, Outbound, PostCard, ReplyCard
from bot.domain.results import Applied, Refused
from bot.domain.war_room import WarRoom
from bot.services.phase import PhaseChange, configure, extend, phase_view, setup_form, sign_off, withdraw_sign_off
from cards.notice import render_announcement, render_notice_card
from cards.phase import parse_setup, render_exit, render_setup


def _form(chat: Chat, room: WarRoom, **kwargs: Any) -> Card:
    """The setup form of `room`; a window not set up is offered today as its start."""
    return render_setup(room.settings, today=room.settings.calendar.local_date(chat.now()), **kwargs)


async def show_setup(chat: Chat, command: ShowSetup, said: Said) -> list[Outbound]:
    view = await phase_view(uow=chat.uow(), now=chat.now(), conversation=said.message.conversation)
    return [ReplyCard(card=_form(chat, view.room))]


async def open_setup(chat: Chat, clicked: Clicked) -> CardActionResult:
    """"Set up hypercare" (the stand-up's setup prompt, the welcome card): the form for those who may set up."""
    result = await setup_form(uow=chat.uow(), now=chat.now(), conversation=clicked.action.conversation, actor=clicked.sender,
                              admins=chat.admins)
    match result:
        case Applied(subject=room):
            return CardActionResult(card=_form(chat, room))
        case Refused(reason=reason):
            return CardActionResult(card=render_notice_card(f"{reason} Ask an admin of this war room to set it up."))
    raise AssertionError(f"unhandled result {result!r}")


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
    # Who may set up is asked first: someone without the role is not walked through the form's errors for nothing.
    allowed = await setup_form(uow=chat.uow(), now=chat.now(), conversation=action.conversation, actor=clicked.sender, admins=chat.admins)
    if isinstance(allowed, Refused):
        return CardActionResult(card=render_notice_card(allowed.reason))
    parsed = parse_setup(action.data, allowed.subject.settings)
    if isinstance(parsed, dict):
        typed = {key: str(value) for key, value in action.data.items() if isinstance(value, (str, int, float))}
        return CardActionResult(card=_form(chat, allowed.subject, errors=parsed, values=typed))
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
