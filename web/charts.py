"""Column charts as server-side SVG geometry: no script, no outside host, mirrored for RTL."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

WIDTH = 640
HEIGHT = 260
TOP = 12
BOTTOM = 40  # room for the category labels
AXIS = 52  # room for the value labels, on the start side (left in LTR, right in RTL)
END = 8
GRID_LINES = 4


@dataclass(frozen=True)
class Series:
    """One set of values, one per category; ``css`` picks its colour class in app.css."""

    name: str
    values: Sequence[float | None]
    css: str


@dataclass(frozen=True)
class Bar:
    """One drawn column: its box, its class and its text (SVG <title>)."""

    x: float
    y: float
    width: float
    height: float
    css: str
    text: str


@dataclass(frozen=True)
class Label:
    """A text of the chart at a point."""

    x: float
    y: float
    text: str
    anchor: str = "middle"


@dataclass
class Chart:
    """Everything a template needs to draw one accessible column chart."""

    id: str
    title: str
    description: str
    width: int
    height: int
    bars: list[Bar] = field(default_factory=list)
    grid: list[Label] = field(default_factory=list)  # value labels; their y is a grid line
    categories: list[Label] = field(default_factory=list)
    series: list[Series] = field(default_factory=list)
    axis_x: float = 0.0
    plot_start: float = 0.0
    plot_end: float = 0.0
    baseline: float = 0.0


def nice_ceiling(value: float, whole: bool = True) -> float:
    """The top of the axis: GRID_LINES times a round step (1, 2, 2.5, 5 x 10^n) so that every grid
    line has a short label; with ``whole`` the step is at least 1 (counts and hours)."""
    raw = max(value, 0.0) / GRID_LINES
    if whole:
        raw = max(raw, 1.0)
    elif raw <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(raw))
    steps = (1, 2, 2.5, 5, 10) if magnitude >= 10 or not whole else (1, 2, 5, 10)
    step = next(s * magnitude for s in steps if raw <= s * magnitude + 1e-9)
    return step * GRID_LINES


def column_chart(
    chart_id: str,
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    rtl: bool,
    value_text: Callable[[float], str] = lambda v: f"{v:g}",
    top: float | None = None,
    describe: Callable[[str, str, str], str] | None = None,
) -> Chart:
    """Grouped columns, one group per category; in RTL the first category is on the right.

    ``value_text`` formats numbers for labels and text alternatives; ``describe(category,
    series, value)`` words one value for the description (default "category: series value").
    """
    values = [v for s in series for v in s.values if v is not None]
    ceiling = top if top is not None else nice_ceiling(max(values, default=0))
    plot_left, plot_right = float(AXIS), float(WIDTH - END)
    plot_top, plot_bottom = float(TOP), float(HEIGHT - BOTTOM)
    plot_width, plot_height = plot_right - plot_left, plot_bottom - plot_top

    def mirror(x: float, width: float = 0.0) -> float:
        return WIDTH - x - width if rtl else x

    chart = Chart(
        id=chart_id,
        title=title,
        description="",
        width=WIDTH,
        height=HEIGHT,
        series=list(series),
        axis_x=mirror(plot_left),
        plot_start=mirror(plot_left),
        plot_end=mirror(plot_right),
        baseline=plot_bottom,
    )
    for i in range(GRID_LINES + 1):
        value = ceiling * i / GRID_LINES
        y = plot_bottom - plot_height * i / GRID_LINES
        chart.grid.append(
            Label(mirror(plot_left - 6), y, value_text(value), "end" if not rtl else "start")
        )
    count = max(len(categories), 1)
    band = plot_width / count
    gap = band * 0.2
    bar_width = (band - gap) / max(len(series), 1)
    words = []
    for c, category in enumerate(categories):
        band_x = plot_left + band * c
        chart.categories.append(Label(mirror(band_x + band / 2), plot_bottom + 18, category))
        parts = []
        for s, one in enumerate(series):
            value = one.values[c] if c < len(one.values) else None
            if value is None:
                parts.append(describe_value(describe, category, one.name, "–"))
                continue
            height = plot_height * min(value, ceiling) / ceiling if ceiling else 0.0
            x = band_x + gap / 2 + bar_width * s
            text = describe_value(describe, category, one.name, value_text(value))
            chart.bars.append(
                Bar(
                    round(mirror(x, bar_width), 2),
                    round(plot_bottom - height, 2),
                    round(bar_width, 2),
                    round(height, 2),
                    one.css,
                    text,
                )
            )
            parts.append(text)
        words.append("; ".join(parts))
    chart.description = ". ".join(words)
    return chart


def describe_value(
    describe: Callable[[str, str, str], str] | None, category: str, series: str, value: str
) -> str:
    if describe is not None:
        return describe(category, series, value)
    return f"{category}: {series} {value}"
