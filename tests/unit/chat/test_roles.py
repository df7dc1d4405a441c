"""bot/chat/roles.py: who holds which role, and an admin granting or revoking one."""

from __future__ import annotations

from bot.domain.messages import Mention
from bot.domain.model import Role
from bot.domain.war_room import WarRoom
from tests.support.chat import Bot, text
from tests.support.factories import OMAR
from tests.support.fakes import FakeDirectory, FakeStore

MENTION_OMAR = (Mention(user_id="29:omar", name="Omar"),)


async def test_an_admin_grants_a_role_to_the_person_mentioned_and_the_list_shows_it(
    bot: Bot, store: FakeStore, directory: FakeDirectory, room: WarRoom
) -> None:
    directory.members["29:omar"] = OMAR

    [granted] = await bot.say("roles add @Omar oncall", mentions=MENTION_OMAR)  # Priya, the operator's admin
    [listed] = await bot.say("roles")

    assert "Omar Haddad is now on-call developer/consultant (oncall)." in text(granted.card)
    assert "Roles in this war room" in text(listed.card) and "Omar Haddad" in text(listed.card)
    assert store.roles[(room.id, "aad-omar")][1] == {Role.ONCALL}


async def test_someone_not_an_admin_is_refused(bot: Bot, store: FakeStore, directory: FakeDirectory) -> None:
    directory.members["29:omar"] = OMAR

    [answer] = await bot.say("roles add me admin", sender=OMAR)

    assert "Only an admin can change roles." in text(answer.card) and store.roles == {}


async def test_someone_the_directory_does_not_know_is_asked_to_be_mentioned_with_at(bot: Bot, store: FakeStore) -> None:
    [answer] = await bot.say("roles add @Omar oncall", mentions=MENTION_OMAR)

    assert "I could not tell who Omar is; mention them with @." in text(answer.card) and store.roles == {}


async def test_a_change_without_a_mention_says_how(bot: Bot) -> None:
    [answer] = await bot.say("roles remove oncall")

    assert "Mention the person: `roles remove @person oncall`." in text(answer.card)
