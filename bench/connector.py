"""The benchmarks' fake Bot Connector: `tests/support/connector.py`'s FakeConnector (same routes, same answers)
in its own process, so that its work is never the measured server's.

It keeps counts instead of calls (a run makes hundreds of thousands) and counts every accepted TCP connection
(each goes through our protocol factory once), so "new connections per reply" is exact. With `--limits` it
enforces Teams' documented send limits for one bot, measured on arrival with the real clock: per channel
(threads of a channel count together) 7 sends per 1 s, 8 per 2 s and 60 per 30 s; per tenant 50 per 1 s. A
send over a limit is answered `429` with `Retry-After` (whole seconds, as Teams sends it) and is not counted
as sent. The tenant is read from the service URL (`http://127.0.0.1:PORT/emea/{tenant id}/`, as in Teams).

    python -m bench.connector [--limits]     # prints "PORTS <data> <control>", serves until its stdin closes

The control port serves the same application without counting its connections:
`GET /_bench/stats` -> {"connections", "requests", "by_method", "throttled"}; with `--limits`,
`GET /_bench/sends` -> every accepted send (unix time, tenant, channel, kind) and every 429 (unix time, tenant,
channel, which limit, seconds too early); `POST /_bench/reset` forgets the sends, not the limit windows
(Teams does not forget either).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import signal
import subprocess
import sys
import time
from collections import Counter, deque
from pathlib import Path
from typing import Any

from aiohttp import web

from bench.databases import clean_env
from bench.measure import get_json
from tests.support.connector import FakeConnector, RecordedCall

ROOT = Path(__file__).resolve().parent.parent

# (count, per seconds): the Bot Framework limits for one bot, as README "The scheduler and the outbox" states.
CONVERSATION_LIMITS = ((7, 1.0), (8, 2.0), (60, 30.0))
TENANT_LIMITS = ((50, 1.0),)


class Window:
    """Sends per key within each (count, per seconds) limit."""

    def __init__(self, limits: tuple[tuple[int, float], ...]) -> None:
        self.limits = limits
        self.sent: dict[str, deque[float]] = {}
        self.horizon = max(per for _, per in limits)

    def wait(self, key: str, now: float) -> float:
        """Seconds until one more send to `key` keeps every limit (0: now)."""
        sent = self.sent.get(key)
        if not sent:
            return 0.0
        while sent and sent[0] <= now - self.horizon:
            sent.popleft()
        longest = 0.0
        for count, per in self.limits:
            recent = [moment for moment in sent if moment > now - per]
            if len(recent) >= count:
                longest = max(longest, recent[-count] + per - now)
        return longest

    def record(self, key: str, now: float) -> None:
        self.sent.setdefault(key, deque()).append(now)


class CountedCalls(list[RecordedCall]):
    """`FakeConnector.calls` for a benchmark: counted by method, none kept."""

    def __init__(self) -> None:
        super().__init__()
        self.by_method: Counter[str] = Counter()

    def append(self, call: RecordedCall) -> None:  # type: ignore[override]
        self.by_method[call.method] += 1


class BenchConnector(FakeConnector):
    def __init__(self, *, limits: bool) -> None:
        super().__init__()
        self.calls = CountedCalls()
        self.limits = limits
        self.connections = 0
        self._channels = Window(CONVERSATION_LIMITS)
        self._tenants = Window(TENANT_LIMITS)
        self.accepted: list[tuple[float, str, str, str]] = []
        self.throttled: list[tuple[float, str, str, str, float]] = []

    async def _scripted(self, call: RecordedCall) -> web.Response | None:
        if self.limits and call.method == "POST":
            throttled = self._throttle(call)
            if throttled is not None:
                return throttled
        return await super()._scripted(call)

    def _throttle(self, call: RecordedCall) -> web.Response | None:
        """A 429 for a send over a limit; otherwise the send is recorded as accepted."""
        root, _, rest = call.path.partition("/v3/conversations")
        tenant = root.rsplit("/", 1)[-1]
        channel = (call.conversation_id or "").split(";", 1)[0]
        now = time.time()
        channel_wait, tenant_wait = self._channels.wait(channel, now), self._tenants.wait(tenant, now)
        if max(channel_wait, tenant_wait) > 0:
            which = "tenant" if tenant_wait >= channel_wait else "conversation"
            self.throttled.append((now, tenant, channel, which, max(channel_wait, tenant_wait)))
            return web.json_response(
                {"error": {"code": "Throttled", "message": f"{which} send limit"}}, status=429,
                headers={"Retry-After": str(max(1, math.ceil(max(channel_wait, tenant_wait))))},
            )
        self._channels.record(channel, now)
        self._tenants.record(tenant, now)
        self.accepted.append((now, tenant, channel, "message" if rest else "channel_post"))
        return None

    def application(self) -> web.Application:
        app = super().application()
        app.router.add_get("/_bench/stats", self._stats)
        app.router.add_get("/_bench/sends", self._sends)
        app.router.add_post("/_bench/reset", self._reset)
        return app

    async def _stats(self, request: web.Request) -> web.Response:
        by_method = dict(self.calls.by_method)
        return web.json_response({
            "connections": self.connections, "requests": sum(by_method.values()), "by_method": by_method,
            "throttled": len(self.throttled),
        })

    async def _sends(self, request: web.Request) -> web.Response:
        return web.json_response({"accepted": self.accepted, "throttled": self.throttled})

    async def _reset(self, request: web.Request) -> web.Response:
        self.accepted, self.throttled = [], []
        return web.json_response({"ok": True})


async def serve(limits: bool) -> None:
    connector = BenchConnector(limits=limits)
    runner = web.AppRunner(connector.application(), access_log=None)
    await runner.setup()
    handler_factory = runner.server
    assert handler_factory is not None

    def counted() -> asyncio.Protocol:
        connector.connections += 1
        return handler_factory()

    loop = asyncio.get_running_loop()
    data = await loop.create_server(counted, "127.0.0.1", 0, backlog=1024)
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    print(f"PORTS {data.sockets[0].getsockname()[1]} {runner.addresses[0][1]}", flush=True)
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    # Serve until the parent closes our stdin (or dies, which closes it): never outlive the benchmark.
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    closed = asyncio.ensure_future(stdin.read())
    closed.add_done_callback(lambda _: stop.set())
    await stop.wait()
    closed.cancel()
    data.close()
    await connector.stop()
    await runner.cleanup()


class ConnectorProcess:
    """`python -m bench.connector` started by a benchmark; stopped by closing its stdin (then by its pid)."""

    def __init__(self, *, limits: bool = False) -> None:
        command = [sys.executable, "-m", "bench.connector", *(["--limits"] if limits else [])]
        self.process = subprocess.Popen(
            command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=clean_env(PYTHONPATH=str(ROOT)),
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline().decode()
        if not line.startswith("PORTS "):
            self.close()
            raise RuntimeError(f"the fake connector did not start (exit status {self.process.returncode}): {line!r}")
        data, control = line.split()[1:]
        self.url = f"http://127.0.0.1:{data}/"
        self.control_url = f"http://127.0.0.1:{control}/_bench/"

    @property
    def pid(self) -> int:
        return self.process.pid

    def stats(self) -> dict[str, Any]:
        return get_json(self.control_url + "stats")

    def close(self) -> None:
        if self.process.poll() is not None:
            return
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()  # only the process this benchmark started, by its handle
            self.process.wait(timeout=5)


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


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--limits", action="store_true", help="enforce Teams' send limits and keep every send")
    asyncio.run(serve(parser.parse_args().limits))


if __name__ == "__main__":
    main()
