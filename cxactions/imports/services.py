"""Loading an import file into the database: one transaction, everything or nothing.

``run_import`` streams the file through ``parsing.ImportFile``, checks every reference against
the database inside the import's own transaction, writes with one bulk ``INSERT ... ON CONFLICT
DO UPDATE`` per chunk, records an ``ImportRun`` and an audit event, and commits only when every
row was valid (or, with ``skip_invalid``, writes the valid ones). The CLI and the upload page
both call it.
"""

from __future__ import annotations

import difflib
import gc
import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from cxactions.audit.services import record
from cxactions.drivers.services import survey_data_changed
from cxactions.foundations.db_types import utcnow
from cxactions.foundations.scales import default_scale, describe_scale, on_scale, scale_problem
from cxactions.foundations.versions import IMPORT_DATA, bump_data_version
from cxactions.foundations.vocabulary import MetricKind, ThresholdKind
from cxactions.imports.models import ImportRun
from cxactions.imports.parsing import (
    FORMATS,
    KINDS,
    METRIC_CODE,
    ErrorLog,
    ImportFile,
    ParseError,
)
from cxactions.library.models import Solution, solution_challenges
from cxactions.plans.models import Adoption
from cxactions.search.sync import enqueue as enqueue_search
from cxactions.surveys.aggregates import (
    OVERALL,
    default_label,
    ensure_metrics,
    refresh_unit_weeks,
)
from cxactions.surveys.models import Metric, OperationValue, Response
from cxactions.surveys.services import scale_change_problems
from cxactions.taxonomy.models import Challenge, ChallengeSignal
from cxactions.units.models import Unit

MAX_SHOWN_ERRORS = 50
# Above this many touched units, refreshing every unit-week is cheaper than a huge IN list
# (and stays under SQLite's limit on bound parameters).
MAX_UNITS_IN_REFRESH = 5_000
# SQLite page cache for the import's connection (KiB, negative per SQLite's convention):
# index pages of a million-row table stay in memory while the chunks stream in.
SQLITE_IMPORT_CACHE_KIB = 128 * 1024
UNITS_FIRST = "import units.csv first"
METRICS_FIRST = (
    "metrics come from the driver columns of responses.csv and from operations.csv: "
    "import those first"
)
# Imports that change what impact estimates are computed from (units: the comparison regions).
IMPACT_KINDS = ("units", "responses", "adoptions")
SURVEY_KINDS = ("responses", "operations")  # what the driver analysis reads


@dataclass
class ImportResult:
    """What an import did (or, for a dry run or a failure, would have done)."""

    kind: str
    filename: str
    dry_run: bool = False
    skip_invalid: bool = False
    rows_read: int = 0
    rows_valid: int = 0
    rows_inserted: int = 0
    rows_updated: int = 0
    rows_unchanged: int = 0
    errors: list[ParseError] = field(default_factory=list)
    error_count: int = 0
    notices: list[str] = field(default_factory=list)
    failure: str | None = None  # one-line reason when nothing was written
    run_id: int | None = None
    seconds: float = 0.0
    counted: bool = True  # False when a dry run cannot tell inserts from updates

    @property
    def ok(self) -> bool:
        return self.failure is None

    @property
    def rows_skipped(self) -> int:
        return self.rows_read - self.rows_valid if self.skip_invalid and self.ok else 0

    def error_lines(self, limit: int = MAX_SHOWN_ERRORS) -> list[str]:
        """``FILE:LINE: column: reason`` for the first errors, then how many more there are."""
        lines = []
        for error in self.errors[:limit]:
            where = f"{self.filename}:{error.line}: "
            lines.append(where + (f"{error.column}: " if error.column else "") + error.message)
        hidden = self.error_count - len(lines)
        if hidden > 0:
            lines.append(f"… and {hidden:,} more error{'s' if hidden > 1 else ''}")
        return lines

    def summary(self) -> str:
        """One line for the terminal or a flash message."""
        if not self.ok:
            return f"{self.filename}: {self.failure}"
        read = f"{self.rows_read:,} row{'s' if self.rows_read != 1 else ''} read"
        if self.dry_run:
            if not self.counted:
                return f"{self.filename}: dry run, {read}, all valid; nothing was written"
            return (
                f"{self.filename}: dry run, {read}, all valid: {self.rows_inserted:,} would be "
                f"inserted, {self.rows_updated:,} updated, {self.rows_unchanged:,} unchanged; "
                "nothing was written"
            )
        text = (
            f"{self.filename}: {read}: {self.rows_inserted:,} inserted, "
            f"{self.rows_updated:,} updated, {self.rows_unchanged:,} unchanged"
        )
        if self.rows_skipped:
            text += f", {self.rows_skipped:,} invalid skipped"
        return text + f" ({self.seconds:.1f} s)"


def recent_runs(session: Session, limit: int = 20) -> list[ImportRun]:
    """The latest imports, newest first."""
    return list(
        session.scalars(
            sa.select(ImportRun)
            .order_by(ImportRun.started_at.desc(), ImportRun.id.desc())
            .limit(limit)
        )
    )


class ImportAborted(Exception):
    """Raised inside the transaction to roll it back with a one-line reason."""


