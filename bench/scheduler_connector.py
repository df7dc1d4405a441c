"""A fake Bot Connector that ENFORCES Teams' documented send limits, for `bench.scheduler_scale`.

It is `tests.support.connector.FakeConnector` (same handlers, same answers) behind a limiter that keeps,
per channel (threads of a channel count together) 7 sends per 1 s, 8 per 2 s and 60 per 30 s, and per tenant
50 per 1 s, measured on arrival with the real clock. A send over any limit is answered `429` with
`Retry-After` (whole seconds, as Teams sends it) and is not counted as sent.

Service URLs look like Teams' current ones, `http://127.0.0.1:PORT/emea/{tenant id}/`, so the tenant is
known from the URL for every call (channel posts also carry it in the body).

Runs in its own process so that its work never shows up in the scheduler's event loop:

    python -m bench.scheduler_connector [--port 0]     # prints "PORT <n>", serves until stdin closes

`GET /_bench/stats` answers what was accepted (time, tenant, channel, kind) and every 429;
`POST /_bench/reset` forgets the statistics (not the limit windows: Teams does not forget either).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import time
from collections import deque
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from tests.support.connector import FakeConnector

# (count, per seconds): the Bot Framework limits for one bot, as README "The scheduler and the outbox" states.
CONVERSATION_LIMITS = ((7, 1.0), (8, 2.0), (60, 30.0))
TENANT_LIMITS = ((50, 1.0),)


@dataclass
class Window:
    limits: tuple[tuple[int, float], ...]

    def __post_init__(self) -> None:
        self._sent: dict[str, deque[float]] = {}
        self._horizon = max(per for _, per in self.limits)

    def wait(self, key: str, now: float) -> float:
        """Seconds until one more send to `key` keeps every limit (0: now)."""
        sent = self._sent.get(key)
        if not sent:
            return 0.0
        while sent and sent[0] <= now - self._horizon:
            sent.popleft()
        longest = 0.0
        for count, per in self.limits:
            recent = [moment for moment in sent if moment > now - per]
            if len(recent) >= count:
                longest = max(longest, recent[-count] + per - now)
        return longest

    def record(self, key: str, now: float) -> None:
        self._sent.setdefault(key, deque()).append(now)


class RateLimitedConnector(FakeConnector):
    def __init__(self, *, enforce: bool = True) -> None:
        super().__init__()
        self.enforce = enforce
        self._conversations = Window(CONVERSATION_LIMITS)
        self._tenants = Window(TENANT_LIMITS)
        self.accepted: list[tuple[float, str, str, str]] = []  # (unix time, tenant, channel, kind)
        self.throttled: list[tuple[float, str, str, str, float]] = []  # (unix time, tenant, channel, which limit, retry after)

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        app = web.Application(client_max_size=4 * 1024 * 1024)
        prefix = "/{region}/{tenant}/v3/conversations"
        app.router.add_route("*", prefix + "/{conversation}/activities", self._limited_activity)
        app.router.add_route("*", prefix + "/{conversation}/activities/{activity}", self._limited_activity)
        app.router.add_post(prefix, self._limited_channel_post)
        app.router.add_get("/_bench/stats", self._stats)
        app.router.add_post("/_bench/reset", self._reset)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://{host}:{bound}/"

    def _throttle(self, tenant: str, channel: str) -> web.Response | None:
        now = time.time()
        conversation_wait = self._conversations.wait(channel, now)
        tenant_wait = self._tenants.wait(tenant, now)
        wait = max(conversation_wait, tenant_wait)
        if self.enforce and wait > 0:
            which = "tenant" if tenant_wait >= conversation_wait else "conversation"
            retry_after = max(1, math.ceil(wait))
            self.throttled.append((now, tenant, channel, which, wait))
            return web.json_response(
                {"error": {"code": "Throttled", "message": f"{which} send limit"}}, status=429,
                headers={"Retry-After": str(retry_after)},
            )
        self._conversations.record(channel, now)
        self._tenants.record(tenant, now)
        return None

    async def _limited_activity(self, request: web.Request) -> web.Response:
        if request.method == "POST":
            channel = unquote(request.match_info["conversation"]).split(";", 1)[0]
            tenant = request.match_info["tenant"]
            throttled = self._throttle(tenant, channel)
            if throttled is not None:
                return throttled
            self.accepted.append((time.time(), tenant, channel, "message"))
        response = await self._handle(request)
        self._forget_bodies()
        return response

    async def _limited_channel_post(self, request: web.Request) -> web.Response:
        body = await request.json()
        channel = body["channelData"]["channel"]["id"]
        tenant = request.match_info["tenant"]
        throttled = self._throttle(tenant, channel)
        if throttled is not None:
            return throttled
        self.accepted.append((time.time(), tenant, channel, "channel_post"))
        response = await self._new_conversation(request)
        self._forget_bodies()
        return response

    def _forget_bodies(self) -> None:
        # The base class keeps every call with its card; a benchmark sends thousands: keep counts only.
        if len(self.calls) > 100:
            del self.calls[:-100]

    async def _stats(self, request: web.Request) -> web.Response:
        return web.json_response({"accepted": self.accepted, "throttled": self.throttled})

    async def _reset(self, request: web.Request) -> web.Response:
        self.accepted, self.throttled = [], []
        return web.json_response({"ok": True})


def rate_report(accepted: list[list[Any]], throttled: list[list[Any]]) -> dict[str, Any]:
    """Per tenant: sends, first to last, average rate, the most in any 1 s window; and the 429s."""
    by_tenant: dict[str, list[float]] = {}
    by_channel: dict[str, list[float]] = {}
    for at, tenant, channel, _kind in accepted:
        by_tenant.setdefault(tenant, []).append(at)
        by_channel.setdefault(channel, []).append(at)
    tenants = {}
    for tenant, moments in by_tenant.items():
        moments.sort()
        span = moments[-1] - moments[0]
        tenants[tenant] = {
            "sent": len(moments),
            "seconds": round(span, 3),
            "rate_per_s": round((len(moments) - 1) / span, 1) if span > 0 else None,
            "max_in_1s": _max_in_window(moments, 1.0),
        }
    everything = sorted(at for at, *_ in accepted)
    span = everything[-1] - everything[0] if len(everything) > 1 else 0.0
    return {
        "sent": len(everything),
        "seconds": round(span, 3),
        "rate_per_s": round((len(everything) - 1) / span, 1) if span > 0 else None,
        "throttled_429": len(throttled),
        "throttled_by": {which: sum(1 for t in throttled if t[3] == which) for which in ("tenant", "conversation")},
        "max_per_channel_in_1s": max((_max_in_window(sorted(m), 1.0) for m in by_channel.values()), default=0),
        "max_per_channel_in_2s": max((_max_in_window(sorted(m), 2.0) for m in by_channel.values()), default=0),
        "max_per_channel_in_30s": max((_max_in_window(sorted(m), 30.0) for m in by_channel.values()), default=0),
        "tenants": tenants,
    }


def _max_in_window(moments: list[float], seconds: float) -> int:
    best, start = 0, 0
    for end, moment in enumerate(moments):
        while moments[start] <= moment - seconds:
            start += 1
        best = max(best, end - start + 1)
    return best


async def _serve(host: str, port: int) -> None:
    connector = RateLimitedConnector()
    await connector.start(host, port)
    print(f"PORT {connector.url.rsplit(':', 1)[1].rstrip('/')}", flush=True)
    loop = asyncio.get_running_loop()
    # Serve until the parent closes our stdin (or dies): never outlive the benchmark.
    await loop.run_in_executor(None, sys.stdin.read)
    await connector.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    asyncio.run(_serve(args.host, args.port))


if __name__ == "__main__":
    main()
