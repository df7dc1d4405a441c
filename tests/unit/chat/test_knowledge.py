"""bot/chat/knowledge.py: the runbook form, a search, and a runbook saved or edited."""

from __future__ import annotations

from typing import Any

import pytest

from bot.domain.model import Role
from bot.domain.war_room import WarRoom
from cards.runbooks import CREATE_RUNBOOK_VERB, UPDATE_RUNBOOK_VERB
from tests.support.chat import Bot, action_data, inputs, submitted, text
from tests.support.factories import OMAR, PRIYA
from tests.support.fakes import FakeStore
from tests.support.scene import LENA

WRITTEN = {"runbook_title": "Missing vendor posting profile", "runbook_symptoms": "Vendor invoices cannot be posted.",
           "runbook_steps": "Add the vendor posting profile for the group.", "runbook_area": "accounts_payable"}


@pytest.fixture(autouse=True)
def scene(store: FakeStore, room: WarRoom) -> None:
    store.grant(room.id, LENA, Role.TRIAGE_LEAD)


async def write(bot: Bot, **typed: str) -> Any:
    [form] = await bot.say("runbook new")
    return await bot.press(CREATE_RUNBOOK_VERB, submitted(form.card, CREATE_RUNBOOK_VERB) | WRITTEN | typed, sender=OMAR)


async def test_runbook_new_gives_an_empty_form(bot: Bot) -> None:
    [answer] = await bot.say("runbook new")

    assert "Save runbook" in text(answer.card) and inputs(answer.card)["runbook_title"] == ""


async def test_a_runbook_form_saved_stores_it_once_and_shows_it(bot: Bot, store: FakeStore) -> None:
    [form] = await bot.say("runbook new")
    filled = submitted(form.card, CREATE_RUNBOOK_VERB) | WRITTEN

    result = await bot.press(CREATE_RUNBOOK_VERB, filled, sender=OMAR)
    await bot.press(CREATE_RUNBOOK_VERB, filled, sender=OMAR)

    assert "Runbook saved." in text(result.card) and "Missing vendor posting profile" in text(result.card) and result.refresh_for_everyone
    [runbook] = store.runbooks.values()
    assert runbook.owner == OMAR and runbook.steps == WRITTEN["runbook_steps"]


async def test_a_runbook_form_with_errors_comes_back_with_its_values_and_form_id(bot: Bot, store: FakeStore) -> None:
    [form] = await bot.say("runbook new")
    form_id = action_data(form.card, CREATE_RUNBOOK_VERB)["form_id"]

    result = await bot.press(CREATE_RUNBOOK_VERB, submitted(form.card, CREATE_RUNBOOK_VERB) | WRITTEN | {"runbook_steps": ""}, sender=OMAR)

    assert "Steps of 1 to 8,000 characters." in text(result.card) and "Missing vendor posting profile" in text(result.card)
    assert action_data(result.card, CREATE_RUNBOOK_VERB)["form_id"] == form_id and store.runbooks == {}


async def test_a_damaged_form_id_gets_a_fresh_form(bot: Bot, store: FakeStore) -> None:
    result = await bot.press(CREATE_RUNBOOK_VERB, WRITTEN | {"form_id": "x"}, sender=OMAR)

    assert "This form was damaged; here is a fresh one" in text(result.card) and store.runbooks == {}


async def test_a_search_shows_the_one_runbook_found_or_the_list(bot: Bot) -> None:
    await write(bot)

    [one] = await bot.say("runbook vendor posting")
    [none] = await bot.say("runbook payroll")

    assert "Add the vendor posting profile for the group." in text(one.card)
    assert "Runbooks for " in text(none.card) and "None found. `runbook new` writes one." in text(none.card)


async def test_the_owner_edits_their_runbook(bot: Bot, store: FakeStore) -> None:
    await write(bot)

    result = await bot.press(UPDATE_RUNBOOK_VERB, WRITTEN | {"runbook_id": 1, "runbook_title": "Vendor posting profile"}, sender=OMAR)

    assert "Runbook saved." in text(result.card) and store.runbooks[1].title == "Vendor posting profile" and result.refresh_for_everyone


async def test_someone_else_editing_is_refused_on_the_runbook_as_it_is(bot: Bot, store: FakeStore) -> None:
    await write(bot)

    result = await bot.press(UPDATE_RUNBOOK_VERB, WRITTEN | {"runbook_id": 1, "runbook_title": "Mine now"}, sender=PRIYA)

    assert "Only its owner or a triage lead can edit this runbook." in text(result.card)
    assert "Missing vendor posting profile" in text(result.card) and store.runbooks[1].title == "Missing vendor posting profile"


async def test_editing_a_runbook_that_is_not_there_or_without_steps(bot: Bot) -> None:
    missing = await bot.press(UPDATE_RUNBOOK_VERB, WRITTEN | {"runbook_id": 9}, sender=LENA)
    empty = await bot.press(UPDATE_RUNBOOK_VERB, WRITTEN | {"runbook_id": 9, "runbook_steps": ""}, sender=LENA)

    assert "There is no runbook like that in this war room." in text(missing.card)
    assert "Nothing was saved: a runbook needs a title and steps." in text(empty.card)
