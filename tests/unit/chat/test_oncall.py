"""bot/chat/oncall.py: who is on call, set by hand or by a rota, by a triage lead or an admin."""

from __future__ import annotations

import pytest

from bot.domain.commands import MAX_MENTIONS
from bot.domain.messages import Mention
from bot.domain.model import Role
from bot.domain.war_room import OnCall, WarRoom
from tests.support.chat import Bot, text
from tests.support.factories import OMAR, PRIYA
from tests.support.fakes import FakeDirectory, FakeStore
from tests.support.scene import LENA

MENTION_OMAR = (Mention(user_id="29:omar", name="Omar"),)


@pytest.fixture(autouse=True)
def scene(store: FakeStore, room: WarRoom, directory: FakeDirectory) -> None:
    store.grant(room.id, LENA, Role.TRIAGE_LEAD)
    directory.members.update({"29:omar": OMAR, "29:priya": PRIYA})


async def test_oncall_says_nobody_is_on_call_yet(bot: Bot) -> None:
    [answer] = await bot.say("oncall")

    assert "Nobody is on call: reminders go to the triage leads." in text(answer.card)


async def test_a_triage_lead_sets_who_is_on_call(bot: Bot, store: FakeStore) -> None:
    [answer] = await bot.say("oncall set @Omar until 2026-11-24 18:00", sender=LENA, mentions=MENTION_OMAR)
    [shown] = await bot.say("oncall")

    assert "Omar Haddad is on call until 2026-11-24 18:00 (Europe/London)." in text(answer.card)
    assert "Omar Haddad" in text(shown.card) and store.war_rooms[1].oncall.override is not None


async def test_setting_on_call_without_the_role_is_refused(bot: Bot, store: FakeStore) -> None:
    [answer] = await bot.say("oncall set @Omar", sender=OMAR, mentions=MENTION_OMAR)

    assert "To change who is on call you need the role triage_lead or admin." in text(answer.card)
    assert store.war_rooms[1].oncall == OnCall()


async def test_setting_on_call_without_a_mention_says_how(bot: Bot) -> None:
    [answer] = await bot.say("oncall set", sender=LENA)

    assert "Mention who is on call: `oncall set @person [until 2026-12-01 18:00]`." in text(answer.card)


async def test_clearing_the_override(bot: Bot, store: FakeStore) -> None:
    await bot.say("oncall set @Omar", sender=LENA, mentions=MENTION_OMAR)

    [answer] = await bot.say("oncall clear", sender=PRIYA)  # the operator's admin

    assert "The on-call override is cleared" in text(answer.card) and store.war_rooms[1].oncall.override is None


async def test_a_rota_of_the_people_mentioned(bot: Bot, store: FakeStore) -> None:
    mentions = (*MENTION_OMAR, Mention(user_id="29:priya", name="Priya"))

    [answer] = await bot.say("oncall rota @Omar @Priya handover fri 17:00", sender=LENA, mentions=mentions)

    assert "On-call rota: Omar Haddad, Priya Shah, a week each, handing over 17:00 on Fridays." in text(answer.card)
    assert store.war_rooms[1].oncall.rota is not None and store.war_rooms[1].oncall.rota.people == (OMAR, PRIYA)


async def test_a_rota_set_by_someone_without_the_role_looks_nobody_up(bot: Bot, store: FakeStore, directory: FakeDirectory) -> None:
    [answer] = await bot.say("oncall rota @Omar", sender=OMAR, mentions=MENTION_OMAR)

    assert "To change who is on call you need the role triage_lead or admin." in text(answer.card)
    assert directory.asked == [] and store.war_rooms[1].oncall == OnCall()


async def test_a_rota_of_too_many_people_is_refused_before_they_are_looked_up(bot: Bot, directory: FakeDirectory) -> None:
    crowd = tuple(Mention(user_id=f"29:p{n}", name=f"P{n}") for n in range(MAX_MENTIONS + 1))

    [answer] = await bot.say("oncall rota", sender=LENA, mentions=crowd)

    assert f"A rota holds at most {MAX_MENTIONS} people; this message mentions {MAX_MENTIONS + 1}." in text(answer.card)
    assert directory.asked == []


async def test_a_rota_without_mentions_says_how(bot: Bot) -> None:
    [answer] = await bot.say("oncall rota", sender=LENA)

    assert "Mention the people in turn" in text(answer.card)
