"""Key-driver analysis over the database: which drivers and inputs matter most for ``overall``.

Knows the session, not the request. The unit of analysis is the unit-week (weighted by its
responses): the weekly means of ``overall``, of every driver score and of every operational input.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy.orm import Session

from cxactions.analytics.data import driver_frame, metric_catalogue, subtree_unit_ids
from cxactions.analytics.drivers import DEFAULT_METHOD, METHODS, key_drivers
from cxactions.drivers.models import DriverWeights
from cxactions.foundations.charts import ScatterPoint, scatter_chart
from cxactions.foundations.translation import N_, format_number, format_percent
from cxactions.foundations.versions import SURVEY_DATA, bump_data_version, current_data_version
from cxactions.surveys.aggregates import OVERALL
from cxactions.units.models import Unit

# A predictor observed on fewer than this share of the unit-weeks is left out rather than
# dropping every unit-week without it (missing values are handled listwise).
MIN_COVERAGE = 0.5

COLUMNS = [
    "driver", "importance", "rank", "label", "kind", "performance", "target",
    "higher_is_better", "gap_to_target", "n", "r2_contribution", "beta", "correlation",
    "quadrant",
]  # fmt: skip

# Where each predictor falls on the importance-versus-performance chart: the ``quadrant`` codes
# (a column of the CLI's output), and their words on the page (``_(row.quadrant)``).
QUADRANTS = {
    "fix first": N_("fix first"),
    "keep up": N_("keep up"),
    "watch": N_("watch"),
    "over-served": N_("over-served"),
    "important": N_("important"),
    "secondary": N_("secondary"),
}


@dataclass
class DriverReport:
    """The importance of each driver/input for ``overall``, with its performance beside it.

    ``rows``: one per predictor, most important first (see ``COLUMNS``). ``performance`` is the
    mean over the window (drivers: weighted by responses; operational inputs: the mean of the
    unit-week means); ``gap_to_target`` is performance minus target, signed so that positive is
    better. ``quadrant`` places each predictor on the importance-versus-performance chart.
    """

    method: str
    region_code: str | None
    weeks: int | None
    r_squared: float
    n_unit_weeks: int
    n_responses: int
    rows: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    def chart_points(self) -> list[dict]:
        """Data for the importance-versus-performance chart: one point per predictor.

        x = ``gap_to_target`` (None without a target), y = ``importance``; the quadrant split
        is at the average share (1 / number of predictors) and at the target.
        """
        return [
            {
                "driver": row.driver,
                "label": row.label,
                "kind": row.kind,
                "importance": float(row.importance),
                "performance": None if pd.isna(row.performance) else float(row.performance),
                "gap_to_target": None if pd.isna(row.gap_to_target) else float(row.gap_to_target),
                "quadrant": row.quadrant,
            }
            for row in self.rows.itertuples(index=False)
        ]


def _quadrant(importance: float, average: float, gap: float | None) -> str:
    important = importance >= average
    if gap is None or pd.isna(gap):
        return "important" if important else "secondary"
    if important:
        return "fix first" if gap < 0 else "keep up"
    return "watch" if gap < 0 else "over-served"


def driver_importance(
    session: Session,
    *,
    region_code: str | None = None,
    weeks: int | None = None,
    method: str = DEFAULT_METHOD,
) -> DriverReport:
    """Key-driver analysis of ``overall`` company-wide or in a region's subtree, last ``weeks``.

    Raises ``ValueError`` for an unknown region or method, and when there is not enough data.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}: choose one of {', '.join(METHODS)}")
    if weeks is not None and weeks < 1:
        raise ValueError("weeks must be at least 1")
    unit_ids = subtree_unit_ids(session, region_code) if region_code is not None else None
    frame = driver_frame(session, unit_ids=unit_ids, weeks=weeks)
    # The reasons below are shown on the drivers page (in the reader's language) and by the CLI.
    if frame.empty:
        if region_code:
            raise ValueError(
                _("no survey responses in %(region)s: import responses first", region=region_code)
            )
        raise ValueError(_("no survey responses: import responses first"))
    catalogue = metric_catalogue(session).set_index("code")
    candidates = [column for column in frame.columns[4:] if column in catalogue.index]
    if not candidates:
        raise ValueError(
            _(
                "no drivers to analyse: add driver score columns to the responses "
                "or import operational inputs"
            )
        )
    notes: list[str] = []
    coverage = frame[candidates].notna().mean()
    predictors = [code for code in candidates if coverage[code] >= MIN_COVERAGE]
    for code in candidates:
        if code not in predictors:
            notes.append(
                _(
                    "%(code)s left out: present in %(share)s of unit-weeks (needs %(needed)s)",
                    code=code,
                    share=format_percent(coverage[code]),
                    needed=format_percent(MIN_COVERAGE),
                )
            )
    if not predictors:
        if region_code:
            raise ValueError(
                _(
                    "no driver is recorded on enough unit-weeks in %(region)s to analyse",
                    region=region_code,
                )
            )
        raise ValueError(_("no driver is recorded on enough unit-weeks to analyse"))
    weights = frame["n"].to_numpy()
    result = key_drivers(frame, OVERALL, predictors, weights=weights, method=method)
    notes.extend(result.notes)
    complete = frame[[OVERALL, *predictors]].notna().all(axis=1)
    if not complete.all():
        left_out = int((~complete).sum())
        notes.append(
            ngettext(
                "%(count)s unit-week without every driver left out (listwise)",
                "%(count)s unit-weeks without every driver left out (listwise)",
                left_out,
                count=format_number(left_out),
            )
        )

    table = result.table()
    meta = catalogue.loc[table["driver"]]
    performance, counts = [], []
    for code in table["driver"]:
        present = frame[code].notna().to_numpy()
        values = frame[code].to_numpy()[present]
        counts.append(int(present.sum()))
        if not present.any():
            performance.append(np.nan)
        elif catalogue.at[code, "kind"] == "operational":
            performance.append(float(values.mean()))
        else:
            performance.append(float(np.average(values, weights=weights[present])))
    target = meta["target"].to_numpy(dtype=float)
    higher = meta["higher_is_better"].to_numpy(dtype=bool)
    gap = np.where(higher, 1.0, -1.0) * (np.asarray(performance) - target)
    average = 1.0 / len(table)
    rows = pd.DataFrame(
        {
            "driver": table["driver"],
            "importance": table["importance"],
            "rank": table["rank"],
            "label": meta["label"].fillna("").to_numpy(dtype=object),
            "kind": meta["kind"].to_numpy(dtype=object),
            "performance": performance,
            "target": target,
            "higher_is_better": higher,
            "gap_to_target": gap,
            "n": counts,
            "r2_contribution": table["r2_contribution"],
            "beta": table["beta"],
            "correlation": table["correlation"],
        }
    )
    rows["quadrant"] = [
        _quadrant(importance, average, g)
        for importance, g in zip(rows["importance"], rows["gap_to_target"], strict=True)
    ]
    return DriverReport(
        method=method,
        region_code=region_code,
        weeks=weeks,
        r_squared=result.r_squared,
        n_unit_weeks=result.n_rows,
        n_responses=int(round(result.total_weight)),
        rows=rows[COLUMNS],
        notes=notes,
    )


