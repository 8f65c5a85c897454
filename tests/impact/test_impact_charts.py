"""Geometry of the impact charts (event studies, one unit's story, interval bars) and the
"computed ... ago" wording: plain functions, no database."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from cxactions.foundations.charts import (
    Band,
    EventPoint,
    EventSeries,
    event_chart,
    interval_axis,
    interval_bar,
)
from cxactions.web.rendering import format_ago


def test_event_chart_places_points_whiskers_bands_and_the_zero_line():
    chart = event_chart(
        points=[
            EventPoint(-2, -0.1, -0.4, 0.2, "point--placebo", "placebo"),
            EventPoint(-1, 0.0, None, None, "point--dip", "dip"),
            EventPoint(0, 0.8, 0.5, 1.1, "point--effect", "effect"),
        ],
        bands=[Band(-1.5, -0.5, "band--dip", "left out"), Band(-30, -20, "band--x", "outside")],
        zero_line=True,
        x_label="Weeks since adoption",
        y_label="Points",
    )
    assert [point.css_class for point in chart.points] == [
        "point--placebo", "point--dip", "point--effect",
    ]  # fmt: skip
    placebo, dip, effect = chart.points
    assert placebo.x < dip.x < effect.x
    assert effect.y < chart.zero_y < placebo.y  # SVG y grows downwards
    assert effect.y_high < effect.y < effect.y_low
    assert dip.y_low is None and dip.y_high is None
    assert [band.css_class for band in chart.bands] == ["band--dip"]  # off-axis bands dropped
    assert chart.bands[0].x > placebo.x and chart.bands[0].x + chart.bands[0].width < effect.x
    assert "0" in [label for _, label in chart.x_ticks]
    assert chart.x_label == "Weeks since adoption"


def test_event_chart_lines_break_where_there_is_no_data():
    chart = event_chart(
        lines=[
            EventSeries("Observed", [(0, 7.0, "a"), (1, None, "b"), (2, 7.5, "c"), (3, 7.4, "d")])
        ],
        marker=0,
    )
    (line,) = chart.lines
    assert line.path.count("M") == 2 and line.path.count("L") == 1
    assert [title for _, _, title in line.dots] == ["a", "c", "d"]
    assert chart.marker_x is not None and chart.zero_y is None


def test_event_chart_with_nothing_to_draw_is_none():
    assert event_chart() is None
    assert event_chart(lines=[EventSeries("Observed", [(0, None, "")])]) is None


def test_event_chart_ticks_stay_few_on_a_long_axis():
    chart = event_chart(points=[EventPoint(x, 0.1) for x in range(-100, 150)])
    assert len(chart.x_ticks) <= 9


def test_interval_bars_share_one_axis_that_includes_zero():
    axis = interval_axis([0.2, 0.9, 0.4, 1.3])
    assert axis.low <= 0 < 1.3 <= axis.high
    good = interval_bar(axis, 1.0, 0.7, 1.3)
    unclear = interval_bar(axis, 0.1, -0.2, 0.4)
    bad = interval_bar(axis, -0.3, -0.5, -0.1)
    assert good.css_class == "interval--positive" and good.x_low > axis.zero_x
    assert unclear.css_class == "interval--unclear" and unclear.x_low < axis.zero_x < unclear.x_high
    assert bad.css_class == "interval--negative"
    assert good.x_low < good.x_value < good.x_high <= axis.width
    assert interval_axis([]) is None


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(5, "just now"), (60, "1 minute ago"), (7200, "2 hours ago"), (3 * 86_400, "3 days ago")],
)
def test_ago_reads_like_a_person_would_say_it(seconds, words):
    now = datetime(2024, 6, 3, 12, 0)
    assert format_ago(now - timedelta(seconds=seconds), now) == words
    assert format_ago(None) == "–"
