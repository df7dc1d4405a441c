"""bot/chat/standup.py: the stand-up and the status card on demand."""

from __future__ import annotations

from bot.domain.war_room import WarRoom
from tests.support.chat import Bot, text
from tests.support.factories import make_conversation, make_issue
from tests.support.fakes import FakeStore

NEW_TEAM = make_conversation(team_id="19:new-team@thread.tacv2", conversation_id="19:new@thread.tacv2", channel_id="19:new@thread.tacv2")


async def test_standup_shows_the_open_issues(bot: Bot, store: FakeStore, room: WarRoom) -> None:
    store.war_rooms[room.id] = room.model_copy(update={"name": "Contoso go-live"})
    store.add_issue(make_issue())

    [answer] = await bot.say("standup")

    assert "Contoso go-live" in text(answer.card) and "AP cannot post vendor invoices" in text(answer.card)


async def test_status_shows_the_phase_in_figures(bot: Bot, store: FakeStore, room: WarRoom) -> None:
    store.add_issue(make_issue())

    [answer] = await bot.say("status")

    assert "Hypercare status · " in text(answer.card) and "this war room" in text(answer.card)


async def test_a_new_war_room_gets_an_empty_stand_up_and_status(bot: Bot, store: FakeStore) -> None:
    # The message itself makes the war room (first contact), so "No issues raised here yet." is not what a new team sees.
    [standup] = await bot.say("standup", conversation=NEW_TEAM)
    [status] = await bot.say("status", conversation=NEW_TEAM)

    assert "this war room" in text(standup.card) and "No issues raised here yet." not in text(standup.card)
    assert "Hypercare status · " in text(status.card)
    assert [room.team_id for room in store.war_rooms.values()] == [NEW_TEAM.team_id]
