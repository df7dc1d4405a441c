"""Who may call us (inbound JWT) and how we prove who we are (outbound token)."""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from botbuilder.schema import Activity
from botframework.connector.auth import (
    JwtTokenValidation,
    MicrosoftAppCredentials,
    SimpleCredentialProvider,
)

log = logging.getLogger(__name__)


class Unauthorized(Exception):
    """Any failure to authenticate an inbound request: always answered 401."""


class Authenticator(Protocol):
    async def authenticate(self, activity: Activity, auth_header: str | None) -> None: ...


class LocalModeAuthenticator:
    """No app id configured: accept unauthenticated traffic, as the Emulator and Agents Playground send."""

    async def authenticate(self, activity: Activity, auth_header: str | None) -> None:
        return None


class BotFrameworkAuthenticator:
    def __init__(self, app_id: str, app_password: str) -> None:
        self._credentials = SimpleCredentialProvider(app_id, app_password)

    async def authenticate(self, activity: Activity, auth_header: str | None) -> None:
        if not auth_header:
            raise Unauthorized("no Authorization header")
        try:
            await JwtTokenValidation.authenticate_request(activity, auth_header, self._credentials)
        except Exception as error:  # the SDK raises many kinds (TypeError, KeyError, jwt errors …): all are 401
            raise Unauthorized(type(error).__name__) from error


class AppCredentialsTokenProvider:
    """The bot's outbound token from MSAL, fetched off the event loop (MSAL blocks) and cached by it."""

    def __init__(self, app_id: str, app_password: str, tenant_id: str | None) -> None:
        self._credentials = MicrosoftAppCredentials(app_id, app_password, channel_auth_tenant=tenant_id or None)

    async def token(self) -> str | None:
        return await asyncio.get_running_loop().run_in_executor(None, self._credentials.get_access_token)
