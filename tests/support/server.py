"""The real application on a real port, and a client that posts Teams-shaped JSON to it."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from app import ADAPTER, create_app
from bot.domain.ports import Clock
from bot.config import Settings


@dataclass
class RunningBot:
    url: str
    client: aiohttp.ClientSession
    app: web.Application

    async def post_activity(
        self, activity: dict[str, Any], *, authorization: str | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json"} | (headers or {})
        if authorization is not None:
            headers["Authorization"] = authorization
        async with self.client.post(f"{self.url}/api/messages", data=json.dumps(activity), headers=headers) as response:
            body = await response.json() if response.content_type == "application/json" else await response.text()
            return response.status, body

    async def settle(self) -> None:
        """Wait for what the bot does after answering (card refreshes for everyone)."""
        await self.app[ADAPTER].drain()

    async def post_raw(self, data: bytes, content_type: str | None = "application/json") -> int:
        headers = {"Content-Type": content_type} if content_type else {}
        async with self.client.post(f"{self.url}/api/messages", data=io.BytesIO(data), headers=headers) as response:
            await response.read()
            return response.status


class FixedToken:
    """The bot's outbound credential in tests: always the same bearer token, unless told to fail."""

    def __init__(self, token: str) -> None:
        self.value = token
        self._failures = 0

    def fail_next(self, times: int = 1) -> None:
        """The next `times` token requests fail as MSAL's do when Azure AD refuses or cannot be reached."""
        self._failures += times

    async def token(self) -> str | None:
        if self._failures:
            self._failures -= 1
            raise PermissionError("Failed to get access token with error: temporarily_unavailable")
        return self.value


@asynccontextmanager
async def running_bot(settings: Settings, clock: Clock, tokens: FixedToken | None = None) -> AsyncIterator[RunningBot]:
    app = create_app(settings, clock=clock, tokens=tokens)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    # aiohttp skips the Content-Type header for raw bytes unless told, which the 415 test relies on.
    async with aiohttp.ClientSession(skip_auto_headers=["Content-Type"]) as client:
        try:
            yield RunningBot(url=f"http://127.0.0.1:{port}", client=client, app=app)
        finally:
            await runner.cleanup()
