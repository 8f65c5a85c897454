"""Reading import CSV files: dialect, header, tokenising and validation, one chunk at a time.

Pure on purpose (no Flask, no SQLAlchemy): the CLI, the upload page, the tests and the
benchmark all read files through ``ImportFile``. A file of any size is streamed: memory holds
one chunk of rows (``chunk_rows``) plus a few bytes per row for the duplicate-key check
(``KeyTracker``). The formats are in ``formats.py``, the encoding check in ``encodings.py``,
the value parsers in ``values.py`` and what a read yields in ``results.py``.
"""

from __future__ import annotations

import csv
import difflib
import io
import itertools
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cxactions.foundations.translation import N_, _, format_number
from cxactions.foundations.vocabulary import AdoptionStatus, threshold_problem
from cxactions.imports.encodings import detect_encoding
from cxactions.imports.formats import (
    FALSE_WORDS,
    FORMATS,
    KINDS,
    METRIC_CODE,
    TRUE_WORDS,
    Field,
    FileFormat,
)
from cxactions.imports.results import Chunk, ParseError, by_line
from cxactions.imports.values import parse_datetimes, parse_numbers, quote

# ``csv``'s own limit; a longer field is nearly always a quote that never closes.
MAX_FIELD_CHARS = csv.field_size_limit()
EMPTY_FILE = N_("the file is empty (no header line)")
REQUIRED_BUT_EMPTY = N_("required, but empty")


