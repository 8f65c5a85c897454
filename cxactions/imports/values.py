"""Parsing the values of an import file: strict dates and date-times, finite numbers, and
quoting a value in a message. Vectorised over a column; pure (no Flask, no SQLAlchemy).
"""

from __future__ import annotations

import re
from datetime import date

import numpy as np
import pandas as pd

from cxactions.foundations.scales import MAX_MAGNITUDE, format_short
from cxactions.foundations.translation import _

NUMBER_DTYPE = np.float64
ISO_LOOSE = re.compile(
    r"\s*(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)?)?\s*"
)
FRENCH_DATE = re.compile(
    r"\s*(\d{1,2})/(\d{1,2})/(\d{4})(?:\s+(\d{1,2})[:h](\d{2})(?::(\d{2}))?)?\s*"
)


def quote(value: str, limit: int = 40) -> str:
    text = value if len(value) <= limit else value[: limit - 1] + "…"
    return "'" + text.replace("\n", "\\n") + "'"


def _canonical_datetime(match: re.Match, french: bool = False) -> str:
    """``YYYY-MM-DD[THH:MM:SS[.ffffff]]`` from a loose ISO or French match (offset dropped)."""
    if french:
        day, month, year, hour, minute, second = match.groups()
        fraction = None
        text = f"{year}-{int(month):02d}-{int(day):02d}"
    else:
        year, month, day, hour, minute, second, fraction = match.groups()
        text = f"{year}-{month}-{day}"
    if hour is None:
        return text
    text += f"T{int(hour):02d}:{minute}:{second or '00'}"
    if fraction:
        text += "." + fraction[:6]
    return text


def _iso_lengths(values: np.ndarray) -> np.ndarray:
    """The length of each value shaped ``YYYY-MM-DD[(T| )HH:MM[:SS[.f{1,6}]]]``, else -1.

    Checked on the characters' code points all at once (no regex per value): the values are
    laid out as a fixed-width UTF-32 matrix. Whether the date exists is checked later.
    """
    width = 27  # one more than the longest canonical value, so longer ones never fit
    codes = values.astype(f"U{width}").view(np.uint32).reshape(len(values), width)
    length = np.count_nonzero(codes, axis=1)
    digit = (codes >= ord("0")) & (codes <= ord("9"))
    date_shape = (
        digit[:, [0, 1, 2, 3, 5, 6, 8, 9]].all(axis=1)
        & (codes[:, 4] == ord("-"))
        & (codes[:, 7] == ord("-"))
    )
    minutes = (
        ((codes[:, 10] == ord("T")) | (codes[:, 10] == ord(" ")))
        & digit[:, [11, 12, 14, 15]].all(axis=1)
        & (codes[:, 13] == ord(":"))
    )
    seconds = (codes[:, 16] == ord(":")) & digit[:, [17, 18]].all(axis=1)
    fraction = (
        (codes[:, 19] == ord("."))
        & (digit[:, 20:] | (codes[:, 20:] == 0)).all(axis=1)
        & (length >= 21)
        & (length <= 26)
    )
    canonical = date_shape & (
        (length == 10) | (minutes & ((length == 16) | (seconds & ((length == 19) | fraction))))
    )
    return np.where(canonical, length, -1)


def _repeats(values: np.ndarray) -> bool:
    """True when a column repeats a few values (ratings, dates, unit ids), judged on a sample."""
    sample = values[:2000]
    return len(sample) >= 200 and len(set(sample)) * 4 < len(sample)


def _spread(problems: dict[int, str], codes: np.ndarray) -> dict[int, str]:
    """Problems found on distinct values, reported on every row holding them."""
    if not problems:
        return {}
    rows = np.flatnonzero(np.isin(codes, np.fromiter(problems, dtype=np.int64)))
    return {int(index): problems[int(codes[index])] for index in rows}


