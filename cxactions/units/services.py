"""Queries over the unit tree."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from cxactions.foundations import trees
from cxactions.foundations.charts import LineChart, Series, line_chart
from cxactions.foundations.versions import FiguresCache, data_signature
from cxactions.foundations.vocabulary import AdoptionStatus, MetricKind
from cxactions.plans.models import Adoption
from cxactions.surveys.aggregates import OVERALL
from cxactions.surveys.models import Metric, OperationValue, UnitWeekScore
from cxactions.units.models import Unit


def subtree_ids(session: Session, root_ids: Iterable[int]) -> set[int]:
    """The given units and every unit below them (a recursive CTE, portable to SQLite and PG)."""
    return trees.subtree_ids(session, Unit, root_ids)


def unit_ids_in_scope(session: Session, user) -> set[int]:
    """Every unit a manager looks after: their assigned units and their subtrees."""
    return subtree_ids(session, (unit.id for unit in user.units))


def ancestors(unit: Unit) -> list[Unit]:
    """From the root down to the unit's parent (the breadcrumb)."""
    return trees.ancestors(unit, include_self_on_cycle=True)


# --- Pages: the unit tree and the unit scorecard -------------------------------------------

TREND_WEEKS = 52
COMPACT_TREND_WEEKS = 16
SCORECARD_WEEKS = (4, 12)
ADOPTION_STATUS_ORDER = {
    AdoptionStatus.IN_PROGRESS: 0,
    AdoptionStatus.PLANNED: 1,
    AdoptionStatus.IMPLEMENTED: 2,
    AdoptionStatus.ABANDONED: 3,
}


@dataclass
class UnitRow:
    """One line of the unit tree: the unit, its depth, and figures summed over its subtree."""

    unit: Unit
    depth: int
    responses: int = 0
    recent_n: int = 0
    recent_total: float = 0.0
    children: list[UnitRow] = field(default_factory=list)

    @property
    def recent_mean(self) -> float | None:
        return self.recent_total / self.recent_n if self.recent_n else None


@dataclass
class UnitTree:
    rows: list[UnitRow]  # depth-first, ready to print as an indented table
    as_of: date | None  # first day of the latest week with survey data
    recent_weeks: int


@dataclass
class PeriodScore:
    weeks: int
    mean: float | None
    responses: int
    previous_mean: float | None
    previous_responses: int
    peer_mean: float | None
    company_mean: float | None = None

    @property
    def change(self) -> float | None:
        if self.mean is None or self.previous_mean is None:
            return None
        return self.mean - self.previous_mean

    @property
    def gap_to_peer(self) -> float | None:
        if self.mean is None or self.peer_mean is None:
            return None
        return self.mean - self.peer_mean


@dataclass
class WeekPoint:
    week_start: date
    mean: float
    responses: int


@dataclass
class MetricComparison:
    """One driver score or operational input at the unit, against its region, the company and
    the target, over the scorecard's recent window."""

    code: str
    label: str
    kind: MetricKind
    higher_is_better: bool
    unit_value: float | None
    region_value: float | None
    company_value: float | None
    target: float | None
    observations: int  # responses (drivers) or daily values (inputs) behind ``unit_value``

    def _better(self, other: float | None) -> float | None:
        """How much better than ``other`` the unit does (positive = better), in metric units."""
        if self.unit_value is None or other is None:
            return None
        difference = self.unit_value - other
        return difference if self.higher_is_better else -difference

    @property
    def vs_region(self) -> float | None:
        return self._better(self.region_value)

    @property
    def vs_target(self) -> float | None:
        return self._better(self.target)

    @property
    def meets_target(self) -> bool | None:
        gap = self.vs_target
        return None if gap is None else gap >= 0