@dataclass
class ImportFile:
    """A CSV import file opened for streaming: encoding, dialect and header already checked.

    Use ``ImportFile.open(path, kind)``; when ``errors`` is non-empty the file cannot be read
    (bad encoding, header problems) and ``chunks()`` yields nothing.
    """

    path: str
    format: FileFormat
    chunk_rows: int = 50_000
    size: int = 0
    encoding: str | None = None
    delimiter: str = ","
    french: bool = False
    columns: list[str] = field(default_factory=list)
    extra_columns: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    errors: list[ParseError] = field(default_factory=list)
    rows_read: int = 0
    _first_line: int = 1  # physical line of the header (2 after an Excel ``sep=`` line)

    @classmethod
    def open(cls, path: str | os.PathLike, kind: str, *, chunk_rows: int = 50_000) -> ImportFile:
        if kind not in FORMATS:
            raise ValueError(f"unknown import kind {kind!r}; expected one of {', '.join(KINDS)}")
        item = cls(str(path), FORMATS[kind], chunk_rows=max(1, int(chunk_rows)))
        item.size = os.path.getsize(path)
        if item.size == 0:
            item.errors.append(ParseError(1, "", _(EMPTY_FILE)))
            return item
        verdict = detect_encoding(path)
        if verdict.error:
            item.errors.append(verdict.error)
            return item
        item.encoding = verdict.encoding
        if verdict.notice:
            item.notices.append(verdict.notice)
        item._read_header()
        return item

    @property
    def ok(self) -> bool:
        return not self.errors

    def _open_text(self) -> io.TextIOWrapper:
        # newline='' lets csv see the line ends itself (quoted newlines, CRLF).
        return open(self.path, encoding=self.encoding, newline="")  # noqa: SIM115

    def _read_header(self) -> None:
        with self._open_text() as handle:
            first = handle.readline()
            if re.fullmatch(r"sep=(.)\s*", first):  # Excel's hint line names the separator
                self.delimiter = first[4]
                self._first_line = 2
                first = handle.readline()
            elif ";" in first and first.count(";") > first.count(","):
                self.delimiter = ";"
            if not first.strip():
                message = _(EMPTY_FILE)
                if handle.read(1):
                    message = _("the first line is blank: the header must be on line 1")
                self.errors.append(ParseError(self._first_line, "", message))
                return
            if "\t" in first and first.count("\t") > first.count(self.delimiter):
                self.errors.append(
                    ParseError(
                        self._first_line,
                        "",
                        _(
                            "the header is tab-separated; save the file as 'CSV UTF-8 (Comma "
                            "delimited)'"
                        ),
                    )
                )
                return
            header = next(csv.reader([first], delimiter=self.delimiter, strict=True), [])
        self.french = self.delimiter == ";"
        if self.french:
            self.notices.append(
                _(
                    "read as a French spreadsheet export: ';' separators, decimal commas, "
                    "dd/mm/yyyy dates"
                )
            )
        self._check_header(header)

    def _check_header(self, header: list[str]) -> None:
        line = self._first_line
        fmt = self.format
        known = [item.name for item in fmt.fields]
        names = [name.strip().lower() for name in header]
        seen: dict[str, int] = {}
        for position, name in enumerate(names, start=1):
            if not name:
                self.errors.append(
                    ParseError(
                        line,
                        _("column %(position)d", position=position),
                        _("the column has no name (a trailing separator? delete the empty column)"),
                    )
                )
                continue
            if name in seen:
                self.errors.append(
                    ParseError(
                        line,
                        name,
                        _(
                            "duplicate column (columns %(first)d and %(second)d)",
                            first=seen[name],
                            second=position,
                        ),
                    )
                )
                continue
            seen[name] = position
            if name in known:
                continue
            if fmt.extra_numeric:
                if not METRIC_CODE.fullmatch(name):
                    self.errors.append(
                        ParseError(
                            line,
                            name,
                            _(
                                "a driver column name must be lower-case letters, digits and "
                                "underscores, starting with a letter (e.g. 'wait_time_rating')"
                            ),
                        )
                    )
                continue
            close = difflib.get_close_matches(name, known, n=1)
            expected = ", ".join(known)
            message = (
                _(
                    "unknown column (did you mean '%(close)s'? expected: %(expected)s)",
                    close=close[0],
                    expected=expected,
                )
                if close
                else _("unknown column (expected: %(expected)s)", expected=expected)
            )
            self.errors.append(ParseError(line, name, message))
        for item in fmt.fields:
            if item.required and item.name not in seen:
                self.errors.append(ParseError(line, item.name, _("required column is missing")))
        self.columns = names
        self.extra_columns = [
            name for name in names if name and name not in known and fmt.extra_numeric
        ]

    # ----------------------------------------------------------------- tokenising

    def chunks(self, progress: Callable[[int], None] | None = None) -> Iterator[Chunk]:
        """Validated chunks of at most ``chunk_rows`` rows, in file order.

        ``progress(bytes_read)`` is called after each chunk. Duplicate keys are tracked across
        chunks. A file with a header and no data yields one chunk holding that error.
        """
        if self.errors:
            return
        keys = KeyTracker(self.format.key)
        width = len(self.columns)
        free_text = any(
            self.format.field(name) is not None and self.format.field(name).kind == "text"
            for name in self.columns
        )
        separator = "semicolon" if self.delimiter == ";" else "comma"
        with self._open_text() as handle:
            if self._first_line == 2:
                handle.readline()
            reader = csv.reader(handle, delimiter=self.delimiter, strict=True)
            next(reader)  # the header, checked already
            offset = self._first_line - 1
            previous = reader.line_num
            rows: list[list[str]] = []
            lines: list[int] = []
            errors: list[ParseError] = []
            fatal = False
            chunk_rows = self.chunk_rows
            while not fatal:
                try:
                    for row in reader:
                        start = previous + 1
                        previous = reader.line_num
                        if len(row) == width:
                            rows.append(row)
                            lines.append(start + offset)
                            if len(rows) >= chunk_rows:
                                yield self._chunk(rows, lines, errors, keys, handle)
                                rows, lines, errors = [], [], []
                                if progress:
                                    progress(handle.buffer.tell())
                        elif any(cell.strip() for cell in row):
                            self.rows_read += 1
                            errors.append(
                                ParseError(
                                    start + offset,
                                    "",
                                    _field_count_message(width, len(row), free_text, separator),
                                )
                            )
                            if len(errors) >= chunk_rows:  # a file of bad rows: stay bounded
                                yield self._chunk(rows, lines, errors, keys, handle)
                                rows, lines, errors = [], [], []
                    break
                except csv.Error as error:
                    start = previous + 1
                    previous = reader.line_num
                    self.rows_read += 1
                    message, fatal = _tokenising_message(
                        str(error), start + offset, previous + offset
                    )
                    errors.append(ParseError(start + offset, "", message))
            if rows or errors:
                yield self._chunk(rows, lines, errors, keys, handle)
            if progress:
                progress(self.size)
        if self.rows_read == 0:
            yield Chunk(
                _empty_frame(),
                [ParseError(self._first_line, "", _("the file has a header but no data rows"))],
                0,
                self.size,
            )

    # ----------------------------------------------------------------- validating

    def _chunk(self, rows, lines, errors, keys: KeyTracker, handle) -> Chunk:
        """Turn raw rows into a typed DataFrame of the valid ones, plus their errors."""
        count = len(rows)
        line = np.asarray(lines, dtype=np.int64)
        if count:
            width = len(self.columns)
            # fromiter over the flattened rows skips numpy's nested-sequence discovery.
            cells = np.fromiter(
                itertools.chain.from_iterable(rows), dtype=object, count=count * width
            ).reshape(count, width)
            blank = cells[:, 0] == ""
            if blank.any():  # Excel's trailing ",,,," lines
                blank[blank] = (cells[blank] == "").all(axis=1)
            if blank.any():
                cells, line = cells[~blank], line[~blank]
                count = len(line)
        self.rows_read += count
        if not count:
            return Chunk(_empty_frame(), by_line(errors), self.rows_read, _tell(handle))
        bad = np.zeros(count, dtype=bool)
        found: list[tuple[int, int, str, str]] = []  # (row, column position, column, message)
        out: dict[str, object] = {}
        for position, name in enumerate(self.columns):
            spec = self.format.field(name) or Field(name, "number", required=False)
            raw = np.ascontiguousarray(cells[:, position])
            problems = self._convert(spec, raw, out)
            for index, message in problems.items():
                found.append((index, position, name, message))
        for spec in self.format.fields:
            if spec.name not in out and spec.kind != "datetime":
                out[spec.name] = _missing_column(spec, count)
        found.extend(self._row_rules(out, count, {(item[0], item[2]) for item in found}))
        for index, *_rest in found:
            bad[index] = True
        key_problems = keys.check(out, line, bad)
        for index, message in key_problems.items():
            bad[index] = True
            found.append((index, -1, self.format.key[0], message))
        chunk_errors = list(errors)
        chunk_errors.extend(
            ParseError(int(line[index]), column, message)
            for index, _position, column, message in sorted(
                found, key=lambda item: (item[0], item[1])
            )
        )
        # Object columns stay object: pandas would otherwise copy them into its string dtype.
        frame = pd.DataFrame(
            {
                name: pd.Series(values, dtype=object) if values.dtype == object else values
                for name, values in out.items()
            }
        )
        frame["line"] = line
        if bad.any():
            frame = frame.loc[~bad].reset_index(drop=True)
        return Chunk(frame, by_line(chunk_errors), self.rows_read, _tell(handle))

    def _convert(self, spec: Field, raw: np.ndarray, out: dict) -> dict[int, str]:
        """Validate and convert one column into ``out``; returns ``{row: message}``."""
        problems: dict[int, str] = {}
        if spec.kind == "number":
            values, problems = parse_numbers(raw, self.french)
            empty = np.isnan(values)
            out[spec.name] = values
        elif spec.kind in ("date", "datetime"):
            instants, has_time, problems = parse_datetimes(raw, self.french)
            empty = np.isnat(instants)
            for index in problems:
                empty[index] = False
            if spec.kind == "date":
                out[spec.name] = instants.astype("datetime64[D]").astype("datetime64[s]")
            else:
                out[spec.date_name] = instants.astype("datetime64[D]").astype("datetime64[s]")
                out[spec.name] = np.where(has_time, instants, np.datetime64("NaT", "us"))
        else:
            # Keys and free text hardly repeat: handle them whole rather than value by value.
            distinct = self.format.key == (spec.name,) or (
                spec.kind == "text" and not spec.not_empty
            )
            values, empty, problems = _convert_text(spec, raw, distinct)
            out[spec.name] = values
        if spec.not_empty and empty.any():
            message = _(REQUIRED_BUT_EMPTY)
            for index in np.flatnonzero(empty):
                problems.setdefault(int(index), message)
        return problems

    def _row_rules(
        self, out: dict, count: int, refused: set[tuple[int, str]]
    ) -> list[tuple[int, int, str, str]]:
        """Rules across columns of one row (``refused``: the cells already found invalid)."""
        found = []
        if self.format.kind == "signals":
            found.extend(self._threshold_rules(out))
        if self.format.kind == "targets" and "target" in self.columns:
            # A row may set the scale alone; otherwise it sets a target.
            sets_scale = ~np.isnan(out["min"]) | ~np.isnan(out["max"])
            position = self.columns.index("target")
            message = _(REQUIRED_BUT_EMPTY)
            for index in np.flatnonzero(np.isnan(out["target"]) & ~sets_scale):
                cells = {(int(index), name) for name in ("target", "min", "max")}
                if not cells & refused:
                    found.append((int(index), position, "target", message))
        if self.format.kind == "adoptions" and "adopted_on" in self.columns:
            status = out["status"]
            missing = np.isnat(out["adopted_on"]) & (status == AdoptionStatus.IMPLEMENTED.value)
            position = self.columns.index("adopted_on")
            message = _("required when status is implemented")
            for index in np.flatnonzero(missing):
                found.append((int(index), position, "adopted_on", message))
        elif self.format.kind == "adoptions":
            implemented = out["status"] == AdoptionStatus.IMPLEMENTED.value
            message = _("required when status is implemented (add an adopted_on column)")
            for index in np.flatnonzero(implemented):
                found.append((int(index), len(self.columns), "adopted_on", message))
        return found

    def _threshold_rules(self, out: dict) -> list[tuple[int, int, str, str]]:
        """signals.csv: the threshold's range depends on its kind."""
        found = []
        position = self.columns.index("threshold")
        threshold, kind = out["threshold"], out["threshold_kind"]
        for index in np.flatnonzero(np.isfinite(threshold)):
            problem = threshold_problem(str(kind[index]), float(threshold[index]))
            if problem:
                found.append((int(index), position, "threshold", problem))
        return found


