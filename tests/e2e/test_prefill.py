"""The issue form's prefill over real HTTP, on SQLite and PostgreSQL: a confident guess is filled in, an unsure one is
"please choose" and the form is refused until it is picked, the Dynamics 365 details are read, stored and shown, and a
war room's confirmed issues teach its own next prefill, never another war room's."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import IssueRow
from tests.support.activities import FINANCE_CHANNEL_ID, FINANCE_TEAM_ID, channel_message, execute_action
from tests.support.connector import FakeConnector
from tests.support.server import RunningBot
from tests.support.war_room import card_text


def inputs_of(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {element["id"]: element for element in card["body"] if element["type"].startswith("Input.")}


def unchanged(card: dict[str, Any]) -> dict[str, Any]:
    """What pressing "Raise issue" sends when the reporter changes nothing."""
    return dict(card["actions"][0]["data"]) | {key: element.get("value", "") for key, element in inputs_of(card).items()}


async def ask_form(bot: RunningBot, connector: FakeConnector, text: str, **where: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    message = channel_message(connector.url, text, **where)
    status, _ = await bot.post_activity(message)
    assert status == 200
    reply = connector.calls[-1]
    assert reply.card is not None and reply.sent_id is not None
    return message, reply.card, reply.sent_id


async def submit(bot: RunningBot, message: dict[str, Any], form_id: str, data: dict[str, Any]) -> dict[str, Any]:
    status, body = await bot.post_activity(execute_action(message, "issue.create", data, card_activity_id=form_id))
    assert status == 200 and body["statusCode"] == 200
    await bot.settle()
    return body["value"]


async def stored(engine: AsyncEngine) -> list[Any]:
    async with engine.connect() as connection:
        return list((await connection.execute(select(IssueRow).order_by(IssueRow.id))).all())


async def test_a_confident_guess_is_prefilled_an_unsure_one_is_please_choose_and_refused_until_picked(
    bot: RunningBot, connector: FakeConnector, engine: AsyncEngine
) -> None:
    message, form, form_id = await ask_form(bot, connector, "sev2 - same problem as yesterday, can someone look")
    fields = inputs_of(form)
    assert (fields["severity"]["value"], fields["category"]["value"]) == ("2", "defect")  # confident: prefilled
    assert fields["category"]["label"] == "Category" and not fields["category"].get("isRequired")
    area = fields["area"]
    assert (area["value"], area["label"], area["isRequired"]) == ("", "D365 area (please choose)", True)

    refused = await submit(bot, message, form_id, unchanged(form) | {"title": "Same as before"})

    assert await stored(engine) == []
    assert "Nothing was saved. Please correct: D365 area." in card_text(refused)
    assert "please choose an area" in card_text(refused)
    kept = inputs_of(refused)
    assert (kept["title"]["value"], kept["severity"]["value"], kept["category"]["value"]) == ("Same as before", "2", "defect")

    card = await submit(bot, message, form_id, unchanged(refused) | {"area": "platform"})

    [issue] = await stored(engine)
    assert (issue.title, issue.category, issue.area) == ("Same as before", "defect", "platform")
    assert "#1 " in card_text(card)


async def test_dynamics_details_are_read_stored_and_shown(bot: RunningBot, connector: FakeConnector, engine: AsyncEngine) -> None:
    text = "sev2 - in UAT vendor invoice APINV-004512 for PO-000482 won't post in DEMF, AP posting profile missing"
    message, form, form_id = await ask_form(bot, connector, text)
    fields = inputs_of(form)
    assert (fields["environment"]["value"], fields["documents"]["value"]) == ("test", "APINV-004512, PO-000482")
    assert fields["company"]["value"] == "DEMF"

    card = await submit(bot, message, form_id, unchanged(form) | {"documents": "APINV-004512, PO-000482, INV-88123",
                                                                  "environment": "production"})

    [issue] = await stored(engine)
    assert (issue.environment, issue.documents, issue.company) == ("production", "APINV-004512, PO-000482, INV-88123", "DEMF")
    assert '"title": "Environment", "value": "Production"' in card_text(card)
    assert "APINV-004512, PO-000482, INV-88123" in card_text(card)


QUOKKA = [
    "the Quokka boxes won't scan the pallets at dock 4",
    "new pickers can't log into the Quokka boxes",
    "Quokka boxes are slow in aisle 7 again",
]
NEXT = "the Quokka boxes keep rebooting"


async def test_a_war_rooms_confirmed_issues_change_its_next_prefill_and_never_another_war_rooms(
    bot: RunningBot, connector: FakeConnector, engine: AsyncEngine
) -> None:
    finance = {"team_id": FINANCE_TEAM_ID, "channel_id": FINANCE_CHANNEL_ID}
    _, before, _ = await ask_form(bot, connector, NEXT)
    assert inputs_of(before)["area"]["value"] != "warehouse"

    # The war room confirms three issues about its local "Quokka boxes": the reporters pick warehouse.
    for text in QUOKKA:
        message, form, form_id = await ask_form(bot, connector, "sev3 - " + text)
        await submit(bot, message, form_id, unchanged(form) | {"area": "warehouse", "category": "defect"})
    assert [row.area for row in await stored(engine)] == ["warehouse"] * 3

    _, after, _ = await ask_form(bot, connector, NEXT)
    _, elsewhere, _ = await ask_form(bot, connector, NEXT, **finance)

    assert inputs_of(after)["area"]["value"] == "warehouse" and "please choose" not in inputs_of(after)["area"]["label"]
    assert inputs_of(elsewhere)["area"]["value"] != "warehouse"
