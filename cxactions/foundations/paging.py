"""Bounded numbers from query strings: pages and page sizes.

A page number is an OFFSET in SQL; ``?page=9223372036854775807`` overflowed it and answered
500. Every page and size parameter goes through here, so none reaches the database unbounded.
Pure: no Flask.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

# Beyond this many pages nobody is browsing; a list asked for further shows this page.
MAX_PAGE = 1000
# The largest key the tables hold (32-bit integers on PostgreSQL): a larger id names nothing,
# and must not reach the database, which would refuse it with an error.
LARGEST_ID = 2**31 - 1


def bounded_int(value: str | None, default: int, low: int, high: int) -> int:
    """``value`` as a whole number within [low, high]; ``default`` when absent or not a number."""
    try:
        number = int(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        number = default
    return min(max(number, low), high)


def id_from(value: object) -> int | None:
    """A row id people sent (ASCII digits, 1 to ``LARGEST_ID``), or None for anything else."""
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if 0 < number <= LARGEST_ID else None


def page_number(args: Mapping[str, str], name: str = "page") -> int:
    """The page asked for in ``args``: 1 to ``MAX_PAGE``, 1 when absent or not a number."""
    return bounded_int(args.get(name), 1, 1, MAX_PAGE)


@dataclass(frozen=True)
class Pages:
    """Where a page stands in its list, with the interface of the ``page_nav`` macro (that of
    Flask-SQLAlchemy's ``Pagination``): the search results and the roll-up lists share it."""

    page: int
    pages: int

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return min(self.page - 1, self.pages)  # past the end, "previous" is the last page

    @property
    def next_num(self) -> int:
        return self.page + 1

    def iter_pages(
        self, *, left_edge: int = 1, left_current: int = 1, right_current: int = 2,
        right_edge: int = 1,
    ) -> Iterator[int | None]:  # fmt: skip
        """Page numbers with None for each gap, as ``Pagination.iter_pages`` yields."""
        previous = 0
        for number in range(1, self.pages + 1):
            if (
                number <= left_edge
                or self.page - left_current <= number <= self.page + right_current
                or number > self.pages - right_edge
            ):
                if number > previous + 1:
                    yield None
                yield number
                previous = number
