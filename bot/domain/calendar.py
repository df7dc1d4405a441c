"""Working time of a war room: which days and hours count, in its own time zone.

All arithmetic takes and returns aware UTC; local wall-clock time is used only to find where each
working day starts and ends, so daylight-saving changes fall where they really do.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class WorkingCalendar(BaseModel):
    model_config = ConfigDict(frozen=True)

    time_zone: str = "Europe/London"
    working_days: frozenset[int] = frozenset({0, 1, 2, 3, 4})  # Monday = 0
    day_start: time = time(8, 0)
    day_end: time = time(18, 0)

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError) as error:  # "Europe" is a folder of zones: OSError
            raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Europe/London)") from error
        return value

    @field_validator("working_days")
    @classmethod
    def _weekdays(cls, value: frozenset[int]) -> frozenset[int]:
        if not value or not all(0 <= day <= 6 for day in value):
            raise ValueError("working days must be a non-empty set of weekdays 0 (Monday) to 6 (Sunday)")
        return value

    @model_validator(mode="after")
    def _hours_in_order(self) -> WorkingCalendar:
        if self.day_start >= self.day_end:
            raise ValueError("the working day must start before it ends")
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def working_day_length(self) -> timedelta:
        return datetime.combine(date(2000, 1, 3), self.day_end) - datetime.combine(date(2000, 1, 3), self.day_start)

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def is_working_day(self, day: date) -> bool:
        return day.weekday() in self.working_days

    def at_local(self, day: date, clock: time) -> datetime:
        """The UTC instant of a local wall-clock time on a local date."""
        return datetime.combine(day, clock, tzinfo=self.zone).astimezone(UTC)

    def _window(self, day: date) -> tuple[datetime, datetime]:
        return _window(self.time_zone, self.day_start, self.day_end, day)

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The instant `duration` of working time after `start`."""
        remaining = duration
        day = self.local_date(start)
        # Enough calendar days to hold `duration` of working time twice over, plus a year of slack for
        # windows that a daylight-saving change shortens (each iteration is cheap).
        span = 2 * int(duration / self.working_day_length * 7 / len(self.working_days)) + 400
        for _ in range(span):
            if self.is_working_day(day):
                opens, closes = self._window(day)
                begin = max(start, opens)
                if begin < closes:
                    available = closes - begin
                    if remaining <= available:
                        return begin + remaining
                    remaining -= available
            day += timedelta(days=1)
        raise AssertionError("unreachable: a validated calendar has working time every week")

    def between(self, start: datetime, end: datetime) -> timedelta:
        """How much working time lies between two instants (zero if `end` is not after `start`)."""
        total = timedelta()
        if end <= start:
            return total
        day = self.local_date(start)
        last = self.local_date(end)
        while day <= last:
            if self.is_working_day(day):
                opens, closes = self._window(day)
                overlap = min(closes, end) - max(opens, start)
                if overlap > timedelta():
                    total += overlap
            day += timedelta(days=1)
        return total

    def next_working_day(self, day: date) -> date:
        for offset in range(1, 8):
            candidate = day + timedelta(days=offset)
            if self.is_working_day(candidate):
                return candidate
        raise AssertionError("unreachable: working_days is non-empty")


@functools.lru_cache(maxsize=4096)
def _window(time_zone: str, day_start: time, day_end: time, day: date) -> tuple[datetime, datetime]:
    """A local working day's opening and closing instants: the same few weeks are met for every issue a scheduler tick
    plans (this time-zone arithmetic was most of planning a reminder), and the answer never changes."""
    zone = ZoneInfo(time_zone)
    return (datetime.combine(day, day_start, tzinfo=zone).astimezone(UTC), datetime.combine(day, day_end, tzinfo=zone).astimezone(UTC))