@dataclass
class Scorecard:
    as_of: date | None
    periods: list[PeriodScore]
    total_responses: int
    first_week: date | None
    peer_label: str
    weeks: list[WeekPoint]
    peer_weeks: list[WeekPoint]
    chart: LineChart | None  # wide screens: the whole trend
    chart_compact: LineChart | None = None  # phones: the last weeks only, labels kept legible
    # Where we started: overall over the first weeks with data, what later action is measured from.
    baseline_mean: float | None = None
    baseline_weeks: tuple[date, date] | None = None
    target: float | None = None  # the target of ``overall``, when one is set
    drivers: list[MetricComparison] = field(default_factory=list)
    inputs: list[MetricComparison] = field(default_factory=list)

    @property
    def has_data(self) -> bool:
        return self.total_responses > 0


def subtree_select(root_ids: Iterable[int]) -> Select:
    """A SELECT of the ids of the given units and everything below them, to use in ``in_()``."""
    return trees.subtree_select(Unit, root_ids)


def outcome_metric_id(session: Session) -> int | None:
    """The id of ``overall``, the satisfaction outcome; ``None`` before any survey import."""
    return session.scalar(
        select(Metric.id).where(Metric.code == OVERALL, Metric.kind == MetricKind.OUTCOME)
    )


def latest_week(session: Session, metric_id: int | None) -> date | None:
    """The newest week with survey data anywhere: scorecards count back from it, not from today.

    Kept until the data changes: without an index on the week alone, PostgreSQL answers it with
    a scan of the whole aggregate (70 ms at 2,000 stores x 104 weeks).
    """
    if metric_id is None:
        return None
    return _SCOPE_CACHE.get_or_compute(
        (data_signature(session), "latest-week", metric_id),
        lambda: session.scalar(
            select(func.max(UnitWeekScore.week_start)).where(UnitWeekScore.metric_id == metric_id)
        ),
    )


def unit_tree(
    session: Session, scope: Collection[int] | None = None, *, recent_weeks: int = 4
) -> UnitTree:
    """The organisation as an indented list; ``scope`` limits it to those unit ids.

    Response counts and the recent mean of ``overall`` are summed over each unit's subtree, from
    the weekly aggregate (three queries whatever the size of the tree).
    """
    query = select(Unit).order_by(Unit.name, Unit.code)
    if scope is not None:
        if not scope:
            return UnitTree(rows=[], as_of=None, recent_weeks=recent_weeks)
        query = query.where(Unit.id.in_(list(scope)))
    units = list(session.scalars(query))
    metric_id = outcome_metric_id(session)
    as_of = latest_week(session, metric_id)
    totals: dict[int, int] = {}
    recent: dict[int, tuple[int, float]] = {}
    if metric_id is not None:
        by_unit = (
            select(UnitWeekScore.unit_id, func.sum(UnitWeekScore.n))
            .where(UnitWeekScore.metric_id == metric_id)
            .group_by(UnitWeekScore.unit_id)
        )
        if scope is not None:
            by_unit = by_unit.where(UnitWeekScore.unit_id.in_(list(scope)))
        totals = {unit_id: int(n) for unit_id, n in session.execute(by_unit)}
        if as_of is not None:
            since = as_of - timedelta(weeks=recent_weeks - 1)
            recent_query = (
                select(
                    UnitWeekScore.unit_id,
                    func.sum(UnitWeekScore.n),
                    func.sum(UnitWeekScore.total),
                )
                .where(UnitWeekScore.metric_id == metric_id, UnitWeekScore.week_start >= since)
                .group_by(UnitWeekScore.unit_id)
            )
            if scope is not None:
                recent_query = recent_query.where(UnitWeekScore.unit_id.in_(list(scope)))
            recent = {
                unit_id: (int(n), float(total))
                for unit_id, n, total in session.execute(recent_query)
            }

    # Units already sorted by name, so children come out sorted too; a unit whose parent is
    # out of scope is a root, and a cycle in imported data cannot hang the page.
    roots, children = trees.arrange(
        (UnitRow(unit=unit, depth=0) for unit in units),
        key=_row_id,
        parent_key=lambda row: row.unit.parent_id,
        orphans_are_roots=True,
    )
    flat: list[UnitRow] = []
    for row, depth in trees.walk(roots, children, _row_id):
        row.depth = depth
        row.children = children.get(row.unit.id, [])
        row.responses = totals.get(row.unit.id, 0)
        row.recent_n, row.recent_total = recent.get(row.unit.id, (0, 0.0))
        flat.append(row)
    for row in reversed(flat):  # every row's children are summed before the row itself
        for child in row.children:
            row.responses += child.responses
            row.recent_n += child.recent_n
            row.recent_total += child.recent_total
    return UnitTree(rows=flat, as_of=as_of, recent_weeks=recent_weeks)


