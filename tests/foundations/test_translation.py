"""Numbers and dates written the way the reader's language writes them (Babel), and the seam
that lets pure modules translate without importing Flask."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

import pytest

from cxactions.foundations import translation
from cxactions.foundations.translation import (
    format_ago,
    format_day,
    format_number,
    format_percent,
    format_score,
    format_signed,
    in_reader_language,
)


@pytest.fixture
def french():
    """The seam answering as it does while serving a French page (restored afterwards)."""
    saved = (translation._gettext, translation._ngettext, translation._locale)
    translation.install(translation._gettext or (lambda m, **v: m % v if v else m),
                        translation._ngettext or (lambda s, p, n, **v: (s if n == 1 else p) % {"num": n, **v}),
                        lambda: "fr")  # fmt: skip
    yield
    translation._gettext, translation._ngettext, translation._locale = saved


def test_english_figures():
    assert format_number(1234567) == "1,234,567"
    assert format_score(7.456) == "7.46"
    assert format_score(7.456, 1) == "7.5"
    assert format_signed(-0.456) == "−0.46"
    assert format_percent(0.254) == "25%"
    assert format_day(date(2026, 12, 5)) == "5 Dec 2026"


def test_french_figures(french):
    assert format_number(1234567) == "1\u202f234\u202f567"
    assert format_score(7.456) == "7,46"
    assert format_signed(0.456) == "+0,46"
    assert format_signed(-0.004) == "±0,00"
    assert format_percent(0.254) == "25\u00a0%"
    assert format_percent(0.2545, 1) == "25,4\u00a0%"
    assert format_day(date(2026, 12, 5)) == "5 déc. 2026"
    assert format_day(datetime(2026, 2, 1, 13, 0)) == "1 févr. 2026"


@pytest.mark.parametrize("value", [1e300, -1e300, 1e27, math.inf, -math.inf, math.nan])
def test_figures_never_fail_on_extreme_values(french, value):
    for text in (format_number(value), format_score(value), format_signed(value)):
        assert text and len(text) < 12
    assert format_percent(value)


def test_ago_counts_in_words():
    now = datetime(2026, 12, 5, 12, 0)
    assert format_ago(now - timedelta(seconds=20), now) == "just now"
    assert format_ago(now - timedelta(minutes=1), now) == "1 minute ago"
    assert format_ago(now - timedelta(hours=5), now) == "5 hours ago"
    assert format_ago(now - timedelta(days=3), now) == "3 days ago"
    assert format_ago(None, now) == "–"


def test_content_is_shown_in_the_readers_language_else_the_other(french):
    assert in_reader_language("Long queues", "Longues files") == ("Longues files", "fr")
    assert in_reader_language("Long queues", None) == ("Long queues", "en")


def test_english_readers_get_english_else_french():
    assert in_reader_language("Long queues", "Longues files") == ("Long queues", "en")
    assert in_reader_language(None, "Longues files") == ("Longues files", "fr")
    assert in_reader_language("", "") == ("", "fr")
