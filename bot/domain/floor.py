"""Floor walkers: partner consultants and customer champions on the floor with the business teams.

Each covers business areas (the parser's `Area`s), maybe at one site, on some weekdays (the war room's working days
when none are given, read in its time zone). A new how-to, access or training question in an area with a floor
walker on duty today calls them: they are @mentioned and may take it.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.domain.calendar import WEEKDAYS, WorkingCalendar
from bot.domain.model import AREA_LABELS, Area, Category, Issue, Person

# Questions a floor walker answers at the desk; defects and the like stay with the support team and the partner.
FLOOR_CATEGORIES = frozenset({Category.HOW_TO, Category.ACCESS, Category.TRAINING})
SITE_MAX = 100
# One card lists them all, and a busy go-live has a few dozen.
FLOOR_WALKERS_MAX = 100

# Words people use for several areas at once, and short names of single areas.
AREA_GROUPS: dict[str, tuple[Area, ...]] = {
    "finance": (Area.GENERAL_LEDGER, Area.ACCOUNTS_PAYABLE, Area.ACCOUNTS_RECEIVABLE, Area.CASH_BANK, Area.FIXED_ASSETS, Area.TAX),
    "supply_chain": (Area.PROCUREMENT, Area.SALES, Area.INVENTORY, Area.WAREHOUSE, Area.PRODUCTION),
    "gl": (Area.GENERAL_LEDGER,),
    "ap": (Area.ACCOUNTS_PAYABLE,),
    "ar": (Area.ACCOUNTS_RECEIVABLE,),
    "hr": (Area.HR_PAYROLL,),
    "payroll": (Area.HR_PAYROLL,),
}


class FloorWalker(BaseModel):
    model_config = ConfigDict(frozen=True)

    person: Person
    areas: tuple[Area, ...] = Field(min_length=1)
    # Weekdays, Monday 0; None: every working day of the war room.
    days: frozenset[int] | None = None
    site: str | None = Field(default=None, max_length=SITE_MAX)

    @field_validator("areas")
    @classmethod
    def _in_order(cls, areas: tuple[Area, ...]) -> tuple[Area, ...]:
        return tuple(area for area in Area if area in areas)

    @field_validator("days")
    @classmethod
    def _weekdays(cls, days: frozenset[int] | None) -> frozenset[int] | None:
        if days is not None and (not days or not days <= frozenset(range(7))):
            raise ValueError("days are weekdays, Monday 0 to Sunday 6, at least one")
        return days

    def on_floor(self, day: date, calendar: WorkingCalendar) -> bool:
        return calendar.is_working_day(day) if self.days is None else day.weekday() in self.days

    def days_text(self) -> str:
        if self.days is None:
            return "working days"
        return ", ".join(WEEKDAYS[day].capitalize() for day in sorted(self.days))


class FloorView(BaseModel):
    """What `floor` shows: everyone who walks the floor, and who is on it today."""

    model_config = ConfigDict(frozen=True)

    walkers: tuple[FloorWalker, ...]
    today: tuple[FloorWalker, ...]
    calendar: WorkingCalendar
    now: datetime


def on_duty(walkers: list[FloorWalker], *, calendar: WorkingCalendar, now: datetime) -> list[FloorWalker]:
    """Who is on the floor today (the war room's local date), in the order given."""
    today = calendar.local_date(now)
    return [walker for walker in walkers if walker.on_floor(today, calendar)]


def by_area(walkers: list[FloorWalker]) -> list[tuple[Area, list[FloorWalker]]]:
    """Each covered area (in `Area` order) and who covers it, by name."""
    return [
        (area, sorted((w for w in walkers if area in w.areas), key=lambda w: w.person.name.casefold()))
        for area in Area
        if any(area in walker.areas for walker in walkers)
    ]


def to_call(issue: Issue, walkers: list[FloorWalker], *, calendar: WorkingCalendar, now: datetime) -> tuple[Person, ...]:
    """The floor walkers a new issue calls: a how-to, access or training question in an area one of them covers
    today. Its reporter is not called to their own question."""
    if issue.category not in FLOOR_CATEGORIES or issue.area is None:
        return ()
    return tuple(
        walker.person
        for walker in sorted(on_duty(walkers, calendar=calendar, now=now), key=lambda w: w.person.name.casefold())
        if issue.area in walker.areas and walker.person.key != issue.reporter.key
    )


def _key(word: str) -> str:
    return re.sub(r"[\s\-/]+", "_", word.strip().casefold()).replace("_and_", "_").strip("_")


_AREA_WORDS: dict[str, tuple[Area, ...]] = {
    **{_key(area.value): (area,) for area in Area},
    **{_key(label): (area,) for area, label in AREA_LABELS.items()},
    **AREA_GROUPS,
}


def parse_areas(text: str) -> tuple[Area, ...] | str:
    """`finance, warehouse` → the areas; or what is wrong, naming the words that are known."""
    words = [word for word in text.split(",") if word.strip()]
    if not words:
        return "Name at least one area."
    areas: set[Area] = set()
    for word in words:
        found = _AREA_WORDS.get(_key(word))
        if found is None:
            known = ", ".join([area.value for area in Area] + sorted(AREA_GROUPS))
            return f"I don't know the area “{word.strip()[:40]}”. Areas: {known} (separated by commas)."
        areas.update(found)
    return tuple(area for area in Area if area in areas)


def parse_days(text: str) -> frozenset[int] | str:
    """`mon,tue`, `mon-fri` or `mon tue thu` → weekdays; or what is wrong."""
    days: set[int] = set()
    for part in re.split(r"[\s,]+", text.strip().casefold()):
        if not part:
            continue
        first, _, last = part.partition("-")
        try:
            start = WEEKDAYS.index(first[:3]) if len(first) >= 3 else -1
            end = WEEKDAYS.index(last[:3]) if last else start
        except ValueError:
            start = end = -1
        if start < 0 or end < 0:
            return f"I don't know the day “{part[:20]}”. Write days as mon,tue,wed or mon-fri."
        days.update(range(start, end + 1) if start <= end else [*range(start, 7), *range(0, end + 1)])
    return frozenset(days) if days else "Name at least one day, e.g. `days mon,tue`."
