"""The phase chart on the stand-up, `status` and celebration cards: a PNG drawn by matplotlib's Agg renderer.

No pyplot: the figure is a plain `matplotlib.figure.Figure` on its own Agg canvas, so nothing is
registered globally (no backend switch, no figure manager to leak; the figure goes with its last
reference), and rcParams are never changed. Only the DejaVu fonts that ship with matplotlib are used.
Same series in, same bytes out: fixed size and dpi, no "Software" or date metadata in the PNG (a card's
link shows the same picture for as long as it lives, bot/domain/charts.py).
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from bot.domain.charts import ChartSeries
from bot.domain.model import Severity

if TYPE_CHECKING:
    from matplotlib.axes import Axes

WIDTH_INCHES, HEIGHT_INCHES, DPI = 8.0, 6.0, 100  # 800 × 600 pixels
SEVERITY_COLOURS = {
    Severity.SEV1: "#d13438",  # red
    Severity.SEV2: "#f7630c",  # orange
    Severity.SEV3: "#f2c811",  # amber
    Severity.SEV4: "#8a8886",  # grey
}
INCOMING_COLOUR = "#0f6cbd"
RESOLVED_COLOUR = "#107c10"
MAX_TICK_LABELS = 10
FONT = "DejaVu Sans"
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")  # not strftime: no locale


def _ticks(series: ChartSeries) -> tuple[list[int], list[str]]:
    days = series.days
    step = max(1, -(-len(days) // MAX_TICK_LABELS))
    positions = list(range(0, len(days), step))
    return positions, [f"{days[i].day} {MONTHS[days[i].month - 1]}" for i in positions]


def _bars(axes: Axes, lefts: list[float], width: float, bottoms: list[int], heights: list[int], colour: str, label: str) -> None:
    """Bars as one PolyCollection: far cheaper to build and draw than `Axes.bar`'s patch per bar."""
    from matplotlib.collections import PolyCollection

    boxes = [
        [(x, b), (x + width, b), (x + width, b + h), (x, b + h)]
        for x, b, h in zip(lefts, bottoms, heights, strict=True)
        if h
    ]
    axes.add_collection(PolyCollection(boxes, facecolors=colour, edgecolors="none", label=label), autolim=False)


def render_phase_chart(series: ChartSeries) -> bytes:
    """Two panels: open issues by severity at the end of each day, and issues raised vs resolved each day."""
    # Imported on first use: matplotlib takes most of a second to import, which no other command should pay.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH_INCHES, HEIGHT_INCHES), dpi=DPI)
    FigureCanvasAgg(figure)
    # A fixed layout: constrained/tight layout would double the rendering time.
    figure.subplots_adjust(left=0.08, right=0.98, top=0.93, bottom=0.07, hspace=0.32)
    backlog, volume = figure.subplots(2, 1, sharex=True)
    days = series.days
    positions = [float(index) for index in range(len(days))]

    bottoms = [0] * len(days)
    for position, severity in enumerate(Severity):
        heights = [day[position] for day in series.open_by_severity]
        _bars(backlog, [p - 0.4 for p in positions], 0.8, bottoms, heights, SEVERITY_COLOURS[severity], severity.label)
        bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
    backlog.set_title("Open issues by severity (end of each day)", fontsize=12, fontfamily=FONT, loc="left")
    backlog.set_ylabel("open", fontfamily=FONT)

    zeros = [0] * len(days)
    _bars(volume, [p - 0.4 for p in positions], 0.4, zeros, list(series.raised), INCOMING_COLOUR, "Raised")
    _bars(volume, positions, 0.4, zeros, list(series.resolved), RESOLVED_COLOUR, "Resolved")
    volume.set_title("Issues raised vs resolved per day", fontsize=12, fontfamily=FONT, loc="left")
    volume.set_ylabel("issues", fontfamily=FONT)

    tops = (
        (backlog, max((sum(day) for day in series.open_by_severity), default=0), 4),
        (volume, max((*series.raised, *series.resolved), default=0), 2),
    )
    for axes, top, columns in tops:
        axes.spines[["top", "right"]].set_visible(False)
        axes.yaxis.get_major_locator().set_params(integer=True)
        axes.tick_params(labelfontfamily=FONT, labelsize=9)
        axes.grid(axis="y", color="#e1dfdd", linewidth=0.8)
        axes.set_axisbelow(True)
        # Headroom for the legend above the tallest bar; a fixed range when there is nothing to draw.
        axes.set_ylim(0, max(4, top * 1.3))
        if days:
            axes.legend(loc="upper left", ncols=columns, frameon=False, prop={"family": FONT, "size": 9})
        else:
            axes.text(0.5, 0.5, "No data yet", transform=axes.transAxes, ha="center", va="center",
                      color="#605e5c", fontfamily=FONT, fontsize=11)
    if days:
        ticks, labels = _ticks(series)
        volume.set_xticks(ticks, labels)
        volume.set_xlim(-0.6, len(days) - 0.4)
    else:
        volume.set_xticks([])
        volume.set_xlim(0, 1)

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    figure.clear()
    return buffer.getvalue()
