"""The end of hypercare over real HTTP: the celebration card at sign-off, the hand-over pack behind a signed,
expiring link, and charts that stay viewable for the war room's life plus 90 days."""

from __future__ import annotations

import csv
import io
import re
import statistics
import zipfile
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from storage.models import WarRoomRow
from tests.e2e.test_cli import hypercare
from tests.e2e.test_phase import BOSS, press, setup_values
from tests.support.activities import (
    ADMIN, LENA, NOBODY, OMAR, SECOND_TENANT, TENANT, USER, channel_message, execute_action, submit_action,
)
from tests.support.clock import FrozenClock
from tests.support.connector import FakeConnector
from tests.support.server import RunningBot, running_bot
from tests.support.war_room import RaisedIssue, WarRoom, card_text, find_execute

SECRET = "s" * 40
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url, allowed_tenants=f"{TENANT},{SECOND_TENANT}", admins=ADMIN["aadObjectId"],
        scheduler_interval_seconds=0, connector_retry_base_seconds=0.01, chart_secret=SECRET, _env_file=None,
    )


@pytest.fixture
async def room(bot: RunningBot, connector: FakeConnector) -> WarRoom:
    war_room = WarRoom(bot, connector)
    connector.members.append(dict(BOSS, email="bea@contoso.com"))
    await war_room.grant(LENA, "triage_lead")
    await war_room.grant(OMAR, "oncall")
    await war_room.grant(NOBODY, "support")
    await war_room.grant(BOSS, "leadership")
    return war_room


# ------------------------------------------------------------------------------------------------ seeding


@dataclass
class Seeded:
    number: int
    severity: int
    reporter: dict[str, str]
    raised_at: datetime
    acknowledged_after: timedelta | None = None
    resolved_after: timedelta | None = None
    resolver: dict[str, str] | None = None
    deferred: bool = False
    title: str = ""


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def facts(card: dict[str, Any]) -> dict[str, str]:
    found: dict[str, str] = {}
    stack: list[Any] = [card]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("type") == "FactSet":
                found |= {fact["title"]: fact["value"] for fact in node["facts"]}
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


async def resolve(
    room: WarRoom, issue: RaisedIssue, by: dict[str, str], *, runbook: str | None = None, reporter: dict[str, str] = USER
) -> None:
    """Resolved by `by`, and confirmed by its reporter (an unconfirmed Sev 1 holds up the sign-off: test_signoff.py)."""
    inputs = {"resolve_notes": "Fixed the setup", "resolve_type": "configuration_changed"}
    if runbook:
        inputs |= {"resolve_runbook": "true", "resolve_runbook_title": runbook}
    card = await room.click(issue, "issue.resolve", inputs, sender=by)
    assert "Resolved" in card_text(card)
    card = await room.click(issue, "issue.confirm", sender=reporter)
    assert "Closed, confirmed" in card_text(card)


