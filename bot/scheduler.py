"""Background work. `tick(now)` does one pass; the loop around it only ticks and sleeps."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.services import UnitOfWork, purge_processed_activities

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(self, *, uow_factory: Callable[[], UnitOfWork], dedupe_retention: timedelta) -> None:
        self._uow_factory = uow_factory
        self._dedupe_retention = dedupe_retention

    async def tick(self, now: datetime) -> None:
        # Re-deliveries come within minutes; ids older than the retention window only take space.
        purged = await purge_processed_activities(uow=self._uow_factory(), older_than=now - self._dedupe_retention)
        if purged:
            log.info("forgot %d processed activity ids older than %s", purged, self._dedupe_retention)


async def run_scheduler(scheduler: Scheduler, clock: Clock, interval_seconds: float) -> None:
    while True:
        try:
            await scheduler.tick(clock.now())
        except Exception:  # one failed pass must not stop the loop; the next tick retries
            log.exception("scheduler tick failed")
        await asyncio.sleep(interval_seconds)