def _tell(handle) -> int:
    return handle.buffer.tell()


def _empty_frame() -> pd.DataFrame:
    return pd.DataFrame({"line": np.zeros(0, dtype=np.int64)})


def _missing_column(spec: Field, count: int) -> np.ndarray:
    """Values for a column absent from the header: its default, or missing."""
    if spec.kind == "number":
        return np.full(count, np.nan)
    if spec.kind == "date":
        return np.full(count, np.datetime64("NaT"), dtype="datetime64[s]")
    if spec.kind == "codes":
        return np.full(count, None, dtype=object)
    return np.full(count, spec.default, dtype=object)


def _convert_text(
    spec: Field, raw: np.ndarray, distinct_values: bool
) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
    """Text-like columns: stripped strings (None when empty), choices and lists checked.

    ``distinct_values`` marks columns where nearly every value differs (comments, the key):
    those are handled with vectorised string methods; the others (unit_id, status...) repeat
    a lot, so each distinct value is checked once.
    """
    if distinct_values and spec.kind in ("text", "code"):
        return _convert_distinct_text(spec, raw)
    problems: dict[int, str] = {}
    codes, uniques = pd.factorize(raw)
    distinct = np.empty(len(uniques), dtype=object)
    unique_problems: dict[int, str] = {}
    for position, value in enumerate(uniques):
        message = None
        text = value.strip()
        if not text:
            text = spec.default
        elif spec.kind == "choice":
            text = text.lower()
            if text not in spec.choices:
                message = _(
                    "%(value)s is not one of %(choices)s",
                    value=quote(value),
                    choices=", ".join(spec.choices),
                )
        elif spec.kind == "boolean":
            word = text.lower()
            if word in TRUE_WORDS:
                text = True
            elif word in FALSE_WORDS:
                text = False
            else:
                message = _(
                    "%(value)s is not a yes/no value (true/false, yes/no, 1/0)", value=quote(value)
                )
        elif spec.kind == "codes":
            parts = tuple(dict.fromkeys(part.strip() for part in text.split(";") if part.strip()))
            if spec.max_length and any(len(part) > spec.max_length for part in parts):
                message = _("an item is longer than %(max)d characters", max=spec.max_length)
            text = parts or None
        elif spec.max_length and len(text) > spec.max_length:
            message = _(
                "longer than %(max)d characters: %(value)s",
                max=spec.max_length,
                value=quote(value),
            )
        elif spec.kind == "text":
            text = text.replace("\r\n", "\n")
        if message:
            unique_problems[position] = message
        else:
            distinct[position] = text
    values = distinct[codes] if len(codes) else np.empty(0, dtype=object)
    empty = np.asarray(pd.isna(values), dtype=bool)
    if unique_problems:
        bad_positions = np.fromiter(unique_problems, dtype=np.int64)
        for index in np.flatnonzero(np.isin(codes, bad_positions)):
            problems[int(index)] = unique_problems[int(codes[index])]
            empty[index] = False
    return values, empty, problems


