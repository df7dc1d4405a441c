"""A Teams client driving the bot over real HTTP: mention -> issue form (at the fake connector) -> Action.Execute
submit, each flow unique (its own thread, form id and title); clicks on the issue cards it got back."""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from tests.resilience.connector import RecordingConnector
from tests.support.activities import ADMIN, LENA, OMAR, USER, channel_message, execute_action
from tests.support.war_room import filled_in, find_execute

PROBLEMS = [
    "vendor invoices cannot be posted, posting profile missing",
    "sales order confirmation fails with a number sequence error",
    "warehouse wave cannot be released for the new site",
    "bank reconciliation import rejects the statement file",
    "purchase order approval workflow stuck in review",
    "fixed asset depreciation proposal shows zero",
]
REQUEST_TIMEOUT = 20.0


@dataclass
class Request:
    """One HTTP request the client made: what, where, when (monotonic), how long, and the answer."""

    kind: str
    url: str
    started: float
    latency: float
    status: int | None  # None: no HTTP answer (connection refused or cut, timeout)
    error: str = ""


@dataclass
class Flow:
    index: int
    title: str
    text: str
    severity: int
    mention_url: str
    submit_url: str
    mention: dict[str, Any] = field(default_factory=dict)
    mention_status: int | None = None
    form_id: str | None = None
    form_message_id: str | None = None
    submit: dict[str, Any] | None = None
    submit_status: int | None = None
    issue_id: int | None = None
    card: dict[str, Any] | None = None
    # new -> mentioned -> formed -> submitted -> done; or *_failed / no_form / rejected
    state: str = "new"
    problem: str = ""
    # What happened to each request of the flow, in order ("mention:200", "mention:ServerDisconnectedError", …).
    history: list[str] = field(default_factory=list)

    @property
    def conversation_id(self) -> str:
        return self.mention["conversation"]["id"]


