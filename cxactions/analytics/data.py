"""The one place that turns database rows into the frames the analytics work on.

SQLAlchemy Core over a session, no Flask. The weekly panel reads ``unit_week_scores`` (kept up
to date by every import); months, quarters and years are summed in the database with a GROUP BY
over the covering index of ``responses``, never by loading responses into Python.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from cxactions.analytics.panel import PERIODS, Panel, build_panel
from cxactions.library.models import Solution
from cxactions.plans.models import Adoption
from cxactions.surveys.aggregates import OVERALL
from cxactions.surveys.models import Metric, Response, UnitWeekScore
from cxactions.units.models import Unit
from cxactions.vocabulary import AdoptionStatus

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


def unit_regions(session: Session) -> pd.DataFrame:
    """Every unit with its comparison group: the top of its branch of the organisation tree.

    A unit without a parent is its own group only when it has children (a region); lone units
    share one group, so a flat list of stores still has comparison units.
    """
    rows = session.execute(sa.select(Unit.id, Unit.code, Unit.parent_id)).all()
    parent = {unit_id: parent_id for unit_id, _, parent_id in rows}
    code = {unit_id: unit_code for unit_id, unit_code, _ in rows}
    has_children = {parent_id for parent_id in parent.values() if parent_id is not None}
    groups = []
    for unit_id, unit_code, _ in rows:
        top, seen = unit_id, set()
        while parent.get(top) is not None and top not in seen:
            seen.add(top)
            top = parent[top]
        if top == unit_id and unit_id not in has_children:
            groups.append((unit_code, NO_GROUP))
        else:
            groups.append((unit_code, code[top]))
    return pd.DataFrame(groups, columns=["unit_id", "group"])


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
            raise ValueError(f"unknown unit {region_of!r}")
        codes = regions.loc[regions["group"] == group.iloc[0], "unit_id"].tolist()
    adoptions = implemented_adoptions(session)
    if codes is not None:
        adoptions = adoptions[adoptions["unit_id"].isin(codes)]
    return build_panel(panel_cells(session, period, codes), regions, adoptions, period)
