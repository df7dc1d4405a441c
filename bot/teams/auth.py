"""Who may call us (inbound Bot Framework JWT) and how we prove who we are (outbound token).

The inbound check is ours, not botbuilder's: the SDK fetches OpenID metadata with blocking
`requests` calls and turns many token errors into 500s (docs/teams-platform.md). Here every failure is an
`Unauthorized` (answered 401), and keys are fetched with aiohttp and cached.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any, Protocol

import aiohttp
import jwt
from botbuilder.schema import Activity
from botframework.connector.auth import ManagedIdentityAppCredentials, MicrosoftAppCredentials

from bot.domain.ports import Clock

log = logging.getLogger(__name__)

BOT_FRAMEWORK_METADATA_URL = "https://login.botframework.com/v1/.well-known/openidconfiguration"
BOT_FRAMEWORK_ISSUER = "https://api.botframework.com"


class Unauthorized(Exception):
    """Any failure to authenticate an inbound request: always answered 401. The message never holds the token."""


class Authenticator(Protocol):
    async def authenticate(self, activity: Activity, auth_header: str | None) -> None: ...


class LocalModeAuthenticator:
    """No app id configured: accept unauthenticated traffic, as the Emulator and Agents Playground send."""

    async def authenticate(self, activity: Activity, auth_header: str | None) -> None:
        return None


class OpenIdKeys:
    """The signing keys published through an OpenID metadata document, cached.

    Refreshed when older than `max_age`, and when a token names a key we do not know (keys rotate),
    but not more often than `min_refresh`, so garbage tokens cannot make us hammer the endpoint.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        metadata_url: str,
        *,
        clock: Clock,
        max_age: timedelta = timedelta(hours=24),
        min_refresh: timedelta = timedelta(minutes=5),
    ) -> None:
        self._session = session
        self._metadata_url = metadata_url
        self._clock = clock
        self._max_age = max_age
        self._min_refresh = min_refresh
        self._keys: dict[str, dict[str, Any]] = {}
        self._fetched_at: datetime | None = None
        self._lock = asyncio.Lock()

    async def key(self, kid: str) -> dict[str, Any] | None:
        now = self._clock.now()
        stale = self._fetched_at is None or now - self._fetched_at > self._max_age
        may_refresh = self._fetched_at is None or now - self._fetched_at > self._min_refresh
        if stale or (kid not in self._keys and may_refresh):
            await self._refresh(now)
        return self._keys.get(kid)

    async def load(self) -> int:
        """Fetch the metadata and keys now (`hypercare doctor`): how many keys there are. Raises as `key` would."""
        await self._refresh(self._clock.now())
        return len(self._keys)

    async def _refresh(self, now: datetime) -> None:
        async with self._lock:
            if self._fetched_at is not None and now - self._fetched_at < self._min_refresh and self._keys:
                return  # another request refreshed while we waited
            metadata = await self._get_json(self._metadata_url)
            jwks_uri = metadata.get("jwks_uri")
            if not isinstance(jwks_uri, str):
                raise ValueError("OpenID metadata has no jwks_uri")
            keys = (await self._get_json(jwks_uri)).get("keys")
            if not isinstance(keys, list):
                raise ValueError("JWKS document has no keys")
            self._keys = {key["kid"]: key for key in keys if isinstance(key, dict) and isinstance(key.get("kid"), str)}
            self._fetched_at = now

    async def _get_json(self, url: str) -> dict[str, Any]:
        async with self._session.get(url, timeout=aiohttp.ClientTimeout(total=5)) as response:
            response.raise_for_status()
            body = await response.json(content_type=None)
        if not isinstance(body, dict):
            raise ValueError(f"{url} did not answer a JSON object")
        return body


class BotFrameworkAuthenticator:
    """Verifies the Bot Connector's bearer token: signature, issuer, audience, lifetime, endorsements, service URL."""

    def __init__(
        self,
        *,
        app_id: str,
        keys: OpenIdKeys,
        clock: Clock,
        issuers: frozenset[str] = frozenset({BOT_FRAMEWORK_ISSUER}),
        leeway: timedelta = timedelta(minutes=5),
    ) -> None:
        self._app_id = app_id
        self._keys = keys
        self._clock = clock
        self._issuers = issuers
        self._leeway = leeway

    async def authenticate(self, activity: Activity, auth_header: str | None) -> None:
        scheme, _, token = (auth_header or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("no bearer token")
        token = token.strip()
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise Unauthorized("malformed token") from error
        if header.get("alg") != "RS256" or not isinstance(header.get("kid"), str):
            raise Unauthorized("not an RS256 token with a key id")
        try:
            key = await self._keys.key(header["kid"])
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError, KeyError) as error:
            log.warning("OpenID metadata unavailable: %s", type(error).__name__)
            raise Unauthorized("signing keys unavailable") from error
        if key is None:
            raise Unauthorized("unknown signing key")
        endorsements = key.get("endorsements")
        if isinstance(endorsements, list) and activity.channel_id not in endorsements:
            raise Unauthorized("signing key not endorsed for this channel")
        claims = self._verified_claims(token, key)
        if claims.get("serviceurl") != activity.service_url:
            raise Unauthorized("token was issued for another service URL")

    def _verified_claims(self, token: str, key: dict[str, Any]) -> dict[str, Any]:
        try:
            claims = jwt.decode(
                token,
                jwt.PyJWK.from_dict(key).key,
                algorithms=["RS256"],
                audience=self._app_id,
                issuer=sorted(self._issuers),
                # Lifetime is checked below against our clock, not the library's.
                options={"require": ["exp", "iss", "aud"], "verify_exp": False, "verify_nbf": False, "verify_iat": False},
            )
        except (jwt.PyJWTError, ValueError, TypeError) as error:
            raise Unauthorized(type(error).__name__) from error
        now = self._clock.now().timestamp()
        leeway = self._leeway.total_seconds()
        if not isinstance(claims.get("exp"), (int, float)) or claims["exp"] + leeway < now:
            raise Unauthorized("token expired")
        if isinstance(claims.get("nbf"), (int, float)) and claims["nbf"] - leeway > now:
            raise Unauthorized("token not valid yet")
        return claims


class AppCredentialsTokenProvider:
    """The bot's outbound token from MSAL, fetched off the event loop (MSAL blocks) and cached by it.

    With `managed_identity` (MicrosoftAppType=UserAssignedMSI) the app id is the identity's client id and there is
    no password: the token comes from the identity endpoint of the Azure host the bot runs on.
    """

    def __init__(self, app_id: str, app_password: str, tenant_id: str | None, *, managed_identity: bool = False) -> None:
        self._credentials = (
            ManagedIdentityAppCredentials(app_id)
            if managed_identity
            else MicrosoftAppCredentials(app_id, app_password, channel_auth_tenant=tenant_id or None)
        )

    async def token(self) -> str | None:
        return await asyncio.get_running_loop().run_in_executor(None, self._credentials.get_access_token)
