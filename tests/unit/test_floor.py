"""Floor walkers: who is on the floor today, whom a new issue calls, and how `floor add` reads areas and days."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from bot.domain.calendar import WorkingCalendar
from bot.domain.floor import FloorWalker, by_area, on_duty, parse_areas, parse_days, to_call
from bot.domain.model import Area, Category, Person
from tests.support.factories import PRIYA, make_issue

ANA = Person(aad_object_id="aad-ana", name="Ana Ruiz")
BEN = Person(aad_object_id="aad-ben", name="Ben Okoro")
CHLOE = Person(aad_object_id="aad-chloe", name="Chloé Martin")

# Monday 23 November 2026, 09:05 in London.
MONDAY = datetime(2026, 11, 23, 9, 5, tzinfo=UTC)
LONDON = WorkingCalendar()
# Sydney is already on Tuesday when London starts its Monday evening.
SYDNEY = WorkingCalendar(time_zone="Australia/Sydney")

ANA_FINANCE = FloorWalker(person=ANA, areas=(Area.ACCOUNTS_PAYABLE, Area.GENERAL_LEDGER), days=frozenset({0, 2}), site="Rotterdam")
BEN_WAREHOUSE = FloorWalker(person=BEN, areas=(Area.WAREHOUSE,))  # working days
CHLOE_AP_TUESDAY = FloorWalker(person=CHLOE, areas=(Area.ACCOUNTS_PAYABLE,), days=frozenset({1}))
EVERYONE = [ANA_FINANCE, BEN_WAREHOUSE, CHLOE_AP_TUESDAY]


def test_areas_are_kept_in_the_parsers_order_and_days_text_reads_as_weekdays() -> None:
    assert ANA_FINANCE.areas == (Area.GENERAL_LEDGER, Area.ACCOUNTS_PAYABLE)
    assert ANA_FINANCE.days_text() == "Mon, Wed"
    assert BEN_WAREHOUSE.days_text() == "working days"


def test_a_floor_walker_covers_at_least_one_area_on_at_least_one_day() -> None:
    with pytest.raises(ValidationError):
        FloorWalker(person=ANA, areas=())
    with pytest.raises(ValidationError):
        FloorWalker(person=ANA, areas=(Area.TAX,), days=frozenset())
    with pytest.raises(ValidationError):
        FloorWalker(person=ANA, areas=(Area.TAX,), days=frozenset({7}))


def test_on_duty_today_in_the_war_rooms_time_zone() -> None:
    assert [w.person for w in on_duty(EVERYONE, calendar=LONDON, now=MONDAY)] == [ANA, BEN]
    # 21:00 UTC on Monday is Tuesday 08:00 in Sydney: Chloé's day, and a working day for Ben.
    evening = datetime(2026, 11, 23, 21, 0, tzinfo=UTC)
    assert [w.person for w in on_duty(EVERYONE, calendar=SYDNEY, now=evening)] == [BEN, CHLOE]
    saturday = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    assert on_duty(EVERYONE, calendar=LONDON, now=saturday) == []


def test_by_area_lists_each_covered_area_with_its_walkers_by_name() -> None:
    grouped = by_area(EVERYONE)

    assert [(area, [w.person.name for w in walkers]) for area, walkers in grouped] == [
        (Area.GENERAL_LEDGER, ["Ana Ruiz"]),
        (Area.ACCOUNTS_PAYABLE, ["Ana Ruiz", "Chloé Martin"]),
        (Area.WAREHOUSE, ["Ben Okoro"]),
    ]


@pytest.mark.parametrize("category", [Category.HOW_TO, Category.ACCESS, Category.TRAINING], ids=lambda c: c.value)
def test_a_question_in_a_covered_area_calls_the_floor_walker_on_duty(category: Category) -> None:
    issue = make_issue(category=category, area=Area.ACCOUNTS_PAYABLE)

    # Chloé covers AP too, but on Tuesdays.
    assert to_call(issue, EVERYONE, calendar=LONDON, now=MONDAY) == (ANA,)


@pytest.mark.parametrize(
    "category", [Category.DEFECT, Category.CONFIGURATION, Category.DATA, Category.PERFORMANCE, None], ids=str
)
def test_other_kinds_of_issue_call_nobody(category: Category | None) -> None:
    assert to_call(make_issue(category=category, area=Area.ACCOUNTS_PAYABLE), EVERYONE, calendar=LONDON, now=MONDAY) == ()


def test_no_area_or_an_uncovered_one_calls_nobody() -> None:
    assert to_call(make_issue(category=Category.HOW_TO, area=None), EVERYONE, calendar=LONDON, now=MONDAY) == ()
    assert to_call(make_issue(category=Category.HOW_TO, area=Area.TAX), EVERYONE, calendar=LONDON, now=MONDAY) == ()


def test_several_on_duty_are_called_by_name_but_never_the_reporter() -> None:
    walkers = [FloorWalker(person=PRIYA, areas=(Area.WAREHOUSE,)), BEN_WAREHOUSE, FloorWalker(person=ANA, areas=(Area.WAREHOUSE,))]
    issue = make_issue(category=Category.HOW_TO, area=Area.WAREHOUSE, reporter=PRIYA)

    assert to_call(issue, walkers, calendar=LONDON, now=MONDAY) == (ANA, BEN)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("warehouse", (Area.WAREHOUSE,)),
        ("accounts_payable, Warehouse", (Area.ACCOUNTS_PAYABLE, Area.WAREHOUSE)),
        ("accounts payable,cash and bank", (Area.ACCOUNTS_PAYABLE, Area.CASH_BANK)),
        ("HR and payroll", (Area.HR_PAYROLL,)),
        ("Platform / login", (Area.PLATFORM,)),
        ("AP,ar", (Area.ACCOUNTS_PAYABLE, Area.ACCOUNTS_RECEIVABLE)),
        (
            "finance,warehouse",
            (Area.GENERAL_LEDGER, Area.ACCOUNTS_PAYABLE, Area.ACCOUNTS_RECEIVABLE, Area.CASH_BANK, Area.FIXED_ASSETS, Area.TAX,
             Area.WAREHOUSE),
        ),
        ("finance, tax", (Area.GENERAL_LEDGER, Area.ACCOUNTS_PAYABLE, Area.ACCOUNTS_RECEIVABLE, Area.CASH_BANK, Area.FIXED_ASSETS, Area.TAX)),
    ],
)
def test_parse_areas(text: str, expected: tuple[Area, ...]) -> None:
    assert parse_areas(text) == expected


def test_parse_areas_names_the_unknown_word_and_the_known_ones() -> None:
    problem = parse_areas("finance, canteen")

    assert isinstance(problem, str)
    assert problem.startswith("I don't know the area “canteen”. Areas: general_ledger, accounts_payable")
    assert "finance" in problem and "supply_chain" in problem
    assert parse_areas(" , ") == "Name at least one area."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mon,tue", {0, 1}),
        ("Monday, Wednesday friday", {0, 2, 4}),
        ("mon-fri", {0, 1, 2, 3, 4}),
        ("fri-mon", {4, 5, 6, 0}),
        ("sat", {5}),
    ],
)
def test_parse_days(text: str, expected: set[int]) -> None:
    assert parse_days(text) == frozenset(expected)


@pytest.mark.parametrize("text", ["someday", "mo", "mon-xyz", ""])
def test_parse_days_refuses_what_is_not_a_weekday(text: str) -> None:
    assert isinstance(parse_days(text), str)