def run_import(
    session: Session,
    kind: str,
    path: str | os.PathLike,
    *,
    dry_run: bool = False,
    skip_invalid: bool = False,
    actor: str = "system",
    user: Any = None,
    progress: Callable[[int], None] | None = None,
    chunk_rows: int = 50_000,
    filename: str | None = None,
) -> ImportResult:
    """Import ``path`` as ``kind``; returns what happened. Commits on success only.

    ``progress(bytes_read)`` follows the file; ``filename`` names the file in error lines
    (the upload page passes the name the user chose rather than the temporary path).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown import kind {kind!r}; expected one of {', '.join(KINDS)}")
    clock = time.perf_counter()
    started_at = utcnow()
    result = ImportResult(
        kind, filename or os.path.basename(path), dry_run=dry_run, skip_invalid=skip_invalid
    )
    errors = ErrorLog(MAX_SHOWN_ERRORS)
    source = ImportFile.open(path, kind, chunk_rows=chunk_rows)
    result.notices.extend(source.notices)
    if source.errors:
        errors.extend(source.errors)
        return _finish_failed(result, errors, clock, "the file cannot be read")

    loader = LOADERS[kind](session, source, writing=not dry_run, user_id=getattr(user, "id", None))
    try:
        with _import_transaction(session, writing=not dry_run):
            loader.prepare(errors)
            for chunk in source.chunks(progress):
                errors.extend(chunk.errors)
                if not len(chunk.rows):  # a chunk of bad rows only
                    continue
                rows = loader.check(chunk.rows, errors)
                result.rows_valid += len(rows)
                if errors and not skip_invalid:
                    loader.writing = False  # keep validating, to report every bad row
                if len(rows):
                    loader.take(rows)
            result.rows_read = source.rows_read
            result.rows_valid -= loader.finish(errors, skip_invalid)
            if errors and not skip_invalid:
                raise ImportAborted(_invalid_reason(errors, result))
            if result.rows_valid == 0 and not dry_run:
                raise ImportAborted("no valid rows: nothing was written")
            result.rows_inserted = loader.inserted
            result.rows_updated = loader.updated
            result.rows_unchanged = result.rows_valid - loader.inserted - loader.updated
            result.counted = loader.counted
            if dry_run:
                raise _DryRunDone
            result.seconds = time.perf_counter() - clock
            result.run_id = _record_run(session, result, started_at, actor, user, errors)
            if loader.inserted + loader.updated:
                bump_data_version(session, IMPORT_DATA)  # figures cached in memory key on it
            if kind in IMPACT_KINDS and loader.inserted + loader.updated:
                bump_data_version(session)  # the cached impact estimates are stale now
            if kind in SURVEY_KINDS and loader.inserted + loader.updated:
                # The driver weights follow the survey data in the same transaction: no page
                # waits for the company-wide analysis after an import.
                survey_data_changed(session)
            if loader.search_type and loader.touched:
                # The index follows once this transaction commits (see search/sync.py).
                ids = loader.codes(loader.model.__table__)
                enqueue_search(session, loader.search_type, [ids[code] for code in loader.touched])
    except _DryRunDone:
        pass
    except ImportAborted as abort:
        return _finish_failed(result, errors, clock, str(abort))
    except (sa.exc.SQLAlchemyError, session.get_bind().dialect.dbapi.Error) as error:
        # DBAPI errors come straight from the bulk path, which bypasses SQLAlchemy.
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        return _finish_failed(result, errors, clock, f"the database refused the rows: {reason}")
    result.errors = errors.first
    result.error_count = errors.count
    result.seconds = time.perf_counter() - clock
    return result


class _DryRunDone(Exception):
    """Leaves the transaction of a dry run, which always rolls back."""


def _invalid_reason(errors: ErrorLog, result: ImportResult) -> str:
    rows = result.rows_read - result.rows_valid
    plural = "s" if errors.count > 1 else ""
    if rows > 0:
        return (
            f"{errors.count:,} error{plural} in {rows:,} of {result.rows_read:,} rows: "
            "nothing was written"
        )
    return f"{errors.count:,} error{plural}: nothing was written"


def _finish_failed(
    result: ImportResult, errors: ErrorLog, clock: float, reason: str
) -> ImportResult:
    result.failure = reason
    result.errors = errors.first
    result.error_count = errors.count
    result.rows_inserted = result.rows_updated = result.rows_unchanged = 0
    result.seconds = time.perf_counter() - clock
    return result


def _record_run(
    session: Session,
    result: ImportResult,
    started_at,
    actor: str,
    user: Any,
    errors: ErrorLog,
) -> int:
    """The ImportRun row and its audit event, in the import's own transaction."""
    summary = {
        "rows_unchanged": result.rows_unchanged,
        "rows_skipped": result.rows_skipped,
        "errors": errors.count,
        "notices": result.notices,
        "seconds": round(result.seconds, 2),
    }
    run = ImportRun(
        kind=result.kind,
        filename=result.filename[:300],
        started_at=started_at,
        finished_at=utcnow(),
        user_id=getattr(user, "id", None),
        actor=actor,
        rows_read=result.rows_read,
        rows_inserted=result.rows_inserted,
        rows_updated=result.rows_updated,
        summary=summary,
    )
    session.add(run)
    session.flush()
    record(
        session,
        f"import.{result.kind}",
        "import_run",
        run.id,
        user=user,
        actor=actor,
        details={
            "file": result.filename,
            "rows_read": result.rows_read,
            "rows_inserted": result.rows_inserted,
            "rows_updated": result.rows_updated,
            **summary,
        },
    )
    return run.id


@contextmanager
def _import_transaction(session: Session, *, writing: bool) -> Iterator[None]:
    """One transaction for the whole import: commit on success, roll back on any exception.

    On SQLite the driver opens a transaction only at the first write, so reads (the foreign
    key checks) would otherwise see a different database than the writes: BEGIN explicitly,
    IMMEDIATE when writing so that no other writer slips in between. The cyclic garbage
    collector is paused meanwhile: the chunks allocate millions of small acyclic objects and
    would trigger full collections over and over.
    """
    connection = session.connection()
    driver = connection.connection.driver_connection
    sqlite = connection.dialect.name == "sqlite"
    previous_cache = None
    if sqlite and not driver.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")
    if sqlite and writing:
        previous_cache = connection.exec_driver_sql("PRAGMA cache_size").scalar()
        connection.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_IMPORT_CACHE_KIB}")

    def restore_cache() -> None:
        if previous_cache is not None:
            connection.exec_driver_sql(f"PRAGMA cache_size = {int(previous_cache)}")

    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    except BaseException:
        restore_cache()
        session.rollback()
        raise
    else:
        restore_cache()
        session.commit()
    finally:
        if collecting:
            gc.enable()


# --------------------------------------------------------------------------- bulk writing


def _dialect_insert(session: Session, table: sa.Table):
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


def upsert(session: Session, table: sa.Table, key: list[str], update: list[str]):
    """``INSERT ... ON CONFLICT (key) DO UPDATE`` of ``update``, for rows known to be new or changed.

    Executed with a list of parameter dicts (one executemany); column defaults apply to the
    inserted rows. ON CONFLICT does not apply ``onupdate`` by itself, so ``updated_at`` is set.
    """
    statement = _dialect_insert(session, table)
    values = {name: statement.excluded[name] for name in update}
    if "updated_at" in table.c:
        values["updated_at"] = utcnow()
    return statement.on_conflict_do_update(index_elements=key, set_=values)


def upsert_statement(
    session: Session, table: sa.Table, columns: list[str], key: list[str], update: list[str]
):
    """``INSERT ... ON CONFLICT (key) DO UPDATE`` of ``update`` columns, only when they differ.

    For the bulk path (``execute_many``): rows whose values are already stored are left alone,
    so re-importing a file rewrites nothing and the driver's rowcount counts only inserted and
    changed rows.
    """
    statement = _dialect_insert(session, table).values(
        {name: sa.bindparam(name, type_=table.c[name].type) for name in columns}
    )
    if not update:
        return statement.on_conflict_do_nothing(index_elements=key)
    excluded = statement.excluded
    changes = [
        _comparable(table.c[name]).is_distinct_from(_comparable(excluded[name])) for name in update
    ]
    values = {name: excluded[name] for name in update}
    return statement.on_conflict_do_update(index_elements=key, set_=values, where=sa.or_(*changes))


def _comparable(column: sa.ColumnElement) -> sa.ColumnElement:
    # PostgreSQL's json type has no equality operator; its text is what was written.
    if isinstance(column.type, sa.JSON):
        return sa.cast(column, sa.Text)
    return column


_NAMED_PARAMETER = re.compile(r"%\((\w+)\)s")


def execute_many(session: Session, statement, rows: list[tuple], columns: list[str]) -> int:
    """Run a compiled Core statement on the DBAPI cursor for many rows; returns the rowcount.

    The fast path for millions of rows: no per-row SQLAlchemy processing, so values must be
    what the driver stores (ISO strings for dates, JSON text, plain floats). ``rows`` hold
    ``columns`` in order.
    """
    connection = session.connection()
    compiled = statement.compile(dialect=connection.dialect)
    sql = compiled.string
    if compiled.positiontup is not None:
        names = list(compiled.positiontup)
    else:  # pyformat (psycopg): switch to positional %s, remembering the order
        names = _NAMED_PARAMETER.findall(sql)
        sql = _NAMED_PARAMETER.sub("%s", sql)
    if names != columns:
        order = [columns.index(name) for name in names]
        rows = [tuple(row[index] for index in order) for row in rows]
    cursor = connection.connection.cursor()
    try:
        cursor.executemany(sql, rows)
        return max(cursor.rowcount, 0)
    finally:
        cursor.close()


