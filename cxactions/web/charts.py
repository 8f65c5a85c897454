"""Geometry for small server-rendered SVG charts: plain Python, no Flask, no JavaScript.

A template macro (``templates/_macros/charts.html``) draws what these functions compute, so the
markup stays in templates and the arithmetic stays testable.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

# A gap of more than this many days between two points breaks the line (weeks with no data).
MAX_GAP_DAYS = 7


@dataclass(frozen=True)
class Series:
    label: str
    points: Sequence[tuple[date, float]]
    css_class: str = "series"


@dataclass
class DrawnSeries:
    label: str
    css_class: str
    path: str
    last: tuple[float, float] | None
    dots: list[tuple[float, float]] = field(default_factory=list)


@dataclass
class LineChart:
    width: int
    height: int
    plot_left: float
    plot_right: float
    plot_top: float
    plot_bottom: float
    series: list[DrawnSeries]
    y_ticks: list[tuple[float, str]]
    x_ticks: list[tuple[float, str]]


def nice_ticks(low: float, high: float, count: int = 4) -> list[float]:
    """Round tick values covering ``low``..``high`` (1, 2 or 5 times a power of ten apart)."""
    if high <= low:
        high = low + 1.0
    raw = (high - low) / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    start = math.floor(low / step) * step
    ticks: list[float] = []
    value = start
    while value <= high + step * 1e-9:
        ticks.append(round(value, 10))
        value += step
    if ticks[-1] < high:
        ticks.append(round(value, 10))
    return ticks


def _tick_label(value: float, step: float) -> str:
    decimals = max(0, -math.floor(math.log10(step))) if step < 1 else 0
    return f"{value:.{decimals}f}"


def line_chart(
    series: Sequence[Series],
    *,
    width: int = 640,
    height: int = 200,
    margin: tuple[int, int, int, int] = (12, 16, 28, 40),  # top, right, bottom, left
) -> LineChart | None:
    """Scale dated series into an SVG box; ``None`` when there is nothing to draw."""
    every_point = [point for item in series for point in item.points]
    if not every_point:
        return None
    top, right, bottom, left = margin
    plot_left, plot_right = float(left), float(width - right)
    plot_top, plot_bottom = float(top), float(height - bottom)
    first_day = min(day for day, _ in every_point)
    last_day = max(day for day, _ in every_point)
    span_days = max((last_day - first_day).days, 1)
    values = [value for _, value in every_point]
    ticks = nice_ticks(min(values), max(values))
    low, high = ticks[0], ticks[-1]

    def x_of(day: date) -> float:
        if last_day == first_day:
            return (plot_left + plot_right) / 2
        return plot_left + (day - first_day).days / span_days * (plot_right - plot_left)

    def y_of(value: float) -> float:
        return plot_bottom - (value - low) / (high - low) * (plot_bottom - plot_top)

    drawn: list[DrawnSeries] = []
    for item in series:
        points = sorted(item.points)
        commands: list[str] = []
        dots: list[tuple[float, float]] = []
        previous: date | None = None
        for day, value in points:
            x, y = round(x_of(day), 1), round(y_of(value), 1)
            starts_segment = previous is None or (day - previous).days > MAX_GAP_DAYS
            commands.append(f"{'M' if starts_segment else 'L'}{x} {y}")
            dots.append((x, y))
            previous = day
        drawn.append(
            DrawnSeries(
                label=item.label,
                css_class=item.css_class,
                path=" ".join(commands),
                last=dots[-1] if dots else None,
                # Isolated points (a week alone between gaps) would be invisible as a path.
                dots=dots if len(dots) <= 1 else [],
            )
        )

    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
    y_ticks = [(round(y_of(value), 1), _tick_label(value, step)) for value in ticks]
    x_ticks = _month_ticks(first_day, last_day, x_of)
    return LineChart(
        width=width,
        height=height,
        plot_left=plot_left,
        plot_right=plot_right,
        plot_top=plot_top,
        plot_bottom=plot_bottom,
        series=drawn,
        y_ticks=y_ticks,
        x_ticks=x_ticks,
    )


def _month_ticks(first: date, last: date, x_of) -> list[tuple[float, str]]:
    """Labels on the first of a month, thinned out so that at most six show."""
    months: list[date] = []
    cursor = date(first.year, first.month, 1)
    while cursor <= last:
        if cursor >= first:
            months.append(cursor)
        cursor = date(cursor.year + cursor.month // 12, cursor.month % 12 + 1, 1)
    if not months:
        return [(round(x_of(first), 1), first.strftime("%d %b"))]
    stride = math.ceil(len(months) / 6)
    shown = months[::stride]
    return [
        (
            round(x_of(month), 1),
            month.strftime("%b %Y")
            if month.month == 1 or month == shown[0]
            else month.strftime("%b"),
        )
        for month in shown
    ]
