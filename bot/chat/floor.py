"""Floor walkers: who is on the floor (`floor`), adding and removing one, and a new question calling them."""

from __future__ import annotations

from bot.chat.context import Chat, Said
from bot.domain.commands import AddFloorWalker, RemoveFloorWalker, ShowFloor
from bot.domain.floor import FloorWalker
from bot.domain.messages import Outbound, PostCard, ReplyCard
from bot.domain.model import Issue, Person
from bot.domain.results import Applied
from bot.services.floor import add_floor_walker, call_floor_walkers, remove_floor_walker, show_floor
from cards.floor import render_floor
from cards.notice import render_announcement, render_notice_card, render_notices


async def show(chat: Chat, command: ShowFloor, said: Said) -> list[Outbound]:
    view = await show_floor(uow=chat.uow(), now=chat.now(), conversation=said.message.conversation)
    return [ReplyCard(card=render_floor(view))]


async def add(chat: Chat, command: AddFloorWalker, said: Said) -> list[Outbound]:
    person = await said.mentioned_person()
    if person is None:
        return [ReplyCard(card=render_notice_card("Mention the floor walker: `floor add @person areas finance,warehouse`."))]
    walker = FloorWalker(person=person, areas=command.areas, days=command.days, site=command.site)
    result = await add_floor_walker(
        uow=chat.uow(), now=chat.now(), conversation=said.message.conversation, actor=said.sender, walker=walker,
        admins=chat.admins,
    )
    return [ReplyCard(card=render_announcement(result.message if isinstance(result, Applied) else result.reason))]


async def remove(chat: Chat, command: RemoveFloorWalker, said: Said) -> list[Outbound]:
    person = await said.mentioned_person()
    if person is None:
        return [ReplyCard(card=render_notice_card("Mention the floor walker: `floor remove @person`."))]
    result = await remove_floor_walker(
        uow=chat.uow(), now=chat.now(), conversation=said.message.conversation, actor=said.sender, person=person,
        admins=chat.admins,
    )
    return [ReplyCard(card=render_announcement(result.message if isinstance(result, Applied) else result.reason))]


async def call(chat: Chat, issue: Issue) -> tuple[tuple[Person, ...], list[PostCard]]:
    """A newly raised issue's floor walkers on duty, and the notice that @mentions them in its thread."""
    people = await call_floor_walkers(uow=chat.uow(), now=chat.now(), issue_id=issue.id)
    if not people:
        return (), []
    area = issue.area.label if issue.area else ""
    kind = issue.category.label.lower() if issue.category else "question"
    text = f"#{issue.number} is a {kind} in {area}, and you are on the floor today: take it if you can help at the desk."
    return people, [PostCard(conversation_id=issue.conversation_id, card=card) for card in render_notices(text, notify=people, issue_number=issue.number)]
