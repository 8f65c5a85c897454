"""What reading an import file yields: ``ParseError``, ``Chunk`` and ``ErrorLog``.

Errors are ``ParseError(line, column, message)`` where ``line`` is the physical line in the file
(the header is line 1; a record whose quoted comment spans lines is reported on the line where
it starts).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class ParseError:
    """A problem at one physical line of the file; ``column`` is empty for a whole row."""

    line: int
    column: str
    message: str


@dataclass
class Chunk:
    """Validated rows (invalid ones removed) with a ``line`` column, and the errors found."""

    rows: pd.DataFrame
    errors: list[ParseError]
    rows_read: int
    bytes_read: int


class ErrorLog:
    """Counts every error but keeps only the ``limit`` first ones by line (bounded memory)."""

    def __init__(self, limit: int = 50) -> None:
        self.limit = limit
        self.count = 0
        self._kept: list[ParseError] = []

    def add(self, error: ParseError) -> None:
        self.count += 1
        self._kept.append(error)
        if len(self._kept) > 4 * self.limit:
            self._kept = by_line(self._kept)[: self.limit]

    def extend(self, errors: list[ParseError]) -> None:
        for error in errors:
            self.add(error)

    @property
    def first(self) -> list[ParseError]:
        return by_line(self._kept)[: self.limit]

    def __bool__(self) -> bool:
        return self.count > 0


def by_line(errors: list[ParseError]) -> list[ParseError]:
    """Errors in line order; within a line, in the order found (the columns' order)."""
    return sorted(errors, key=lambda error: error.line)