def _sqlite_datetimes(values: np.ndarray) -> np.ndarray:
    """``YYYY-MM-DD HH:MM:SS.ffffff`` strings (SQLAlchemy's SQLite storage format) or None."""
    seconds = values.astype("datetime64[s]")
    text = seconds.astype("U19")
    # Swap the ISO 'T' for a space in place: the strings are fixed-width UTF-32.
    text.view(np.uint32).reshape(len(text), 19)[:, 10] = ord(" ")
    micro = (values - seconds).astype(np.int64)
    fraction = np.strings.zfill(np.where(np.isnat(values), 0, micro).astype("U6"), 6)
    out = np.strings.add(np.strings.add(text, "."), fraction).astype(object)
    out[np.isnat(values)] = None
    return out


def _iso_dates(values: np.ndarray) -> np.ndarray:
    """``YYYY-MM-DD`` strings or None."""
    out = values.astype("datetime64[D]").astype("U10").astype(object)
    out[np.isnat(values)] = None
    return out


def _python_dates(values: np.ndarray) -> list:
    return values.astype("datetime64[D]").tolist()


def _json_objects(frame: pd.DataFrame, names: list[str]) -> np.ndarray:
    """One JSON object per row of the numeric ``names`` columns, missing cells left out.

    Survey scores take few distinct values, so each row's combination of values is coded
    as one integer and each distinct combination is written once, instead of one
    ``json.dumps`` per row. Finite floats' ``repr`` is valid JSON.
    """
    count = len(frame)
    if not names:
        return np.full(count, "{}", dtype=object)
    combination = np.zeros(count, dtype=np.int64)
    radices, distinct = [], []
    for name in names:
        codes, uniques = pd.factorize(frame[name].to_numpy(dtype=np.float64))
        radix = len(uniques) + 1  # digit 0 = missing
        if radices and np.prod(radices, dtype=np.float64) * radix > 2**62:
            return _json_objects_row_by_row(frame, names)
        combination = combination * radix + (codes + 1)
        radices.append(radix)
        distinct.append(uniques.tolist())
    codes, combinations = pd.factorize(combination)
    texts = []
    for value in combinations.tolist():
        digits = []
        for radix in reversed(radices):
            value, digit = divmod(value, radix)
            digits.append(digit)
        parts = [
            f'"{name}": {values[digit - 1]!r}'
            for name, values, digit in zip(names, distinct, reversed(digits), strict=True)
            if digit
        ]
        texts.append("{" + ", ".join(parts) + "}")
    return np.array(texts, dtype=object)[codes]


def _json_objects_row_by_row(frame: pd.DataFrame, names: list[str]) -> np.ndarray:
    columns = [frame[name].to_numpy(dtype=np.float64).tolist() for name in names]
    texts = [
        "{"
        + ", ".join(
            f'"{name}": {value!r}'
            for name, value in zip(names, values, strict=True)
            if value == value  # NaN is missing
        )
        + "}"
        for values in zip(*columns, strict=True)
    ]
    return np.array(texts, dtype=object)


# --------------------------------------------------------------------------- loaders


class Loader:
    """Checks one kind's rows against the database and writes them.

    ``prepare`` runs once inside the transaction, ``check`` removes rows whose references
    are unknown (adding errors), ``take`` writes or keeps the valid rows, ``finish`` does the
    work that needs the whole file and returns how many rows it found invalid.
    """

    counted = True
    # Kinds the search index holds: their written rows are queued for the index.
    search_type: str | None = None

    def __init__(
        self, session: Session, source: ImportFile, *, writing: bool, user_id: int | None = None
    ) -> None:
        self.session = session
        self.user_id = user_id
        self.source = source
        self.writing = writing
        self.inserted = 0
        self.updated = 0
        self.touched: set[str] = set()  # codes of the rows written
        self.dialect = session.get_bind().dialect.name

    def has_column(self, name: str) -> bool:
        return name in self.source.columns

    def prepare(self, errors: ErrorLog) -> None:
        pass

    def check(self, rows: pd.DataFrame, errors: ErrorLog) -> pd.DataFrame:
        return rows

    def take(self, rows: pd.DataFrame) -> None:
        pass

    def finish(self, errors: ErrorLog, skip_invalid: bool) -> int:
        return 0

    def codes(self, table: sa.Table) -> dict[str, int]:
        return dict(self.session.execute(sa.select(table.c.code, table.c.id)).all())

    def reference(
        self,
        rows: pd.DataFrame,
        errors: ErrorLog,
        column: str,
        known: dict[str, int],
        what: str,
        *,
        optional: bool = False,
    ) -> tuple[pd.DataFrame, np.ndarray]:
        """Map ``column`` codes to ids; rows with unknown codes become errors.

        ``what`` names the file that defines the codes, for the hint.
        """
        ids = rows[column].map(known)
        unknown = ids.isna().to_numpy().copy()
        if optional:
            unknown &= rows[column].notna().to_numpy()
        lower = by_lower_case(known) if unknown.any() else {}
        for line, code in zip(
            rows["line"].to_numpy()[unknown], rows[column].to_numpy()[unknown], strict=True
        ):
            right = case_hint(code, lower)
            message = (
                unknown_by_case(column, code, right)
                if right is not None
                else f"unknown {column} '{code}' (not in the database: {what})"
            )
            errors.add(ParseError(int(line), column, message))
        keep = ~unknown
        return rows.loc[keep].reset_index(drop=True), ids.to_numpy()[keep]


# --------------------------------------------------------------------------- codes and case

CASE_RULE = "codes are unique ignoring case"


def by_lower_case(codes) -> dict[str, str]:
    """The codes keyed by their lower case, to find one written with another case."""
    return {code.lower(): code for code in codes}


def case_hint(code: str, lower: dict[str, str]) -> str | None:
    """The known code ``code`` differs from only by case, or None."""
    known = lower.get(code.lower())
    return known if known is not None and known != code else None


def unknown_by_case(column: str, code: str, known: str) -> str:
    """A reference that differs only by case from a known code: refused, never resolved."""
    return f"unknown {column} '{code}' (did you mean '{known}'? {CASE_RULE}: use '{known}')"


def exists_by_case(code: str, known: str) -> str:
    """A new code that differs only by case from an existing one."""
    return f"{code} already exists as {known} — {CASE_RULE}; use {known}"


