"""Install and first contact, over real HTTP on SQLite and PostgreSQL: the welcome (once), the first admin, the
"Set up hypercare" button, `standup here`, and the short welcome of a personal chat."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from app import SCHEDULER
from bot.config import Settings
from storage.models import ConversationRow, WarRoomMemberRow, WarRoomRoleRow, WarRoomRow
from tests.support.activities import (
    ADMIN,
    CHANNEL_ID,
    LENA,
    NOBODY,
    OMAR,
    TEAM_ID,
    USER,
    bot_added_to_personal_chat,
    bot_added_to_team,
    channel_message,
    execute_action,
    installation_update,
    team_members_changed,
)
from tests.support.clock import FrozenClock
from tests.support.connector import FakeConnector, RecordedCall
from tests.support.server import RunningBot, running_bot
from tests.support.war_room import EVERYONE, WarRoom, card_text, find_execute

OPS_CHANNEL_ID = "19:war-room-ops@thread.tacv2"


async def install(bot: RunningBot, connector: FakeConnector, activity: dict[str, Any]) -> list[RecordedCall]:
    before = len(connector.calls)
    status, _ = await bot.post_activity(activity)
    assert status == 200
    await bot.settle()
    return connector.calls[before:]


def welcomes(connector: FakeConnector) -> list[RecordedCall]:
    return [call for call in connector.calls if call.card and "Set up hypercare" in card_text(call.card)]


async def test_added_to_a_team_the_bot_posts_one_welcome_in_that_channel(
    bot: RunningBot, connector: FakeConnector, room: WarRoom
) -> None:
    [welcome] = await install(bot, connector, bot_added_to_team(connector.url, by=LENA))
    # A new post in the channel it was added to (no reply: there is no message to reply to).
    assert (welcome.method, welcome.conversation_id, welcome.activity_id) == ("POST", CHANNEL_ID, None)
    text = card_text(welcome.card)
    assert "Go-live war room" in text
    assert "hypercare war room" in text  # what it does
    assert "mention me" in text.lower() and "Raise hypercare issue" in text  # how to raise
    assert "Lena Berg" in text and "admin" in text  # who can set it up
    button = find_execute(welcome.card, "hypercare.setup")
    assert button["title"] == "Set up hypercare"

    # Re-installed, told again by installationUpdate, removed and added back: still the one welcome.
    assert await install(bot, connector, bot_added_to_team(connector.url, by=OMAR)) == []
    assert await install(bot, connector, installation_update(connector.url, "add", by=LENA)) == []
    assert await install(bot, connector, installation_update(connector.url, "remove", by=LENA)) == []
    assert await install(bot, connector, installation_update(connector.url, "add", by=OMAR)) == []
    assert len(welcomes(connector)) == 1


async def test_installation_update_first_welcomes_and_the_conversation_update_after_it_does_not(
    bot: RunningBot, connector: FakeConnector, room: WarRoom
) -> None:
    [welcome] = await install(bot, connector, installation_update(connector.url, "add", by=LENA))
    assert welcome.conversation_id == CHANNEL_ID and "Set up hypercare" in card_text(welcome.card)
    assert await install(bot, connector, bot_added_to_team(connector.url, by=LENA)) == []


async def test_two_replicas_told_of_one_install_at_once_welcome_once(
    settings: Settings, clock: FrozenClock, connector: FakeConnector, engine: AsyncEngine
) -> None:
    connector.members = [dict(person) for person in EVERYONE]
    added = bot_added_to_team(connector.url, by=LENA)
    async with running_bot(settings, clock) as first, running_bot(settings, clock) as second:
        answers = await asyncio.gather(
            first.post_activity(added),
            second.post_activity(added),  # the same event delivered twice
            second.post_activity(installation_update(connector.url, "add", by=LENA)),
            first.post_activity(bot_added_to_team(connector.url, by=LENA)),
        )
        await first.settle()
        await second.settle()
    assert [status for status, _ in answers] == [200] * 4
    assert len(welcomes(connector)) == 1
    async with engine.connect() as connection:
        assert (await connection.execute(select(func.count()).select_from(WarRoomRow))).scalar_one() == 1
        admins = (await connection.execute(select(WarRoomRoleRow.aad_object_id))).scalars().all()
    assert admins == [LENA["aadObjectId"]]


async def test_the_installer_becomes_the_first_admin_and_only_the_first(
    bot: RunningBot, connector: FakeConnector, room: WarRoom, engine: AsyncEngine
) -> None:
    await install(bot, connector, bot_added_to_team(connector.url, by=LENA))
    assert "Omar Haddad is now" in card_text((await room.say("roles add {Omar Haddad} oncall", sender=LENA, mentioning=[OMAR]))[0].card)
    async with engine.connect() as connection:
        row = (await connection.execute(select(WarRoomRoleRow).where(WarRoomRoleRow.role == "admin"))).one()
    assert (row.aad_object_id, row.granted_by_name) == (LENA["aadObjectId"], "installing the bot")

    # Omar adds it again: the war room has its admin already.
    await install(bot, connector, bot_added_to_team(connector.url, by=OMAR))
    [refused] = await room.say("roles add {Priya Shah} support", sender=OMAR, mentioning=[USER])
    assert "Only an admin can change roles" in card_text(refused.card)
    # The operator's admins (HYPERCARE_ADMINS) stay admins everywhere.
    [granted] = await room.say("roles add {Priya Shah} support", sender=ADMIN, mentioning=[USER])
    assert "Priya Shah is now" in card_text(granted.card)


async def test_the_install_reads_the_team_roster_page_by_page(
    bot: RunningBot, connector: FakeConnector, room: WarRoom, engine: AsyncEngine
) -> None:
    connector.page_size = 2
    await install(bot, connector, bot_added_to_team(connector.url, by=LENA))
    assert connector.roster_reads == [TEAM_ID] * 3
    async with engine.connect() as connection:
        members = (await connection.execute(select(WarRoomMemberRow.aad_object_id, WarRoomMemberRow.via))).all()
    assert sorted(members) == sorted((person["aadObjectId"], "roster") for person in EVERYONE)


async def test_people_joining_the_team_get_nothing_and_leaving_it_ends_their_membership(
    bot: RunningBot, connector: FakeConnector, engine: AsyncEngine
) -> None:
    connector.members = [dict(LENA)]
    await install(bot, connector, bot_added_to_team(connector.url, by=LENA))
    assert await install(bot, connector, team_members_changed(connector.url, added=[OMAR, NOBODY])) == []
    assert await members(engine) == {"aad-lena", "aad-omar", "aad-nobody"}
    assert await install(bot, connector, team_members_changed(connector.url, removed=[NOBODY])) == []
    assert await members(engine) == {"aad-lena", "aad-omar"}
    assert len(welcomes(connector)) == 1


async def members(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        return set((await connection.execute(select(WarRoomMemberRow.aad_object_id))).scalars())


async def test_set_up_hypercare_opens_the_setup_card_for_an_admin_and_names_the_admins_to_anyone_else(
    bot: RunningBot, connector: FakeConnector, room: WarRoom
) -> None:
    [welcome] = await install(bot, connector, bot_added_to_team(connector.url, by=LENA))
    button = find_execute(welcome.card, "hypercare.setup")
    where = channel_message(connector.url, "")
    where["conversation"]["id"] = CHANNEL_ID

    status, body = await bot.post_activity(
        execute_action(where, "hypercare.setup", button["data"], card_activity_id=welcome.sent_id or "", sender=NOBODY)
    )
    assert status == 200
    refusal = card_text(body["value"])
    assert "Only an admin can set up hypercare" in refusal and "Lena Berg" in refusal

    status, body = await bot.post_activity(
        execute_action(where, "hypercare.setup", button["data"], card_activity_id=welcome.sent_id or "", sender=LENA)
    )
    assert status == 200
    find_execute(body["value"], "setup.save")  # the setup card, ready to save


async def test_standup_here_moves_the_stand_ups_to_this_channel(
    bot: RunningBot, connector: FakeConnector, room: WarRoom, clock: FrozenClock
) -> None:
    await install(bot, connector, bot_added_to_team(connector.url, by=LENA))
    await room.grant(OMAR, "triage_lead")

    [refused] = await say_in(bot, connector, OPS_CHANNEL_ID, "standup here", sender=NOBODY)
    assert "you need the role admin or triage_lead" in card_text(refused.card)
    [moved] = await say_in(bot, connector, OPS_CHANNEL_ID, "standup here", sender=OMAR)
    assert "Stand-ups and announcements go to this channel from now on" in card_text(moved.card)

    before = len(connector.calls)
    await bot.app[SCHEDULER].tick(clock.now() + timedelta(days=1))  # Tuesday 09:00, the next stand-up
    [standup] = [call for call in connector.calls[before:] if "Hypercare stand-up" in card_text(call.card or {})]
    assert standup.conversation_id == OPS_CHANNEL_ID


async def say_in(bot: RunningBot, connector: FakeConnector, channel_id: str, text: str, *, sender: dict[str, str]) -> list[RecordedCall]:
    before = len(connector.calls)
    status, _ = await bot.post_activity(channel_message(connector.url, text, channel_id=channel_id, sender=sender))
    assert status == 200
    await bot.settle()
    return connector.calls[before:]


async def test_a_personal_install_gets_a_short_welcome_and_stores_nothing(
    bot: RunningBot, connector: FakeConnector, engine: AsyncEngine
) -> None:
    [welcome] = await install(bot, connector, bot_added_to_personal_chat(connector.url, USER))
    assert welcome.conversation_id == "a:personal-priya"
    text = card_text(welcome.card)
    assert "mention me" in text.lower() and "Raise hypercare issue" in text
    assert "ask in your team's hypercare channel" in text.lower()  # in no war room yet
    assert "Set up hypercare" not in text
    async with engine.connect() as connection:
        assert (await connection.execute(select(func.count()).select_from(WarRoomRow))).scalar_one() == 0
        assert (await connection.execute(select(func.count()).select_from(ConversationRow))).scalar_one() == 0


async def test_a_personal_install_of_a_team_member_names_their_war_room(
    bot: RunningBot, connector: FakeConnector, room: WarRoom
) -> None:
    await install(bot, connector, bot_added_to_team(connector.url, by=LENA))
    [welcome] = await install(bot, connector, bot_added_to_personal_chat(connector.url, USER))
    assert "Go-live war room" in card_text(welcome.card)
