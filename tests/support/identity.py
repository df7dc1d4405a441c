"""Microsoft's identity endpoints, offline: the Bot Framework's OpenID metadata and key set, tokens minted here, and
the managed identity endpoint of an Azure host. All on 127.0.0.1."""

from __future__ import annotations

import json
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.config import Settings
from tests.support.activities import TENANT
from tests.support.clock import FrozenClock
from tests.support.connector import FakeConnector

APP_ID = "6f2f1c3e-0d7b-4b8e-9a4e-3f5b2c1d0e9a"
ISSUER = "https://api.botframework.com"

SIGNING_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ROGUE_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _jwk(private_key: rsa.RSAPrivateKey, kid: str, endorsements: list[str]) -> dict[str, Any]:
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private_key.public_key()))
    return public | {"kid": kid, "use": "sig", "endorsements": endorsements}


class OpenIdServer:
    """What login.botframework.com serves: metadata pointing at a key set."""

    def __init__(self) -> None:
        self.keys = [_jwk(SIGNING_KEY, "key-1", ["msteams", "webchat"]), _jwk(SIGNING_KEY, "key-only-webchat", ["webchat"])]
        self.requests = 0
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/v1/.well-known/openidconfiguration", self._metadata)
        app.router.add_get("/v1/keys", self._keys)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    async def _metadata(self, request: web.Request) -> web.Response:
        self.requests += 1
        return web.json_response({"issuer": ISSUER, "jwks_uri": f"{self.url}/v1/keys"})

    async def _keys(self, request: web.Request) -> web.Response:
        return web.json_response({"keys": self.keys})


class ManagedIdentityEndpoint:
    """What Azure App Service serves at IDENTITY_ENDPOINT: tokens of the managed identities assigned to the host."""

    HEADER = "identity-header-from-the-host"
    TOKEN = "token-of-the-user-assigned-managed-identity"

    def __init__(self, assigned: frozenset[str] = frozenset({APP_ID})) -> None:
        """`assigned`: the client ids of the identities this host has; any other is refused, as Azure refuses it."""
        self.assigned = assigned
        self.requests: list[dict[str, str]] = []
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/msi/token", self._token)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/msi/token"  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    async def _token(self, request: web.Request) -> web.Response:
        if request.headers.get("X-IDENTITY-HEADER") != self.HEADER:
            return web.json_response({"statusCode": 400, "message": "no identity header"}, status=400)
        self.requests.append(dict(request.query))
        if request.query.get("client_id") not in self.assigned:
            return web.json_response({"statusCode": 400, "message": "Unable to load the proper Managed Identity."}, status=400)
        # expires_on far ahead (2100-01-01), so nothing here depends on the wall clock.
        return web.json_response(
            {"access_token": self.TOKEN, "expires_on": "4102444800", "resource": request.query["resource"], "token_type": "Bearer"}
        )


def token(connector: FakeConnector, clock: FrozenClock, *, key: rsa.RSAPrivateKey = SIGNING_KEY, kid: str = "key-1", **claims: Any) -> str:
    now = int(clock.now().timestamp())
    body = {"iss": ISSUER, "aud": APP_ID, "exp": now + 3600, "nbf": now - 60, "serviceurl": connector.url} | claims
    return jwt.encode({k: v for k, v in body.items() if v is not None}, key, algorithm="RS256", headers={"kid": kid})


def authenticated_settings(database_url: str, metadata_url: str, **changes: Any) -> Settings:
    values: dict[str, Any] = dict(
        database_url=database_url,
        allowed_tenants=TENANT,
        scheduler_interval_seconds=0,
        connector_retry_base_seconds=0.01,
        openid_metadata_url=metadata_url,
        microsoft_app_id=APP_ID,
        microsoft_app_password="not-used-the-credential-is-injected",
        # The fake Bot Connector is plain http on loopback, which only an explicit loopback entry allows.
        trusted_service_hosts="127.0.0.1",
    )
    return Settings(**values | changes, _env_file=None)