class NewCodes:
    """New codes of a file, checked against the database and the file's earlier rows: none
    may differ only by case from another (``ZD3`` and ``zd3`` would be two units)."""

    def __init__(self, existing) -> None:
        self.existing = set(existing)
        self.existing_lower = by_lower_case(self.existing)
        self.seen: dict[str, tuple[str, int]] = {}  # lower case -> (code, line) in this file

    def check(self, rows: pd.DataFrame, errors: ErrorLog, column: str) -> pd.DataFrame:
        """The rows whose ``column`` code clashes with no other by case; errors for the rest."""
        keep = np.ones(len(rows), dtype=bool)
        for position, (line, code) in enumerate(
            zip(rows["line"].tolist(), rows[column].tolist(), strict=True)
        ):
            lower = code.lower()
            known = case_hint(code, self.existing_lower)
            first = self.seen.get(lower)
            if known is not None:
                message = exists_by_case(code, known)
            elif first is not None and first[0] != code:
                message = (
                    f"{code} differs only by case from {first[0]} on line {first[1]} — "
                    f"{CASE_RULE}; use {first[0]}"
                )
            else:
                self.seen.setdefault(lower, (code, int(line)))
                continue
            keep[position] = False
            errors.add(ParseError(int(line), column, message))
        return rows.loc[keep].reset_index(drop=True) if not keep.all() else rows


def _errors_for(
    rows: pd.DataFrame, errors: ErrorLog, mask: np.ndarray, column: str, message: str
) -> None:
    for line in rows["line"].to_numpy()[mask]:
        errors.add(ParseError(int(line), column, message))


def _same(left: Any, right: Any) -> bool:
    """Equality where None, NaN and NaT are all 'missing'."""
    left_missing = left is None or (isinstance(left, float) and np.isnan(left))
    right_missing = right is None or (isinstance(right, float) and np.isnan(right))
    if left_missing or right_missing:
        return left_missing and right_missing
    return left == right


class TreeLoader(Loader):
    """Units and challenges: a tree whose parents may come later in the same file.

    The rows are small and few, so the whole file is kept; parents are checked and cycles
    found once every row is known, then rows are upserted and parents set in a second step.
    """

    model: type
    key_column: str
    what: str
    # file column -> database column, for the plain (non-parent) values
    columns: dict[str, str]

    def prepare(self, errors: ErrorLog) -> None:
        table = self.model.__table__
        parent = table.alias("parent")
        selected = [table.c.id, table.c.code, parent.c.code.label("parent")]
        selected += [table.c[name] for name in self.columns.values()]
        query = sa.select(*selected).outerjoin(parent, parent.c.id == table.c.parent_id)
        self.existing = {row.code: row for row in self.session.execute(query)}
        self.new_codes = NewCodes(self.existing)
        self.frames: list[pd.DataFrame] = []

    def check(self, rows: pd.DataFrame, errors: ErrorLog) -> pd.DataFrame:
        return self.new_codes.check(rows, errors, self.key_column)

    def take(self, rows: pd.DataFrame) -> None:
        self.frames.append(rows)

    def values(self, rows: pd.DataFrame) -> dict[str, list]:
        return {
            target: rows[source].astype(object).where(rows[source].notna(), None).tolist()
            for source, target in self.columns.items()
            if self.has_column(source)
        }

    def finish(self, errors: ErrorLog, skip_invalid: bool) -> int:
        if not self.frames:
            return 0
        rows = pd.concat(self.frames, ignore_index=True)
        codes = rows[self.key_column].tolist()
        lines = dict(zip(codes, rows["line"].tolist(), strict=True))
        has_parent = self.has_column("parent_id")
        if has_parent:
            file_parents = dict(
                zip(
                    codes,
                    rows["parent_id"].astype(object).where(rows["parent_id"].notna(), None),
                    strict=True,
                )
            )
        else:
            file_parents = {
                code: self.existing[code].parent if code in self.existing else None
                for code in codes
            }
        parents = {code: row.parent for code, row in self.existing.items()}
        parents.update(file_parents)
        bad: set[str] = set()
        parents_lower = by_lower_case(parents)
        for code in codes:
            parent = file_parents[code]
            if parent is not None and parent not in parents:
                bad.add(code)
                right = case_hint(parent, parents_lower)
                errors.add(
                    ParseError(
                        lines[code],
                        "parent_id",
                        unknown_by_case(self.what, parent, right)
                        if right is not None
                        else f"unknown {self.what} '{parent}' (not in the database nor in "
                        "this file)",
                    )
                )
        for code, cycle in _cycles(parents, codes).items():
            bad.add(code)
            path = " → ".join([*cycle, cycle[0]])
            errors.add(ParseError(lines[code], "parent_id", f"the parents form a cycle: {path}"))
        if skip_invalid:
            # A row whose parent was skipped cannot be written either.
            changed = True
            while changed:
                changed = False
                for code in codes:
                    parent = file_parents[code]
                    if code not in bad and parent in bad and parent not in self.existing:
                        bad.add(code)
                        changed = True
                        errors.add(
                            ParseError(
                                lines[code],
                                "parent_id",
                                f"skipped because its parent '{parent}' is invalid",
                            )
                        )
        if bad and not skip_invalid:
            self.writing = False
        keep = ~rows[self.key_column].isin(bad).to_numpy()
        rows = rows.loc[keep].reset_index(drop=True)
        self.save(rows, file_parents)
        return int((~keep).sum())

    def save(self, rows: pd.DataFrame, file_parents: dict[str, str | None]) -> None:
        """Count and write the new and changed rows, then their parents."""
        values = self.values(rows)
        codes = rows[self.key_column].tolist()
        changed_rows = []
        parent_changes = []
        for position, code in enumerate(codes):
            current = self.existing.get(code)
            row_values = {name: column[position] for name, column in values.items()}
            parent = file_parents[code]
            if current is None:
                self.inserted += 1
                changed_rows.append({"code": code, **row_values})
                if parent is not None:
                    parent_changes.append((code, parent))
                continue
            differs = any(
                not _same(getattr(current, name), value) for name, value in row_values.items()
            )
            parent_differs = self.has_column("parent_id") and current.parent != parent
            if differs or parent_differs:
                self.updated += 1
            if differs:
                changed_rows.append({"code": code, **row_values})
            if parent_differs:
                parent_changes.append((code, parent))
        if not self.writing:
            return
        table = self.model.__table__
        self.touched.update(row["code"] for row in changed_rows)
        self.touched.update(code for code, _ in parent_changes)
        if changed_rows:
            update = [name for name in values]
            statement = upsert(self.session, table, ["code"], update)
            self.session.execute(statement, changed_rows)
        if parent_changes:
            ids = self.codes(table)
            update = (
                sa.update(table)
                .where(table.c.id == sa.bindparam("row_id"))
                .values(parent_id=sa.bindparam("new_parent"))
            )
            self.session.execute(
                update,
                [
                    {"row_id": ids[code], "new_parent": ids[parent] if parent else None}
                    for code, parent in parent_changes
                ],
            )


def _cycles(parents: dict[str, str | None], starts: list[str]) -> dict[str, list[str]]:
    """The codes among ``starts`` that sit on a parent cycle, each with its cycle."""
    found: dict[str, list[str]] = {}
    done: set[str] = set()
    for start in starts:
        path: list[str] = []
        on_path: dict[str, int] = {}
        node: str | None = start
        while node is not None and node not in done and node not in on_path:
            on_path[node] = len(path)
            path.append(node)
            node = parents.get(node)
        if node is not None and node in on_path:
            cycle = path[on_path[node] :]
            for member in cycle:
                found.setdefault(
                    member, cycle[cycle.index(member) :] + cycle[: cycle.index(member)]
                )
        done.update(path)
    return {code: cycle for code, cycle in found.items() if code in set(starts)}


class UnitsLoader(TreeLoader):
    model = Unit
    key_column = "unit_id"
    what = "unit_id"
    columns = {"name": "name", "kind": "kind"}