def _row_id(row: UnitRow) -> int:
    return row.unit.id


def get_unit(session: Session, code: str) -> Unit | None:
    return session.scalar(select(Unit).where(Unit.code == code))


def region_of(unit: Unit, chain: list[Unit]) -> Unit | None:
    """The unit's region: the nearest ancestor of kind ``region``, else the root of its tree."""
    for ancestor in reversed(chain):
        if (ancestor.kind or "").lower() == "region":
            return ancestor
    return chain[0] if chain else None


Units = Select | Collection[int] | None  # a SELECT of unit ids, the ids themselves, or all units


def _weekly(session: Session, metric_id: int, units: Units, since: date) -> list[WeekPoint]:
    query = (
        select(
            UnitWeekScore.week_start,
            func.sum(UnitWeekScore.n),
            func.sum(UnitWeekScore.total),
        )
        .where(UnitWeekScore.metric_id == metric_id, UnitWeekScore.week_start >= since)
        .group_by(UnitWeekScore.week_start)
        .order_by(UnitWeekScore.week_start)
    )
    if units is not None:
        query = query.where(UnitWeekScore.unit_id.in_(units))
    return [
        WeekPoint(week_start=week, mean=float(total) / int(n), responses=int(n))
        for week, n, total in session.execute(query)
        if n
    ]


def _shared_weekly(
    session: Session, metric_id: int, peer: Unit | None, since: date
) -> list[WeekPoint]:
    """The weekly series of a region (``peer``) or of the company (``None``), the same for every
    unit below it: kept until the data changes (see metric_comparisons)."""
    units = subtree_select([peer.id]) if peer is not None else None
    return _SCOPE_CACHE.get_or_compute(
        (data_signature(session), "weeks", metric_id, peer.id if peer else None, since),
        lambda: _weekly(session, metric_id, units, since),
    )


def _mean_between(points: list[WeekPoint], start: date, end: date) -> tuple[float | None, int]:
    chosen = [point for point in points if start <= point.week_start <= end]
    n = sum(point.responses for point in chosen)
    if not n:
        return None, 0
    return sum(point.mean * point.responses for point in chosen) / n, n


BASELINE_WEEKS = 8
COMPARISON_WEEKS = 8
# Region- and company-wide figures, the same for every unit below them.
_SCOPE_CACHE = FiguresCache(256)