async def seed_phase(room: WarRoom, clock: FrozenClock) -> list[Seeded]:
    """Three weeks of hypercare: issues raised, acknowledged, resolved, deferred and left open, two runbooks."""
    [reply] = await room.say("setup", sender=ADMIN)
    await press(room, reply.card, "setup.save", setup_values(reply.card) | {"starts_on": "2026-11-23", "ends_on": "2026-12-11"}, sender=ADMIN)
    seeded: list[Seeded] = []

    async def raise_(text: str, reporter: dict[str, str], severity: int) -> tuple[RaisedIssue, Seeded]:
        issue = await room.raise_issue(text, sender=reporter)
        record = Seeded(number=len(seeded) + 1, severity=severity, reporter=reporter, raised_at=clock.now(), title=text)
        seeded.append(record)
        return issue, record

    async def ack(issue: RaisedIssue, record: Seeded, by: dict[str, str], after: timedelta) -> None:
        clock.advance(after)
        await room.click(issue, "issue.ack", sender=by)
        record.acknowledged_after = clock.now() - record.raised_at

    async def fix(issue: RaisedIssue, record: Seeded, by: dict[str, str], after: timedelta, runbook: str | None = None) -> None:
        clock.advance(after)
        await resolve(room, issue, by, runbook=runbook, reporter=record.reporter)
        record.resolved_after, record.resolver = clock.now() - record.raised_at, by

    # Week 1, Monday 23 November: the partner resolves the Sev 1, the support team the rest.
    sev1, r1 = await raise_("sev1 - nobody can post vendor invoices", USER, 1)
    await ack(sev1, r1, OMAR, timedelta(minutes=10))
    await fix(sev1, r1, OMAR, timedelta(minutes=110))
    sev2, r2 = await raise_("sev2 - payment journal fails to post", USER, 2)
    await ack(sev2, r2, NOBODY, timedelta(minutes=30))
    await fix(sev2, r2, NOBODY, timedelta(hours=4, minutes=30), runbook="Payment journal posting")
    sev3, r3 = await raise_("sev3 - purchase order print shows the wrong logo", USER, 3)
    await ack(sev3, r3, NOBODY, timedelta(minutes=45))
    await fix(sev3, r3, NOBODY, timedelta(hours=1), runbook="Purchase order layout")

    # Week 3, Monday 7 December.
    clock.advance(datetime(2026, 12, 7, 9, 0, tzinfo=UTC) - clock.now())
    late2, r4 = await raise_("sev2 - bank file rejected by the bank", USER, 2)
    await ack(late2, r4, NOBODY, timedelta(minutes=50))
    await fix(late2, r4, NOBODY, timedelta(minutes=10))
    _, r5 = await raise_("sev4 - the invoice logo is blurry", USER, 4)  # deferred on creation
    r5.deferred = True
    sev3_later, r6 = await raise_("sev3 - the vendor list needs a colour column", LENA, 3)
    await room.click(sev3_later, "issue.defer", {"defer_reason": "after go-live"}, sender=LENA)
    r6.deferred = True
    await raise_("sev3 - the report takes a minute to open", OMAR, 3)  # left open
    clock.advance(timedelta(days=2))  # signed off on Wednesday 9 December
    return seeded


async def sign_off(room: WarRoom) -> tuple[dict[str, Any], dict[str, Any]]:
    """Leadership signs off: the exit card, and the celebration card posted in the channel."""
    [reply] = await room.say("exit")
    before = len(room.connector.calls)
    exit_card = await press(room, reply.card, "phase.signoff", sender=BOSS)
    assert "signed off by Bea Boss" in card_text(exit_card)
    posted = [c.card for c in room.connector.calls[before:] if c.card and "Hypercare is complete" in card_text(c.card)]
    assert len(posted) == 1
    return exit_card, posted[0]