class ChallengesLoader(TreeLoader):
    model = Challenge
    search_type = "challenge"
    key_column = "challenge_id"
    what = "challenge_id"
    columns = {"name": "name", "description": "description", "keywords": "keywords"}

    def values(self, rows: pd.DataFrame) -> dict[str, list]:
        values = super().values(rows)
        if "keywords" in values:
            # The model keeps one keyword per line.
            values["keywords"] = [
                "\n".join(words) if words else None for words in values["keywords"]
            ]
        return values


class SolutionsLoader(Loader):
    """Solutions, and the challenges each addresses (the file's list replaces the mapping)."""

    model = Solution
    search_type = "solution"

    def prepare(self, errors: ErrorLog) -> None:
        self.challenges = self.codes(Challenge.__table__)
        table = Solution.__table__
        self.existing = {
            row.code: row
            for row in self.session.execute(
                sa.select(table.c.id, table.c.code, table.c.title, table.c.kind,
                          table.c.summary, table.c.status)
            )
        }  # fmt: skip
        self.mapping: dict[int, set[int]] = {}
        for solution_id, challenge_id in self.session.execute(sa.select(solution_challenges)):
            self.mapping.setdefault(solution_id, set()).add(challenge_id)
        self.new_codes = NewCodes(self.existing)
        self.challenges_lower = by_lower_case(self.challenges)

    def check(self, rows: pd.DataFrame, errors: ErrorLog) -> pd.DataFrame:
        rows = self.new_codes.check(rows, errors, "solution_id")
        if not self.has_column("challenge_ids"):
            return rows
        bad = np.zeros(len(rows), dtype=bool)
        for position, (line, items) in enumerate(
            zip(rows["line"].tolist(), rows["challenge_ids"].tolist(), strict=True)
        ):
            unknown = [code for code in items or () if code not in self.challenges]
            if unknown:
                bad[position] = True
                hints = {code: case_hint(code, self.challenges_lower) for code in unknown}
                shown = ", ".join(
                    f"'{code}'"
                    if hints[code] is None
                    else f"'{code}' (did you mean '{hints[code]}'?)"
                    for code in unknown
                )
                if all(hints.values()):
                    message = f"unknown challenge_id {shown}: {CASE_RULE}"
                else:
                    message = (
                        f"unknown challenge_id {shown} (not in the database: import "
                        "challenges.csv first)"
                    )
                errors.add(ParseError(line, "challenge_ids", message))
        return rows.loc[~bad].reset_index(drop=True)

    def take(self, rows: pd.DataFrame) -> None:
        fields = {"title": "title", "kind": "kind", "status": "status"}
        if self.has_column("description"):
            fields["description"] = "summary"
        records, mapped = [], []
        for row in rows.to_dict("records"):
            code = row["solution_id"]
            values = {target: _none_if_missing(row[source]) for source, target in fields.items()}
            current = self.existing.get(code)
            wanted = (
                {self.challenges[item] for item in row["challenge_ids"] or ()}
                if self.has_column("challenge_ids")
                else None
            )
            if current is None:
                self.inserted += 1
                records.append({"code": code, **values})
                mapped.append((code, wanted))
                continue
            differs = any(
                not _same(_plain(getattr(current, target)), value)
                for target, value in values.items()
                if not (target == "status" and not self.has_column("status"))
            )
            mapping_differs = wanted is not None and wanted != self.mapping.get(current.id, set())
            if differs or mapping_differs:
                self.updated += 1
            if differs:
                records.append({"code": code, **values})
            if mapping_differs:
                mapped.append((code, wanted))
        if not self.writing:
            return
        table = Solution.__table__
        self.touched.update(record["code"] for record in records)
        self.touched.update(code for code, wanted in mapped if wanted is not None)
        if records:
            update = ["title", "kind"]
            update += [name for name in ("summary",) if self.has_column("description")]
            update += [name for name in ("status",) if self.has_column("status")]
            statement = upsert(self.session, table, ["code"], update)
            self.session.execute(statement, records)
        mapped = [(code, wanted) for code, wanted in mapped if wanted is not None]
        if mapped:
            ids = self.codes(table)
            solution_ids = [ids[code] for code, _ in mapped]
            self.session.execute(
                sa.delete(solution_challenges).where(
                    solution_challenges.c.solution_id.in_(solution_ids)
                )
            )
            pairs = [
                {"solution_id": ids[code], "challenge_id": challenge_id}
                for code, wanted in mapped
                for challenge_id in sorted(wanted)
            ]
            if pairs:
                self.session.execute(sa.insert(solution_challenges), pairs)
            for code, wanted in mapped:
                self.mapping[ids[code]] = wanted


def _none_if_missing(value: Any) -> Any:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return value


def _plain(value: Any) -> Any:
    """Enum members as their stored string, for comparing with file values."""
    return getattr(value, "value", value)


class AdoptionsLoader(Loader):
    """Action-plan items: one per unit and solution."""

    def prepare(self, errors: ErrorLog) -> None:
        self.units = self.codes(Unit.__table__)
        self.solutions = self.codes(Solution.__table__)
        self.challenges = self.codes(Challenge.__table__)
        table = Adoption.__table__
        self.existing = {
            (row.unit_id, row.solution_id): row
            for row in self.session.execute(
                sa.select(table.c.unit_id, table.c.solution_id, table.c.status,
                          table.c.effective_on, table.c.challenge_id)
            )
        }  # fmt: skip

    def check(self, rows: pd.DataFrame, errors: ErrorLog) -> pd.DataFrame:
        rows, unit_ids = self.reference(rows, errors, "unit_id", self.units, UNITS_FIRST)
        rows = rows.assign(unit_pk=unit_ids)
        rows, solution_ids = self.reference(
            rows, errors, "solution_id", self.solutions, "import solutions.csv first"
        )
        rows = rows.assign(solution_pk=solution_ids)
        if self.has_column("challenge_id"):
            rows, challenge_ids = self.reference(
                rows,
                errors,
                "challenge_id",
                self.challenges,
                "import challenges.csv first",
                optional=True,
            )
            rows = rows.assign(challenge_pk=challenge_ids)
        return rows

    def take(self, rows: pd.DataFrame) -> None:
        present = {
            "status": self.has_column("status"),
            "effective_on": self.has_column("adopted_on"),
            "challenge_id": self.has_column("challenge_id"),
        }
        effective = _python_dates(rows["adopted_on"].to_numpy())
        challenge = (
            [None if np.isnan(value) else int(value) for value in rows["challenge_pk"]]
            if present["challenge_id"]
            else [None] * len(rows)
        )
        records = []
        for unit_pk, solution_pk, status, effective_on, challenge_pk in zip(
            rows["unit_pk"].astype(int).tolist(),
            rows["solution_pk"].astype(int).tolist(),
            rows["status"].tolist(),
            effective,
            challenge,
            strict=True,
        ):
            values = {"status": status, "effective_on": effective_on, "challenge_id": challenge_pk}
            current = self.existing.get((unit_pk, solution_pk))
            if current is None:
                self.inserted += 1
            else:
                differs = any(
                    present[name] and not _same(_plain(getattr(current, name)), value)
                    for name, value in values.items()
                )
                if not differs:
                    continue
                self.updated += 1
            records.append({"unit_id": unit_pk, "solution_id": solution_pk, **values})
        if not self.writing or not records:
            return
        table = Adoption.__table__
        for item in records:
            item["created_by_id"] = self.user_id
        update = [name for name, given in present.items() if given]
        statement = upsert(self.session, table, ["unit_id", "solution_id"], update)
        self.session.execute(statement, records)


