"""What every import loader shares: the ``Loader`` base and the shared bases ``BulkLoader`` (the
DBAPI path of responses and operations) and ``MetricReferences``; the case rules for codes
(``by_lower_case``, ``case_hint``, ``NewCodes``...); comparing stored and file values; and the
metric scale checks (``metric_rows``, ``refuse_off_scale``).
"""

from __future__ import annotations

import difflib
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from cxactions.foundations.scales import describe_scale, format_short
from cxactions.foundations.translation import N_, _
from cxactions.imports.bulk import iso_dates
from cxactions.imports.reader import ImportFile
from cxactions.imports.results import ErrorLog, ParseError
from cxactions.surveys.models import Metric
from cxactions.units.models import Unit

# Where the codes of a reference come from: the end of an "unknown code" message, translated
# where the message is built (``_(UNITS_FIRST)``).
UNITS_FIRST = N_("import units.csv first")
CHALLENGES_FIRST = N_("import challenges.csv first")
SOLUTIONS_FIRST = N_("import solutions.csv first")
METRICS_FIRST = N_(
    "metrics come from the driver columns of responses.csv and from operations.csv: "
    "import those first"
)


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

    def write(self, table: sa.Table, inserts: list[dict], updates: list[dict]) -> None:
        """Insert the new rows, and update changed ones by id: each update is
        ``{"row_id": id, "new_<column>": value, ...}``, the same columns in every one."""
        if inserts:
            self.session.execute(sa.insert(table), inserts)
        if updates:
            columns = [key.removeprefix("new_") for key in updates[0] if key != "row_id"]
            statement = (
                sa.update(table)
                .where(table.c.id == sa.bindparam("row_id"))
                .values(
                    {
                        name: sa.bindparam(f"new_{name}", type_=table.c[name].type)
                        for name in columns
                    }
                )
            )
            self.session.execute(statement, updates)

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

        ``what`` names the file that defines the codes, for the hint (a message marked with
        ``N_``, such as ``UNITS_FIRST``).
        """
        ids = rows[column].map(known)
        unknown = ids.isna().to_numpy().copy()
        if optional:
            unknown &= rows[column].notna().to_numpy()
        lower = by_lower_case(known) if unknown.any() else {}
        hint = _(what) if unknown.any() else ""
        for line, code in zip(
            rows["line"].to_numpy()[unknown], rows[column].to_numpy()[unknown], strict=True
        ):
            right = case_hint(code, lower)
            message = (
                unknown_by_case(column, code, right)
                if right is not None
                else _(
                    "unknown %(column)s '%(code)s' (not in the database: %(hint)s)",
                    column=column,
                    code=code,
                    hint=hint,
                )
            )
            errors.add(ParseError(int(line), column, message))
        keep = ~unknown
        return rows.loc[keep].reset_index(drop=True), ids.to_numpy()[keep]


# --------------------------------------------------------------------------- codes and case


def by_lower_case(codes) -> dict[str, str]:
    """The codes keyed by their lower case, to find one written with another case."""
    return {code.lower(): code for code in codes}


def case_hint(code: str, lower: dict[str, str]) -> str | None:
    """The known code ``code`` differs from only by case, or None."""
    known = lower.get(code.lower())
    return known if known is not None and known != code else None


def unknown_by_case(column: str, code: str, known: str) -> str:
    """A reference that differs only by case from a known code: refused, never resolved."""
    return _(
        "unknown %(column)s '%(code)s' (did you mean '%(known)s'? codes are unique ignoring "
        "case: use '%(known)s')",
        column=column,
        code=code,
        known=known,
    )


def exists_by_case(code: str, known: str) -> str:
    """A new code that differs only by case from an existing one."""
    return _(
        "%(code)s already exists as %(known)s — codes are unique ignoring case; use %(known)s",
        code=code,
        known=known,
    )


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
                message = _(
                    "%(code)s differs only by case from %(first)s on line %(line)d — codes are "
                    "unique ignoring case; use %(first)s",
                    code=code,
                    first=first[0],
                    line=first[1],
                )
            else:
                self.seen.setdefault(lower, (code, int(line)))
                continue
            keep[position] = False
            errors.add(ParseError(int(line), column, message))
        return rows.loc[keep].reset_index(drop=True) if not keep.all() else rows


def errors_for(
    rows: pd.DataFrame, errors: ErrorLog, mask: np.ndarray, column: str, message: str
) -> None:
    for line in rows["line"].to_numpy()[mask]:
        errors.add(ParseError(int(line), column, message))


def same_value(left: Any, right: Any) -> bool:
    """Equality where None, NaN and NaT are all 'missing'."""
    left_missing = left is None or (isinstance(left, float) and np.isnan(left))
    right_missing = right is None or (isinstance(right, float) and np.isnan(right))
    if left_missing or right_missing:
        return left_missing and right_missing
    return left == right


def plain(value: Any) -> Any:
    """Enum members as their stored string, for comparing with file values."""
    return getattr(value, "value", value)


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


def scale_of(row: Any) -> tuple[float | None, float | None]:
    return (row.scale_min, row.scale_max)


def off_scale_message(value: float, code: str, scale: tuple[float | None, float | None]) -> str:
    return _(
        "%(value)s is outside the scale of %(metric)s (%(scale)s); a CX lead can change the "
        "scale on /metrics or with targets.csv (min, max)",
        value=format_short(value),
        metric=code,
        scale=describe_scale(*scale),
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
        return iso_dates(values)


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
                message = (
                    _(
                        "unknown metric '%(code)s' (did you mean '%(close)s'? not in the "
                        "database: %(hint)s)",
                        code=code,
                        close=close[0],
                        hint=_(METRICS_FIRST),
                    )
                    if close
                    else _(
                        "unknown metric '%(code)s' (not in the database: %(hint)s)",
                        code=code,
                        hint=_(METRICS_FIRST),
                    )
                )
            errors_for(rows, errors, mask, "metric", message)
        rows = rows.loc[~bad].reset_index(drop=True)
        return rows.assign(metric_pk=rows["metric"].map(self.metrics).astype(np.int64))
