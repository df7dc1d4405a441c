from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.config import Settings
from tests.support.activities import ADMIN, SECOND_TENANT, TENANT
from tests.support.clock import FrozenClock
from tests.support.connector import FakeConnector
from tests.support.identity import ManagedIdentityEndpoint, OpenIdServer
from tests.support.server import RunningBot, running_bot
from tests.support.war_room import WarRoom


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        allowed_tenants=f"{TENANT},{SECOND_TENANT}",
        admins=ADMIN["aadObjectId"],
        scheduler_interval_seconds=0,
        connector_retry_base_seconds=0.01,
        _env_file=None,
    )


@pytest.fixture
async def bot(settings: Settings, clock: FrozenClock) -> AsyncIterator[RunningBot]:
    async with running_bot(settings, clock) as running:
        yield running


@pytest.fixture
def room(bot: RunningBot, connector: FakeConnector) -> WarRoom:
    """The war-room channel, nobody holding a role yet (test modules that need roles override this)."""
    return WarRoom(bot, connector)


@pytest.fixture
async def managed_identity(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[ManagedIdentityEndpoint]:
    """The host's identity endpoint, found by MSAL through the variables App Service sets."""
    endpoint = ManagedIdentityEndpoint()
    await endpoint.start()
    monkeypatch.setenv("IDENTITY_ENDPOINT", endpoint.url)
    monkeypatch.setenv("IDENTITY_HEADER", ManagedIdentityEndpoint.HEADER)
    yield endpoint
    await endpoint.stop()


@pytest.fixture
async def openid() -> AsyncIterator[OpenIdServer]:
    server = OpenIdServer()
    await server.start()
    yield server
    await server.stop()