def minutes_or_hours(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    hours, rest = divmod(minutes, 60)
    return f"{minutes} min" if minutes < 60 else f"{hours} h {rest} min" if rest else f"{hours} h"


def percent(hits: int, total: int) -> str:
    return f"{100 * hits / total:.0f}%"


# -------------------------------------------------------------------------------------------------- tests


async def test_sign_off_posts_the_celebration_with_the_phase_in_numbers(room: WarRoom, clock: FrozenClock, bot: RunningBot) -> None:
    seeded = await seed_phase(room, clock)
    signed_at = clock.now()
    _, card = await sign_off(room)
    text, shown = card_text(card), facts(card)

    days = (signed_at.date() - date(2026, 11, 23)).days + 1
    resolved = [s for s in seeded if s.resolved_after is not None]
    assert shown["Days"] == f"{days} days (23 Nov – 9 Dec 2026)"
    assert shown["Issues raised"] == str(len(seeded))
    assert shown["Issues resolved"] == str(len(resolved))
    assert shown["Runbooks written"] == "2"
    first_week = [s for s in resolved if s.raised_at + s.resolved_after < datetime(2026, 11, 30, tzinfo=UTC)]
    last_week = [s for s in resolved if s.raised_at + s.resolved_after >= signed_at - timedelta(days=7)]
    support_first, support_last = (sum(1 for s in records if s.resolver is NOBODY) for records in (first_week, last_week))
    assert shown["Support team share"] == (
        f"first week {percent(support_first, len(first_week))} → last week {percent(support_last, len(last_week))}"
    )
    for severity in (1, 2, 3):
        acks = [s.acknowledged_after for s in seeded if s.severity == severity and s.acknowledged_after is not None]
        fixes = [s.resolved_after for s in seeded if s.severity == severity and s.resolved_after is not None]
        assert shown[f"Sev {severity}"] == (
            f"acknowledged in {minutes_or_hours(statistics.median(acks))} (n={len(acks)}) · "
            f"resolved in {minutes_or_hours(statistics.median(fixes))} (n={len(fixes)})"
        )

    def ranking(people: list[dict[str, str]]) -> str:
        counts = Counter(person["name"] for person in people)
        top = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:3]
        return " · ".join(f"{name} ({count})" for name, count in top)

    assert f"Resolved most: {ranking([s.resolver for s in resolved if s.resolver])}" in thanks_lines(card)
    assert f"Reported most: {ranking([s.reporter for s in seeded])}" in thanks_lines(card)

    deferred = [s for s in seeded if s.deferred]
    assert f"Hand-over backlog: deferred Sev 3/4 ({len(deferred)})" in text
    for record in deferred:
        assert f"#{record.number} Sev {record.severity} " in text and record.title.split(" - ")[1] in text.lower()
    left_open = next(s for s in seeded if s.resolved_after is None and not s.deferred)
    assert left_open.title.split(" - ")[1] not in text.lower()  # an open issue is not backlog

    [image] = [e for e in card["body"] if e["type"] == "Image"]
    async with bot.client.get(bot.url + path_of(image["url"])) as response:
        assert response.status == 200 and (await response.read()).startswith(PNG)
    assert find_execute(card, "handover.link")


def thanks_lines(card: dict[str, Any]) -> list[str]:
    return ["".join(run["text"] for run in e["inlines"]) for e in card["body"] if e.get("type") == "RichTextBlock"]


async def test_handover_is_for_triage_leads_leadership_and_admins(room: WarRoom, bot: RunningBot, clock: FrozenClock) -> None:
    await seed_phase(room, clock)
    for person in (OMAR, NOBODY, USER):
        [refused] = await room.say("handover", sender=person)
        assert "To download the hand-over pack you need the role admin, leadership or triage_lead." in card_text(refused.card)
    message, [offer] = await room.post("handover", sender=LENA)
    assert "Hand-over pack for steady-state support" in card_text(offer.card)
    assert "https://" not in card_text(offer.card) and "/handover/" not in card_text(offer.card)  # the channel sees no link
    button = find_execute(offer.card, "handover.link")
    assert "fallback" not in button or button["fallback"] == "drop"  # an Action.Submit would show the link to everyone

    async def press_link(sender: dict[str, str], data: dict[str, Any]) -> dict[str, Any]:
        before = len(room.connector.calls)
        status, body = await bot.post_activity(execute_action(message, "handover.link", data, card_activity_id=offer.sent_id or "x", sender=sender))
        await bot.settle()
        assert status == 200
        assert not [c for c in room.connector.calls[before:] if "/handover/" in card_text(c.body or {})]  # nothing posted for all
        return body["value"]

    refused = await press_link(OMAR, button["data"])
    assert "you need the role admin, leadership or triage_lead" in card_text(refused) and "/handover/" not in card_text(refused)
    for person in (LENA, BOSS, ADMIN):
        answer = await press_link(person, button["data"])
        assert re.search(r'"url": "[^"]+/handover/\d+/\d+/[^"/]+\.zip"', card_text(answer)), person

    # A submitted (not executed) press, as a client without Universal Actions sends it: its answer would be seen by all.
    before = len(room.connector.calls)
    status, _ = await bot.post_activity(
        submit_action(message, {"verb": "handover.link", "from": "handover"}, card_activity_id=offer.sent_id or "x", sender=LENA)
    )
    await bot.settle()
    assert status == 200
    answered = " ".join(card_text(c.body or {}) for c in room.connector.calls[before:])
    assert "cannot show the link to you alone" in answered and "/handover/" not in answered

    _, celebration = await sign_off(room)
    answer = await press_link(BOSS, find_execute(celebration, "handover.link")["data"])
    assert "Hypercare is complete" in card_text(answer) and "/handover/" in card_text(answer)  # the celebration, with the link


