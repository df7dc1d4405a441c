"""A personal chat belongs to its person's war room(s), over real HTTP on SQLite and PostgreSQL: one war room, several
(the form's choice, `in <war room>`, the last choice remembered), none (told where to ask, nothing stored); issues
raised there are posted in the war room's home channel, the reporter keeps a copy; group chats stay war rooms."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import ConversationRow, IssueRow, WarRoomMemberRow, WarRoomRow
from tests.support.activities import (
    CHANNEL_ID,
    FINANCE_CHANNEL_ID,
    FINANCE_TEAM_ID,
    LENA,
    NOBODY,
    OMAR,
    USER,
    bot_added_to_team,
    execute_action,
    group_chat_message,
    personal_message,
)
from tests.support.connector import FakeConnector, RecordedCall
from tests.support.server import RunningBot
from tests.support.war_room import WarRoom, card_text, filled_in, find_execute

NO_WAR_ROOM = "You are not in a war room I know yet"


async def add_bot(bot: RunningBot, connector: FakeConnector, **team: Any) -> None:
    status, _ = await bot.post_activity(bot_added_to_team(connector.url, by=LENA, **team))
    assert status == 200
    await bot.settle()


async def add_finance_team(bot: RunningBot, connector: FakeConnector) -> None:
    connector.rosters[FINANCE_TEAM_ID] = [dict(USER), dict(LENA)]
    await add_bot(bot, connector, team_id=FINANCE_TEAM_ID, channel_id=FINANCE_CHANNEL_ID, team_name="Finance")


class PersonalChat:
    """Someone's personal chat with the bot."""

    def __init__(self, bot: RunningBot, connector: FakeConnector, person: dict[str, str]) -> None:
        self.bot, self.connector, self.person = bot, connector, person

    async def say(self, text: str) -> tuple[dict[str, Any], list[RecordedCall]]:
        before = len(self.connector.calls)
        message = personal_message(self.connector.url, text, sender=self.person)
        status, _ = await self.bot.post_activity(message)
        assert status == 200
        await self.bot.settle()
        return message, self.connector.calls[before:]

    async def answer(self, text: str) -> str:
        """The bot's reply in the personal chat (other calls, such as a card updated in the channel, are left out)."""
        _, calls = await self.say(text)
        chat = personal_message(self.connector.url, "", sender=self.person)["conversation"]["id"]
        [reply] = [call for call in calls if call.method == "POST" and call.conversation_id == chat]
        return card_text(reply.card)

    async def submit(self, message: dict[str, Any], form: RecordedCall, **changes: Any) -> tuple[dict[str, Any], list[RecordedCall]]:
        """Press Raise issue on the form (with `changes` to its inputs): the invoke's card, and the calls after it."""
        assert form.card is not None and form.sent_id is not None
        data = filled_in(form.card) | changes
        before = len(self.connector.calls)
        status, body = await self.bot.post_activity(
            execute_action(message, "issue.create", data, card_activity_id=form.sent_id, sender=self.person)
        )
        assert status == 200
        await self.bot.settle()
        return body["value"], self.connector.calls[before:]