def parse_datetimes(
    values: np.ndarray, french: bool = False
) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
    """Strict ISO 8601 dates or date-times (and ``dd/mm/yyyy`` in French mode).

    Returns the instants as written (``datetime64[us]``, no time-zone shift: an offset is
    ignored because a date-time counts on the date written in it), whether each value held a
    time, and ``{index: message}`` for the invalid ones. Empty strings are NaT, not errors.
    """
    if _repeats(values):
        codes, uniques = pd.factorize(values)
        instants, has_time, problems = _parse_datetimes(np.asarray(uniques, dtype=object), french)
        return instants[codes], has_time[codes], _spread(problems, codes)
    return _parse_datetimes(values, french)


def _parse_datetimes(
    values: np.ndarray, french: bool
) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
    # The length of a well-formed value tells whether it holds a time; -1 = needs a closer look.
    lengths = _iso_lengths(values)
    canonical = values.copy()
    problems: dict[int, str] = {}
    for index in np.flatnonzero(lengths < 0):
        value = values[index]
        canonical[index] = None
        if not value.strip():
            continue
        match = ISO_LOOSE.fullmatch(value)
        if match:
            canonical[index] = _canonical_datetime(match)
        elif french and (match := FRENCH_DATE.fullmatch(value)):
            canonical[index] = _canonical_datetime(match, french=True)
        else:
            problems[index] = (
                _(
                    "not a date (dd/mm/yyyy or YYYY-MM-DD, optionally with a time): %(value)s",
                    value=quote(value),
                )
                if french
                else _(
                    "not a date (ISO 8601: YYYY-MM-DD, optionally with a time): %(value)s",
                    value=quote(value),
                )
            )
            continue
        lengths[index] = len(canonical[index])
    instants = pd.to_datetime(
        pd.Series(canonical, dtype=object), format="ISO8601", errors="coerce"
    ).to_numpy(dtype="datetime64[us]")
    for index in np.flatnonzero(np.isnat(instants) & (lengths > 0)):
        try:
            date.fromisoformat(canonical[index][:10])
        except ValueError:
            problems[index] = _("impossible date: %(value)s", value=quote(values[index]))
        else:
            problems[index] = _("impossible time: %(value)s", value=quote(values[index]))
    return instants, lengths > 10, problems


def parse_numbers(values: np.ndarray, french: bool = False) -> tuple[np.ndarray, dict[int, str]]:
    """Strict finite decimal numbers (``7.5``; also ``7,5`` in French mode); '' is NaN.

    ``nan``, ``inf`` and numbers larger than ``scales.MAX_MAGNITUDE`` in size are refused: the
    row is reported and its value is NaN.
    """
    if _repeats(values):
        codes, uniques = pd.factorize(values)
        numbers, problems = _parse_numbers(np.asarray(uniques, dtype=object), french)
        return numbers[codes], _spread(problems, codes)
    return _parse_numbers(values, french)


def _parse_numbers(values: np.ndarray, french: bool) -> tuple[np.ndarray, dict[int, str]]:
    series = pd.Series(values, dtype=object)
    if french:
        series = series.str.replace(",", ".", n=1, regex=False)
    # to_numeric rejects '1e', 'abc' and '1,5'; it accepts 'nan' and 'inf', refused just below.
    numbers = pd.to_numeric(series, errors="coerce").to_numpy(dtype=NUMBER_DTYPE, na_value=np.nan)
    problems: dict[int, str] = {}
    with np.errstate(invalid="ignore"):
        unusable = ~(np.abs(numbers) <= MAX_MAGNITUDE)
    if unusable.any():
        numbers = numbers.copy()  # pandas may hand out a read-only view
    for index in np.flatnonzero(unusable):
        value = values[index]
        if not value.strip():
            continue
        if np.isfinite(numbers[index]):  # finite, so too large (scales.number_problem)
            problems[int(index)] = _(
                "%(value)s is too large: numbers must lie between %(low)s and %(high)s",
                value=quote(value),
                low=format_short(-MAX_MAGNITUDE),
                high=format_short(MAX_MAGNITUDE),
            )
        else:  # also 'nan', 'inf' and '1e999'
            problems[int(index)] = _("not a number: %(value)s", value=quote(value))
        numbers[index] = np.nan
    return numbers, problems