def metric_comparisons(
    session: Session,
    own_units: Units,
    peer: Unit | None,
    as_of: date,
    weeks: int = COMPARISON_WEEKS,
) -> list[MetricComparison]:
    """Every driver and input over the last ``weeks``: the units (None: all), their region and
    the company, one grouped query each for the survey sums and for the operational values."""
    since = as_of - timedelta(weeks=weeks - 1)
    until = as_of + timedelta(days=6)
    scopes = {"unit": own_units, "company": None}
    if peer is not None:
        scopes["region"] = subtree_select([peer.id])
    survey: dict[str, dict[int, tuple[float, int]]] = {}
    operations: dict[str, dict[int, tuple[float, int]]] = {}
    signature = data_signature(session)
    metrics = list(
        session.scalars(
            select(Metric)
            .where(Metric.kind != MetricKind.OUTCOME)
            .order_by(Metric.kind, Metric.code)
        )
    )
    # Naming the drivers lets PostgreSQL seek the aggregate's key (metric, unit, week) per
    # metric instead of scanning the whole table for one unit's rows.
    drivers = [metric.id for metric in metrics if metric.kind == MetricKind.DRIVER]
    for scope, units in scopes.items():
        # Region and company figures are the same for every unit below them: kept in this
        # process until the data changes (a store's page then reads only its own rows).
        shared = None
        if scope != "unit":
            shared = (signature, scope, peer.id if scope == "region" else None, since)
            if shared in _SCOPE_CACHE:
                survey[scope], operations[scope] = _SCOPE_CACHE[shared]
                continue
        scores = select(
            UnitWeekScore.metric_id, func.sum(UnitWeekScore.total), func.sum(UnitWeekScore.n)
        ).where(
            UnitWeekScore.metric_id.in_(drivers), UnitWeekScore.week_start.between(since, as_of)
        )
        values = select(
            OperationValue.metric_id, func.sum(OperationValue.value), func.count()
        ).where(OperationValue.on_date.between(since, until))
        if units is not None:
            scores = scores.where(UnitWeekScore.unit_id.in_(units))
            values = values.where(OperationValue.unit_id.in_(units))
        survey[scope] = _means(session, scores.group_by(UnitWeekScore.metric_id))
        operations[scope] = _means(session, values.group_by(OperationValue.metric_id))
        if shared is not None:
            _SCOPE_CACHE.remember(shared, (survey[scope], operations[scope]))
    found = []
    for metric in metrics:
        source = survey if metric.kind == MetricKind.DRIVER else operations
        unit_value, observations = source["unit"].get(metric.id, (None, 0))
        if unit_value is None and source["company"].get(metric.id) is None:
            continue  # measured nowhere in the window
        found.append(
            MetricComparison(
                code=metric.code,
                label=metric.label or metric.code.replace("_", " "),
                kind=metric.kind,
                higher_is_better=metric.higher_is_better,
                unit_value=unit_value,
                region_value=source.get("region", {}).get(metric.id, (None, 0))[0],
                company_value=source["company"].get(metric.id, (None, 0))[0],
                target=metric.target,
                observations=observations,
            )
        )
    return found


def _means(session: Session, query: Select) -> dict[int, tuple[float, int]]:
    return {
        metric_id: (float(total) / int(n), int(n))
        for metric_id, total, n in session.execute(query)
        if n
    }


def unit_scorecard(session: Session, unit: Unit, chain: list[Unit]) -> Scorecard:
    """The unit's ``overall`` (summed over its subtree): recent means against the previous
    period, its region, the company and the target; response counts and the weekly trend;
    its drivers and inputs; where it started.

    The subtree's ids are read first and passed as a list: PostgreSQL misjudges the size of a
    recursive CTE (thousands of rows for a store's one) and would scan the whole aggregate.
    """
    return _scorecard(
        session, unit.name, sorted(subtree_ids(session, [unit.id])), region_of(unit, chain)
    )


def company_scorecard(session: Session) -> Scorecard:
    """The same scorecard for the whole company (every unit)."""
    return _scorecard(session, _("Company"), None, None)