class Client:
    def __init__(self, connector: RecordingConnector, *, run: str, form_timeout: float = 15.0) -> None:
        self.connector = connector
        self.run = run
        self.form_timeout = form_timeout
        self.flows: list[Flow] = []
        self.requests: list[Request] = []
        self._numbers = itertools.count(1)
        self.in_flight = 0
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Client:
        # A fresh connection per request: a killed server's pooled keep-alive sockets must not poison later requests.
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT), connector=aiohttp.TCPConnector(force_close=True, limit=100)
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._session is not None
        await self._session.close()

    async def post(self, kind: str, url: str, activity: dict[str, Any]) -> tuple[int | None, Any]:
        assert self._session is not None
        started = time.monotonic()
        self.in_flight += 1
        try:
            async with self._session.post(
                f"{url}/api/messages", data=json.dumps(activity), headers={"Content-Type": "application/json"}
            ) as response:
                body = await response.json() if response.content_type == "application/json" else await response.text()
                self.requests.append(Request(kind, url, started, time.monotonic() - started, response.status))
                return response.status, body
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            self.requests.append(Request(kind, url, started, time.monotonic() - started, None, type(error).__name__))
            return None, type(error).__name__
        finally:
            self.in_flight -= 1

    async def get(self, kind: str, url: str) -> tuple[int | None, Any]:
        assert self._session is not None
        started = time.monotonic()
        try:
            async with self._session.get(url) as response:
                body = await response.json() if response.content_type == "application/json" else await response.text()
                self.requests.append(Request(kind, url, started, time.monotonic() - started, response.status))
                return response.status, body
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            self.requests.append(Request(kind, url, started, time.monotonic() - started, None, type(error).__name__))
            return None, repr(error)

    # -- flows -------------------------------------------------------------------------------

    def new_flow(self, mention_url: str, submit_url: str | None = None, *, severity: int | None = None) -> Flow:
        number = next(self._numbers)
        severity = severity or random.choice([2, 3, 3, 4])
        problem = PROBLEMS[number % len(PROBLEMS)]
        flow = Flow(
            index=number,
            title=f"{self.run} flow {number:05d}: {problem}",
            text=f"sev{severity} - {problem} ({self.run} flow {number})",
            severity=severity,
            mention_url=mention_url,
            submit_url=submit_url or mention_url,
        )
        flow.mention = channel_message(self.connector.url, flow.text, sender=random.choice([USER, OMAR, LENA]))
        self.flows.append(flow)
        return flow

    async def mention(self, flow: Flow) -> bool:
        flow.mention_status, body = await self.post("mention", flow.mention_url, flow.mention)
        flow.history.append(f"mention:{flow.mention_status or body}")
        if flow.mention_status != 200:
            flow.state, flow.problem = "mention_failed", f"mention answered {flow.mention_status}"
            return False
        flow.state = "mentioned"
        return await self.find_form(flow)

    async def find_form(self, flow: Flow, *, timeout: float | None = None) -> bool:
        """The form the bot posted into the flow's thread (at once, or later through the outbox)."""
        deadline = time.monotonic() + (self.form_timeout if timeout is None else timeout)
        while True:
            for call in self.connector.in_conversation(flow.conversation_id):
                card = call.card
                if call.method == "POST" and card and _has_verb(card, "issue.create"):
                    flow.form_id = str(find_execute(card, "issue.create")["data"]["form_id"])
                    flow.form_message_id = call.sent_id
                    flow.state = "formed"
                    # The reporter keeps what the bot read and picks what it left to choose.
                    data = filled_in(card) | {"title": flow.title}
                    flow.submit = execute_action(
                        flow.mention, "issue.create", data, card_activity_id=flow.form_message_id or "", sender=flow.mention["from"]
                    )
                    return True
            if time.monotonic() > deadline:
                flow.state, flow.problem = "no_form", "no issue form reached the thread"
                return False
            await asyncio.sleep(0.05)

    async def submit(self, flow: Flow) -> bool:
        assert flow.submit is not None
        flow.state = "submitted"
        flow.submit_status, body = await self.post("submit", flow.submit_url, flow.submit)
        flow.history.append(f"submit:{flow.submit_status or body}")
        if flow.submit_status != 200:
            flow.state, flow.problem = "submit_failed", f"submit answered {flow.submit_status}"
            return False
        card = body.get("value") if isinstance(body, dict) else None
        if not card or not _has_verb(card, "issue.update"):
            flow.state, flow.problem = "rejected", f"submit answered without an issue card: {json.dumps(body)[:400]}"
            return False
        flow.card = card
        flow.issue_id = int(find_execute(card, "issue.update")["data"]["issue_id"])
        flow.state = "done"
        return True

    async def run_flow(self, flow: Flow) -> Flow:
        if await self.mention(flow):
            await self.submit(flow)
        return flow

    async def stream(
        self, urls: list[str], stop: asyncio.Event, *, concurrency: int, pause: float = 0.0, cross_submit: bool = False
    ) -> None:
        """Keep `concurrency` flows going until `stop` is set; each worker spreads its flows over `urls`."""

        async def worker(offset: int) -> None:
            turn = offset
            flow: Flow | None = None
            while not stop.is_set():
                if flow is not None and flow.state == "mention_failed" and flow.mention_status is None:
                    # No answer at all: Teams delivers the same activity again a little later.
                    await asyncio.sleep(0.5)
                    await self.run_flow(flow)
                    continue
                if flow is not None and flow.state == "submit_failed" and flow.submit_status is None:
                    await asyncio.sleep(0.5)
                    await self.submit(flow)
                    continue
                mention_url = urls[turn % len(urls)]
                submit_url = urls[(turn + 1) % len(urls)] if cross_submit else mention_url
                turn += 1
                flow = self.new_flow(mention_url, submit_url)
                await self.run_flow(flow)
                if flow.state != "done":
                    await asyncio.sleep(0.5)  # the server is down or struggling: do not spin
                elif pause:
                    await asyncio.sleep(pause)

        await asyncio.gather(*(worker(offset) for offset in range(concurrency)))

    # -- clicks -----------------------------------------------------------------------------

    async def click(self, flow: Flow, verb: str, inputs: dict[str, Any] | None = None, *, sender: dict[str, str] = ADMIN) -> int | None:
        """Press `verb` on the flow's latest card; None (nothing sent) when that card has no such button now."""
        assert flow.card is not None
        if not _has_verb(flow.card, verb):
            return None
        data = dict(find_execute(flow.card, verb)["data"]) | (inputs or {})
        activity = execute_action(flow.mention, verb, data, card_activity_id=flow.form_message_id or "", sender=sender)
        status, body = await self.post(f"click:{verb}", flow.submit_url, activity)
        if status == 200 and isinstance(body, dict) and isinstance(body.get("value"), dict) and _has_any_execute(body["value"]):
            flow.card = body["value"]
        return status


def _has_verb(card: dict[str, Any], verb: str) -> bool:
    try:
        find_execute(card, verb)
    except AssertionError:
        return False
    return True


def _has_any_execute(card: dict[str, Any]) -> bool:
    return _has_verb(card, "issue.update")


def summarise(requests: list[Request]) -> dict[str, Any]:
    """Counts by kind and status, and latency percentiles (ms)."""
    by_status: dict[str, int] = {}
    for request in requests:
        key = f"{request.kind}:{request.status if request.status is not None else request.error}"
        by_status[key] = by_status.get(key, 0) + 1
    latencies = sorted(request.latency for request in requests if request.status is not None)

    def pct(p: float) -> float:
        return round(1000 * latencies[min(len(latencies) - 1, int(p * len(latencies)))], 1) if latencies else 0.0

    return {"requests": len(requests), "by_status": dict(sorted(by_status.items())), "p50_ms": pct(0.5), "p95_ms": pct(0.95),
            "p99_ms": pct(0.99), "max_ms": round(1000 * latencies[-1], 1) if latencies else 0.0}
