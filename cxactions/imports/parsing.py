"""Reading import CSV files: encoding, dialect, tokenising and validation, one chunk at a time.

Pure on purpose (no Flask, no SQLAlchemy): the CLI, the upload page, the tests and the
benchmark all read files through ``ImportFile``. A file of any size is streamed: memory holds
one chunk of rows (``chunk_rows``) plus a few bytes per row for the duplicate-key check.

Errors are ``ParseError(line, column, message)`` where ``line`` is the physical line in the file
(the header is line 1; a record whose quoted comment spans lines is reported on the line where
it starts).
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
import itertools
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from cxactions.foundations.scales import MAX_MAGNITUDE, number_problem
from cxactions.foundations.vocabulary import (
    AdoptionStatus,
    MetricKind,
    SignalDirection,
    SolutionKind,
    SolutionStatus,
    ThresholdKind,
    threshold_problem,
)

KINDS = (
    "units",
    "challenges",
    "solutions",
    "responses",
    "operations",
    "adoptions",
    "signals",
    "targets",
)

# ``csv``'s own limit; a longer field is nearly always a quote that never closes.
MAX_FIELD_CHARS = csv.field_size_limit()
ENCODING_BLOCK_BYTES = 1 << 20
RE_SAVE_HINT = "re-save it as 'CSV UTF-8 (Comma delimited)' in Excel (or choose UTF-8 in your editor's Save As)"


# --------------------------------------------------------------------------- file formats


@dataclass(frozen=True)
class Field:
    """One column of an import format.

    ``kind`` is one of ``code`` (an identifier), ``text``, ``number``, ``date``, ``datetime``
    (date or date-time; ``date_name`` receives the date written in it), ``choice``,
    ``codes`` (a ``;``-separated list) and ``boolean`` (true/false, yes/no, 1/0; in French
    exports also vrai/faux, oui/non).
    """

    name: str
    kind: str = "text"
    required: bool = True  # the column must be in the header
    not_empty: bool = False  # every cell must hold a value
    max_length: int | None = None
    choices: tuple[str, ...] = ()
    default: str | None = None
    date_name: str | None = None


@dataclass(frozen=True)
class FileFormat:
    """The columns of one import kind and the columns that identify a row."""

    kind: str
    fields: tuple[Field, ...]
    key: tuple[str, ...]
    # responses.csv: every column not named below is a numeric driver score.
    extra_numeric: bool = False
    # A sentence for the upload page, where the columns alone do not say enough.
    note: str = ""

    def field(self, name: str) -> Field | None:
        return next((item for item in self.fields if item.name == name), None)


def _values(enum_class) -> tuple[str, ...]:
    return tuple(member.value for member in enum_class)


FORMATS: dict[str, FileFormat] = {
    "units": FileFormat(
        "units",
        (
            Field("unit_id", "code", not_empty=True, max_length=64),
            Field("name", "text", not_empty=True, max_length=200),
            Field("parent_id", "code", required=False, max_length=64),
            Field("kind", "code", required=False, max_length=40),  # a free label: store, region
        ),
        key=("unit_id",),
    ),
    "challenges": FileFormat(
        "challenges",
        (
            Field("challenge_id", "code", not_empty=True, max_length=64),
            Field("name", "text", not_empty=True, max_length=200),
            Field("parent_id", "code", required=False, max_length=64),
            Field("description", "text", required=False),
            Field("keywords", "codes", required=False, max_length=200),
        ),
        key=("challenge_id",),
    ),
    "solutions": FileFormat(
        "solutions",
        (
            Field("solution_id", "code", not_empty=True, max_length=64),
            Field("title", "text", not_empty=True, max_length=200),
            Field("kind", "choice", not_empty=True, choices=_values(SolutionKind)),
            Field("description", "text", required=False),
            Field("challenge_ids", "codes", required=False, max_length=64),
            Field(
                "status",
                "choice",
                required=False,
                choices=_values(SolutionStatus),
                default=SolutionStatus.APPROVED.value,
            ),
        ),
        key=("solution_id",),
    ),
    "responses": FileFormat(
        "responses",
        (
            Field("response_id", "code", not_empty=True, max_length=100),
            Field("unit_id", "code", not_empty=True, max_length=64),
            Field("responded_at", "datetime", not_empty=True, date_name="responded_on"),
            Field("overall", "number", not_empty=True),
            Field("comment", "text", required=False),
        ),
        key=("response_id",),
        extra_numeric=True,
        note=(
            "overall and every driver score must lie on its metric's scale: 0–10 unless a CX "
            "lead set another on the metrics page or in targets.csv (min, max)."
        ),
    ),
    "operations": FileFormat(
        "operations",
        (
            Field("unit_id", "code", not_empty=True, max_length=64),
            Field("date", "date", not_empty=True),
            Field("metric", "code", not_empty=True, max_length=64),
            Field("value", "number", not_empty=True),
        ),
        key=("unit_id", "date", "metric"),
        note=(
            "A new metric is created unbounded; a value must lie on its metric's scale when a "
            "CX lead set one (metrics page, or targets.csv min and max)."
        ),
    ),
    "adoptions": FileFormat(
        "adoptions",
        (
            Field("unit_id", "code", not_empty=True, max_length=64),
            Field("solution_id", "code", not_empty=True, max_length=64),
            Field("adopted_on", "date", required=False),
            Field("challenge_id", "code", required=False, max_length=64),
            Field(
                "status",
                "choice",
                required=False,
                choices=_values(AdoptionStatus),
                default=AdoptionStatus.IMPLEMENTED.value,
            ),
        ),
        key=("unit_id", "solution_id"),
    ),
    "signals": FileFormat(
        "signals",
        (
            Field("challenge_id", "code", not_empty=True, max_length=64),
            Field("metric", "code", not_empty=True, max_length=64),
            Field("direction", "choice", not_empty=True, choices=_values(SignalDirection)),
            # A threshold means nothing without its kind: an absent column is peer_sd too.
            Field(
                "threshold_kind",
                "choice",
                required=False,
                choices=_values(ThresholdKind),
                default=ThresholdKind.PEER_SD.value,
            ),
            Field("threshold", "number", not_empty=True),
        ),
        key=("challenge_id", "metric", "direction"),
        note=(
            "The challenge shows at a unit when the metric is below (or above) the threshold: "
            "a fixed value (absolute), a number of peer standard deviations from the peers' "
            "mean (peer_sd, more than 0), or the worst percentage of peer units "
            "(peer_percentile, between 0 and 100). The metric must already exist: survey "
            "driver columns of responses.csv, metrics of operations.csv, or overall."
        ),
    ),
    "targets": FileFormat(
        "targets",
        (
            Field("metric", "code", not_empty=True, max_length=64),
            # Required, except on a row that sets the scale (min or max) only.
            Field("target", "number"),
            Field("label", "text", required=False, max_length=200),
            Field("higher_is_better", "boolean", required=False),
            Field("min", "number", required=False),
            Field("max", "number", required=False),
            Field("kind", "choice", required=False, choices=_values(MetricKind)),
        ),
        key=("metric",),
        note=(
            "Sets the target (and optionally the label, direction and scale) of metrics that "
            "already exist: survey driver columns of responses.csv, metrics of operations.csv, "
            "or overall. An empty label, higher_is_better, min or max leaves the stored value "
            "as it is; the target may be empty on a row that sets min or max. min and max are "
            "the metric's scale: imported values outside it are refused (survey scores start on "
            "0–10, operational inputs unbounded). kind (driver or operational) declares a metric "
            "that does not exist yet, so that its scale is set before its data comes; overall "
            "can always be named. higher_is_better: true/false, yes/no or 1/0."
        ),
    ),
}

TRUE_WORDS = frozenset({"true", "yes", "1", "vrai", "oui"})
FALSE_WORDS = frozenset({"false", "no", "0", "faux", "non"})

METRIC_CODE = re.compile(r"[a-z][a-z0-9_]{0,63}")


# --------------------------------------------------------------------------- results


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
            self._kept = _by_line(self._kept)[: self.limit]

    def extend(self, errors: list[ParseError]) -> None:
        for error in errors:
            self.add(error)

    @property
    def first(self) -> list[ParseError]:
        return _by_line(self._kept)[: self.limit]

    def __bool__(self) -> bool:
        return self.count > 0


# --------------------------------------------------------------------------- encoding


def _plausible_cp1252_bytes() -> frozenset[int]:
    """Windows-1252 bytes that decode to letters or punctuation of English or French text."""
    punctuation = set("€‚„…‘’“”•–—™‹›«»°£§©®·¡¿ªº±×÷²³¼½¾µ¢¥´\u00a0")
    allowed = set()
    for byte in range(0x80, 0x100):
        try:
            char = bytes([byte]).decode("cp1252")
        except UnicodeDecodeError:  # 0x81, 0x8D, 0x8F, 0x90, 0x9D are undefined
            continue
        latin_letter = "\u00c0" <= char <= "\u00ff" and char.isalpha()
        if latin_letter or char in punctuation or char in "ŒœŸ":
            allowed.add(byte)
    return frozenset(allowed)


PLAUSIBLE_CP1252 = _plausible_cp1252_bytes()
ASCII_BYTES = bytes(range(0x80))
# A well-formed UTF-8 multi-byte sequence: Windows-1252 French text practically never holds one.
UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


@dataclass(frozen=True)
class EncodingVerdict:
    """How to decode a file: ``encoding`` (None when refused), a notice, or the refusal."""

    encoding: str | None
    notice: str | None = None
    error: ParseError | None = None


def _blocks(handle) -> Iterator[bytes]:
    """Blocks of about 1 MB that end at a line end, so no character or line is split."""
    while True:
        block = handle.read(ENCODING_BLOCK_BYTES)
        if not block:
            return
        if not block.endswith(b"\n"):
            block += handle.readline()
        yield block


def detect_encoding(path: str | os.PathLike) -> EncodingVerdict:
    """Stream the file once: UTF-8 (with or without BOM), certain Windows-1252, or a refusal."""
    with open(path, "rb") as handle:
        head = handle.read(4)
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return EncodingVerdict(None, error=ParseError(1, "", _utf16_message()))
        if head.startswith(b"PK\x03\x04"):
            return EncodingVerdict(
                None,
                error=ParseError(
                    1,
                    "",
                    "this is an Excel workbook (.xlsx), not a CSV file: open it in Excel and "
                    "save it as 'CSV UTF-8 (Comma delimited)'",
                ),
            )
        handle.seek(0)
        lines_before = 0
        saw_utf8_text = False
        for block in _blocks(handle):
            nul = block.find(b"\x00")
            if nul >= 0:
                line = lines_before + block.count(b"\n", 0, nul) + 1
                if block.count(b"\x00") * 4 > len(block):
                    return EncodingVerdict(None, error=ParseError(line, "", _utf16_message()))
                message = "binary data (a NUL byte): this is not a text CSV file"
                return EncodingVerdict(None, error=ParseError(line, "", message))
            if not block.isascii():
                try:
                    block.decode("utf-8")
                except UnicodeDecodeError as error:
                    line = lines_before + block.count(b"\n", 0, error.start) + 1
                    bad_byte = block[error.start]
                    mixed = saw_utf8_text or not block[: error.start].isascii()
                    return _not_utf8(handle, line, bad_byte, mixed)
                saw_utf8_text = True
            lines_before += block.count(b"\n")
    return EncodingVerdict("utf-8-sig")


def _utf16_message() -> str:
    return "the file is UTF-16 encoded (Excel's 'Unicode Text'), not UTF-8: " + RE_SAVE_HINT


def _not_utf8(handle, line: int, bad_byte: int, mixed: bool) -> EncodingVerdict:
    """Decide between a certain Windows-1252 reading and a refusal, reading the file again."""
    if mixed:
        message = (
            f"byte 0x{bad_byte:02X} is not UTF-8, yet earlier lines are UTF-8: the file mixes "
            f"two encodings; {RE_SAVE_HINT}"
        )
        return EncodingVerdict(None, error=ParseError(line, "", message))
    handle.seek(0)
    lines_before = 0
    for block in _blocks(handle):
        high = set(block.translate(None, ASCII_BYTES))
        doubtful = high - PLAUSIBLE_CP1252
        if doubtful:
            first = min(block.find(bytes([byte])) for byte in doubtful)
            at = lines_before + block.count(b"\n", 0, first) + 1
            byte = block[first]
            try:
                meaning = f"'{bytes([byte]).decode('cp1252')}'"
            except UnicodeDecodeError:
                meaning = "undefined"
            message = (
                f"the file is not UTF-8 (first at line {line}, byte 0x{bad_byte:02X}) and its "
                f"encoding is uncertain: byte 0x{byte:02X} would be {meaning} in Windows-1252, "
                f"which is unlikely in English or French text; {RE_SAVE_HINT}"
            )
            return EncodingVerdict(None, error=ParseError(at, "", message))
        sequence = UTF8_SEQUENCE.search(block)
        if sequence:
            at = lines_before + block.count(b"\n", 0, sequence.start()) + 1
            message = (
                f"the file is not UTF-8 (line {line}) but line {at} holds UTF-8 text: it mixes "
                f"two encodings; {RE_SAVE_HINT}"
            )
            return EncodingVerdict(None, error=ParseError(at, "", message))
        lines_before += block.count(b"\n")
    notice = (
        f"the file is not UTF-8 (byte 0x{bad_byte:02X} on line {line}); it was read as "
        "Windows-1252 (Excel's 'CSV (Comma delimited)'). Next time save it as 'CSV UTF-8'."
    )
    return EncodingVerdict("cp1252", notice=notice)


# --------------------------------------------------------------------------- values


NUMBER_DTYPE = np.float64
ISO_LOOSE = re.compile(
    r"\s*(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)?)?\s*"
)
FRENCH_DATE = re.compile(
    r"\s*(\d{1,2})/(\d{1,2})/(\d{4})(?:\s+(\d{1,2})[:h](\d{2})(?::(\d{2}))?)?\s*"
)


def _quote(value: str, limit: int = 40) -> str:
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
            expected = "dd/mm/yyyy or YYYY-MM-DD" if french else "ISO 8601: YYYY-MM-DD"
            problems[index] = f"not a date ({expected}, optionally with a time): {_quote(value)}"
            continue
        lengths[index] = len(canonical[index])
    instants = pd.to_datetime(
        pd.Series(canonical, dtype=object), format="ISO8601", errors="coerce"
    ).to_numpy(dtype="datetime64[us]")
    for index in np.flatnonzero(np.isnat(instants) & (lengths > 0)):
        try:
            date.fromisoformat(canonical[index][:10])
        except ValueError:
            problems[index] = f"impossible date: {_quote(values[index])}"
        else:
            problems[index] = f"impossible time: {_quote(values[index])}"
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
        if np.isfinite(numbers[index]):
            problems[int(index)] = f"{_quote(value)} is {number_problem(numbers[index])}"
        else:  # also 'nan', 'inf' and '1e999'
            problems[int(index)] = f"not a number: {_quote(value)}"
        numbers[index] = np.nan
    return numbers, problems


# --------------------------------------------------------------------------- the file


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
            item.errors.append(ParseError(1, "", "the file is empty (no header line)"))
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
                message = "the file is empty (no header line)"
                if handle.read(1):
                    message = "the first line is blank: the header must be on line 1"
                self.errors.append(ParseError(self._first_line, "", message))
                return
            if "\t" in first and first.count("\t") > first.count(self.delimiter):
                self.errors.append(
                    ParseError(
                        self._first_line,
                        "",
                        "the header is tab-separated; save the file as 'CSV UTF-8 (Comma "
                        "delimited)'",
                    )
                )
                return
            header = next(csv.reader([first], delimiter=self.delimiter, strict=True), [])
        self.french = self.delimiter == ";"
        if self.french:
            self.notices.append(
                "read as a French spreadsheet export: ';' separators, decimal commas, "
                "dd/mm/yyyy dates"
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
                        f"column {position}",
                        "the column has no name (a trailing separator? delete the empty column)",
                    )
                )
                continue
            if name in seen:
                self.errors.append(
                    ParseError(
                        line, name, f"duplicate column (columns {seen[name]} and {position})"
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
                            "a driver column name must be lower-case letters, digits and "
                            "underscores, starting with a letter (e.g. 'wait_time_rating')",
                        )
                    )
                continue
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            self.errors.append(
                ParseError(line, name, f"unknown column ({hint}expected: {', '.join(known)})")
            )
        for item in fmt.fields:
            if item.required and item.name not in seen:
                self.errors.append(ParseError(line, item.name, "required column is missing"))
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
                [ParseError(self._first_line, "", "the file has a header but no data rows")],
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
            return Chunk(_empty_frame(), _by_line(errors), self.rows_read, _tell(handle))
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
        found.extend(self._row_rules(out, count, {(index, name) for index, _, name, _ in found}))
        for index, _, _, _ in found:
            bad[index] = True
        key_problems = keys.check(out, line, bad)
        for index, message in key_problems.items():
            bad[index] = True
            found.append((index, -1, self.format.key[0], message))
        chunk_errors = list(errors)
        chunk_errors.extend(
            ParseError(int(line[index]), column, message)
            for index, _, column, message in sorted(found, key=lambda item: (item[0], item[1]))
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
        return Chunk(frame, _by_line(chunk_errors), self.rows_read, _tell(handle))

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
        if spec.not_empty:
            for index in np.flatnonzero(empty):
                problems.setdefault(int(index), "required, but empty")
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
            for index in np.flatnonzero(np.isnan(out["target"]) & ~sets_scale):
                cells = {(int(index), name) for name in ("target", "min", "max")}
                if not cells & refused:
                    found.append((int(index), position, "target", "required, but empty"))
        if self.format.kind == "adoptions" and "adopted_on" in self.columns:
            status = out["status"]
            missing = np.isnat(out["adopted_on"]) & (status == AdoptionStatus.IMPLEMENTED.value)
            position = self.columns.index("adopted_on")
            for index in np.flatnonzero(missing):
                found.append(
                    (int(index), position, "adopted_on", "required when status is implemented")
                )
        elif self.format.kind == "adoptions":
            implemented = out["status"] == AdoptionStatus.IMPLEMENTED.value
            for index in np.flatnonzero(implemented):
                found.append(
                    (
                        int(index),
                        len(self.columns),
                        "adopted_on",
                        "required when status is implemented (add an adopted_on column)",
                    )
                )
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


def _by_line(errors: list[ParseError]) -> list[ParseError]:
    """Errors in line order; within a line, in the order found (the columns' order)."""
    return sorted(errors, key=lambda error: error.line)


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
                message = f"{_quote(value)} is not one of {', '.join(spec.choices)}"
        elif spec.kind == "boolean":
            word = text.lower()
            if word in TRUE_WORDS:
                text = True
            elif word in FALSE_WORDS:
                text = False
            else:
                message = f"{_quote(value)} is not a yes/no value (true/false, yes/no, 1/0)"
        elif spec.kind == "codes":
            parts = tuple(dict.fromkeys(part.strip() for part in text.split(";") if part.strip()))
            if spec.max_length and any(len(part) > spec.max_length for part in parts):
                message = f"an item is longer than {spec.max_length} characters"
            text = parts or None
        elif spec.max_length and len(text) > spec.max_length:
            message = f"longer than {spec.max_length} characters: {_quote(value)}"
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
            problems[int(index)] = f"longer than {spec.max_length} characters: {_quote(raw[index])}"
    return values, empty, problems


def _field_count_message(expected: int, found: int, free_text: bool, separator: str) -> str:
    if found > expected:
        hint = (
            f"an unquoted {separator} in a comment? Put text holding a {separator} in double quotes"
            if free_text
            else f"an extra {separator}?"
        )
    else:
        hint = f"a missing {separator} or a cut-off line?"
    return f"expected {expected} fields, found {found}: {hint}"


def _tokenising_message(error: str, start: int, end: int) -> tuple[str, bool]:
    """A helpful message for a ``csv`` error, and whether reading can go on after it."""
    if "field larger than field limit" in error:
        return (
            f"a field is longer than {MAX_FIELD_CHARS:,} characters: probably a quote opened on "
            f"this line never closes (the rest of the file was read as one field)",
            True,
        )
    if "unexpected end of data" in error:
        return (
            f"a quote opened on this line never closes: lines {start}-{end} (the rest of the "
            "file) were read as one field",
            True,
        )
    if "expected after" in error:
        return (
            "a quoted field must end with a quote followed by a separator; a quote inside a "
            'quoted field is written twice ("")',
            False,
        )
    return f"unreadable CSV: {error}", False


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
        return f"duplicate {names} {shown} (first on line {first_line})"


def _hashable(column: np.ndarray) -> np.ndarray:
    """Dates as integers (hashable and equal for equal days), other values as they are."""
    if column.dtype.kind == "M":
        return column.astype("datetime64[s]").astype(np.int64)
    return column


def _show_key_part(value) -> str:
    if isinstance(value, np.datetime64):
        return str(value.astype("datetime64[D]"))
    return _quote(str(value))
