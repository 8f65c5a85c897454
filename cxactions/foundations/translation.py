"""The translation seam for modules that must stay free of Flask (the pure cores, the reader).

They mark and translate their messages with ``_``, ``ngettext`` and ``N_`` from here; the
application installs Flask-Babel behind them (``cxactions.foundations.i18n.install_translation``)
so a message built while serving a request is in the reader's language. Outside the application
(a script, a pure unit test) the messages stay in English. ``locale()`` names the language to
format numbers and dates in; the ``format_*`` functions below write them that way.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_decimal, get_decimal_symbol
from babel.numbers import format_percent as babel_format_percent

# An en dash stands for "no value" in every language.
NO_VALUE = "–"

_gettext: Callable[..., str] | None = None
_ngettext: Callable[..., str] | None = None
_locale: Callable[[], str] | None = None


def install(
    gettext: Callable[..., str], ngettext: Callable[..., str], locale: Callable[[], str]
) -> None:
    """Route every message through the application's translations (called once per process)."""
    global _gettext, _ngettext, _locale
    _gettext, _ngettext, _locale = gettext, ngettext, locale


def _(message: str, **variables: Any) -> str:
    """``message`` in the reader's language, ``%(name)s`` placeholders filled from ``variables``."""
    if _gettext is not None:
        return _gettext(message, **variables)
    return message % variables if variables else message


def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    """The singular or plural form for ``num`` (available as ``%(num)d``), translated."""
    if _ngettext is not None:
        return _ngettext(singular, plural, num, **variables)
    return (singular if num == 1 else plural) % {"num": num, **variables}


def N_(message: str) -> str:
    """Mark ``message`` for the catalogue without translating it yet (a constant defined at
    import time): translate it where it is shown, with ``_(constant)``."""
    return message


def locale() -> str:
    """The language to format numbers and dates in ("en" outside a request)."""
    return _locale() if _locale is not None else "en"


def in_reader_language(english: str | None, french: str | None) -> tuple[str | None, str]:
    """The text a reader of the page's language should see, and the language it is written in.

    A French reader gets the French text and an English one the English text; either falls back
    to the other when its own is missing; the second value is for the element's ``lang``.
    """
    if locale() == "fr":
        return (french, "fr") if french else (english, "en")
    return (english, "en") if english else (french, "fr")


class NamedInBothLanguages:
    """For anything with an English ``name``, an optional French ``name_fr`` and a ``code``
    (challenges, categories, priorities): the name a reader of the page's language sees. No
    annotations here: a SQLAlchemy model mixes it in."""

    @property
    def shown_name(self) -> str:
        """The name in the reader's language, else in the other one (see ``shown_name_lang``)."""
        return in_reader_language(self.name, self.name_fr)[0] or self.code

    @property
    def shown_name_lang(self) -> str:
        """The language ``shown_name`` is written in, for the element's ``lang`` attribute."""
        return in_reader_language(self.name, self.name_fr)[1]


# -- numbers and dates the way the reader's language writes them ------------------------------


def decimal_pattern(decimals: int) -> str:
    """A CLDR number pattern with grouping and exactly ``decimals`` decimals."""
    return "#,##0" if decimals <= 0 else f"#,##0.{'0' * decimals}"


# Beyond this magnitude figures are written in scientific notation (and Babel's decimal
# arithmetic would lose or refuse them): a stored 1e300 still renders its page.
LARGEST_PLAIN = 1e15


def _beyond_plain(value: float) -> str | None:
    """``value`` written for a page when it is not finite or too large to write out, else None."""
    if math.isnan(value):
        return NO_VALUE
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    if abs(value) >= LARGEST_PLAIN:
        return f"{value:.3g}".replace(".", get_decimal_symbol(locale())).replace("-", "−")
    return None


def format_number(value: float | None) -> str:
    """A whole number with the language's grouping: 12,345 or 12 345."""
    if value is None:
        return NO_VALUE
    return _beyond_plain(value) or format_decimal(round(value), format="#,##0", locale=locale())


def format_score(value: float | None, decimals: int = 2) -> str:
    """A number with a fixed count of decimals: 7.25 or 7,25."""
    if value is None:
        return NO_VALUE
    return _beyond_plain(value) or format_decimal(
        value, format=decimal_pattern(decimals), locale=locale()
    )


def format_signed(value: float | None, decimals: int = 2) -> str:
    """A difference with its sign (a true minus sign, easier to read than a hyphen)."""
    if value is None:
        return NO_VALUE
    if (written := _beyond_plain(value)) is not None:
        return f"+{written}" if value > 0 else written
    rounded = round(value, decimals)
    magnitude = format_score(abs(rounded), decimals)
    if rounded == 0:
        return f"±{magnitude}"
    return f"{'+' if rounded > 0 else '−'}{magnitude}"


def format_percent(value: float | None, decimals: int = 0) -> str:
    """A share (0.25) as a percentage: 25% or 25 %."""
    if value is None or math.isnan(value):
        return NO_VALUE
    if (written := _beyond_plain(value * 100)) is not None:
        return f"{written}%"
    # The language's own pattern (French puts a no-break space before %), with the decimals.
    pattern = Locale.parse(locale()).percent_formats[None].pattern
    if decimals > 0:
        last_digit = pattern.rindex("0") + 1
        pattern = f"{pattern[:last_digit]}.{'0' * decimals}{pattern[last_digit:]}"
    return babel_format_percent(value, format=pattern, locale=locale())


def format_day(value: date | datetime | None, pattern: str = "d MMM y") -> str:
    """A day: 5 Dec 2026, 5 déc. 2026 (``pattern`` in CLDR date symbols)."""
    if value is None:
        return NO_VALUE
    if isinstance(value, datetime):
        value = value.date()
    return format_date(value, format=pattern, locale=locale())


def format_ago(value: datetime | None, now: datetime) -> str:
    """How long ago a naive UTC instant was, in words: "just now", "5 minutes ago"."""
    if value is None:
        return NO_VALUE
    seconds = max((now - value) / timedelta(seconds=1), 0)
    if seconds >= 86_400:
        return ngettext("%(num)d day ago", "%(num)d days ago", int(seconds // 86_400))
    if seconds >= 3_600:
        return ngettext("%(num)d hour ago", "%(num)d hours ago", int(seconds // 3_600))
    if seconds >= 60:
        return ngettext("%(num)d minute ago", "%(num)d minutes ago", int(seconds // 60))
    return _("just now")


def period_count(count: int, period: str | None) -> str:
    """ "12 weeks", "1 month"...: a number of periods in the reader's language."""
    shown = format_number(count)
    if period == "week":
        return ngettext("%(count)s week", "%(count)s weeks", count, count=shown)
    if period == "month":
        return ngettext("%(count)s month", "%(count)s months", count, count=shown)
    if period == "quarter":
        return ngettext("%(count)s quarter", "%(count)s quarters", count, count=shown)
    if period == "year":
        return ngettext("%(count)s year", "%(count)s years", count, count=shown)
    return ngettext("%(count)s period", "%(count)s periods", count, count=shown)
