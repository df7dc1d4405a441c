"""`hypercare doctor` as an operator runs it: a real process, against the test database, a running bot, and Microsoft's
identity endpoints faked on 127.0.0.1 (tests/support/identity.py)."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.domain.messages import ConversationRef, OutboundMessage
from storage.db import is_sqlite
from storage.uow import UnitOfWorkFactory
from tests.resilience.processes import clean_environment
from tests.support.activities import TENANT
from tests.support.databases import fresh_database
from tests.support.identity import APP_ID, ManagedIdentityEndpoint, OpenIdServer
from tests.support.server import RunningBot

HYPERCARE = Path(sys.executable).parent / "hypercare"
CHECKS = ["configuration", "database", "schema", "credentials", "openid", "public URL", "manifest", "outbox"]


async def doctor(env: dict[str, str], cwd: Path) -> tuple[int, dict[str, str], str]:
    """The exit code, each check's PASS/FAIL/SKIP by name, and the whole output."""
    process = await asyncio.create_subprocess_exec(
        str(HYPERCARE), "doctor", env=env, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    text = out.decode()
    statuses = {line[6:20].strip(): line[:4] for line in text.splitlines() if line[:4] in ("PASS", "FAIL", "SKIP")}
    assert process.returncode is not None, err
    return process.returncode, statuses, text + err.decode()


@pytest.fixture
def deployment(
    database_url: str, bot: RunningBot, openid: OpenIdServer, managed_identity: ManagedIdentityEndpoint
) -> dict[str, str]:
    """A good deployment: migrated database, the bot answering at its public URL, a managed identity with a token."""
    return clean_environment(
        HYPERCARE_DATABASE_URL=database_url,
        HYPERCARE_ALLOWED_TENANTS=TENANT,
        HYPERCARE_PUBLIC_URL=bot.url,
        HYPERCARE_OPENID_METADATA_URL=f"{openid.url}/v1/.well-known/openidconfiguration",
        HYPERCARE_LOG_LEVEL="WARNING",
        MicrosoftAppId=APP_ID,
        MicrosoftAppType="UserAssignedMSI",
        MicrosoftAppTenantId=TENANT,
    )


async def test_a_good_deployment_passes_every_check(deployment: dict[str, str], tmp_path: Path) -> None:
    code, statuses, text = await doctor(deployment, tmp_path)
    assert (code, statuses) == (0, dict.fromkeys(CHECKS, "PASS")), text
    assert "all checks passed" in text and ManagedIdentityEndpoint.TOKEN not in text


async def test_a_wrong_database_url_is_named(deployment: dict[str, str], database_url: str, tmp_path: Path) -> None:
    wrong = (
        f"sqlite:///{tmp_path / 'not-here' / 'hypercare.db'}" if is_sqlite(database_url)
        else make_url(database_url).set(port=1).render_as_string(hide_password=False)
    )
    code, statuses, text = await doctor(deployment | {"HYPERCARE_DATABASE_URL": wrong}, tmp_path)
    assert code == 1, text
    assert (statuses["database"], statuses["outbox"], "schema" in statuses) == ("FAIL", "SKIP", False)
    assert all(statuses[name] == "PASS" for name in ("configuration", "credentials", "openid", "public URL", "manifest"))
    assert "hint: check HYPERCARE_DATABASE_URL" in text and "1 of 7 checks failed: database" in text


async def test_an_unmigrated_database_is_named(deployment: dict[str, str], database_url: str, tmp_path: Path) -> None:
    backend = "sqlite" if is_sqlite(database_url) else "postgresql"
    async with fresh_database(backend, tmp_path, migrated=False) as empty:
        code, statuses, text = await doctor(deployment | {"HYPERCARE_DATABASE_URL": empty}, tmp_path)
    assert code == 1, text
    assert (statuses["database"], statuses["schema"], statuses["outbox"]) == ("PASS", "FAIL", "SKIP")
    assert "not migrated: at no schema" in text and "run `hypercare migrate`" in text


async def test_bad_credentials_are_named(deployment: dict[str, str], tmp_path: Path) -> None:
    # An app id the host has no identity for: Azure's identity endpoint (faked on 127.0.0.1) refuses it.
    other = "0b7a3e0c-5f7e-4b44-9d7c-2f3b1a9c8e11"
    code, statuses, text = await doctor(deployment | {"MicrosoftAppId": other}, tmp_path)
    assert code == 1, text
    assert statuses["credentials"] == "FAIL" and [name for name, status in statuses.items() if status != "PASS"] == ["credentials"]
    assert "no token for the Bot Connector" in text and "hint: MicrosoftAppId must be the client id of a user-assigned managed identity" in text


async def test_production_rules_and_a_stuck_outbox_are_named(
    deployment: dict[str, str], uow_factory: UnitOfWorkFactory, tmp_path: Path
) -> None:
    long_ago = datetime(2020, 1, 6, 9, 0, tzinfo=UTC)
    ref = ConversationRef(
        conversation_id="19:general@thread.tacv2", conversation_type="channel", service_url="http://127.0.0.1:9/",
        channel="msteams", bot_id="28:bot", tenant_id=TENANT, team_id="19:team@thread.tacv2", channel_id="19:general@thread.tacv2",
    )
    async with uow_factory() as uow:
        war_room_id = await uow.war_rooms.ensure(ref, now=long_ago)
        await uow.outbox.enqueue(
            OutboundMessage(dedupe_key="reminder:1:0:open:1", war_room_id=war_room_id, tenant_id=TENANT, service_url=ref.service_url,
                            kind="message", conversation_id=ref.conversation_id, bot_id=ref.bot_id, card={"type": "AdaptiveCard"}),
            now=long_ago,
        )
        await uow.commit()
    code, statuses, text = await doctor(deployment | {"HYPERCARE_ENV": "production"}, tmp_path)
    assert code == 1, text
    assert (statuses["configuration"], statuses["outbox"]) == ("FAIL", "FAIL")
    for named in ("HYPERCARE_CHART_SECRET must be set", "HYPERCARE_PUBLIC_URL must be", "HYPERCARE_METRICS_TOKEN must be set",
                  "1 waiting, the oldest for", "a scheduler must run"):
        assert named in text