def _scorecard(session: Session, name: str, own_units: Units, peer: Unit | None) -> Scorecard:
    metric_id = outcome_metric_id(session)
    as_of = latest_week(session, metric_id)
    peer_label = (
        peer.name if peer is not None else (_("All units") if own_units is not None else "")
    )
    if metric_id is None or as_of is None:
        return Scorecard(None, [], 0, None, peer_label, [], [], None)
    longest = max(max(SCORECARD_WEEKS) * 2, TREND_WEEKS)
    since = as_of - timedelta(weeks=longest - 1)
    weeks = _weekly(session, metric_id, own_units, since)
    company_weeks = weeks if own_units is None else _shared_weekly(session, metric_id, None, since)
    if peer is not None:
        peer_weeks = _shared_weekly(session, metric_id, peer, since)
    else:
        peer_weeks = company_weeks if own_units is not None else []
    totals = select(func.sum(UnitWeekScore.n), func.min(UnitWeekScore.week_start)).where(
        UnitWeekScore.metric_id == metric_id
    )
    if own_units is not None:
        totals = totals.where(UnitWeekScore.unit_id.in_(own_units))
    total, first_week = session.execute(totals).one()
    periods = []
    for length in SCORECARD_WEEKS:
        start = as_of - timedelta(weeks=length - 1)
        previous_start = start - timedelta(weeks=length)
        previous_end = start - timedelta(days=1)
        mean, n = _mean_between(weeks, start, as_of)
        previous_mean, previous_n = _mean_between(weeks, previous_start, previous_end)
        peer_mean, _peer_n = _mean_between(peer_weeks, start, as_of)
        company_mean, _company_n = _mean_between(company_weeks, start, as_of)
        periods.append(
            PeriodScore(
                length,
                mean,
                n,
                previous_mean,
                previous_n,
                peer_mean if peer_weeks else None,
                company_mean if own_units is not None else None,
            )
        )
    trend_start = as_of - timedelta(weeks=TREND_WEEKS - 1)
    trend = [point for point in weeks if point.week_start >= trend_start]
    peer_trend = [point for point in peer_weeks if point.week_start >= trend_start]
    series = [Series(name, [(p.week_start, p.mean) for p in trend], "series--unit")]
    if peer_trend:
        series.append(
            Series(peer_label, [(p.week_start, p.mean) for p in peer_trend], "series--peer")
        )
    baseline_mean, baseline_weeks = _baseline(session, metric_id, own_units, first_week)
    comparisons = metric_comparisons(session, own_units, peer, as_of)
    return Scorecard(
        baseline_mean=baseline_mean,
        baseline_weeks=baseline_weeks,
        target=session.scalar(select(Metric.target).where(Metric.id == metric_id)),
        drivers=[item for item in comparisons if item.kind == MetricKind.DRIVER],
        inputs=[item for item in comparisons if item.kind == MetricKind.OPERATIONAL],
        as_of=as_of,
        periods=periods,
        total_responses=int(total or 0),
        first_week=first_week,
        peer_label=peer_label,
        weeks=trend,
        peer_weeks=peer_trend,
        chart=line_chart(series, width=900, height=260) if trend else None,
        chart_compact=line_chart(_last_weeks(series, COMPACT_TREND_WEEKS), width=360, height=220)
        if trend
        else None,
    )


def _baseline(
    session: Session, metric_id: int, units: Units, first_week: date | None
) -> tuple[float | None, tuple[date, date] | None]:
    """``overall`` over the unit's first weeks with data: where it started."""
    if first_week is None:
        return None, None
    last = first_week + timedelta(weeks=BASELINE_WEEKS - 1)
    points = [
        point
        for point in _weekly(session, metric_id, units, first_week)
        if point.week_start <= last
    ]
    mean, _n = _mean_between(points, first_week, last)
    return mean, (first_week, last)


def _last_weeks(series: list[Series], weeks: int) -> list[Series]:
    last = max((day for item in series for day, _mean in item.points), default=None)
    if last is None:
        return series
    start = last - timedelta(weeks=weeks - 1)
    return [
        Series(item.label, [point for point in item.points if point[0] >= start], item.css_class)
        for item in series
    ]


def unit_adoptions(session: Session, unit: Unit) -> list[Adoption]:
    """The unit's action plan: work in progress first, then planned, done and abandoned."""
    adoptions = session.scalars(
        select(Adoption)
        .where(Adoption.unit_id == unit.id)
        .options(
            selectinload(Adoption.solution),
            selectinload(Adoption.challenge),
            selectinload(Adoption.steps),
        )
    ).all()
    return sorted(
        adoptions,
        key=lambda item: (
            ADOPTION_STATUS_ORDER.get(item.status, 9),
            item.due_on or date.max,
            item.solution.title if item.solution else "",
        ),
    )


def child_rows(session: Session, unit: Unit) -> list[UnitRow]:
    """The unit's direct children with figures summed over their own subtrees."""
    scope = subtree_ids(session, [unit.id])
    tree = unit_tree(session, scope)
    return [row for row in tree.rows if row.depth == 1]
