"""Geometry for small server-rendered SVG charts: plain Python, no Flask, no JavaScript.

A template macro (``templates/_macros/charts.html``) draws what these functions compute, so the
markup stays in templates and the arithmetic stays testable. Tick labels (numbers, months) are
written the reader's way through the translation seam: 7.5 / 7,5, Dec 2024 / déc. 2024.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from babel.numbers import format_scientific

from cxactions.foundations.translation import format_day, format_score, format_signed, locale

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


# The largest magnitude drawn: values beyond it (or infinite ones already in a database) are
# kept at the edge of the axis rather than breaking the arithmetic of the ticks.
AXIS_LIMIT = 1e306
MAX_TICKS = 12


def _is_finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def _finite(values) -> list[float]:
    """The finite values among ``values`` (None, NaN and infinities dropped)."""
    return [float(value) for value in values if _is_finite(value)]


def _axis_bound(value: float, fallback: float) -> float:
    if value is None or math.isnan(value):
        return fallback
    return min(max(value, -AXIS_LIMIT), AXIS_LIMIT)


def nice_ticks(low: float, high: float, count: int = 4) -> list[float]:
    """Round tick values covering ``low``..``high`` (1, 2 or 5 times a power of ten apart).

    Never fails: a single value gets a range around it, huge ranges are computed without
    overflowing, and non-finite bounds are held at ``AXIS_LIMIT`` (or replaced by the other one).
    """
    count = max(int(count), 1)
    low = _axis_bound(low, high if _is_finite(high) else 0.0)
    high = _axis_bound(high, low)
    if high < low:
        low, high = high, low
    if high <= low:
        pad = max(1.0, abs(low) * 1e-3)
        if low + pad <= AXIS_LIMIT:
            high = low + pad
        else:
            low = high - pad
    # A step is never below what floats can tell apart at this magnitude.
    raw = max((high - low) / count, max(abs(low), abs(high)) * 1e-12)
    exponent = math.floor(math.log10(raw))
    magnitude = 10.0**exponent
    step = next((m * magnitude for m in (1, 2, 5) if m * magnitude >= raw), 10 * magnitude)
    first = math.floor(low / step)
    last = max(math.ceil(high / step - 1e-9), first + 1)
    if last - first > MAX_TICKS:  # only when rounding misbehaves at the limits of floats
        return [low, high]
    digits = max(10, 3 - exponent)
    return [round(index * step, digits) for index in range(first, last + 1)]


def _tick_label(value: float, step: float) -> str:
    """A tick's number in the reader's language, with as many decimals as the step needs."""
    if not math.isfinite(value):
        return ""
    if value != 0 and (max(abs(value), abs(step)) >= 1e9 or 0 < step < 1e-6):
        return format_scientific(value, format="0.#####E0", locale=locale())
    decimals = max(0, -math.floor(math.log10(step))) if 0 < step < 1 else 0
    return format_score(value, decimals)


def _position(value: float, low: float, high: float) -> float:
    """Where ``value`` lies from ``low`` (0) to ``high`` (1), clamped just beyond the axis.

    Computed on quarters, which is exact for ordinary numbers and cannot overflow for huge ones.
    """
    span = high / 4 - low / 4
    if not span > 0 or not math.isfinite(span):
        return 0.5
    value = _axis_bound(value, (low + high) / 2) if not math.isfinite(value) else value
    fraction = (value / 4 - low / 4) / span
    return min(max(fraction, -0.05), 1.05)


def _step(ticks: list[float]) -> float:
    return ticks[1] - ticks[0] if len(ticks) > 1 else 1.0


def line_chart(
    series: Sequence[Series],
    *,
    width: int = 640,
    height: int = 200,
    margin: tuple[int, int, int, int] = (12, 16, 28, 40),  # top, right, bottom, left
) -> LineChart | None:
    """Scale dated series into an SVG box; ``None`` when there is nothing to draw."""
    # A non-finite value (only a damaged database holds one) is left out like a missing week.
    every_point = [point for item in series for point in item.points if _is_finite(point[1])]
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
        return plot_bottom - _position(value, low, high) * (plot_bottom - plot_top)

    drawn: list[DrawnSeries] = []
    for item in series:
        points = sorted(item.points)
        commands: list[str] = []
        dots: list[tuple[float, float]] = []
        previous: date | None = None
        for day, value in points:
            if not _is_finite(value):
                previous = None  # the line breaks there
                continue
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

    step = _step(ticks)
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
        return [(round(x_of(first), 1), format_day(first, "d MMM"))]
    stride = math.ceil(len(months) / 6)
    shown = months[::stride]
    return [
        (
            round(x_of(month), 1),
            format_day(month, "MMM y" if month.month == 1 or month == shown[0] else "MMM"),
        )
        for month in shown
    ]


# --- Charts on a numeric x axis: event studies and one unit's story around an adoption --------


@dataclass(frozen=True)
class EventPoint:
    """One estimate at a position on the x axis, with its interval (``None`` when unknown)."""

    x: float
    value: float
    low: float | None = None
    high: float | None = None
    css_class: str = "point"
    title: str = ""


@dataclass(frozen=True)
class EventSeries:
    """A line through ``(x, value)`` points; ``None`` values break it (periods with no data)."""

    label: str
    points: Sequence[tuple[float, float | None, str]]  # x, value, tooltip
    css_class: str = "series"


@dataclass(frozen=True)
class Band:
    """A shaded stretch of the x axis, from ``start`` to ``end`` in data units."""

    start: float
    end: float
    css_class: str
    label: str


@dataclass
class DrawnPoint:
    x: float
    y: float
    y_low: float | None
    y_high: float | None
    css_class: str
    title: str


@dataclass
class DrawnBand:
    x: float
    width: float
    css_class: str
    label: str
    label_x: float


@dataclass
class DrawnLine:
    label: str
    css_class: str
    path: str
    dots: list[tuple[float, float, str]]


@dataclass
class EventChart:
    """An SVG-ready chart on a numeric x axis (weeks since adoption)."""

    width: int
    height: int
    plot_left: float
    plot_right: float
    plot_top: float
    plot_bottom: float
    y_ticks: list[tuple[float, str]]
    x_ticks: list[tuple[float, str]]
    zero_y: float | None
    marker_x: float | None  # the adoption (event time 0)
    bands: list[DrawnBand]
    points: list[DrawnPoint]
    lines: list[DrawnLine]
    x_label: str
    y_label: str


def _event_x_ticks(first: float, last: float, x_of, wanted: int = 8) -> list[tuple[float, str]]:
    """Whole event times, every 1, 2, 4... periods, always including 0 when it is in range."""
    span = max(last - first, 1)
    step = next((s for s in (1, 2, 4, 8, 13, 26, 52) if span / s <= wanted), 104)
    start = math.ceil(first / step) * step
    ticks = []
    value = start
    while value <= last:
        ticks.append(value)
        value += step
    if first <= 0 <= last and 0 not in ticks:
        ticks.append(0)
    return [
        (round(x_of(value), 1), format_signed(value, 0) if value else "0")
        for value in sorted(ticks)
    ]


def event_chart(
    *,
    points: Sequence[EventPoint] = (),
    lines: Sequence[EventSeries] = (),
    bands: Sequence[Band] = (),
    zero_line: bool = False,
    marker: float | None = None,
    x_label: str = "",
    y_label: str = "",
    width: int = 720,
    height: int = 300,
    margin: tuple[int, int, int, int] = (24, 16, 44, 52),  # top, right, bottom, left
) -> EventChart | None:
    """Scale estimates with whiskers and/or lines onto a numeric x axis; ``None`` when empty."""
    xs = [point.x for point in points] + [x for line in lines for x, _, _ in line.points]
    values = [point.value for point in points]
    values += [bound for point in points for bound in (point.low, point.high) if bound is not None]
    values += [value for line in lines for _, value, _ in line.points if value is not None]
    values = _finite(values)
    xs = _finite(xs)
    if not xs or not values:
        return None
    if zero_line:
        values.append(0.0)
    top, right, bottom, left = margin
    plot_left, plot_right = float(left), float(width - right)
    plot_top, plot_bottom = float(top), float(height - bottom)
    first, last = min(xs) - 0.5, max(xs) + 0.5
    ticks = nice_ticks(min(values), max(values), 5)
    low, high = ticks[0], ticks[-1]

    def x_of(value: float) -> float:
        return plot_left + _position(value, first, last) * (plot_right - plot_left)

    def y_of(value: float) -> float:
        return plot_bottom - _position(value, low, high) * (plot_bottom - plot_top)

    drawn_bands = []
    for band in bands:
        start, end = max(band.start, first), min(band.end, last)
        if end <= start:
            continue
        x0, x1 = x_of(start), x_of(end)
        drawn_bands.append(
            DrawnBand(round(x0, 1), round(x1 - x0, 1), band.css_class, band.label,
                      round((x0 + x1) / 2, 1))
        )  # fmt: skip
    drawn_points = [
        DrawnPoint(
            x=round(x_of(point.x), 1),
            y=round(y_of(point.value), 1),
            y_low=round(y_of(point.low), 1) if _is_finite(point.low) else None,
            y_high=round(y_of(point.high), 1) if _is_finite(point.high) else None,
            css_class=point.css_class,
            title=point.title,
        )
        for point in points
        if _is_finite(point.value) and _is_finite(point.x)
    ]
    drawn_lines = []
    for line in lines:
        commands: list[str] = []
        dots: list[tuple[float, float, str]] = []
        previous_missing = True
        for x, value, title in sorted(line.points, key=lambda item: item[0]):
            if not _is_finite(value) or not _is_finite(x):
                previous_missing = True
                continue
            px, py = round(x_of(x), 1), round(y_of(value), 1)
            commands.append(f"{'M' if previous_missing else 'L'}{px} {py}")
            dots.append((px, py, title))
            previous_missing = False
        drawn_lines.append(DrawnLine(line.label, line.css_class, " ".join(commands), dots))

    step = _step(ticks)
    return EventChart(
        width=width,
        height=height,
        plot_left=plot_left,
        plot_right=plot_right,
        plot_top=plot_top,
        plot_bottom=plot_bottom,
        y_ticks=[(round(y_of(value), 1), _tick_label(value, step)) for value in ticks],
        x_ticks=_event_x_ticks(math.ceil(first), math.floor(last), x_of),
        zero_y=round(y_of(0.0), 1) if zero_line and low <= 0 <= high else None,
        marker_x=round(x_of(marker), 1) if marker is not None and first <= marker <= last else None,
        bands=drawn_bands,
        points=drawn_points,
        lines=drawn_lines,
        x_label=x_label,
        y_label=y_label,
    )


# --- Interval bars on a shared axis (the leaderboard) ---------------------------------------


@dataclass
class IntervalAxis:
    """A common scale for many small interval bars, so that their lengths compare."""

    low: float
    high: float
    width: int
    ticks: list[tuple[float, str]]
    pad: float = 6.0

    def x_of(self, value: float) -> float:
        inner = self.width - 2 * self.pad
        return round(self.pad + _position(value, self.low, self.high) * inner, 1)

    @property
    def zero_x(self) -> float:
        return self.x_of(0.0)


@dataclass
class IntervalBar:
    x_low: float
    x_high: float
    x_value: float
    width: int
    css_class: str


def interval_axis(bounds: Sequence[float], *, width: int = 160) -> IntervalAxis | None:
    """A scale covering every bound and zero; ``None`` when there is nothing to draw."""
    values = _finite(bounds)
    if not values:
        return None
    ticks = nice_ticks(min(values + [0.0]), max(values + [0.0]), 4)
    axis = IntervalAxis(low=ticks[0], high=ticks[-1], width=width, ticks=[])
    step = _step(ticks)
    axis.ticks = [(axis.x_of(value), _tick_label(value, step)) for value in ticks]
    return axis


def interval_bar(axis: IntervalAxis, value: float, low: float, high: float) -> IntervalBar:
    """One estimate and its interval on ``axis``; coloured by where the interval lies."""
    css_class = "interval--positive" if low > 0 else "interval--negative" if high < 0 else ""
    return IntervalBar(
        x_low=axis.x_of(low),
        x_high=axis.x_of(high),
        x_value=axis.x_of(value),
        width=axis.width,
        css_class=css_class or "interval--unclear",
    )


# --- Scatter: importance against performance ----------------------------------------------------


@dataclass(frozen=True)
class ScatterPoint:
    label: str
    x: float
    y: float
    css_class: str = "point"


@dataclass
class DrawnScatterPoint:
    label: str
    css_class: str
    cx: float
    cy: float
    label_anchor: str  # "start" or "end", so labels stay inside the plot


@dataclass
class ScatterChart:
    width: int
    height: int
    plot_left: float
    plot_right: float
    plot_top: float
    plot_bottom: float
    points: list[DrawnScatterPoint]
    x_ticks: list[tuple[float, str]]
    y_ticks: list[tuple[float, str]]
    x_split: float | None  # pixel position of the vertical quadrant line
    y_split: float | None  # pixel position of the horizontal quadrant line


def scatter_chart(
    points: Sequence[ScatterPoint],
    *,
    x_split: float | None = None,
    y_split: float | None = None,
    width: int = 640,
    height: int = 360,
) -> ScatterChart | None:
    """Points on nice axes that include the quadrant splits (and zero on y)."""
    points = [point for point in points if _is_finite(point.x) and _is_finite(point.y)]
    x_split = x_split if _is_finite(x_split) else None
    y_split = y_split if _is_finite(y_split) else None
    if not points:
        return None
    left, right, top, bottom = 56.0, width - 16.0, 16.0, height - 40.0
    xs = [_axis_bound(point.x, 0.0) for point in points] + (
        [x_split] if x_split is not None else []
    )
    ys = [_axis_bound(point.y, 0.0) for point in points] + [0.0]
    ys += [y_split] if y_split is not None else []
    spread = max(xs) - min(xs) or 1.0
    x_values = nice_ticks(min(xs) - spread * 0.05, max(xs) + spread * 0.05, 5)
    y_values = nice_ticks(min(ys), max(ys) * 1.05 or 1.0, 4)
    x_low, x_high = x_values[0], x_values[-1]
    y_low, y_high = y_values[0], y_values[-1]

    def x_of(value: float) -> float:
        return left + _position(value, x_low, x_high) * (right - left)

    def y_of(value: float) -> float:
        return bottom - _position(value, y_low, y_high) * (bottom - top)

    x_step = _step(x_values)
    y_step = _step(y_values)
    middle = (left + right) / 2
    return ScatterChart(
        width=width,
        height=height,
        plot_left=left,
        plot_right=right,
        plot_top=top,
        plot_bottom=bottom,
        points=[
            DrawnScatterPoint(
                point.label,
                point.css_class,
                round(x_of(point.x), 1),
                round(y_of(point.y), 1),
                "end" if x_of(point.x) > middle else "start",
            )
            for point in points
        ],
        x_ticks=[(round(x_of(value), 1), _tick_label(value, x_step)) for value in x_values],
        y_ticks=[(round(y_of(value), 1), _tick_label(value, y_step)) for value in y_values],
        x_split=round(x_of(x_split), 1) if x_split is not None else None,
        y_split=round(y_of(y_split), 1) if y_split is not None else None,
    )
