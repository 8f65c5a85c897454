"""responses.csv: survey responses on the bulk path; every extra column is a driver score.
After writing, the weekly unit scores of the touched units are refreshed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxactions.foundations.scales import default_scale
from cxactions.foundations.translation import _
from cxactions.foundations.vocabulary import MetricKind
from cxactions.imports.bulk import execute_many, json_objects, sqlite_datetimes, upsert_statement
from cxactions.imports.loaders.base import (
    UNITS_FIRST,
    BulkLoader,
    by_lower_case,
    case_hint,
    exists_by_case,
    metric_rows,
    refuse_off_scale,
    scale_of,
)
from cxactions.imports.results import ErrorLog, ParseError
from cxactions.surveys.aggregates import OVERALL, ensure_metrics, refresh_unit_weeks
from cxactions.surveys.models import Response

# Above this many touched units, refreshing every unit-week is cheaper than a huge IN list
# (and stays under SQLite's limit on bound parameters).
MAX_UNITS_IN_REFRESH = 5_000


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
                        _(
                            "'%(code)s' is already an %(kind)s metric, not a survey driver; "
                            "rename the column",
                            code=code,
                            kind=row.kind.value,
                        ),
                    )
                )
            else:
                self.scales[code] = scale_of(row)
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
                json_objects(rows, self.drivers).tolist(),
                comment.tolist(),
                strict=True,
            )
        )
        changed = execute_many(self.session, self.statement, parameters, self.columns)
        if changed:  # a re-import that changes nothing leaves the weekly sums alone
            self.touched_units.update(np.unique(unit_pk).tolist())
        self.rowcount += changed

    def datetimes(self, values: np.ndarray) -> np.ndarray:
        return sqlite_datetimes(values)

    def after_write(self) -> None:
        if not self.touched_units:
            return
        units = self.touched_units if len(self.touched_units) <= MAX_UNITS_IN_REFRESH else None
        refresh_unit_weeks(self.session, units)
