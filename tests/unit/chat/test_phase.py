"""bot/chat/phase.py: the setup form, the exit criteria, moving the end, signing off and withdrawing it."""

from __future__ import annotations

from datetime import date

import pytest

from bot.domain.messages import PostCard
from bot.domain.model import Role
from bot.domain.war_room import WarRoom, WarRoomSettings
from cards.phase import SETUP_VERB, SIGN_OFF_VERB, WITHDRAW_VERB
from tests.support.chat import Bot, submitted, text
from tests.support.factories import OMAR, PRIYA
from tests.support.fakes import FakeStore
from tests.support.scene import LENA, NOW, resolved_by_support

# Priya is the operator's admin, Lena leadership, Omar neither.
PHASE = WarRoomSettings(starts_on=date(2026, 11, 2), ends_on=date(2026, 11, 27), steady_state_support="the IT service desk")


@pytest.fixture(autouse=True)
def scene(store: FakeStore, room: WarRoom) -> None:
    store.grant(room.id, LENA, Role.LEADERSHIP)
    store.war_rooms[room.id] = room.model_copy(update={"settings": PHASE, "name": "Contoso go-live"})


async def test_setup_shows_the_settings_form(bot: Bot) -> None:
    [answer] = await bot.say("setup")

    assert "Set up this war room" in text(answer.card) and "2026-11-27" in text(answer.card)


async def test_the_setup_form_saved_by_an_admin_stores_it(bot: Bot, store: FakeStore) -> None:
    [form] = await bot.say("setup")

    result = await bot.press(SETUP_VERB, submitted(form.card, SETUP_VERB) | {"ends_on": "2026-12-04"}, sender=PRIYA)

    assert "Saved." in text(result.card) and result.refresh_for_everyone
    assert store.war_rooms[1].settings.ends_on == date(2026, 12, 4)


async def test_the_setup_form_saved_by_someone_else_is_refused(bot: Bot, store: FakeStore) -> None:
    [form] = await bot.say("setup")

    result = await bot.press(SETUP_VERB, submitted(form.card, SETUP_VERB) | {"ends_on": "2026-12-04"}, sender=LENA)

    assert "To set up the war room you need the role admin." in text(result.card) and store.war_rooms[1].settings == PHASE


async def test_a_setup_form_with_errors_comes_back_with_what_was_typed(bot: Bot, store: FakeStore) -> None:
    [form] = await bot.say("setup")

    result = await bot.press(SETUP_VERB, submitted(form.card, SETUP_VERB) | {"time_zone": "Mars/Olympus"}, sender=PRIYA)

    assert "Nothing was saved. Please correct: time_zone." in text(result.card) and "Mars/Olympus" in text(result.card)
    assert store.war_rooms[1].settings == PHASE


async def test_exit_shows_the_criteria(bot: Bot) -> None:
    [answer] = await bot.say("exit")

    assert "Exit criteria · " in text(answer.card) and "Contoso go-live" in text(answer.card)
    assert "Support team handles the incoming volume" in text(answer.card)


async def test_extend_moves_the_end_and_says_so(bot: Bot, store: FakeStore) -> None:
    [answer] = await bot.say("extend 2w integration fixes are still in test", sender=LENA)

    assert "Lena Berg moved the end of hypercare to Friday 11 December 2026: integration fixes are still in test" in text(answer.card)
    assert store.war_rooms[1].settings.ends_on == date(2026, 12, 11)


async def test_extend_without_the_role_is_refused(bot: Bot, store: FakeStore) -> None:
    [answer] = await bot.say("extend 2w because", sender=OMAR)

    assert "To move the end of hypercare you need the role admin or leadership." in text(answer.card)
    assert store.war_rooms[1].settings.ends_on == date(2026, 11, 27)


async def test_signing_off_refreshes_the_exit_card_and_celebrates_in_the_home_channel(bot: Bot, store: FakeStore) -> None:
    store.add_issue(resolved_by_support())

    result = await bot.press(SIGN_OFF_VERB, sender=LENA)

    assert result.refresh_for_everyone and store.war_rooms[1].signed_off_by == LENA
    [announcement] = result.side_effects
    assert isinstance(announcement, PostCard) and announcement.conversation_id == "19:general@thread.tacv2"
    said = text(announcement.card)
    assert "Hypercare is complete" in said and "Signed off by Lena Berg" in said and "the IT service desk" in said


async def test_signing_off_while_a_criterion_fails_says_which_on_the_exit_card(bot: Bot, store: FakeStore) -> None:
    result = await bot.press(SIGN_OFF_VERB, sender=LENA)

    assert "Not yet: Support team handles the incoming volume." in text(result.card) and "Exit criteria · " in text(result.card)
    assert result.side_effects == () and store.war_rooms[1].signed_off_at is None


async def test_signing_off_without_the_role_is_a_notice(bot: Bot, store: FakeStore) -> None:
    result = await bot.press(SIGN_OFF_VERB, sender=OMAR)

    assert "To sign off hypercare you need the role leadership." in text(result.card) and "Exit criteria" not in text(result.card)


async def test_withdrawing_needs_a_reason_and_shows_the_exit_card_until_given_one(bot: Bot, store: FakeStore) -> None:
    store.war_rooms[1] = store.war_rooms[1].model_copy(update={"signed_off_at": NOW, "signed_off_by": LENA})

    asked = await bot.press(WITHDRAW_VERB, {"withdraw_reason": "  "}, sender=LENA)
    withdrawn = await bot.press(WITHDRAW_VERB, {"withdraw_reason": "payroll run failed"}, sender=LENA)

    assert "Exit criteria · " in text(asked.card) and not asked.refresh_for_everyone
    assert withdrawn.refresh_for_everyone and store.war_rooms[1].signed_off_at is None
    assert "Lena Berg withdrew the hypercare sign-off: payroll run failed" in text(withdrawn.side_effects[0].card)


async def test_withdrawing_what_is_not_signed_off_is_refused(bot: Bot) -> None:
    result = await bot.press(WITHDRAW_VERB, {"withdraw_reason": "why"}, sender=LENA)

    assert "Hypercare is not signed off." in text(result.card)
