"""The `hypercare` command line, run as a real process against the test database."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.model import IssueDraft, Person, Severity
from bot.domain.war_room import WarRoomSettings
from bot.domain.messages import ConversationRef, OutboundMessage, Settled
from bot.services.intake import report_issue
from storage.models import WarRoomRow
from storage.uow import UnitOfWorkFactory
from tests.resilience.processes import BotProcess, clean_environment, free_port

HYPERCARE = Path(sys.executable).parent / "hypercare"
REF = ConversationRef(
    conversation_id="19:general@thread.tacv2;messageid=1", conversation_type="channel", service_url="http://127.0.0.1:9/",
    channel="msteams", bot_id="28:bot", tenant_id="t1", team_id="19:team@thread.tacv2", channel_id="19:general@thread.tacv2",
)


async def hypercare(*args: str, database_url: str = "sqlite+aiosqlite:///:memory:") -> tuple[int, str, str]:
    env = dict(os.environ, HYPERCARE_DATABASE_URL=database_url, HYPERCARE_LOG_LEVEL="WARNING")
    process = await asyncio.create_subprocess_exec(
        str(HYPERCARE), *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_parse_prints_the_draft_with_exactly_the_documented_keys() -> None:
    code, out, _ = await hypercare("parse", "sev1 - nobody in AP can post vendor invoices, posting profile missing")
    assert code == 0
    draft = json.loads(out)
    assert list(draft) == [
        "title", "description", "severity", "category", "area", "company", "affected_users", "environment", "documents",
        "please_choose",
    ]
    assert (draft["severity"], draft["area"], draft["category"]) == (1, "accounts_payable", "configuration")


async def test_parse_evaluate_prints_the_figures_and_refuses_a_bad_file(tmp_path: Path) -> None:
    labelled = tmp_path / "two.jsonl"
    labelled.write_text(
        '{"text": "sev1 - nobody in AP can post vendor invoices", "severity": 1, "category": "defect", '
        '"area": "accounts_payable", "company": null}\n'
        '{"text": "How do I reverse a posted customer payment in company demf?", "severity": null, '
        '"category": "how_to", "area": "accounts_receivable", "company": "DEMF"}\n',
        encoding="utf-8",
    )
    code, out, err = await hypercare("parse", "--evaluate", str(labelled))
    assert code == 0, err
    assert out.startswith("2 messages\n")
    assert "Sev 1 recall 100.0% (1/1" in out and "area: rows are the labels" in out

    code, out, err = await hypercare("parse", "--evaluate-stream", str(labelled))
    assert code == 0, err
    assert "after 1 confirmed in this war room" in out and "cold model" in out

    labelled.write_text('{"text": "x", "severity": 7, "category": "defect", "area": "tax"}\n', encoding="utf-8")
    code, out, err = await hypercare("parse", "--evaluate", str(labelled))
    assert (code, out) == (2, "")
    assert f"{labelled}:1" in err


async def test_migrate_builds_a_fresh_sqlite_database(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    code, out, err = await hypercare("migrate", database_url=url)
    assert code == 0, err
    assert "latest schema" in out
    code, out, _ = await hypercare("war-rooms", database_url=url)
    assert (code, out) == (0, "")


async def test_war_rooms_standup_settings_and_outbox(database_url: str, uow_factory: UnitOfWorkFactory) -> None:
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    await report_issue(
        uow=uow_factory(), now=now, draft=IssueDraft(title="Payroll export fails", description="x", severity=Severity.SEV1),
        reporter=Person(aad_object_id="a", name="Priya"), conversation=REF, form_id="form-cli-1", card_activity_id="c1",
    )
    code, out, _ = await hypercare("war-rooms", database_url=database_url)
    assert code == 0 and "t1/team:19:team@thread.tacv2" in out and "1 open" in out
    war_room_id = out.split("\t")[0]

    code, out, _ = await hypercare("standup", "--war-room", war_room_id, "--print", database_url=database_url)
    assert code == 0 and "Hypercare stand-up" in out and "#1 Sev 1 Payroll export fails" in out
    assert "!! Hypercare here has no agreed end yet: an admin can set it up with `setup`." in out

    code, out, err = await hypercare("settings", "--war-room", war_room_id, "--set", "time_zone=Europe/Berlin",
                                     "--set", "sev2.acknowledge_within=1h", database_url=database_url)
    assert code == 0, err
    settings = json.loads(out)
    assert settings["calendar"]["time_zone"] == "Europe/Berlin"
    assert settings["policy"]["rules"]["2"]["acknowledge_within"] == "1h"

    code, _, err = await hypercare("settings", "--war-room", war_room_id, "--set", "time_zone=Mars/Olympus", database_url=database_url)
    assert code == 2 and "unknown time zone" in err
    code, _, err = await hypercare("standup", "--war-room", "999", "--print", database_url=database_url)
    assert code == 2 and "no war room" in err

    async with uow_factory() as uow:
        await uow.outbox.enqueue(
            OutboundMessage(dedupe_key="k1", war_room_id=int(war_room_id), tenant_id="t1", service_url=REF.service_url,
                            kind="message", conversation_id="19:c", bot_id=None, card={}),
            now=now,
        )
        [item] = await uow.outbox.claim(now, limit=5, lease=timedelta(seconds=1))
        await uow.outbox.settle([Settled(item_id=item.id, kind="failed", at=now, error="403 Forbidden")])
        await uow.commit()
    code, out, _ = await hypercare("outbox", "--failed", database_url=database_url)
    assert code == 0 and "k1" in out and "403 Forbidden" in out


@pytest.mark.parametrize("args", [["standup"], ["settings"], ["nonsense"]])
async def test_wrong_usage_is_refused_with_a_message(args: list[str]) -> None:
    code, _, err = await hypercare(*args)
    assert code == 2 and "usage: hypercare" in err


async def test_serve_without_an_app_id_refuses_to_listen_beyond_loopback(tmp_path: Path) -> None:
    # Refused before the database is opened (an empty one would stop it too, with another message).
    env = clean_environment(HYPERCARE_DATABASE_URL="sqlite+aiosqlite:///:memory:", HYPERCARE_PORT=str(free_port()))
    process = await asyncio.create_subprocess_exec(
        str(HYPERCARE), "serve", "--host", "0.0.0.0", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        _, err = await asyncio.wait_for(process.communicate(), timeout=30)
    finally:
        if process.returncode is None:  # it started serving: the guard is missing
            process.kill()
            await process.wait()
    message = err.decode()
    assert process.returncode == 2, message
    assert "refusing to listen on '0.0.0.0'" in message and "HYPERCARE_ALLOW_UNAUTHENTICATED=true" in message


async def test_serve_without_an_app_id_listens_beyond_loopback_when_told_and_warns_loudly(database_url: str, tmp_path: Path) -> None:
    env = clean_environment(
        HYPERCARE_DATABASE_URL=database_url, HYPERCARE_ALLOW_UNAUTHENTICATED="true", HYPERCARE_SCHEDULER_INTERVAL_SECONDS="0",
    )
    bot = BotProcess(name="exposed", env=env, workdir=tmp_path, host="0.0.0.0")
    try:
        await bot.start()
    finally:
        await bot.stop()
    assert "WARNING hypercare: UNAUTHENTICATED on 0.0.0.0" in bot.log_text()


async def test_settings_refuses_spans_out_of_bounds_and_names_those_stored_before_the_bounds(
    database_url: str, uow_factory: UnitOfWorkFactory, engine: AsyncEngine
) -> None:
    async with uow_factory() as uow:
        war_room_id = str(await uow.war_rooms.ensure(REF, now=datetime(2026, 11, 23, 9, 0, tzinfo=UTC)))
        await uow.commit()
    for assignment, message in [
        ("sev2.remind_unacknowledged_every=0m", "sev2.remind_unacknowledged_every: '0m' is no time at all"),
        ("sev1.remind_open_every=1m", "sev1.remind_open_every: '1m' is too often: reminders come at least 5 minutes apart"),
        ("sev2.resolve_within=99999999999d", "sev2.resolve_within: '99999999999d' is longer than a year"),
    ]:
        code, out, err = await hypercare("settings", "--war-room", war_room_id, "--set", assignment, database_url=database_url)
        assert (code, out) == (2, "") and f"settings not changed: {message}" in err
    async with engine.connect() as connection:
        assert (await connection.execute(select(WarRoomRow.settings))).scalar_one() is None

    # Written straight into the database (as before the bounds): shown with the default in its place, and named.
    data = WarRoomSettings().model_dump(mode="json")
    data["policy"]["rules"]["2"]["remind_unacknowledged_every"] = "0m"
    async with engine.begin() as connection:
        await connection.execute(update(WarRoomRow).values(settings=data))
    code, out, err = await hypercare("settings", "--war-room", war_room_id, database_url=database_url)
    assert code == 0 and json.loads(out)["policy"]["rules"]["2"]["remind_unacknowledged_every"] == "2h"
    assert "sev2.remind_unacknowledged_every: '0m' is no time at all" in err and "using the default 2h" in err
