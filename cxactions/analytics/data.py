"""The one place that turns database rows into the frames the analytics work on.

SQLAlchemy Core over a session, no Flask. The weekly panel reads ``unit_week_scores`` (kept up
to date by every import); months, quarters and years are summed in the database with a GROUP BY
over the covering index of ``responses``, never by loading responses into Python.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from cxactions.analytics.panel import PERIODS, Panel, build_panel
from cxactions.foundations import translation, trees
from cxactions.foundations.vocabulary import AdoptionStatus, MetricKind
from cxactions.library.models import Solution
from cxactions.plans.models import Adoption
from cxactions.surveys.aggregates import OVERALL, week_start_expression
from cxactions.surveys.models import Metric, OperationValue, Response, UnitWeekScore
from cxactions.units.models import Unit

NO_GROUP = "(no region)"


def _period_expression(session: Session, column: sa.ColumnElement, period: str):
    """The first day of the month, quarter or year holding a date column, in SQL."""
    if session.get_bind().dialect.name == "postgresql":
        return sa.cast(sa.func.date_trunc(period, column), sa.Date)
    if period == "month":
        return sa.func.date(column, "start of month")
    if period == "year":
        return sa.func.date(column, "start of year")
    # Quarter: back from the start of the month by (month - 1) % 3 months.
    months_back = (sa.cast(sa.func.strftime("%m", column), sa.Integer) - 1) % 3
    return sa.func.date(column, "start of month", sa.func.printf("-%d months", months_back))


def _day_number(session: Session, column: sa.ColumnElement) -> sa.ColumnElement:
    """Days since 1970-01-01 of a date column, as an integer, in SQL."""
    if session.get_bind().dialect.name == "postgresql":
        return sa.type_coerce(column - sa.cast(sa.literal("1970-01-01"), sa.Date), sa.Integer)
    return sa.cast(sa.func.julianday(column) - 2440587.5, sa.Integer)


def panel_cells(session: Session, period: str, unit_codes: list[str] | None = None) -> pd.DataFrame:
    """One row per unit and period with responses: unit_id, period_start, n, total, total_sq.

    ``unit_codes`` restricts the panel to those units (one region, for a unit's own story).
    Rows travel as plain numbers (unit ids, day numbers) from the driver's cursor straight into
    numpy: at 780,000 unit-weeks, ORM rows of codes and dates turned into a DataFrame cost
    5-7 s and 300 MB more (pandas probes every Row for ``_fields``).
    """
    if period not in PERIODS:
        raise ValueError(f"unknown period {period!r}: choose one of {', '.join(PERIODS)}")
    if period == "week":
        overall = sa.select(Metric.id).where(Metric.code == OVERALL).scalar_subquery()
        query = sa.select(
            UnitWeekScore.unit_id,
            _day_number(session, UnitWeekScore.week_start),
            UnitWeekScore.n,
            UnitWeekScore.total,
            UnitWeekScore.total_sq,
        ).where(UnitWeekScore.metric_id == overall)
        unit_column = UnitWeekScore.unit_id
    else:
        start = _period_expression(session, Response.responded_on, period)
        grouped = (
            sa.select(
                Response.unit_id,
                start.label("period_start"),
                sa.func.count().label("n"),
                sa.func.sum(Response.overall).label("total"),
                sa.func.sum(Response.overall * Response.overall).label("total_sq"),
            )
            .group_by(Response.unit_id, start)
            .subquery()
        )
        query = sa.select(
            grouped.c.unit_id,
            _day_number(session, grouped.c.period_start),
            grouped.c.n,
            grouped.c.total,
            grouped.c.total_sq,
        )
        unit_column = grouped.c.unit_id
    if unit_codes is not None:
        query = query.where(unit_column.in_(sa.select(Unit.id).where(Unit.code.in_(unit_codes))))
    # The driver's own cursor: building SQLAlchemy Row objects costs 3x the fetch itself here.
    result = session.connection().execute(query)
    parts = []
    try:
        while chunk := result.cursor.fetchmany(100_000):
            parts.append(
                np.fromiter(itertools.chain.from_iterable(chunk), dtype=float, count=5 * len(chunk))
            )
    finally:
        result.close()
    values = np.concatenate(parts).reshape(-1, 5) if parts else np.empty((0, 5))
    ids = values[:, 0].astype(np.int64)
    known = np.unique(ids)
    codes = dict(session.execute(sa.select(Unit.id, Unit.code)).all())
    code_of = np.array([codes[i] for i in known.tolist()], dtype=object)
    return pd.DataFrame(
        {
            "unit_id": code_of[np.searchsorted(known, ids)],
            "period_start": values[:, 1].astype(np.int64).astype("datetime64[D]"),
            "n": values[:, 2],
            "total": values[:, 3],
            "total_sq": values[:, 4],
        }
    )


def _tops(parent: dict[int, int | None]) -> dict[int, int]:
    """Each unit's top-level ancestor (itself at the top); a loop in the data ends the walk."""
    tops = {}
    for unit_id in parent:
        top, seen = unit_id, set()
        while parent.get(top) is not None and top not in seen:
            seen.add(top)
            top = parent[top]
        tops[unit_id] = top
    return tops


def unit_regions(session: Session) -> pd.DataFrame:
    """Every unit with its comparison group: the top of its branch of the organisation tree.

    A unit without a parent is its own group only when it has children (a region); lone units
    share one group, so a flat list of stores still has comparison units.
    """
    rows = session.execute(sa.select(Unit.id, Unit.code, Unit.parent_id)).all()
    parent = {unit_id: parent_id for unit_id, _, parent_id in rows}
    code = {unit_id: unit_code for unit_id, unit_code, _ in rows}
    has_children = {parent_id for parent_id in parent.values() if parent_id is not None}
    tops = _tops(parent)
    groups = []
    for unit_id, unit_code, _ in rows:
        top = tops[unit_id]
        if top == unit_id and unit_id not in has_children:
            groups.append((unit_code, NO_GROUP))
        else:
            groups.append((unit_code, code[top]))
    return pd.DataFrame(groups, columns=["unit_id", "group"])


def unit_top_ancestors(session: Session) -> dict[str, str]:
    """Every unit's code with the code of its top-level ancestor, itself for a unit without a
    parent: the regions of ``cxactions impact --by region`` ("what worked at similar units").
    Unlike ``unit_regions``, a lone unit is a region of its own."""
    rows = session.execute(sa.select(Unit.id, Unit.code, Unit.parent_id)).all()
    code = {unit_id: unit_code for unit_id, unit_code, _ in rows}
    tops = _tops({unit_id: parent_id for unit_id, _, parent_id in rows})
    return {code[unit_id]: code[top] for unit_id, top in tops.items()}


def implemented_adoptions(session: Session) -> pd.DataFrame:
    """unit_id, solution_id, adopted_on of every implemented adoption with a date."""
    rows = session.execute(
        sa.select(Unit.code, Solution.code, Adoption.effective_on)
        .join(Unit, Unit.id == Adoption.unit_id)
        .join(Solution, Solution.id == Adoption.solution_id)
        .where(Adoption.status == AdoptionStatus.IMPLEMENTED, Adoption.effective_on.is_not(None))
    ).all()
    frame = pd.DataFrame(rows, columns=["unit_id", "solution_id", "adopted_on"])
    frame["adopted_on"] = pd.to_datetime(frame["adopted_on"])
    return frame


def solution_titles(session: Session) -> dict[str, str]:
    return dict(session.execute(sa.select(Solution.code, Solution.title)).all())


def load_panel(session: Session, period: str = "week", *, region_of: str | None = None) -> Panel:
    """The unit × period panel of ``overall`` with the implemented adoptions.

    ``region_of`` (a unit code) restricts it to that unit's comparison region.
    """
    regions = unit_regions(session)
    codes = None
    if region_of is not None:
        group = regions.loc[regions["unit_id"] == region_of, "group"]
        if group.empty:
            raise ValueError(translation._("unknown unit %(unit)r", unit=region_of))
        codes = regions.loc[regions["group"] == group.iloc[0], "unit_id"].tolist()
    adoptions = implemented_adoptions(session)
    if codes is not None:
        adoptions = adoptions[adoptions["unit_id"].isin(codes)]
    return build_panel(panel_cells(session, period, codes), regions, adoptions, period)


def _fetch_numbers(session: Session, query, width: int) -> np.ndarray:
    """Rows of plain numbers straight from the driver's cursor into an (n, width) float array."""
    result = session.connection().execute(query)
    parts = []
    try:
        while chunk := result.cursor.fetchmany(100_000):
            parts.append(
                np.fromiter(
                    itertools.chain.from_iterable(chunk), dtype=float, count=width * len(chunk)
                )
            )
    finally:
        result.close()
    return np.concatenate(parts).reshape(-1, width) if parts else np.empty((0, width))


def subtree_unit_ids(session: Session, unit_code: str) -> list[int]:
    """Database ids of a unit and every unit below it; ``ValueError`` for an unknown code."""
    root = sa.select(Unit.id).where(Unit.code == unit_code)
    found = sorted(trees.subtree_ids(session, Unit, root))
    if not found:  # the root itself is always in its subtree
        raise ValueError(translation._("unknown unit %(unit)r", unit=unit_code))
    return found


def metric_catalogue(session: Session) -> pd.DataFrame:
    """Every metric: code, label, kind (its value), higher_is_better, target."""
    rows = session.execute(
        sa.select(Metric.code, Metric.label, Metric.kind, Metric.higher_is_better, Metric.target)
    ).all()
    frame = pd.DataFrame(rows, columns=["code", "label", "kind", "higher_is_better", "target"])
    frame["kind"] = [getattr(kind, "value", kind) for kind in frame["kind"]]
    return frame


def driver_frame(
    session: Session, *, unit_ids: list[int] | None = None, weeks: int | None = None
) -> pd.DataFrame:
    """The unit-week frame of key-driver analysis: one row per unit and week with responses.

    Columns: unit_pk (database id), week_start, n (responses: the row's weight), ``overall``
    (weekly mean), then one column per driver metric (weekly mean from ``unit_week_scores``) and
    per operational input (mean of its values dated in that Monday week, averaged in SQL).
    Missing cells are NaN. ``unit_ids`` restricts to those units (a region's subtree); ``weeks``
    keeps the last N weeks up to the latest week with responses in scope.
    """
    catalogue = session.execute(sa.select(Metric.id, Metric.code, Metric.kind)).all()
    code_of = {metric_id: code for metric_id, code, _ in catalogue}
    overall_id = next((metric_id for metric_id, code, _ in catalogue if code == OVERALL), None)
    survey_ids = [
        metric_id
        for metric_id, code, kind in catalogue
        if kind == MetricKind.DRIVER or code == OVERALL
    ]
    operational_ids = [
        metric_id for metric_id, _, kind in catalogue if kind == MetricKind.OPERATIONAL
    ]
    empty = pd.DataFrame(
        {"unit_pk": pd.Series(dtype=np.int64), "week_start": pd.Series(dtype="datetime64[s]"),
         "n": pd.Series(dtype=float), OVERALL: pd.Series(dtype=float)}
    )  # fmt: skip
    if overall_id is None:
        return empty

    scope = [UnitWeekScore.metric_id == overall_id]
    if unit_ids is not None:
        scope.append(UnitWeekScore.unit_id.in_(unit_ids))
    first_week = None
    if weeks is not None:
        latest = session.execute(sa.select(sa.func.max(UnitWeekScore.week_start)).where(*scope))
        latest = latest.scalar()
        if latest is None:
            return empty
        if isinstance(latest, str):  # SQLite without type information on an aggregate
            latest = date.fromisoformat(latest)
        first_week = latest - timedelta(weeks=weeks - 1)

    week_number = _day_number(session, UnitWeekScore.week_start)
    survey = sa.select(
        UnitWeekScore.metric_id,
        UnitWeekScore.unit_id,
        week_number,
        UnitWeekScore.n,
        UnitWeekScore.total,
    ).where(UnitWeekScore.metric_id.in_(survey_ids), UnitWeekScore.n > 0)
    if unit_ids is not None:
        survey = survey.where(UnitWeekScore.unit_id.in_(unit_ids))
    if first_week is not None:
        survey = survey.where(UnitWeekScore.week_start >= first_week)
    scores = _fetch_numbers(session, survey, 5)

    operations = np.empty((0, 4))
    if operational_ids:
        week = week_start_expression(session, OperationValue.on_date)
        grouped = (
            sa.select(
                OperationValue.metric_id,
                OperationValue.unit_id,
                week.label("week_start"),
                sa.func.avg(OperationValue.value).label("value"),
            )
            .where(OperationValue.metric_id.in_(operational_ids))
            .group_by(OperationValue.metric_id, OperationValue.unit_id, week)
        )
        if unit_ids is not None:
            grouped = grouped.where(OperationValue.unit_id.in_(unit_ids))
        if first_week is not None:
            # A week is in the window when its Monday is: on_date from that Monday on.
            grouped = grouped.where(OperationValue.on_date >= first_week)
        grouped = grouped.subquery()
        operations = _fetch_numbers(
            session,
            sa.select(
                grouped.c.metric_id,
                grouped.c.unit_id,
                _day_number(session, grouped.c.week_start),
                grouped.c.value,
            ),
            4,
        )

    # Rows are the unit-weeks with responses (the outcome's cells); everything else joins them.
    is_overall = scores[:, 0] == overall_id
    keys = scores[:, 1].astype(np.int64) * 1_000_000 + scores[:, 2].astype(np.int64)
    row_keys = keys[is_overall]
    order = np.argsort(row_keys, kind="stable")
    row_keys = row_keys[order]
    outcome_rows = scores[is_overall][order]
    columns: dict[str, np.ndarray] = {
        "unit_pk": outcome_rows[:, 1].astype(np.int64),
        "week_start": outcome_rows[:, 2].astype(np.int64).astype("datetime64[D]"),
        "n": outcome_rows[:, 3],
        OVERALL: outcome_rows[:, 4] / outcome_rows[:, 3],
    }

    def place(metric_keys: np.ndarray, values: np.ndarray) -> np.ndarray:
        column = np.full(len(row_keys), np.nan)
        if len(row_keys) == 0:
            return column
        position = np.searchsorted(row_keys, metric_keys)
        position = np.clip(position, 0, len(row_keys) - 1)
        hit = row_keys[position] == metric_keys
        column[position[hit]] = values[hit]
        return column

    metric_ids = scores[:, 0].astype(np.int64)
    for metric_id in sorted(set(survey_ids) - {overall_id}):
        mask = metric_ids == metric_id
        columns[code_of[metric_id]] = place(keys[mask], scores[mask, 4] / scores[mask, 3])
    operation_keys = operations[:, 1].astype(np.int64) * 1_000_000 + operations[:, 2].astype(
        np.int64
    )
    operation_metric = operations[:, 0].astype(np.int64)
    for metric_id in sorted(operational_ids):
        mask = operation_metric == metric_id
        columns[code_of[metric_id]] = place(operation_keys[mask], operations[mask, 3])
    return pd.DataFrame(columns)
