"""operations.csv: operational inputs in long form (unit, date, metric, value), on the bulk
path; a new metric is created as an operational input.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxactions.foundations.translation import _
from cxactions.foundations.vocabulary import MetricKind
from cxactions.imports.bulk import execute_many, upsert_statement
from cxactions.imports.formats import METRIC_CODE
from cxactions.imports.loaders.base import (
    UNITS_FIRST,
    BulkLoader,
    by_lower_case,
    case_hint,
    errors_for,
    exists_by_case,
    metric_rows,
    refuse_off_scale,
    scale_of,
)
from cxactions.imports.results import ErrorLog
from cxactions.surveys.aggregates import ensure_metrics
from cxactions.surveys.models import OperationValue


class OperationsLoader(BulkLoader):
    """Operational inputs in long form: unit, date, metric, value."""

    table = OperationValue.__table__

    def prepare(self, errors: ErrorLog) -> None:
        super().prepare(errors)
        rows = metric_rows(self.session)
        self.metrics = {code: (row.id, row.kind) for code, row in rows.items()}
        # New metrics are operational inputs, created unbounded (any finite number).
        self.scales = {code: scale_of(row) for code, row in rows.items()}
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
                message = _(
                    "'%(code)s' is a survey %(kind)s metric, not an operational input",
                    code=code,
                    kind=known[1].value,
                )
            elif known is None and not METRIC_CODE.fullmatch(code):
                message = _(
                    "metric '%(code)s': use lower-case letters, digits and underscores, "
                    "starting with a letter (e.g. 'wait_minutes')",
                    code=code,
                )
            else:
                if known is not None:
                    mask = metrics == code
                    bad |= refuse_off_scale(rows, errors, "value", code, self.scales[code], mask)
                continue
            mask = metrics == code
            bad |= mask
            errors_for(rows, errors, mask, "metric", message)
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
