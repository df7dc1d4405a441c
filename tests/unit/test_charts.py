"""The phase chart: a real PNG, the same bytes for the same figures (also once stored and read back), quick, no figure
left behind; and how long a card's chart may be seen."""

from __future__ import annotations

import gc
import struct
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError

from matplotlib.figure import Figure

from bot.charts import render_phase_chart
from bot.domain.charts import CHART_KEPT_AFTER_PHASE, ChartSeries, chart_viewable
from bot.domain.metrics import compute_metrics, day_figures
from bot.domain.model import HandledBy, Issue, Resolution, ResolutionType, Severity, Status
from bot.domain.war_room import WarRoomSettings
from tests.support.factories import OMAR, make_issue
from tests.unit.test_metrics import LINKED, NOW, SETTINGS, timeline

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(png: bytes) -> tuple[int, int]:
    assert png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def busy_phase(days: int = 30, issues_per_day: int = 14) -> ChartSeries:
    start = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    issues: list[Issue] = []
    for n in range(days * issues_per_day):
        raised = start + timedelta(hours=24 * n / issues_per_day)
        done = n % 3 != 0
        issues.append(
            make_issue(
                id=n + 1, number=n + 1, severity=Severity(n % 4 + 1), created_at=raised, updated_at=raised,
                status=Status.RESOLVED if done else Status.NEW,
                resolution=Resolution(
                    type=ResolutionType.FIXED, notes="x", handled_by=HandledBy.SUPPORT if n % 2 else HandledBy.PARTNER,
                    resolved_by=OMAR, resolved_at=raised + timedelta(hours=n % 50),
                ) if done else None,
            )
        )
    settings = WarRoomSettings(starts_on=date(2026, 11, 2), ends_on=date(2026, 11, 2) + timedelta(days=days + 30))
    return ChartSeries.of(day_figures(issues, settings, start + timedelta(days=days - 0.5)))


def test_a_png_of_800_by_600() -> None:
    png = render_phase_chart(ChartSeries.of(compute_metrics(timeline(), settings=SETTINGS, now=NOW, runbook_linked_issue_ids=LINKED).days))
    assert png.startswith(PNG_SIGNATURE)
    assert png_size(png) == (800, 600)
    assert 5_000 < len(png) < 300_000
    # No software name or timestamp in the file: nothing that differs between two renders.
    assert b"Software" not in png and b"tIME" not in png


def test_the_same_figures_give_the_same_bytes_and_other_figures_do_not() -> None:
    series = busy_phase()
    first = render_phase_chart(series)
    assert render_phase_chart(series) == first
    # As storage keeps it (JSON) and reads it back: the same picture.
    assert render_phase_chart(ChartSeries.model_validate_json(series.model_dump_json())) == first
    assert render_phase_chart(series.model_copy(update={"raised": series.raised[:-1] + (99,)})) != first


def test_an_empty_phase_renders() -> None:
    empty = ChartSeries.of(day_figures([], WarRoomSettings(), NOW))
    assert empty.days == ()
    png = render_phase_chart(empty)
    assert png.startswith(PNG_SIGNATURE) and png_size(png) == (800, 600)
    one_day = ChartSeries.of(day_figures(timeline()[:1], WarRoomSettings(), NOW))
    assert len(one_day.days) >= 1 and render_phase_chart(one_day).startswith(PNG_SIGNATURE)


def test_fast_and_leaves_no_figure_behind() -> None:
    series = busy_phase()
    render_phase_chart(series)  # warm up: first use loads fonts
    gc.collect()
    before = sum(1 for obj in gc.get_objects() if isinstance(obj, Figure))
    timings = []
    for _ in range(3):
        started = time.process_time()  # CPU time: other processes on the machine do not count
        render_phase_chart(series)
        timings.append(time.process_time() - started)
    assert min(timings) < 0.5, timings
    gc.collect()
    assert sum(1 for obj in gc.get_objects() if isinstance(obj, Figure)) == before


def test_a_series_is_small_and_checked() -> None:
    series = busy_phase(days=90)
    assert len(series.days) == 90 and series.days[0] == date(2026, 11, 2)
    assert len(series.model_dump_json()) < 3_000  # what a card's chart costs in the database, for a 90-day phase
    with pytest.raises(ValidationError):
        ChartSeries(first_day=date(2026, 11, 2), open_by_severity=((0, 0, 0, 0),), raised=(1, 2), resolved=(1,))
    with pytest.raises(ValidationError):
        ChartSeries(first_day=None, open_by_severity=((0, 0, 0, 0),), raised=(1,), resolved=(1,))


def test_a_chart_is_viewable_while_the_war_room_lives_and_90_days_after_sign_off() -> None:
    signed_off_at = datetime(2026, 12, 9, 15, 0, tzinfo=UTC)
    assert chart_viewable(signed_off_at=None, now=signed_off_at + timedelta(days=3650))
    assert chart_viewable(signed_off_at=signed_off_at, now=signed_off_at + CHART_KEPT_AFTER_PHASE)
    assert not chart_viewable(signed_off_at=signed_off_at, now=signed_off_at + CHART_KEPT_AFTER_PHASE + timedelta(seconds=1))
    assert CHART_KEPT_AFTER_PHASE == timedelta(days=90)