def _convert_distinct_text(
    spec: Field, raw: np.ndarray
) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
    """Keys are stripped; free text (comments) is kept as written, with CRLF made LF."""
    if spec.kind == "text":
        values = raw.copy()
        # Excel writes CRLF inside quoted cells of a CRLF file. One join finds out cheaply
        # whether any cell of the chunk holds a carriage return.
        if "\r" in "".join(values):
            values[:] = [value.replace("\r\n", "\n") for value in values]
    else:
        values = np.empty(len(raw), dtype=object)
        values[:] = [value.strip() for value in raw]
    lengths = np.fromiter(map(len, values), dtype=np.int64, count=len(values))
    empty = lengths == 0
    values[empty] = None
    problems: dict[int, str] = {}
    if spec.max_length:
        for index in np.flatnonzero(lengths > spec.max_length):
            problems[int(index)] = _(
                "longer than %(max)d characters: %(value)s",
                max=spec.max_length,
                value=quote(raw[index]),
            )
    return values, empty, problems


# A row with too many or too few fields: (too many and the file has free text, too many,
# too few) for each separator, whole sentences so that each language can word them.
FIELD_COUNT_MESSAGES = {
    "comma": (
        N_(
            "expected %(expected)d fields, found %(found)d: an unquoted comma in a comment? Put "
            "text holding a comma in double quotes"
        ),
        N_("expected %(expected)d fields, found %(found)d: an extra comma?"),
        N_("expected %(expected)d fields, found %(found)d: a missing comma or a cut-off line?"),
    ),
    "semicolon": (
        N_(
            "expected %(expected)d fields, found %(found)d: an unquoted semicolon in a comment? "
            "Put text holding a semicolon in double quotes"
        ),
        N_("expected %(expected)d fields, found %(found)d: an extra semicolon?"),
        N_("expected %(expected)d fields, found %(found)d: a missing semicolon or a cut-off line?"),
    ),
}


