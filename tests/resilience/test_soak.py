"""Scenario 5: a soak at moderate load against one `hypercare serve` process on SQLite.

An open-loop client sends about 20 requests a second for HYPERCARE_SOAK_SECONDS (default 300; CI runs the full
five minutes, developers may shorten it): new issue reports (mentions), submits of the forms they got, clicks on
the issue cards (Add update, Me too, Acknowledge, Take it), replies in issue threads and chat commands (list,
show #N, help). The bot's resident memory is sampled every second.

Checked: after a 30 s warm-up, RSS grows by less than 10% (the median of the last five samples against the
median around the end of the warm-up); every request is answered 200; no ERROR or traceback line in the bot's log.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import time
from collections import Counter
from pathlib import Path
from typing import Any

from tests.resilience.connector import RecordingConnector
from tests.resilience.traffic import Client, Flow, summarise
from tests.support.activities import ADMIN, LENA, NOBODY, OMAR, USER, channel_message
from tests.support.databases import fresh_database

SOAK_SECONDS = float(os.environ.get("HYPERCARE_SOAK_SECONDS", "300"))
RATE = 20.0  # requests per second
WARM_UP = min(30.0, SOAK_SECONDS / 3)
MAX_GROWTH = 0.10
MAX_IN_FLIGHT = 40


async def test_soak_memory_stays_flat_and_the_log_clean(
    tmp_path: Path, connector: RecordingConnector, bots: Bots, figures: dict[str, Any]
) -> None:
    async with asyncio.timeout(SOAK_SECONDS + 120), fresh_database("sqlite", tmp_path) as url:
        bot = bots("soak", url, scheduler_interval=1.0)
        await bot.start()
        samples: list[tuple[float, int]] = []
        async with Client(connector, run=f"soak-{os.getpid()}", form_timeout=10) as client:
            soak = Soak(client, bot.url)
            began = time.monotonic()
            sampler = asyncio.create_task(_sample_rss(bot, samples, began, stop_after=SOAK_SECONDS))
            await soak.run(SOAK_SECONDS)
            await sampler
        await bots.stop_all()

    elapsed = samples[-1][0] if samples else 0.0
    baseline = statistics.median(rss for at, rss in samples if WARM_UP - 5 <= at <= WARM_UP)
    final = statistics.median(rss for _, rss in samples[-5:])
    peak = max(rss for at, rss in samples if at >= WARM_UP)
    growth = (final - baseline) / baseline
    errors = bot.error_lines()
    statuses = Counter(request.status for request in client.requests)
    figures.update(
        soak_seconds=SOAK_SECONDS,
        warm_up_seconds=WARM_UP,
        rss_start_mb=round(samples[0][1] / 2**20, 1),
        rss_after_warm_up_mb=round(baseline / 2**20, 1),
        rss_final_mb=round(final / 2**20, 1),
        rss_peak_mb=round(peak / 2**20, 1),
        rss_growth_pct=round(100 * growth, 2),
        rss_by_minute_mb=_by_minute(samples),
        achieved_rate=round(len(client.requests) / max(elapsed, 1.0), 1),
        actions=dict(soak.actions),
        skipped_for_backpressure=soak.skipped,
        issues_raised=sum(1 for flow in client.flows if flow.state == "done"),
        requests=summarise(client.requests),
        error_lines=len(errors),
        first_error_lines=errors[:5],
    )

    assert soak.crashes == [], f"the client itself failed: {soak.crashes[:3]!r}"
    assert statuses == Counter({200: len(client.requests)}), f"not every request answered 200: {figures['requests']['by_status']}"
    assert errors == [], "ERROR or traceback lines in the bot's log"
    assert growth < MAX_GROWTH, (
        f"RSS grew {100 * growth:.1f}% after the warm-up ({baseline / 2**20:.1f} -> {final / 2**20:.1f} MB; "
        f"by minute: {figures['rss_by_minute_mb']})"
    )
    assert figures["achieved_rate"] >= 0.75 * RATE, "the soak did not reach its load (the bot or the machine could not keep up)"


class Soak:
    """An open-loop mix of what people do in a war room, at RATE requests a second."""

    def __init__(self, client: Client, url: str) -> None:
        self.client = client
        self.url = url
        self.forms: list[Flow] = []  # reported, form received, not submitted yet
        self.issues: list[Flow] = []  # raised: cards to click on
        self.actions: Counter[str] = Counter()
        self.skipped = 0
        self._gate = asyncio.Semaphore(MAX_IN_FLIGHT)
        self._tasks: set[asyncio.Task[None]] = set()
        self.crashes: list[BaseException] = []

    async def run(self, seconds: float) -> None:
        began = time.monotonic()
        sent = 0
        while (now := time.monotonic() - began) < seconds:
            due = int(now * RATE) + 1
            while sent < due:
                sent += 1
                if self._gate.locked():
                    self.skipped += 1  # the bot is behind: do not pile up requests
                    continue
                task = asyncio.create_task(self._one())
                self._tasks.add(task)
                task.add_done_callback(self._done)
            await asyncio.sleep(max(0.0, (sent / RATE) - (time.monotonic() - began)))
        await asyncio.gather(*self._tasks)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.crashes.append(task.exception())  # type: ignore[arg-type]

    async def _one(self) -> None:
        async with self._gate:
            roll = random.random()
            if self.forms and roll < 0.30:
                await self._submit()
            elif self.issues and roll < 0.65:
                await self._click()
            elif self.issues and roll < 0.75:
                await self._chat()
            else:
                await self._report()

    async def _report(self) -> None:
        self.actions["mention"] += 1
        flow = self.client.new_flow(self.url)
        if await self.client.mention(flow):
            self.forms.append(flow)

    async def _submit(self) -> None:
        self.actions["submit"] += 1
        flow = self.forms.pop(random.randrange(len(self.forms)))
        if await self.client.submit(flow):
            self.issues.append(flow)

    async def _click(self) -> None:
        flow = random.choice(self.issues[-200:])
        verb, inputs = random.choice([
            ("issue.update", {"update_text": f"checked again at {time.strftime('%H:%M:%S')}"}),
            ("issue.metoo", {}),
            ("issue.ack", {}),
            ("issue.take", {}),
        ])
        status = await self.client.click(flow, verb, inputs, sender=random.choice([USER, OMAR, LENA, ADMIN, NOBODY]))
        self.actions[f"click:{verb}" if status is not None else "click:button no longer on the card"] += 1

    async def _chat(self) -> None:
        flow = random.choice(self.issues)
        number = random.randint(1, len(self.issues))
        text, root = random.choice([
            ("list", None),
            ("list sev2", None),
            (f"show #{number}", None),
            ("help", None),
            (f"the workaround from yesterday no longer helps ({time.strftime('%H:%M:%S')})", flow.mention["id"]),
        ])
        self.actions[f"chat:{text.split()[0] if root is None else 'thread reply'}"] += 1
        await self.client.post("chat", self.url, channel_message(self.client.connector.url, text, root_id=root))


def _by_minute(samples: list[tuple[float, int]]) -> list[float]:
    """RSS (MB) at the start of each minute of the soak, and at its end."""
    marks, minute = [], 0
    for at, rss in samples:
        if at >= 60 * minute:
            marks.append(round(rss / 2**20, 1))
            minute += 1
    return marks + [round(samples[-1][1] / 2**20, 1)]


async def _sample_rss(bot: BotProcess, samples: list[tuple[float, int]], began: float, *, stop_after: float) -> None:
    while (at := time.monotonic() - began) <= stop_after:
        samples.append((at, bot.rss_bytes()))
        await asyncio.sleep(1.0)
