"""Chart tick labels are written the reader's way: decimal commas and French month names when
the translation seam says the page is French, the English forms otherwise."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta

import pytest

from cxactions.foundations import translation
from cxactions.foundations.charts import (
    EventPoint,
    ScatterPoint,
    Series,
    event_chart,
    interval_axis,
    line_chart,
    scatter_chart,
)


@contextmanager
def seam_in(language: str) -> Iterator[None]:
    """The seam's locale set to ``language`` (messages untranslated), restored afterwards."""
    saved = translation._gettext, translation._ngettext, translation._locale

    def gettext(message: str, **variables) -> str:
        return message % variables if variables else message

    def ngettext(singular: str, plural: str, num: int, **variables) -> str:
        return (singular if num == 1 else plural) % {"num": num, **variables}

    translation.install(gettext, ngettext, lambda: language)
    try:
        yield
    finally:
        translation.install(*saved)


@pytest.fixture
def french() -> Iterator[None]:
    with seam_in("fr"):
        yield


@pytest.fixture
def english() -> Iterator[None]:
    with seam_in("en"):
        yield


def labels(ticks: list[tuple[float, str]]) -> list[str]:
    return [label for _, label in ticks]


WEEKS = [date(2024, 11, 4) + timedelta(weeks=index) for index in range(12)]
SCORES = [7.1, 7.4, 7.9, 7.3, 7.6, 8.2, 7.8, 7.5, 7.7, 8.1, 7.9, 8.0]


def test_line_chart_ticks_in_french(french):
    chart = line_chart([Series("Store", list(zip(WEEKS, SCORES, strict=True)))])
    assert labels(chart.y_ticks) == ["7,0", "7,5", "8,0", "8,5"]
    # The first month shown and every January carry their year; French abbreviations.
    assert labels(chart.x_ticks) == ["déc. 2024", "janv. 2025"]


def test_line_chart_ticks_in_english(english):
    chart = line_chart([Series("Store", list(zip(WEEKS, SCORES, strict=True)))])
    assert labels(chart.y_ticks) == ["7.0", "7.5", "8.0", "8.5"]
    assert labels(chart.x_ticks) == ["Dec 2024", "Jan 2025"]


def test_a_single_week_is_labelled_with_its_day_in_french(french):
    chart = line_chart([Series("Store", [(date(2024, 12, 5), 7.5)])])
    assert labels(chart.x_ticks) == ["5 déc."]


def test_event_chart_ticks_in_french(french):
    chart = event_chart(points=[EventPoint(x, 0.25 * x, 0.25 * x - 0.5, 0.25 * x + 0.5)
                                for x in range(-3, 4)], zero_line=True)  # fmt: skip
    assert "0,5" in labels(chart.y_ticks) and "-0,5" in labels(chart.y_ticks)
    assert not any("." in label for label in labels(chart.y_ticks))
    # Periods since the adoption keep their sign, with a true minus.
    assert labels(chart.x_ticks) == ["−3", "−2", "−1", "0", "+1", "+2", "+3"]


def test_interval_and_scatter_axes_in_french(french):
    axis = interval_axis([0.2, 1.3, -0.4])
    assert labels(axis.ticks) == ["-0,5", "0,0", "0,5", "1,0", "1,5"]
    chart = scatter_chart([ScatterPoint("a", -0.05, 0.6), ScatterPoint("b", 0.04, 0.15)],
                          x_split=0.0, y_split=0.5)  # fmt: skip
    assert "0,02" in labels(chart.x_ticks) and "0,2" in labels(chart.y_ticks)


def test_huge_values_are_written_in_scientific_notation_with_a_decimal_comma(french):
    axis = interval_axis([0.0, 1.2e12])
    assert labels(axis.ticks) == ["0", "5E11", "1E12", "1,5E12"]


def test_the_seam_is_restored_afterwards():
    before = translation._gettext, translation._ngettext, translation._locale
    with seam_in("fr"):
        assert translation.locale() == "fr"
    assert (translation._gettext, translation._ngettext, translation._locale) == before
