"""Keeping ``unit_week_scores`` in step with ``responses``.

Called inside the transaction that changed the responses, so the aggregate can never disagree
with the rows it sums.
"""

from __future__ import annotations

from collections.abc import Collection

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cxactions.foundations.scales import default_scale
from cxactions.foundations.vocabulary import MetricKind
from cxactions.surveys.models import Metric, Response, UnitWeekScore

OVERALL = "overall"


def week_start_expression(session: Session, column: sa.ColumnElement) -> sa.ColumnElement:
    """The Monday on or before a date column, in the session's SQL dialect."""
    if session.get_bind().dialect.name == "postgresql":
        return sa.cast(sa.func.date_trunc("week", column), sa.Date)
    # SQLite: 'weekday 0' moves forward to Sunday; six days back is the Monday of that week.
    return sa.func.date(column, "weekday 0", "-6 days")


def default_label(code: str) -> str:
    """The label a new metric gets until a CX lead names it: ``wait_minutes`` -> Wait minutes."""
    return code.replace("_", " ").capitalize()


def ensure_metrics(session: Session, codes: Collection[str], kind: MetricKind) -> dict[str, int]:
    """Metric ids by code, creating the metrics that do not exist yet on their kind's default
    scale (survey scores 0–10, operational inputs unbounded)."""
    existing = dict(
        session.execute(sa.select(Metric.code, Metric.id).where(Metric.code.in_(codes))).all()
    )
    low, high = default_scale(kind)
    for code in sorted(set(codes) - existing.keys()):
        metric = Metric(
            code=code,
            label=default_label(code),
            kind=kind,
            scale_min=low,
            scale_max=high,
        )
        session.add(metric)
        session.flush()
        existing[code] = metric.id
    return existing


def refresh_unit_weeks(session: Session, unit_ids: Collection[int] | None = None) -> None:
    """Recompute the weekly sums of ``overall`` and every driver for ``unit_ids`` (None = all)."""
    drivers = dict(
        session.execute(
            sa.select(Metric.code, Metric.id).where(Metric.kind == MetricKind.DRIVER)
        ).all()
    )
    overall_id = ensure_metrics(session, [OVERALL], MetricKind.OUTCOME)[OVERALL]
    delete = sa.delete(UnitWeekScore)
    unit_filter = Response.unit_id.in_(unit_ids) if unit_ids is not None else sa.true()
    if unit_ids is not None:
        delete = delete.where(UnitWeekScore.unit_id.in_(unit_ids))
    session.execute(delete)
    week = week_start_expression(session, Response.responded_on)
    measures: list[tuple[int, sa.ColumnElement]] = [(overall_id, Response.overall)]
    measures += [
        (metric_id, Response.scores[code].as_float()) for code, metric_id in drivers.items()
    ]
    for metric_id, value in measures:
        select = (
            sa.select(
                sa.literal(metric_id),
                Response.unit_id,
                week,
                sa.func.count(value),
                sa.func.sum(value),
                sa.func.sum(value * value),
            )
            .where(unit_filter, value.is_not(None))
            .group_by(Response.unit_id, week)
        )
        session.execute(
            sa.insert(UnitWeekScore).from_select(
                ["metric_id", "unit_id", "week_start", "n", "total", "total_sq"], select
            )
        )