def _field_count_message(expected: int, found: int, free_text: bool, separator: str) -> str:
    in_text, extra, missing = FIELD_COUNT_MESSAGES[separator]
    message = (in_text if free_text else extra) if found > expected else missing
    return _(message, expected=expected, found=found)


def _tokenising_message(error: str, start: int, end: int) -> tuple[str, bool]:
    """A helpful message for a ``csv`` error, and whether reading can go on after it."""
    if "field larger than field limit" in error:
        return (
            _(
                "a field is longer than %(limit)s characters: probably a quote opened on this "
                "line never closes (the rest of the file was read as one field)",
                limit=format_number(MAX_FIELD_CHARS),
            ),
            True,
        )
    if "unexpected end of data" in error:
        return (
            _(
                "a quote opened on this line never closes: lines %(start)d-%(end)d (the rest of "
                "the file) were read as one field",
                start=start,
                end=end,
            ),
            True,
        )
    if "expected after" in error:
        return (
            _(
                "a quoted field must end with a quote followed by a separator; a quote inside a "
                'quoted field is written twice ("")'
            ),
            False,
        )
    return _("unreadable CSV: %(error)s", error=error), False


class KeyTracker:
    """Finds duplicate keys within a file, across chunks, in a few bytes per row.

    Keys are kept as 64-bit hashes (sorted, with the line of their first occurrence) rather
    than strings, so a 200 MB file does not keep every key in memory. Two different keys
    sharing a hash (odds about n²/2⁶⁵, i.e. 1 in 10⁷ for a million rows) would be reported as
    a duplicate.
    """

    def __init__(self, key: tuple[str, ...]) -> None:
        self.key = key
        self.hashes = np.zeros(0, dtype=np.int64)
        self.lines = np.zeros(0, dtype=np.int64)

    def check(self, out: dict, line: np.ndarray, bad: np.ndarray) -> dict[int, str]:
        """``{row: message}`` for rows whose key appeared before; rows already bad are skipped."""
        columns = [out[name] for name in self.key]
        candidates = np.flatnonzero(~bad)
        if len(columns) == 1:
            keys = columns[0][candidates]
        else:
            keys = zip(*(_hashable(column[candidates]) for column in columns), strict=True)
        hashes = np.fromiter(map(hash, keys), dtype=np.int64, count=len(candidates))
        first_line = np.zeros(len(candidates), dtype=np.int64)
        duplicate = np.zeros(len(candidates), dtype=bool)
        # Sorted lookups touch the seen keys in order; the positions serve the insert below.
        order = np.argsort(hashes)
        sorted_hashes = hashes[order]
        at = np.searchsorted(self.hashes, sorted_hashes)
        if len(self.hashes):
            found = self.hashes[at.clip(max=len(self.hashes) - 1)] == sorted_hashes
            duplicate[order[found]] = True
            first_line[order[found]] = self.lines[at[found]]
        within = pd.Series(hashes).duplicated(keep="first").to_numpy() & ~duplicate
        if within.any():
            by_hash = pd.Series(line[candidates]).groupby(hashes)
            first_line[within] = by_hash.transform("first").to_numpy()[within]
            duplicate |= within
        fresh = ~duplicate[order]
        if fresh.any():
            # Insert the new keys in place (linear) rather than re-sorting everything.
            self.hashes = np.insert(self.hashes, at[fresh], sorted_hashes[fresh])
            self.lines = np.insert(self.lines, at[fresh], line[candidates][order][fresh])
        return {
            int(candidates[offset]): self._message(
                columns, int(candidates[offset]), int(first_line[offset])
            )
            for offset in np.flatnonzero(duplicate)
        }

    def _message(self, columns, index: int, first_line: int) -> str:
        shown = ", ".join(_show_key_part(column[index]) for column in columns)
        names = ", ".join(self.key)
        return _(
            "duplicate %(names)s %(values)s (first on line %(line)d)",
            names=names,
            values=shown,
            line=first_line,
        )


def _hashable(column: np.ndarray) -> np.ndarray:
    """Dates as integers (hashable and equal for equal days), other values as they are."""
    if column.dtype.kind == "M":
        return column.astype("datetime64[s]").astype(np.int64)
    return column


def _show_key_part(value) -> str:
    if isinstance(value, np.datetime64):
        return str(value.astype("datetime64[D]"))
    return quote(str(value))
