"""targets.csv: targets, labels, directions and scales of metrics; a row with a kind declares
a metric that does not exist yet.
"""

from __future__ import annotations

import difflib
from typing import Any

import numpy as np
import pandas as pd

from cxactions.foundations.scales import (
    default_scale,
    describe_scale,
    format_short,
    on_scale,
    scale_problem,
)
from cxactions.foundations.translation import _
from cxactions.foundations.vocabulary import MetricKind
from cxactions.imports.formats import METRIC_CODE
from cxactions.imports.loaders.base import (
    METRICS_FIRST,
    Loader,
    MetricReferences,
    by_lower_case,
    case_hint,
    metric_rows,
    off_scale_message,
    plain,
    same_value,
    scale_of,
    unknown_by_case,
)
from cxactions.imports.results import ErrorLog, ParseError
from cxactions.surveys.aggregates import OVERALL, default_label
from cxactions.surveys.models import Metric
from cxactions.surveys.services import scale_change_problems


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
            kind = MetricKind(plain(current.kind))
            if given and given != kind.value:
                # English needs its article ("a driver", "an outcome"): one sentence for each.
                message = (
                    _(
                        "'%(code)s' is a %(kind)s metric, not %(given)s",
                        code=code,
                        kind=kind.value,
                        given=given,
                    )
                    if kind == MetricKind.DRIVER
                    else _(
                        "'%(code)s' is an %(kind)s metric, not %(given)s",
                        code=code,
                        kind=kind.value,
                        given=given,
                    )
                )
                return None, ("kind", message)
            return kind, ("", "")
        same = case_hint(code, self.lower)
        if same is not None:
            return None, ("metric", unknown_by_case("metric", code, same))
        if code == OVERALL:
            if given and given != MetricKind.OUTCOME.value:
                return None, (
                    "kind",
                    _(
                        "'%(code)s' is the outcome (kind outcome), not %(given)s",
                        code=OVERALL,
                        given=given,
                    ),
                )
            return MetricKind.OUTCOME, ("", "")
        if not given:
            close = difflib.get_close_matches(code, list(self.existing), n=1)
            message = (
                _(
                    "unknown metric '%(code)s' (did you mean '%(close)s'? not in the database: "
                    "%(hint)s) — or declare it with a kind column (driver or operational)",
                    code=code,
                    close=close[0],
                    hint=_(METRICS_FIRST),
                )
                if close
                else _(
                    "unknown metric '%(code)s' (not in the database: %(hint)s) — or declare it "
                    "with a kind column (driver or operational)",
                    code=code,
                    hint=_(METRICS_FIRST),
                )
            )
            return None, ("metric", message)
        if given == MetricKind.OUTCOME.value:
            return None, (
                "kind",
                _(
                    "only '%(code)s' is the outcome: declare a driver or an operational metric",
                    code=OVERALL,
                ),
            )
        if not METRIC_CODE.fullmatch(code):
            return None, (
                "metric",
                _(
                    "metric '%(code)s': use lower-case letters, digits and underscores, "
                    "starting with a letter (e.g. 'wait_minutes')",
                    code=code,
                ),
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
                old = scale_of(current) if current is not None else default_scale(kind)
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
                            else _(
                                "the stored target %(target)s of %(metric)s is outside the "
                                "scale %(scale)s: give a target on it",
                                target=format_short(wanted),
                                metric=code,
                                scale=describe_scale(*new),
                            ),
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
            if all(same_value(getattr(current, name), value) for name, value in values.items()):
                continue
            self.updated += 1
            updates.append({"row_id": current.id, **{f"new_{k}": v for k, v in values.items()}})
        if not self.writing:
            return
        self.write(Metric.__table__, inserts, updates)
