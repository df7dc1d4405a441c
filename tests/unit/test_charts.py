"""The phase chart: a real PNG, the same bytes for the same figures, quick, and no figure left behind."""

from __future__ import annotations

import gc
import struct
import time
from datetime import UTC, date, datetime, timedelta

from matplotlib.figure import Figure

from bot.charts import render_phase_chart
from bot.domain.metrics import PhaseMetrics, compute_metrics
from bot.domain.model import HandledBy, Issue, Resolution, ResolutionType, Severity, Status
from bot.domain.war_room import WarRoomSettings
from tests.support.factories import OMAR, make_issue
from tests.unit.test_metrics import LINKED, NOW, SETTINGS, timeline

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(png: bytes) -> tuple[int, int]:
    assert png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def busy_phase(days: int = 30, issues_per_day: int = 14) -> PhaseMetrics:
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
    settings = WarRoomSettings(starts_on=date(2026, 11, 2), ends_on=date(2026, 12, 31))
    return compute_metrics(issues, settings=settings, now=start + timedelta(days=days - 0.5), runbook_linked_issue_ids=set())


def test_a_png_of_800_by_600() -> None:
    png = render_phase_chart(compute_metrics(timeline(), settings=SETTINGS, now=NOW, runbook_linked_issue_ids=LINKED))
    assert png.startswith(PNG_SIGNATURE)
    assert png_size(png) == (800, 600)
    assert 5_000 < len(png) < 300_000
    # No software name or timestamp in the file: nothing that differs between two renders.
    assert b"Software" not in png and b"tIME" not in png


def test_the_same_figures_give_the_same_bytes_and_other_figures_do_not() -> None:
    metrics = busy_phase()
    first = render_phase_chart(metrics)
    assert render_phase_chart(metrics) == first
    assert render_phase_chart(metrics.model_copy(update={"days": metrics.days[:-1]})) != first


def test_an_empty_phase_renders() -> None:
    empty = compute_metrics([], settings=WarRoomSettings(), now=NOW, runbook_linked_issue_ids=set())
    assert empty.days == ()
    png = render_phase_chart(empty)
    assert png.startswith(PNG_SIGNATURE) and png_size(png) == (800, 600)
    one_day = compute_metrics(timeline()[:1], settings=WarRoomSettings(), now=NOW, runbook_linked_issue_ids=set())
    assert len(one_day.days) >= 1 and render_phase_chart(one_day).startswith(PNG_SIGNATURE)


def test_fast_and_leaves_no_figure_behind() -> None:
    metrics = busy_phase()
    render_phase_chart(metrics)  # warm up: first use loads fonts
    gc.collect()
    before = sum(1 for obj in gc.get_objects() if isinstance(obj, Figure))
    timings = []
    for _ in range(3):
        started = time.process_time()  # CPU time: other processes on the machine do not count
        render_phase_chart(metrics)
        timings.append(time.process_time() - started)
    assert min(timings) < 0.5, timings
    gc.collect()
    assert sum(1 for obj in gc.get_objects() if isinstance(obj, Figure)) == before