# --------------------------------------------------------------------------- metrics and scales


def metric_rows(session: Session) -> dict[str, Any]:
    """Every metric by code: id, kind, label, direction, target and scale."""
    table = Metric.__table__
    return {
        row.code: row
        for row in session.execute(
            sa.select(table.c.id, table.c.code, table.c.kind, table.c.label,
                      table.c.higher_is_better, table.c.target, table.c.scale_min,
                      table.c.scale_max)
        )
    }  # fmt: skip


def _scale_of(row: Any) -> tuple[float | None, float | None]:
    return (row.scale_min, row.scale_max)


def off_scale_message(value: float, code: str, scale: tuple[float | None, float | None]) -> str:
    return (
        f"{value:g} is outside the scale of {code} ({describe_scale(*scale)}); a CX lead can "
        "change the scale on /metrics or with targets.csv (min, max)"
    )


def refuse_off_scale(
    rows: pd.DataFrame,
    errors: ErrorLog,
    column: str,
    code: str,
    scale: tuple[float | None, float | None],
    among: np.ndarray | None = None,
) -> np.ndarray:
    """Errors for the values of ``column`` off ``scale`` (in the rows ``among``); their mask."""
    low, high = scale
    off = np.zeros(len(rows), dtype=bool)
    if low is None and high is None:
        return off
    values = rows[column].to_numpy(dtype=np.float64)
    if low is not None:
        off |= values < low
    if high is not None:
        off |= values > high
    if among is not None:
        off &= among
    for line, value in zip(rows["line"].to_numpy()[off], values[off], strict=True):
        errors.add(ParseError(int(line), column, off_scale_message(float(value), code, scale)))
    return off


class BulkLoader(Loader):
    """Responses and operations: millions of rows, written chunk by chunk on the DBAPI cursor.

    Inserted rows are counted from the table size before and after; the driver's rowcount
    (inserted + actually changed, as unchanged rows are skipped by the upsert) gives the rest.
    """

    table: sa.Table

    def prepare(self, errors: ErrorLog) -> None:
        self.units = self.codes(Unit.__table__)
        self.rowcount = 0
        self.before = self.count() if self.writing else 0
        self.counted = self.writing

    def count(self) -> int:
        return self.session.execute(sa.select(sa.func.count()).select_from(self.table)).scalar()

    def finish(self, errors: ErrorLog, skip_invalid: bool) -> int:
        if self.writing:
            self.inserted = self.count() - self.before
            self.updated = self.rowcount - self.inserted
            self.after_write()
        return 0

    def after_write(self) -> None:
        pass

    def dates(self, values: np.ndarray) -> np.ndarray:
        return _iso_dates(values)


class ResponsesLoader(BulkLoader):
    """Survey responses; every extra column is a driver score kept in ``Response.scores``."""

    table = Response.__table__

    def prepare(self, errors: ErrorLog) -> None:
        super().prepare(errors)
        self.drivers = list(self.source.extra_columns)
        metrics = metric_rows(self.session)
        lower = by_lower_case(metrics)
        # Each score column is checked against the scale its metric has, or will be created
        # with (0–10): the same in a dry run as in the real one.
        self.scales: dict[str, tuple[float | None, float | None]] = {}
        wanted = [(OVERALL, MetricKind.OUTCOME)] + [
            (code, MetricKind.DRIVER) for code in self.drivers
        ]
        for code, kind in wanted:
            row = metrics.get(code)
            if row is None:
                known = case_hint(code, lower)
                if known is not None:
                    errors.add(ParseError(1, code, exists_by_case(code, known)))
                self.scales[code] = default_scale(kind)
            elif row.kind != kind and code != OVERALL:
                errors.add(
                    ParseError(
                        1,
                        code,
                        f"'{code}' is already an {row.kind.value} metric, not a survey driver; "
                        "rename the column",
                    )
                )
            else:
                self.scales[code] = _scale_of(row)
        if self.writing and self.drivers and not errors:
            ensure_metrics(self.session, self.drivers, MetricKind.DRIVER)
        self.touched_units: set[int] = set()
        columns = ["response_key", "unit_id", "responded_on", "responded_at", "overall",
                   "scores", "comment"]  # fmt: skip
        self.columns = columns
        self.statement = upsert_statement(
            self.session, self.table, columns, ["response_key"], columns[1:]
        )

    def check(self, rows: pd.DataFrame, errors: ErrorLog) -> pd.DataFrame:
        rows, unit_ids = self.reference(rows, errors, "unit_id", self.units, UNITS_FIRST)
        rows = rows.assign(unit_pk=unit_ids.astype(np.int64))
        bad = np.zeros(len(rows), dtype=bool)
        for code, scale in self.scales.items():
            bad |= refuse_off_scale(rows, errors, code, code, scale)
        return rows.loc[~bad].reset_index(drop=True) if bad.any() else rows

    def take(self, rows: pd.DataFrame) -> None:
        if not self.writing:
            return
        # Rows in (unit, date) order: the new index entries land together, and the weekly
        # refresh, which walks that index, then reads the table nearly sequentially.
        order = np.lexsort((rows["responded_on"].to_numpy(), rows["unit_pk"].to_numpy()))
        rows = rows.take(order)
        unit_pk = rows["unit_pk"].to_numpy()
        comment = rows["comment"].to_numpy(dtype=object, copy=True)
        comment[pd.isna(comment)] = None
        parameters = list(
            zip(
                rows["response_id"].tolist(),
                unit_pk.tolist(),
                self.dates(rows["responded_on"].to_numpy()).tolist(),
                self.datetimes(rows["responded_at"].to_numpy()).tolist(),
                rows["overall"].tolist(),
                _json_objects(rows, self.drivers).tolist(),
                comment.tolist(),
                strict=True,
            )
        )
        changed = execute_many(self.session, self.statement, parameters, self.columns)
        if changed:  # a re-import that changes nothing leaves the weekly sums alone
            self.touched_units.update(np.unique(unit_pk).tolist())
        self.rowcount += changed

    def datetimes(self, values: np.ndarray) -> np.ndarray:
        return _sqlite_datetimes(values)

    def after_write(self) -> None:
        if not self.touched_units:
            return
        units = self.touched_units if len(self.touched_units) <= MAX_UNITS_IN_REFRESH else None
        refresh_unit_weeks(self.session, units)


