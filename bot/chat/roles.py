"""Roles: list who holds which, and an admin granting or revoking one."""

from __future__ import annotations

from bot.chat.context import Chat, Said
from bot.domain.commands import ManageRoles
from bot.domain.messages import Outbound, ReplyCard
from bot.domain.results import Applied
from bot.services.roles import change_role, list_roles
from cards.lists import render_roles
from cards.notice import render_announcement, render_notice_card


async def manage(chat: Chat, command: ManageRoles, said: Said) -> list[Outbound]:
    conversation = said.message.conversation
    if command.action == "list":
        return [ReplyCard(card=render_roles(await list_roles(uow=chat.uow(), conversation=conversation)))]
    role = command.role
    assert role is not None  # parse_command names the role of an add or remove
    person = said.sender if command.myself else await said.mentioned_person()
    if person is None:
        return [ReplyCard(card=render_notice_card(f"Mention the person: `roles {command.action} @person {role.value}`."))]
    result = await change_role(
        uow=chat.uow(), now=chat.now(), conversation=conversation, actor=said.sender, person=person, role=role,
        grant=command.action == "add", admins=chat.admins,
    )
    return [ReplyCard(card=render_announcement(result.message if isinstance(result, Applied) else result.reason))]
