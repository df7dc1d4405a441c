"""The wall clock, for production; everything else is given a `Clock` (bot/domain/ports.py)."""

from __future__ import annotations

from datetime import UTC, datetime


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)
