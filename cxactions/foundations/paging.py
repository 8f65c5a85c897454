"""Bounded numbers from query strings: pages and page sizes.

A page number is an OFFSET in SQL; ``?page=9223372036854775807`` overflowed it and answered
500. Every page and size parameter goes through here, so none reaches the database unbounded.
Pure: no Flask.
"""

from __future__ import annotations

from collections.abc import Mapping

# Beyond this many pages nobody is browsing; a list asked for further shows this page.
MAX_PAGE = 1000


def bounded_int(value: str | None, default: int, low: int, high: int) -> int:
    """``value`` as a whole number within [low, high]; ``default`` when absent or not a number."""
    try:
        number = int(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        number = default
    return min(max(number, low), high)


def page_number(args: Mapping[str, str], name: str = "page") -> int:
    """The page asked for in ``args``: 1 to ``MAX_PAGE``, 1 when absent or not a number."""
    return bounded_int(args.get(name), 1, 1, MAX_PAGE)
