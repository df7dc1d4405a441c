"""Inbound Bot Framework authentication, offline: a local OpenID metadata/JWKS server and tokens minted here."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import jwt
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from app import SCHEDULER, ConfigurationError, create_app
from bot.config import Settings
from bot.services import admin
from storage.models import ConversationRow
from storage.uow import UnitOfWorkFactory
from tests.support.activities import TENANT, channel_message
from tests.support.clock import FrozenClock
from tests.support.connector import FakeConnector
from tests.support.identity import APP_ID, ISSUER, ROGUE_KEY, ManagedIdentityEndpoint, OpenIdServer, authenticated_settings, token
from tests.support.server import FixedToken, RunningBot, running_bot
from tests.support.war_room import WarRoom

OUTBOUND = "outbound-token-from-the-test-credential"


@pytest.fixture
async def forged() -> AsyncIterator[FakeConnector]:
    """A server at a serviceUrl that is no Bot Connector: another loopback address, not on the trusted list."""
    fake = FakeConnector(host="127.0.0.2")
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def secured_bot(database_url: str, openid: OpenIdServer, clock: FrozenClock) -> AsyncIterator[RunningBot]:
    settings = authenticated_settings(database_url, f"{openid.url}/v1/.well-known/openidconfiguration")
    async with running_bot(settings, clock, tokens=FixedToken(OUTBOUND)) as running:
        yield running


async def conversations_stored(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return (await connection.execute(select(func.count()).select_from(ConversationRow))).scalar_one()


async def test_a_genuine_token_is_accepted_and_replies_carry_our_own_token(
    secured_bot: RunningBot, connector: FakeConnector, clock: FrozenClock
) -> None:
    # Minted for the bot's frozen clock (days before the wall clock): accepted only because lifetimes are
    # checked against the injected clock.
    status, _ = await secured_bot.post_activity(
        channel_message(connector.url, "sev2 payment journal fails"), authorization=f"Bearer {token(connector, clock)}"
    )
    assert status == 200
    [reply] = connector.calls
    assert reply.headers["Authorization"] == f"Bearer {OUTBOUND}"


@pytest.mark.parametrize(
    "make_header",
    [
        pytest.param(lambda c, k: None, id="missing-header"),
        pytest.param(lambda c, k: f"Basic {token(c, k)}", id="wrong-scheme"),
        pytest.param(lambda c, k: "Bearer", id="empty-bearer"),
        pytest.param(lambda c, k: "Bearer not.a.jwt", id="garbage"),
        pytest.param(lambda c, k: "Bearer " + "x" * 5000, id="long-garbage"),
        pytest.param(lambda c, k: f"Bearer {token(c, k, exp=int(k.now().timestamp()) - 3600)}", id="expired"),
        pytest.param(lambda c, k: f"Bearer {token(c, k, nbf=int(k.now().timestamp()) + 3600)}", id="not-yet-valid"),
        pytest.param(lambda c, k: f"Bearer {token(c, k, exp=None)}", id="no-expiry"),
        pytest.param(lambda c, k: f"Bearer {token(c, k, aud='someone-else')}", id="wrong-audience"),
        pytest.param(lambda c, k: f"Bearer {token(c, k, iss='https://evil.example')}", id="wrong-issuer"),
        pytest.param(lambda c, k: f"Bearer {token(c, k, kid='unknown-key')}", id="unknown-key"),
        pytest.param(lambda c, k: f"Bearer {token(c, k, key=ROGUE_KEY)}", id="bad-signature"),
        pytest.param(lambda c, k: f"Bearer {token(c, k, kid='key-only-webchat')}", id="key-not-endorsed-for-teams"),
        pytest.param(lambda c, k: f"Bearer {token(c, k, serviceurl='https://evil.example/')}", id="other-service-url"),
        pytest.param(lambda c, k: f"Bearer {token(c, k, serviceurl=None)}", id="no-service-url"),
        pytest.param(
            lambda c, k: "Bearer " + jwt.encode({"iss": ISSUER, "aud": APP_ID}, "shared-secret-of-32-bytes-or-more!", algorithm="HS256"),
            id="hs256",
        ),
    ],
)
async def test_every_authentication_failure_is_401_and_nothing_happens(
    secured_bot: RunningBot, connector: FakeConnector, clock: FrozenClock, engine: AsyncEngine, make_header: Any
) -> None:
    status, body = await secured_bot.post_activity(
        channel_message(connector.url, "sev1 nobody can post"), authorization=make_header(connector, clock)
    )
    assert status == 401 and body == {"error": "unauthorized"}
    assert connector.calls == []
    assert await conversations_stored(engine) == 0


async def test_unreachable_metadata_is_401_not_500(database_url: str, connector: FakeConnector, clock: FrozenClock) -> None:
    settings = authenticated_settings(database_url, "http://127.0.0.1:9/v1/.well-known/openidconfiguration")
    async with running_bot(settings, clock, tokens=FixedToken(OUTBOUND)) as bot:
        status, _ = await bot.post_activity(channel_message(connector.url, "x"), authorization=f"Bearer {token(connector, clock)}")
    assert status == 401
    assert connector.calls == []


async def test_keys_are_cached_and_garbage_kids_do_not_hammer_the_metadata(
    secured_bot: RunningBot, connector: FakeConnector, clock: FrozenClock, openid: OpenIdServer
) -> None:
    for _ in range(3):
        await secured_bot.post_activity(channel_message(connector.url, "x"), authorization=f"Bearer {token(connector, clock)}")
    for n in range(5):
        await secured_bot.post_activity(
            channel_message(connector.url, "x"), authorization=f"Bearer {token(connector, clock, kid=f'made-up-{n}')}"
        )
    assert openid.requests == 1
    clock.advance(timedelta(hours=25))
    await secured_bot.post_activity(channel_message(connector.url, "x"), authorization=f"Bearer {token(connector, clock)}")
    assert openid.requests == 2  # refreshed once the cache was a day old


async def test_tokens_and_secrets_never_reach_the_log(
    secured_bot: RunningBot, connector: FakeConnector, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    good = token(connector, clock)
    bad = token(connector, clock, aud="someone-else")
    with caplog.at_level(logging.DEBUG):
        await secured_bot.post_activity(channel_message(connector.url, "x"), authorization=f"Bearer {good}")
        await secured_bot.post_activity(channel_message(connector.url, "x"), authorization=f"Bearer {bad}")
    text = caplog.text
    assert caplog.records  # something was logged, so the check below means something
    for secret in (good, bad, good.split(".")[2], OUTBOUND, "not-used-the-credential-is-injected"):
        assert secret not in text


def test_production_refuses_to_start_without_credentials_allow_list_chart_secret_and_public_url() -> None:
    with pytest.raises(
        ConfigurationError,
        match="MicrosoftAppId must be set; MicrosoftAppPassword must be set.*HYPERCARE_ALLOWED_TENANTS.*HYPERCARE_CHART_SECRET.*HYPERCARE_PUBLIC_URL",
    ):
        create_app(Settings(env="production", _env_file=None))
    complete = dict(
        env="production", microsoft_app_id=APP_ID, microsoft_app_password="s", allowed_tenants=TENANT,
        chart_secret="c" * 32, public_url="https://hypercare.contoso.example", metrics_token="m" * 32, _env_file=None,
    )
    for missing, named in [("allowed_tenants", "HYPERCARE_ALLOWED_TENANTS"), ("chart_secret", "HYPERCARE_CHART_SECRET"),
                           ("public_url", "HYPERCARE_PUBLIC_URL"), ("metrics_token", "HYPERCARE_METRICS_TOKEN")]:
        with pytest.raises(ConfigurationError, match=named):
            create_app(Settings(**complete | {missing: ""}))
    with pytest.raises(ConfigurationError, match="MicrosoftAppTenantId must be set with MicrosoftAppType=SingleTenant"):
        create_app(Settings(**complete | {"microsoft_app_type": "SingleTenant"}))
    assert create_app(Settings(**complete)) is not None


async def test_a_service_url_stored_in_local_mode_never_receives_the_token_later(
    database_url: str, openid: OpenIdServer, forged: FakeConnector, clock: FrozenClock, uow_factory: UnitOfWorkFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Local mode: whoever reaches the bot decides the serviceUrl it stores (and sends to, without a token).
    local = Settings(database_url=database_url, allowed_tenants=TENANT, scheduler_interval_seconds=0, _env_file=None)
    async with running_bot(local, clock) as bot:
        await WarRoom(bot, forged).raise_issue("sev1 - warehouse app down")
    assert forged.calls and all("Authorization" not in call.headers for call in forged.calls)
    before = len(forged.calls)
    # The same database with an app id: the sev1's escalation is due, addressed to the stored serviceUrl.
    settings = authenticated_settings(database_url, f"{openid.url}/v1/.well-known/openidconfiguration")
    async with running_bot(settings, clock, tokens=FixedToken(OUTBOUND)) as bot:
        with caplog.at_level(logging.DEBUG):
            report = await bot.app[SCHEDULER].tick(clock.now() + timedelta(minutes=15))
    assert forged.calls[before:] == [] and forged.failed_attempts == []
    # Failed after one attempt, not retried: `hypercare outbox --failed` lists it with the host named.
    assert (report.sent, report.failed) == (0, 1)
    [failed] = await admin.outbox(uow_factory(), status="failed")
    assert failed.attempts == 1 and "untrusted service URL '127.0.0.2'" in (failed.last_error or "")
    assert await admin.outbox(uow_factory(), status="pending") == []
    assert "untrusted service URL '127.0.0.2'" in caplog.text and OUTBOUND not in caplog.text


async def test_a_genuine_activity_from_an_untrusted_service_url_is_answered_without_the_token(
    secured_bot: RunningBot, forged: FakeConnector, clock: FrozenClock, uow_factory: UnitOfWorkFactory,
) -> None:
    # Signed, and its serviceurl claim matches the activity: still no token goes to a host off the list.
    status, _ = await secured_bot.post_activity(
        channel_message(forged.url, "sev2 payment journal fails"), authorization=f"Bearer {token(forged, clock)}"
    )
    assert status == 200
    report = await secured_bot.app[SCHEDULER].tick(clock.now())
    assert forged.calls == [] and forged.failed_attempts == []
    assert report.failed == 1
    [failed] = await admin.outbox(uow_factory(), status="failed")
    assert "untrusted" in (failed.last_error or "")


async def test_a_user_assigned_managed_identity_runs_in_production_without_a_password(
    database_url: str, openid: OpenIdServer, connector: FakeConnector, clock: FrozenClock, managed_identity: ManagedIdentityEndpoint
) -> None:
    settings = authenticated_settings(
        database_url, f"{openid.url}/v1/.well-known/openidconfiguration",
        env="production", chart_secret="c" * 32, public_url="https://hypercare.contoso.example", metrics_token="m" * 32,
        microsoft_app_type="UserAssignedMSI", microsoft_app_password="", microsoft_app_tenant_id=TENANT,
    )
    # No injected credential: the token comes from the managed identity, through MSAL.
    async with running_bot(settings, clock) as bot:
        status, _ = await bot.post_activity(
            channel_message(connector.url, "sev2 payment journal fails"), authorization=f"Bearer {token(connector, clock)}"
        )
    assert status == 200
    [reply] = connector.calls
    assert reply.headers["Authorization"] == f"Bearer {ManagedIdentityEndpoint.TOKEN}"
    # MSAL keeps the token for the process, so only the first run of this test asks for it.
    assert all(asked["client_id"] == APP_ID and asked["resource"] == ISSUER for asked in managed_identity.requests)