class OperationsLoader(BulkLoader):
    """Operational inputs in long form: unit, date, metric, value."""

    table = OperationValue.__table__

    def prepare(self, errors: ErrorLog) -> None:
        super().prepare(errors)
        rows = metric_rows(self.session)
        self.metrics = {code: (row.id, row.kind) for code, row in rows.items()}
        # New metrics are operational inputs, created unbounded (any finite number).
        self.scales = {code: _scale_of(row) for code, row in rows.items()}
        self.metrics_lower = by_lower_case(rows)
        self.columns = ["unit_id", "on_date", "metric_id", "value"]
        self.statement = upsert_statement(
            self.session, self.table, self.columns, ["unit_id", "on_date", "metric_id"], ["value"]
        )

    def check(self, rows: pd.DataFrame, errors: ErrorLog) -> pd.DataFrame:
        rows, unit_ids = self.reference(rows, errors, "unit_id", self.units, UNITS_FIRST)
        metrics = rows["metric"].to_numpy()
        bad = np.zeros(len(rows), dtype=bool)
        for code in pd.unique(metrics):
            known = self.metrics.get(code)
            same = case_hint(code, self.metrics_lower) if known is None else None
            if same is not None:
                message = exists_by_case(code, same)
            elif known is not None and known[1] != MetricKind.OPERATIONAL:
                message = f"'{code}' is a survey {known[1].value} metric, not an operational input"
            elif known is None and not METRIC_CODE.fullmatch(code):
                message = (
                    f"metric '{code}': use lower-case letters, digits and underscores, "
                    "starting with a letter (e.g. 'wait_minutes')"
                )
            else:
                if known is not None:
                    mask = metrics == code
                    bad |= refuse_off_scale(rows, errors, "value", code, self.scales[code], mask)
                continue
            mask = metrics == code
            bad |= mask
            _errors_for(rows, errors, mask, "metric", message)
        keep = ~bad
        return rows.loc[keep].reset_index(drop=True).assign(unit_pk=unit_ids[keep].astype(np.int64))

    def take(self, rows: pd.DataFrame) -> None:
        if not self.writing:
            return
        new = [code for code in pd.unique(rows["metric"]) if code not in self.metrics]
        if new:
            for code, metric_id in ensure_metrics(
                self.session, new, MetricKind.OPERATIONAL
            ).items():
                self.metrics[code] = (metric_id, MetricKind.OPERATIONAL)
        metric_ids = rows["metric"].map({code: item[0] for code, item in self.metrics.items()})
        parameters = list(
            zip(
                rows["unit_pk"].tolist(),
                self.dates(rows["date"].to_numpy()).tolist(),
                metric_ids.astype(np.int64).tolist(),
                rows["value"].tolist(),
                strict=True,
            )
        )
        self.rowcount += execute_many(self.session, self.statement, parameters, self.columns)


class MetricReferences:
    """Maps the ``metric`` column to existing metrics; an unknown code is an error with a hint."""

    metrics: dict[str, int]

    def known_metrics(self, rows: pd.DataFrame, errors: ErrorLog) -> pd.DataFrame:
        """The rows whose metric exists, with its id as ``metric_pk``."""
        codes = rows["metric"].to_numpy()
        bad = np.zeros(len(rows), dtype=bool)
        lower = by_lower_case(self.metrics)
        for code in pd.unique(codes):
            if code in self.metrics:
                continue
            mask = codes == code
            bad |= mask
            same = case_hint(code, lower)
            if same is not None:
                message = unknown_by_case("metric", code, same)
            else:
                close = difflib.get_close_matches(code, list(self.metrics), n=1)
                hint = f"did you mean '{close[0]}'? " if close else ""
                message = f"unknown metric '{code}' ({hint}not in the database: {METRICS_FIRST})"
            _errors_for(rows, errors, mask, "metric", message)
        rows = rows.loc[~bad].reset_index(drop=True)
        return rows.assign(metric_pk=rows["metric"].map(self.metrics).astype(np.int64))


class SignalsLoader(MetricReferences, Loader):
    """The metrics that reveal each challenge; key: challenge, metric and direction."""

    def prepare(self, errors: ErrorLog) -> None:
        table = Challenge.__table__
        survivor = table.alias("survivor")
        query = sa.select(table.c.code, table.c.id, survivor.c.code.label("merged_into")).outerjoin(
            survivor, survivor.c.id == table.c.merged_into_id
        )
        challenges = self.session.execute(query).all()
        self.challenges = {row.code: row.id for row in challenges}
        self.merged = {row.code: row.merged_into for row in challenges if row.merged_into}
        metrics = metric_rows(self.session)
        self.metrics = {code: row.id for code, row in metrics.items()}
        self.scales = {code: _scale_of(row) for code, row in metrics.items()}
        signals = ChallengeSignal.__table__
        if self.writing and self.dialect == "postgresql":
            # No unique constraint holds the key, so ON CONFLICT cannot stop two imports from
            # adding the same signal: one writer at a time (SQLite's BEGIN IMMEDIATE does so).
            self.session.execute(
                sa.text("LOCK TABLE challenge_signals IN SHARE ROW EXCLUSIVE MODE")
            )
        # A key held twice (made in the browser) is one signal: both rows follow the file.
        self.existing: dict[tuple[int, int, str], list] = {}
        for row in self.session.execute(
            sa.select(signals.c.id, signals.c.challenge_id, signals.c.metric_id,
                      signals.c.direction, signals.c.threshold_kind, signals.c.threshold)
            .order_by(signals.c.id)
        ):  # fmt: skip
            key = (row.challenge_id, row.metric_id, _plain(row.direction))
            self.existing.setdefault(key, []).append(row)

    def check(self, rows: pd.DataFrame, errors: ErrorLog) -> pd.DataFrame:
        merged = rows["challenge_id"].isin(self.merged).to_numpy()
        for line, code in zip(
            rows["line"].to_numpy()[merged], rows["challenge_id"].to_numpy()[merged], strict=True
        ):
            errors.add(
                ParseError(
                    int(line),
                    "challenge_id",
                    f"'{code}' was merged into '{self.merged[code]}': use '{self.merged[code]}'",
                )
            )
        rows = rows.loc[~merged].reset_index(drop=True)
        rows, challenge_ids = self.reference(
            rows, errors, "challenge_id", self.challenges, "import challenges.csv first"
        )
        rows = rows.assign(challenge_pk=challenge_ids.astype(np.int64))
        rows = self.known_metrics(rows, errors)
        # An absolute threshold is a value of the metric: it lies on the metric's scale.
        absolute = (rows["threshold_kind"] == ThresholdKind.ABSOLUTE.value).to_numpy()
        bad = np.zeros(len(rows), dtype=bool)
        for code in pd.unique(rows["metric"].to_numpy()[absolute]):
            among = absolute & (rows["metric"] == code).to_numpy()
            bad |= refuse_off_scale(rows, errors, "threshold", code, self.scales[code], among)
        return rows.loc[~bad].reset_index(drop=True) if bad.any() else rows

    def take(self, rows: pd.DataFrame) -> None:
        inserts, updates = [], []
        for challenge_pk, metric_pk, direction, kind, threshold in zip(
            rows["challenge_pk"].tolist(),
            rows["metric_pk"].tolist(),
            rows["direction"].tolist(),
            rows["threshold_kind"].tolist(),
            rows["threshold"].tolist(),
            strict=True,
        ):
            current = self.existing.get((challenge_pk, metric_pk, direction))
            if current is None:
                self.inserted += 1
                inserts.append(
                    {"challenge_id": challenge_pk, "metric_id": metric_pk, "direction": direction,
                     "threshold_kind": kind, "threshold": threshold}
                )  # fmt: skip
                continue
            stale = [
                row.id
                for row in current
                if _plain(row.threshold_kind) != kind or not _same(row.threshold, threshold)
            ]
            if stale:
                self.updated += 1
                updates.extend(
                    {"row_id": row_id, "new_kind": kind, "new_threshold": threshold}
                    for row_id in stale
                )
        if not self.writing:
            return
        table = ChallengeSignal.__table__
        if inserts:
            self.session.execute(sa.insert(table), inserts)
        if updates:
            statement = (
                sa.update(table)
                .where(table.c.id == sa.bindparam("row_id"))
                .values(
                    threshold_kind=sa.bindparam("new_kind", type_=table.c.threshold_kind.type),
                    threshold=sa.bindparam("new_threshold"),
                )
            )
            self.session.execute(statement, updates)


