"""Runbooks, similar past fixes, `status`, the chart link and the export, over real HTTP and the real CLI."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import timedelta
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import RunbookRow
from tests.e2e.test_cli import hypercare
from tests.support.activities import LENA, NOBODY, OMAR, execute_action
from tests.support.clock import FrozenClock
from tests.support.connector import FakeConnector
from tests.support.server import RunningBot
from tests.support.war_room import WarRoom, card_text, find_execute


@pytest.fixture
async def room(bot: RunningBot, connector: FakeConnector) -> WarRoom:
    war_room = WarRoom(bot, connector)
    await war_room.grant(LENA, "triage_lead")
    await war_room.grant(OMAR, "oncall")
    await war_room.grant(NOBODY, "support")
    return war_room


async def resolve(room: WarRoom, text: str, notes: str, **extra: str) -> None:
    issue = await room.raise_issue(text)
    await room.click(issue, "issue.resolve", {"resolve_notes": notes, "resolve_type": "configuration_changed", **extra}, sender=NOBODY)


async def test_save_as_runbook_then_found_by_search_and_suggested_on_a_new_form(room: WarRoom, engine: AsyncEngine) -> None:
    await resolve(
        room, "sev2 - vendor invoice posting fails in USMF, posting profile missing",
        "Created the vendor posting profile for USMF and reposted the invoices.",
        resolve_runbook="true", resolve_runbook_title="Missing vendor posting profile",
    )
    async with engine.connect() as connection:
        [runbook] = (await connection.execute(select(RunbookRow))).all()
    assert (runbook.title, runbook.owner_name) == ("Missing vendor posting profile", "Nils Nobody")

    [found] = await room.say("runbook posting profile")
    assert "Missing vendor posting profile" in card_text(found.card) and "Created the vendor posting profile" in card_text(found.card)

    [form] = await room.say("sev2 AP cannot post supplier invoices, the posting profile seems absent")
    suggestions = next(e for e in form.card["body"] if e.get("id") == "suggestions")
    assert "Before you raise it" in card_text(suggestions) and "posting profile" in card_text(suggestions).lower()


async def test_runbook_new_edit_by_owner_or_triage_lead(room: WarRoom, bot: RunningBot, engine: AsyncEngine) -> None:
    message, [form] = await room.post("runbook new", sender=OMAR)
    form_data = find_execute(form.card, "runbook.create")["data"]
    empty = form_data | {"runbook_title": "", "runbook_steps": ""}
    status, body = await bot.post_activity(execute_action(message, "runbook.create", empty, card_activity_id="x", sender=OMAR))
    assert "Please correct: runbook_title, runbook_steps." in card_text(body["value"])
    _, body = await bot.post_activity(
        execute_action(
            message, "runbook.create",
            form_data
            | {"runbook_title": "Reset MFA", "runbook_steps": "Entra admin centre → user → reset MFA", "runbook_area": "platform"},
            card_activity_id="x", sender=OMAR,
        )
    )
    card = body["value"]
    assert "Runbook saved." in card_text(card)
    edit = find_execute(card, "runbook.update")
    changes = {"runbook_title": "Reset MFA for a user", "runbook_steps": "Use the Entra admin centre", "runbook_symptoms": ""}
    _, refused = await bot.post_activity(execute_action(message, "runbook.update", edit["data"] | changes, card_activity_id="x", sender=NOBODY))
    assert "Only its owner or a triage lead" in card_text(refused["value"])
    _, edited = await bot.post_activity(execute_action(message, "runbook.update", edit["data"] | changes, card_activity_id="x", sender=LENA))
    assert "Reset MFA for a user" in card_text(edited["value"])
    async with engine.connect() as connection:
        assert (await connection.execute(select(RunbookRow.title))).scalar_one() == "Reset MFA for a user"


async def test_a_runbook_form_delivered_twice_saves_one_runbook(room: WarRoom, bot: RunningBot, engine: AsyncEngine) -> None:
    message, [form] = await room.post("runbook new", sender=OMAR)
    data = find_execute(form.card, "runbook.create")["data"] | {"runbook_title": "Reset MFA", "runbook_steps": "Entra admin centre"}
    answers = []
    for _ in range(2):  # a double click, or Teams re-sending the invoke
        submit = execute_action(message, "runbook.create", data, card_activity_id=form.sent_id, sender=OMAR)
        status, body = await bot.post_activity(submit)
        assert status == 200
        answers.append(card_text(body["value"]))
    async with engine.connect() as connection:
        runbooks = (await connection.execute(select(RunbookRow.id, RunbookRow.title))).all()
    assert [title for _, title in runbooks] == ["Reset MFA"]
    assert all("Runbook saved." in answer and f"Runbook R{runbooks[0].id} " in answer for answer in answers)

    # Without a valid form id nothing is saved: the form comes back, renewed, with what was typed.
    forged = data | {"form_id": "x"}
    _, body = await bot.post_activity(execute_action(message, "runbook.create", forged, card_activity_id=form.sent_id, sender=OMAR))
    renewed = find_execute(body["value"], "runbook.create")["data"]["form_id"]
    assert "This form was damaged" in card_text(body["value"]) and renewed not in (data["form_id"], "x")
    assert "Reset MFA" in card_text(body["value"])
    async with engine.connect() as connection:
        assert len((await connection.execute(select(RunbookRow.id))).all()) == 1


async def test_status_card_links_a_chart_served_by_the_bot(room: WarRoom, bot: RunningBot, clock: FrozenClock) -> None:
    await resolve(room, "sev1 - nobody can log in", "Conditional access policy fixed")
    await room.raise_issue("sev2 - payment journal fails")
    [status] = await room.say("status")
    text = card_text(status.card)
    assert "Exit criteria" in text or "No open Sev 1" in text
    [image] = [e for e in status.card["body"] if e["type"] == "Image"]
    path = re.sub(r"^https?://[^/]+", "", image["url"])
    async with bot.client.get(bot.url + path) as response:
        assert response.status == 200 and response.content_type == "image/png"
        assert (await response.read())[:8] == b"\x89PNG\r\n\x1a\n"
    async with bot.client.get(bot.url + path.replace(".png", "x.png")) as response:
        assert response.status == 404  # a tampered signature
    forged = re.sub(r"/charts/(\d+)/", lambda m: f"/charts/{int(m.group(1)) + 1}/", path)
    async with bot.client.get(bot.url + forged) as response:
        assert response.status == 404  # another war room with the same signature
    clock.advance(timedelta(hours=25))
    async with bot.client.get(bot.url + path) as response:
        assert response.status == 200  # kept for the war room's life and 90 days (tests/e2e/test_celebration.py)


async def test_export_round_trips_as_csv_and_xlsx(room: WarRoom, database_url: str, tmp_path: Path) -> None:
    await resolve(room, "sev2 - =HYPERLINK(\"http://evil\") vendor invoices stuck", "Reposted")
    await room.raise_issue("sev3 - logo blurry")
    code, out, err = await hypercare("war-rooms", database_url=database_url)
    war_room_id = out.split("\t")[0]
    code, out, err = await hypercare("export", "--war-room", war_room_id, "--format", "csv", "--out", str(tmp_path / "log.zip"), database_url=database_url)
    assert code == 0, err
    with zipfile.ZipFile(tmp_path / "log.zip") as archive:
        issues = list(csv.DictReader(io.StringIO(archive.read("issues.csv").decode("utf-8-sig"))))
        events = list(csv.DictReader(io.StringIO(archive.read("events.csv").decode("utf-8-sig"))))
    assert [row["number"] for row in issues] == ["1", "2"]
    assert issues[0]["title"].startswith("'=HYPERLINK")  # formula injection neutralised
    assert {"created", "resolve"} <= {row["verb"] for row in events}
    code, _, err = await hypercare("export", "--war-room", war_room_id, "--format", "xlsx", "--out", str(tmp_path / "log.xlsx"), database_url=database_url)
    assert code == 0, err
    workbook = openpyxl.load_workbook(tmp_path / "log.xlsx")
    assert {"Issues", "Events"} <= set(workbook.sheetnames)
    assert workbook["Issues"].max_row == 3  # a header and two issues
