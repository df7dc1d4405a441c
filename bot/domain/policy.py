"""Severity policy: how soon an issue of each severity must be resolved."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from bot.domain.model import Severity


class SeverityPolicy(BaseModel):
    """Resolution targets per severity; `None` means deferred to after hypercare (no target)."""

    model_config = ConfigDict(frozen=True)

    resolve_within: dict[Severity, timedelta | None] = {
        Severity.SEV1: timedelta(hours=4),
        Severity.SEV2: timedelta(days=2),
        Severity.SEV3: timedelta(days=10),
        Severity.SEV4: None,
    }

    def resolve_by(self, severity: Severity, *, raised_at: datetime) -> datetime | None:
        within = self.resolve_within[severity]
        return raised_at + within if within is not None else None


DEFAULT_POLICY = SeverityPolicy()
