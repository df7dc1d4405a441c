"""What a phase chart shows, and how long a card's chart may be seen.

A card's chart is the picture of the phase *as of that card*: the figures are kept (`ChartSeries`, a few
bytes a day) when the card is made, and the PNG is drawn from them whenever the link is opened. Drawing is
deterministic (bot/charts.py), so the same link shows the same picture, on any replica, after any restart,
while issues change underneath. Keeping the figures rather than the PNG costs ~20 bytes a day of phase
instead of ~40 KB a picture, and no drawing when a card is made (see README, "Charts that last").
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from pydantic import BaseModel, ConfigDict, model_validator

from bot.domain.metrics import MAX_PHASE_DAYS, DayFigures
from bot.domain.model import Severity

# A card's chart stays viewable while its war room lives (until sign-off) and this long after.
CHART_KEPT_AFTER_PHASE = timedelta(days=90)


class ChartSeries(BaseModel):
    """Per local day of the phase, from `first_day`: open issues by severity at the end of the day, raised, resolved."""

    model_config = ConfigDict(frozen=True)

    first_day: date | None
    open_by_severity: tuple[tuple[int, int, int, int], ...] = ()  # Sev 1 to 4
    raised: tuple[int, ...] = ()
    resolved: tuple[int, ...] = ()

    @model_validator(mode="after")
    def _one_value_a_day(self) -> ChartSeries:
        lengths = {len(self.open_by_severity), len(self.raised), len(self.resolved)}
        if len(lengths) != 1 or max(lengths) > MAX_PHASE_DAYS or (self.first_day is None and max(lengths)):
            raise ValueError("a chart series has one value a day of each kind, from its first day, for at most a year")
        return self

    @classmethod
    def of(cls, days: Sequence[DayFigures]) -> ChartSeries:
        return cls(
            first_day=days[0].day if days else None,
            open_by_severity=tuple(tuple(d.open_by_severity[s] for s in Severity) for d in days),  # type: ignore[misc]
            raised=tuple(d.incoming for d in days),
            resolved=tuple(d.resolved for d in days),
        )

    @property
    def days(self) -> tuple[date, ...]:
        if self.first_day is None:
            return ()
        return tuple(self.first_day + timedelta(days=offset) for offset in range(len(self.raised)))


def chart_viewable(*, signed_off_at: datetime | None, now: datetime) -> bool:
    """Whether a card's chart may still be seen: the war room's life ends at sign-off (a withdrawal revives it)."""
    return signed_off_at is None or now <= signed_off_at + CHART_KEPT_AFTER_PHASE