async def download_link(room: WarRoom, sender: dict[str, str] = LENA) -> str:
    message, [offer] = await room.post("handover", sender=sender)
    data = find_execute(offer.card, "handover.link")["data"]
    _, body = await room.bot.post_activity(execute_action(message, "handover.link", data, card_activity_id="x", sender=sender))
    [url] = re.findall(r'"url": "([^"]+/handover/[^"]+\.zip)"', card_text(body["value"]))
    return path_of(url)


async def test_the_handover_pack_holds_the_log_the_runbooks_and_the_backlog(room: WarRoom, bot: RunningBot, clock: FrozenClock) -> None:
    seeded = await seed_phase(room, clock)
    await sign_off(room)
    async with bot.client.get(bot.url + await download_link(room)) as response:
        assert response.status == 200 and response.content_type == "application/zip"
        assert "attachment" in response.headers["Content-Disposition"]
        assert response.headers["Cache-Control"] == "no-store"
        pack = zipfile.ZipFile(io.BytesIO(await response.read()))
    names = set(pack.namelist())
    assert {"README.md", "issue-log.xlsx", "issue-log/issues.csv", "issue-log/events.csv", "issue-log/runbooks.csv",
            "runbooks.md", "runbooks.xlsx", "deferred-backlog.csv"} <= names

    def rows(name: str) -> list[dict[str, str]]:
        return list(csv.DictReader(io.StringIO(pack.read(name).decode("utf-8-sig"))))

    assert [row["number"] for row in rows("issue-log/issues.csv")] == [str(s.number) for s in seeded]
    verbs = Counter(row["verb"] for row in rows("issue-log/events.csv"))
    assert verbs["created"] == len(seeded) and verbs["resolve"] == 4 and verbs["defer"] == 1
    assert [(row["number"], row["severity"]) for row in rows("deferred-backlog.csv")] == [
        (str(s.number), str(s.severity)) for s in sorted(seeded, key=lambda s: (s.severity, s.number)) if s.deferred
    ]  # by severity, then number
    assert sorted(row["title"] for row in rows("issue-log/runbooks.csv")) == ["Payment journal posting", "Purchase order layout"]

    markdown = pack.read("runbooks.md").decode()
    for title in ("Payment journal posting", "Purchase order layout"):
        assert re.search(rf"^## R\d+ · {title}$", markdown, re.MULTILINE)
    assert markdown.count("### Steps") == 2 and "Fixed the setup" in markdown

    runbooks = openpyxl.load_workbook(io.BytesIO(pack.read("runbooks.xlsx")))["Runbooks"]
    assert sorted(row[1] for row in runbooks.iter_rows(min_row=2, values_only=True)) == ["Payment journal posting", "Purchase order layout"]
    log = openpyxl.load_workbook(io.BytesIO(pack.read("issue-log.xlsx")))
    assert {"Issues", "Events", "Runbooks"} <= set(log.sheetnames)
    assert log["Issues"].max_row == len(seeded) + 1
    assert "deferred-backlog.csv" in pack.read("README.md").decode()