def inputs(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {element["id"]: element for element in card["body"] if element["type"].startswith("Input.")}


async def count(engine: AsyncEngine, table: Any) -> int:
    async with engine.connect() as connection:
        return (await connection.execute(select(func.count()).select_from(table))).scalar_one()


async def test_an_issue_raised_in_personal_chat_is_posted_in_the_war_rooms_channel_and_the_reporter_keeps_a_copy(
    bot: RunningBot, connector: FakeConnector, room: WarRoom, engine: AsyncEngine
) -> None:
    await add_bot(bot, connector)
    priya = PersonalChat(bot, connector, USER)
    message, [form] = await priya.say("sev2 - AP cannot post vendor invoices in USMF")
    assert "war_room" not in inputs(form.card)  # one war room: nothing to choose

    copy, calls = await priya.submit(message, form)
    assert "#1" in card_text(copy) and "Raised in Go-live war room" in card_text(copy) and "your copy" in card_text(copy)
    [posted] = [call for call in calls if call.method == "POST"]
    assert posted.conversation_id == CHANNEL_ID  # a new post in the war room's home channel
    assert "AP cannot post vendor invoices" in card_text(posted.card) and "your copy" not in card_text(posted.card)
    # The form in the personal chat became the copy.
    [put] = [call for call in calls if call.method == "PUT"]
    assert (put.conversation_id, put.activity_id) == ("a:personal-priya", form.sent_id)

    async with engine.connect() as connection:
        issue = (await connection.execute(select(IssueRow))).one()
    # The issue lives in the channel post's thread: reminders and announcements go there.
    assert (issue.conversation_id, issue.card_activity_id) == (f"{CHANNEL_ID};messageid={posted.sent_id}", posted.sent_id)
    [shown] = await room.say("show #1", sender=OMAR)
    assert "AP cannot post vendor invoices" in card_text(shown.card)
    assert await count(engine, WarRoomRow) == 1


async def test_commands_in_personal_chat_act_on_the_war_room_with_its_roles(
    bot: RunningBot, connector: FakeConnector, room: WarRoom
) -> None:
    await add_bot(bot, connector)
    issue = await room.raise_issue("sev2 - payment journal stuck")
    omar = PersonalChat(bot, connector, OMAR)
    assert "Payment journal stuck" in await omar.answer("list")
    assert "need the role" in await omar.answer("ack #1")
    await room.grant(OMAR, "oncall")
    assert "#1 acknowledged." in await omar.answer("ack #1")
    # The card the channel sees is updated in place.
    assert "Acknowledged" in card_text(room.updates_of(issue.card_message_id)[-1].body["attachments"][0]["content"])
    assert "#1 resolved." in await omar.answer("resolve #1 released the journal batch")
    assert "There is no issue #7 in this war room" in await omar.answer("show #7")
    assert "A personal chat cannot be the war room's home" in await omar.answer("standup here")


async def test_someone_in_several_war_rooms_names_one_and_it_is_remembered(
    bot: RunningBot, connector: FakeConnector, room: WarRoom
) -> None:
    await add_bot(bot, connector)
    await add_finance_team(bot, connector)
    await room.raise_issue("sev3 - purchase order print is slow")
    priya = PersonalChat(bot, connector, USER)

    several = await priya.answer("list")
    assert "You are in 2 war rooms: Finance, Go-live war room" in several and "list in Finance" in several
    assert "Purchase order print" not in await priya.answer("list in finance")
    # Remembered: a plain `list` is now Finance's.
    assert "Purchase order print" not in await priya.answer("list")
    assert "Purchase order print is slow" in await priya.answer("list in Go-live war room")
    assert "Purchase order print is slow" in await priya.answer("list")

    message, [form] = await priya.say("sev2 - bank statement import fails")
    choice = inputs(form.card)["war_room"]
    assert [c["title"] for c in choice["choices"]] == ["Finance", "Go-live war room"]
    go_live = next(c["value"] for c in choice["choices"] if c["title"] == "Go-live war room")
    finance = next(c["value"] for c in choice["choices"] if c["title"] == "Finance")
    assert choice["value"] == go_live  # their last choice

    copy, calls = await priya.submit(message, form, war_room=finance)
    assert "Raised in Finance" in card_text(copy) and "#1" in card_text(copy)
    [posted] = [call for call in calls if call.method == "POST"]
    assert posted.conversation_id == FINANCE_CHANNEL_ID
    # The form's choice is remembered too.
    assert "Bank statement import fails" in await priya.answer("list")
    assert "There is no issue #2 in this war room" in await priya.answer("show #2")
    assert "Purchase order print is slow" in await priya.answer("show #1 in Go-live war room")


async def test_a_form_naming_a_war_room_that_is_not_theirs_stores_nothing(
    bot: RunningBot, connector: FakeConnector, room: WarRoom, engine: AsyncEngine
) -> None:
    await add_bot(bot, connector)
    await add_finance_team(bot, connector)  # Omar is not on Finance's roster
    omar = PersonalChat(bot, connector, OMAR)
    message, [form] = await omar.say("sev2 - bank statement import fails")
    async with engine.connect() as connection:
        finance = (await connection.execute(select(WarRoomRow.id).where(WarRoomRow.name == "Finance"))).scalar_one()
    card, _ = await omar.submit(message, form, war_room=finance)
    assert "That war room is not one of yours" in card_text(card)
    assert await count(engine, IssueRow) == 0


async def test_someone_in_no_war_room_is_told_to_ask_in_their_teams_channel_and_nothing_is_stored(
    bot: RunningBot, connector: FakeConnector, engine: AsyncEngine
) -> None:
    nils = PersonalChat(bot, connector, NOBODY)
    for text in ("sev2 - AP cannot post vendor invoices", "list", "ack #1", "standup"):
        answer = await nils.answer(text)
        assert NO_WAR_ROOM in answer and "Ask in your team's hypercare channel" in answer
    assert "To raise an issue, mention me" in await nils.answer("help")
    for table in (WarRoomRow, ConversationRow, IssueRow, WarRoomMemberRow):
        assert await count(engine, table) == 0


async def test_someone_seen_in_a_channel_belongs_to_its_war_room(bot: RunningBot, connector: FakeConnector, room: WarRoom) -> None:
    await room.raise_issue("sev2 - warehouse app down", sender=OMAR)  # no install event: seen acting there
    assert "Warehouse app down" in await PersonalChat(bot, connector, OMAR).answer("list")
    assert NO_WAR_ROOM in await PersonalChat(bot, connector, NOBODY).answer("list")


async def test_a_group_chat_stays_its_own_war_room(bot: RunningBot, connector: FakeConnector, engine: AsyncEngine) -> None:
    message = group_chat_message(connector.url, "sev2 - the warehouse app times out")
    assert (await bot.post_activity(message))[0] == 200
    [form] = connector.calls
    assert form.conversation_id == "19:group-chat-finance@thread.v2" and "war_room" not in inputs(form.card)
    values = {key: element.get("value", "") for key, element in inputs(form.card).items()}
    status, body = await bot.post_activity(
        execute_action(message, "issue.create", dict(find_execute(form.card, "issue.create")["data"]) | values, card_activity_id=form.sent_id or "")
    )
    assert status == 200 and "#1" in card_text(body["value"])
    async with engine.connect() as connection:
        key = (await connection.execute(select(WarRoomRow.key))).scalar_one()
    assert key.endswith("/chat:19:group-chat-finance@thread.v2")