TARGET_COLUMNS = ("target", "label", "higher_is_better", "scale_min", "scale_max")


def _number_or_none(value: Any) -> float | None:
    return None if value is None or np.isnan(value) else float(value)


class TargetsLoader(MetricReferences, Loader):
    """Targets, labels, directions and scales of metrics; key: the metric code.

    A metric is never created by accident: only ``overall`` (the outcome, always known) and
    rows that give a ``kind`` declare a metric that does not exist yet, so that its scale can
    be set before its data is imported.
    """

    def prepare(self, errors: ErrorLog) -> None:
        self.existing = metric_rows(self.session)
        self.metrics = {code: row.id for code, row in self.existing.items()}
        self.lower = by_lower_case(self.existing)

    def _kind(self, code: str, given: str | None) -> tuple[MetricKind | None, tuple[str, str]]:
        """The metric's kind (None when refused) and, when refused, ``(column, why)``."""
        current = self.existing.get(code)
        if current is not None:
            kind = MetricKind(_plain(current.kind))
            if given and given != kind.value:
                article = "a" if kind == MetricKind.DRIVER else "an"
                return None, ("kind", f"'{code}' is {article} {kind.value} metric, not {given}")
            return kind, ("", "")
        same = case_hint(code, self.lower)
        if same is not None:
            return None, ("metric", unknown_by_case("metric", code, same))
        if code == OVERALL:
            if given and given != MetricKind.OUTCOME.value:
                return None, ("kind", f"'{OVERALL}' is the outcome (kind outcome), not {given}")
            return MetricKind.OUTCOME, ("", "")
        if not given:
            close = difflib.get_close_matches(code, list(self.existing), n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            return None, (
                "metric",
                f"unknown metric '{code}' ({hint}not in the database: {METRICS_FIRST}) — or "
                "declare it with a kind column (driver or operational)",
            )
        if given == MetricKind.OUTCOME.value:
            return None, ("kind", f"only '{OVERALL}' is the outcome: declare a driver or an "
                                  "operational metric")  # fmt: skip
        if not METRIC_CODE.fullmatch(code):
            return None, (
                "metric",
                f"metric '{code}': use lower-case letters, digits and underscores, starting "
                "with a letter (e.g. 'wait_minutes')",
            )
        return MetricKind(given), ("", "")

    def check(self, rows: pd.DataFrame, errors: ErrorLog) -> pd.DataFrame:
        """Every rule that needs the stored metrics: known or declared, scale, target on it,
        stored values and absolute signal thresholds on the new scale."""
        count = len(rows)
        bad = np.zeros(count, dtype=bool)
        kinds = np.full(count, None, dtype=object)
        lows = np.full(count, np.nan)
        highs = np.full(count, np.nan)
        for position, (line, code, target, low, high, given) in enumerate(
            zip(
                rows["line"].tolist(),
                rows["metric"].tolist(),
                rows["target"].tolist(),
                rows["min"].tolist(),
                rows["max"].tolist(),
                rows["kind"].tolist(),
                strict=True,
            )
        ):
            kind, (column, why) = self._kind(code, given)
            found: list[tuple[str, str]] = [] if kind is not None else [(column, why)]
            current = self.existing.get(code)
            if kind is not None:
                old = _scale_of(current) if current is not None else default_scale(kind)
                new = (
                    old[0] if np.isnan(low) else float(low),
                    old[1] if np.isnan(high) else float(high),
                )
                problem = scale_problem(*new)
                stored_target = current.target if current is not None else None
                wanted = stored_target if np.isnan(target) else float(target)
                if problem:
                    found.append(problem)
                elif wanted is not None and not on_scale(wanted, *new):
                    found.append(
                        (
                            "target",
                            off_scale_message(wanted, code, new)
                            if not np.isnan(target)
                            else f"the stored target {wanted:g} of {code} is outside the scale "
                            f"{describe_scale(*new)}: give a target on it",
                        )
                    )
                else:
                    found.extend(
                        scale_change_problems(
                            self.session,
                            current.id if current is not None else None,
                            code,
                            kind,
                            old,
                            new,
                        )
                    )
                kinds[position] = kind
                lows[position] = np.nan if new[0] is None else new[0]
                highs[position] = np.nan if new[1] is None else new[1]
            for column, why in found:
                errors.add(ParseError(int(line), column, why))
            bad[position] = bool(found)
        rows = rows.assign(metric_kind=kinds, scale_low=lows, scale_high=highs)
        return rows.loc[~bad].reset_index(drop=True) if bad.any() else rows

    def take(self, rows: pd.DataFrame) -> None:
        count = len(rows)
        labels = rows["label"].tolist() if self.has_column("label") else [None] * count
        directions = (
            rows["higher_is_better"].tolist()
            if self.has_column("higher_is_better")
            else [None] * count
        )
        inserts, updates = [], []
        for code, kind, target, low, high, label, higher_is_better in zip(
            rows["metric"].tolist(),
            rows["metric_kind"].tolist(),
            rows["target"].tolist(),
            rows["scale_low"].tolist(),
            rows["scale_high"].tolist(),
            labels,
            directions,
            strict=True,
        ):
            current = self.existing.get(code)
            # An empty cell (label, direction, target, min, max) leaves the stored value alone.
            label = (label or "").strip() or (current.label if current else default_label(code))
            if higher_is_better is None:
                higher_is_better = current.higher_is_better if current else True
            target = _number_or_none(target)
            if target is None and current is not None:
                target = current.target
            values = {
                "target": target,
                "label": label,
                "higher_is_better": higher_is_better,
                "scale_min": _number_or_none(low),
                "scale_max": _number_or_none(high),
            }
            if current is None:
                self.inserted += 1
                inserts.append({"code": code, "kind": kind, **values})
                continue
            if all(_same(getattr(current, name), value) for name, value in values.items()):
                continue
            self.updated += 1
            updates.append({"row_id": current.id, **{f"new_{k}": v for k, v in values.items()}})
        if not self.writing:
            return
        table = Metric.__table__
        if inserts:
            self.session.execute(sa.insert(table), inserts)
        if updates:
            statement = (
                sa.update(table)
                .where(table.c.id == sa.bindparam("row_id"))
                .values({name: sa.bindparam(f"new_{name}") for name in TARGET_COLUMNS})
            )
            self.session.execute(statement, updates)


LOADERS: dict[str, type[Loader]] = {
    "units": UnitsLoader,
    "challenges": ChallengesLoader,
    "solutions": SolutionsLoader,
    "responses": ResponsesLoader,
    "operations": OperationsLoader,
    "adoptions": AdoptionsLoader,
    "signals": SignalsLoader,
    "targets": TargetsLoader,
}
assert set(LOADERS) == set(FORMATS)