async def test_a_handover_link_leaks_nothing_without_a_valid_signature(
    room: WarRoom, bot: RunningBot, clock: FrozenClock, connector: FakeConnector, engine: AsyncEngine
) -> None:
    await room.raise_issue("sev3 - the report is slow")
    path = await download_link(room)
    # Another war room (another team) exists too.
    status, _ = await bot.post_activity(channel_message(connector.url, "help", team_id="19:other-team@thread.tacv2"))
    assert status == 200
    async with engine.connect() as connection:
        ids = sorted((await connection.execute(select(WarRoomRow.id))).scalars())
    parts = re.fullmatch(r"/handover/(\d+)/(\d+)/[^/]+\.zip", path)
    assert parts is not None
    war_room, expires = parts.groups()
    other = next(str(i) for i in ids if str(i) != war_room)
    tampered = {
        "signature": re.sub(r"/([^/]+)\.zip$", lambda m: "/" + m.group(1)[::-1] + ".zip", path),
        "other war room": path.replace(f"/handover/{war_room}/", f"/handover/{other}/"),
        "later expiry": path.replace(f"/{expires}/", f"/{int(expires) + 86400}/"),
        "not a number": path.replace(f"/{expires}/", "/soon/"),
        "non-ascii": path.replace(".zip", "é.zip"),
    }
    for what, forged in tampered.items():
        async with bot.client.get(bot.url + forged) as response:
            body = await response.read()
            assert response.status == 404, what
            assert b"PK" not in body[:2] and b"sev3" not in body, what
    async with bot.client.get(bot.url + path) as response:
        assert response.status == 200
    clock.advance(timedelta(hours=1, seconds=1))
    async with bot.client.get(bot.url + path) as response:
        assert response.status == 410
        assert b"PK" not in (await response.read())[:2]


async def test_a_standup_chart_outlives_restarts_and_a_day_and_ends_90_days_after_sign_off(
    room: WarRoom, bot: RunningBot, clock: FrozenClock, settings: Settings
) -> None:
    issue = await room.raise_issue("sev1 - nobody can log in")
    await resolve(room, issue, NOBODY)
    [standup] = await room.say("standup")
    [image] = [e for e in standup.card["body"] if e["type"] == "Image"]
    path = path_of(image["url"])
    async with bot.client.get(bot.url + path) as response:
        assert response.status == 200
        first = await response.read()
    assert first.startswith(PNG)

    await room.raise_issue("sev3 - a new problem the old chart must not show")
    clock.advance(timedelta(days=3))
    async with running_bot(settings, clock) as restarted:  # a new app instance, the same secret
        async with restarted.client.get(restarted.url + path) as response:
            assert response.status == 200 and await response.read() == first
    async with running_bot(settings.model_copy(update={"chart_secret": SecretStr("x" * 40)}), clock) as other:
        async with other.client.get(other.url + path) as response:
            assert response.status == 404  # signed with another secret

    [reply] = await room.say("status")
    status_path = path_of(next(e for e in reply.card["body"] if e["type"] == "Image")["url"])
    assert status_path != path
    signed_at = clock.now()
    await sign_off(room)
    clock.advance(signed_at + timedelta(days=90) - clock.now())
    async with bot.client.get(bot.url + path) as response:
        assert response.status == 200 and await response.read() == first
    clock.advance(timedelta(minutes=1))
    for gone in (path, status_path):
        async with bot.client.get(bot.url + gone) as response:
            assert response.status == 410
            assert not (await response.read()).startswith(PNG)


async def test_export_writes_the_runbooks(room: WarRoom, clock: FrozenClock, database_url: str, tmp_path: Path) -> None:
    issue = await room.raise_issue("sev2 - payment journal fails to post")
    await resolve(room, issue, NOBODY, runbook="Payment journal posting")
    code, out, err = await hypercare("war-rooms", database_url=database_url)
    war_room_id = out.split("\t")[0]
    code, _, err = await hypercare("export", "--war-room", war_room_id, "--format", "csv", "--out", str(tmp_path / "log.zip"), database_url=database_url)
    assert code == 0, err
    with zipfile.ZipFile(tmp_path / "log.zip") as archive:
        [runbook] = list(csv.DictReader(io.StringIO(archive.read("runbooks.csv").decode("utf-8-sig"))))
    assert (runbook["title"], runbook["steps"], runbook["owner_name"], runbook["issue_numbers"]) == (
        "Payment journal posting", "Fixed the setup", "Nils Nobody", "1"
    )
    code, _, err = await hypercare("export", "--war-room", war_room_id, "--format", "xlsx", "--out", str(tmp_path / "log.xlsx"), database_url=database_url)
    assert code == 0, err
    sheet = openpyxl.load_workbook(tmp_path / "log.xlsx")["Runbooks"]
    assert [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["Payment journal posting"]
