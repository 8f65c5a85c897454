"""The one CSV writer for files people open: every cell is safe to open in a spreadsheet.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by Excel,
LibreOffice and Google Sheets as a formula (``=HYPERLINK(...)``, ``+cmd|' /C calc'!A0``): a
solution title or a metric label typed by someone else would run on the reader's machine. Such
cells get a leading apostrophe, which spreadsheets show as text (OWASP, "CSV Injection").
Numbers stay numbers, negative ones included. Pure: no Flask, so the CLI, the pages and the
benchmarks share it.
"""

from __future__ import annotations

import csv
import io
import math
import numbers
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import pandas as pd

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def _is_finite_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def safe_cell(value: Any) -> Any:
    """``value`` as a spreadsheet will read it harmlessly: text that could start a formula is
    prefixed with an apostrophe; numbers (also written as text, e.g. ``-0.25``) are kept."""
    if value is None:
        return ""
    if isinstance(value, numbers.Number):
        return value
    text = str(value)
    if text.startswith(FORMULA_TRIGGERS) and not _is_finite_number(text):
        return "'" + text
    return text


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A CSV document (``\\n`` line ends) of ``header`` and ``rows``, every cell made safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([safe_cell(name) for name in header])
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return buffer.getvalue()


def frame_csv_text(frame: pd.DataFrame, float_format: str = "%.6f") -> str:
    """``frame`` as CSV (no index), its text cells made safe and numeric columns kept numeric."""
    safe = frame.copy()
    for column in safe.columns:
        if not pd.api.types.is_numeric_dtype(safe[column]):
            safe[column] = safe[column].map(
                lambda cell: cell if _is_missing(cell) else safe_cell(cell)
            )
    safe.columns = [safe_cell(str(name)) for name in safe.columns]
    return safe.to_csv(index=False, float_format=float_format, lineterminator="\n")


def _is_missing(cell: Any) -> bool:
    """Missing values stay empty cells (``pd.isna`` is element-wise on lists, hence the guard)."""
    return pd.api.types.is_scalar(cell) and bool(pd.isna(cell))


def safe_text(value: str | None) -> str:
    """Free text typed by people (an owner, a note), safe in a spreadsheet even when it reads as
    a number: ``safe_cell`` keeps ``+1`` or ``-5`` as numbers, which a name or a note is not."""
    if not value:
        return ""
    return "'" + value if value.startswith(FORMULA_TRIGGERS) else value


EXPORT_BATCH = 1_000  # rows per piece of a streamed CSV


def csv_chunks(
    header: Sequence[str], rows: Iterable[Sequence[Any]], chunk_rows: int = EXPORT_BATCH
) -> Iterator[str]:
    """``header`` and ``rows`` as CSV text in pieces of ``chunk_rows`` rows, each written by the
    product's one CSV writer (``csv_text``, which makes every cell safe), so that a file or a
    download streams instead of sitting in memory whole."""
    batch: list[Sequence[Any]] = []
    first = True
    for row in rows:
        batch.append(row)
        if len(batch) >= chunk_rows:
            yield _piece(header, batch, first)
            first, batch = False, []
    if batch or first:
        yield _piece(header, batch, first)


def _piece(header: Sequence[str], rows: list[Sequence[Any]], with_header: bool) -> str:
    text = csv_text(header, rows)
    return text if with_header else text.split("\n", 1)[1]