def survey_data_changed(session: Session) -> dict[str, float]:
    """Call in the transaction that changed responses or operational values: a new survey data
    version, and the company-wide weights for it (see :func:`store_company_weights`)."""

    bump_data_version(session, SURVEY_DATA)
    return store_company_weights(session)


def store_company_weights(session: Session) -> dict[str, float]:
    """Compute the company-wide weights for the current survey data and keep them (in the
    caller's transaction, replacing older versions): the pages then read instead of computing."""

    version = current_data_version(session, SURVEY_DATA)
    weights = importance_by_metric(session, region_code=None)
    session.execute(sa.delete(DriverWeights))
    session.add(DriverWeights(survey_version=version, weights=weights))
    session.flush()
    return weights


def stored_company_weights(session: Session) -> dict[str, float] | None:
    """The weights kept for the current survey data, if the transaction that changed it kept
    them; ``None`` otherwise (an older database, data written outside imports)."""

    version = current_data_version(session, SURVEY_DATA)
    row = session.get(DriverWeights, version)
    return None if row is None else {code: float(share) for code, share in row.weights.items()}


def importance_by_metric(session: Session, region_code: str | None = None) -> dict[str, float]:
    """Each driver/input's share of the explained variation of ``overall`` (summing to 1).

    Empty when there is not enough data to analyse; ``ValueError`` for an unknown region.
    """
    if region_code is not None:
        subtree_unit_ids(session, region_code)  # an unknown region is an error, not "no data"
    try:
        report = driver_importance(session, region_code=region_code)
    except ValueError:
        return {}
    return {row.driver: float(row.importance) for row in report.rows.itertuples(index=False)}


@dataclass(frozen=True)
class RegionOption:
    code: str
    name: str


def region_options(session: Session) -> list[RegionOption]:
    """Units of kind "region" (else the top of the tree): the scopes of the drivers page."""

    rows = session.execute(
        sa.select(Unit.code, Unit.name)
        .where(sa.func.lower(Unit.kind) == "region")
        .order_by(Unit.name)
    ).all()
    if not rows:
        rows = session.execute(
            sa.select(Unit.code, Unit.name).where(Unit.parent_id.is_(None)).order_by(Unit.name)
        ).all()
    return [RegionOption(code, name) for code, name in rows]


def importance_chart(report: DriverReport):
    """The importance-versus-performance scatter of the predictors that have a target."""

    points = [
        ScatterPoint(
            point["label"],
            point["gap_to_target"],
            point["importance"],
            "point point--" + point["quadrant"].replace(" ", "-"),
        )
        for point in report.chart_points()
        if point["gap_to_target"] is not None
    ]
    if not points:
        return None
    return scatter_chart(points, x_split=0.0, y_split=1.0 / len(report.rows))
