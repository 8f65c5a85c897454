"""Impact estimates from the database: the panel, the estimator and the ranking, in one call.

Knows the session, not the request: the CLI, the web pages and the cache all come here.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import pandas as pd
import sqlalchemy as sa
from blinker import Namespace
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy.orm import Session

from cxactions.analytics.data import load_panel, solution_titles, unit_top_ancestors
from cxactions.analytics.estimators import (
    DEFAULT_ESTIMATOR,
    GROUP_ESTIMATORS,
    RANKING_ESTIMATORS,
    ImpactOptions,
    ImpactResult,
    Progress,
    estimate,
    unit_trajectory,
)
from cxactions.analytics.ranking import MIN_UNITS, Prior, rank_on_evidence
from cxactions.foundations import trees
from cxactions.foundations.db_types import utcnow
from cxactions.foundations.translation import format_number, format_score, locale, period_count
from cxactions.foundations.versions import current_data_version
from cxactions.impact.models import (
    ImpactEstimate,
    ImpactEventEstimate,
    ImpactRegionEstimate,
    ImpactRun,
)
from cxactions.library.models import Solution
from cxactions.units.models import Unit

DETAILS = ("summary", "event", "group-time")
SUMMARY_CSV = ["solution_id", "title", "effect", "ci_low", "ci_high", "n_units", "rank"]
# --by region: the contract puts ``group`` (the region's unit_id) right after solution_id.
BY_REGION_CSV = ["solution_id", "group", *SUMMARY_CSV[1:]]
SUMMARY_EXTRA = [
    "se",
    "raw_effect",
    "raw_se",
    "placebo",
    "placebo_se",
    "placebo_warning",
    "enough_evidence",
]
EVENT_CSV = ["solution_id", "event_time", "effect", "ci_low", "ci_high", "se", "n_units", "phase"]
GROUP_TIME_CSV = ["solution_id", "cohort", "period", "effect", "se", "ci_low", "ci_high"]


@dataclass
class ImpactReport:
    """An estimator's result with the ranked summary the product shows."""

    result: ImpactResult
    ranked: pd.DataFrame  # one row per solution, best evidence first
    prior: Prior | None
    min_units: int
    units: int
    periods: int
    # With ``by_region``: one row per solution and region (``group``), each region ranked.
    by_region: pd.DataFrame | None = None

    @property
    def notes(self) -> list[str]:
        return self.result.notes

    def rows(self, detail: str = "summary", *, by_region: bool = False) -> pd.DataFrame:
        """The contract's columns for ``--detail`` (extra columns after them); ``by_region``
        (summary only): the company-wide rows (empty ``group``), then the regions' rows."""
        if by_region:
            if detail != "summary" or self.by_region is None:
                raise ValueError("rows by region need the summary of a report computed by region")
            company = self.ranked.assign(group=None)
            columns = BY_REGION_CSV + SUMMARY_EXTRA
            return pd.concat([company[columns], self.by_region[columns]], ignore_index=True)
        if detail == "summary":
            return self.ranked[SUMMARY_CSV + SUMMARY_EXTRA]
        if detail == "event":
            frame = self.result.event.rename(columns={"solution": "solution_id"})
            return frame[EVENT_CSV].reset_index(drop=True)
        if detail == "group-time":
            frame = self.result.group_time.rename(columns={"solution": "solution_id"})
            frame = frame.assign(
                cohort=pd.to_datetime(frame["cohort"]).dt.strftime("%Y-%m-%d"),
                period=pd.to_datetime(frame["period"]).dt.strftime("%Y-%m-%d"),
            )
            return frame[GROUP_TIME_CSV].reset_index(drop=True)
        raise ValueError(f"unknown detail {detail!r}: choose one of {', '.join(DETAILS)}")


def compute_impact(
    session: Session,
    *,
    estimator: str = DEFAULT_ESTIMATOR,
    period: str = "week",
    options: ImpactOptions | None = None,
    min_units: int = MIN_UNITS,
    progress: Progress | None = None,
    by_region: bool = False,
) -> ImpactReport:
    """Estimate every adopted solution's effect from the database and rank them on evidence.

    The default estimator's effects are shrunk (empirical Bayes) before ranking; ``cs`` ranks
    its own simple aggregation as it is; the baselines are never ranked. ``by_region`` adds
    each solution's effect among each region's adopting units (a region: a unit's top-level
    ancestor), ranked within the region the same way (``imputation`` and ``cs`` only).
    """
    if by_region and estimator not in GROUP_ESTIMATORS:
        raise ValueError(
            f"--by region needs the {' or '.join(GROUP_ESTIMATORS)} estimator, not {estimator}"
        )
    if progress:
        progress("reading the panel")
    panel = load_panel(session, period)
    regions = unit_top_ancestors(session) if by_region else None
    result = estimate(panel, estimator, options, progress, by=regions, min_group_units=min_units)
    ranking = {
        "shrink": estimator == DEFAULT_ESTIMATOR,
        "min_units": min_units,
        "confidence": result.options.confidence,
        "rank": estimator in RANKING_ESTIMATORS,
        "small_sample": estimator == DEFAULT_ESTIMATOR,
    }
    ranked, prior = rank_on_evidence(result.summary, **ranking)
    titles = solution_titles(session)
    ranked = ranked.rename(columns={"solution": "solution_id"})
    ranked.insert(1, "title", [titles.get(code, "") for code in ranked["solution_id"]])
    ranked["placebo_warning"] = ranked["placebo_warning"].fillna(False).astype(bool)
    by_region_rows = None
    if by_region:
        by_region_rows = _rank_regions(result.by_group, ranked["solution_id"], titles, ranking)
    return ImpactReport(
        result=result,
        ranked=ranked,
        prior=prior,
        min_units=min_units,
        units=int(panel.shape[0]),
        periods=int(panel.shape[1]),
        by_region=by_region_rows,
    )


def _rank_regions(
    by_group: pd.DataFrame, solution_order: Iterable[str], titles: dict[str, str], ranking: dict
) -> pd.DataFrame:
    """The estimator's rows by region, each region's solutions ranked as the company's are
    (shrunk towards the region's own mean when the ranking shrinks), regions in code order,
    solutions best first within each; ``effect``, interval and ``rank`` empty below
    ``min_units`` adopting units."""
    columns = [*BY_REGION_CSV, *SUMMARY_EXTRA, "n_cells"]
    if by_group is None or by_group.empty:
        return pd.DataFrame(columns=columns)
    order = {code: position for position, code in enumerate(solution_order)}
    parts = []
    for region, rows in by_group.groupby("group", sort=True):
        ranked, _ = rank_on_evidence(rows.drop(columns=["group"]), **ranking)
        ranked["group"] = region
        # Unranked solutions after the ranked ones, in the company-wide order.
        ranked["order"] = [order.get(code, len(order)) for code in ranked["solution"]]
        ranked = ranked.sort_values(["rank", "order"], na_position="last", kind="stable")
        parts.append(ranked)
    frame = pd.concat(parts, ignore_index=True).rename(columns={"solution": "solution_id"})
    frame["title"] = [titles.get(code, "") for code in frame["solution_id"]]
    # A figure from fewer than min_units units is not shown at all, not even unshrunk.
    too_few = ~frame["enough_evidence"].astype(bool)
    for column in ("effect", "se", "ci_low", "ci_high", "raw_effect", "raw_se"):
        frame.loc[too_few, column] = np.nan
    frame["placebo"] = np.nan
    frame["placebo_se"] = np.nan
    frame["placebo_warning"] = None
    return frame[columns].reset_index(drop=True)


def unit_count(count: int, kind: str | None = None) -> str:
    """ "23 stores", "1 store", "23 units": a count of adopting units in the reader's language.

    ``kind`` is the kind every counted unit shares (``None`` when they differ). The demo's kinds
    have their own words; another kind reads as itself in English and as "units" elsewhere.
    """
    shown = format_number(count)
    kind = (kind or "").strip().lower()
    if kind == "store":
        return ngettext("%(count)s store", "%(count)s stores", count, count=shown)
    if kind == "branch":
        return ngettext("%(count)s branch", "%(count)s branches", count, count=shown)
    if kind == "district":
        return ngettext("%(count)s district", "%(count)s districts", count, count=shown)
    if kind == "region":
        return ngettext("%(count)s region", "%(count)s regions", count, count=shown)
    if kind.isalpha() and locale() == "en":
        return f"{shown} {kind if count == 1 or kind.endswith('s') else kind + 's'}"
    return ngettext("%(count)s unit", "%(count)s units", count, count=shown)


def plain_reading(effect: float, low: float, high: float, units: int, kind: str | None = None):
    """The sentence a manager reads: "raised satisfaction by about 0.4 points (0.2 to 0.6) at
    23 stores" (``kind``: the adopting units' common kind, see ``unit_count``)."""
    if not np.isfinite(effect):
        return _("No estimate yet.")
    values = {
        "size": format_score(abs(effect), 1),
        "low": format_score(low, 1),
        "high": format_score(high, 1),
        "units": unit_count(units, kind),
    }
    if effect >= 0:
        return _(
            "Raised satisfaction by about %(size)s points (%(low)s to %(high)s) at %(units)s.",
            **values,
        )
    return _(
        "Lowered satisfaction by about %(size)s points (%(low)s to %(high)s) at %(units)s.",
        **values,
    )


# --- Periods in words ------------------------------------------------------------------------


@dataclass(frozen=True)
class PeriodWords:
    """A grain of the panel named for sentences in the reader's language: ``one`` ("week"),
    ``many`` ("weeks"), ``mean`` ("weekly mean"); ``count(12)`` gives "12 weeks"."""

    code: str
    one: str
    many: str
    mean: str

    def count(self, number: int) -> str:
        return period_count(number, self.code)


def period_words(period: str | None) -> PeriodWords:
    """The words of a grain ("week", "month", "quarter", "year"); "period" for another one."""
    if period == "week":
        return PeriodWords(period, _("week"), _("weeks"), _("weekly mean"))
    if period == "month":
        return PeriodWords(period, _("month"), _("months"), _("monthly mean"))
    if period == "quarter":
        return PeriodWords(period, _("quarter"), _("quarters"), _("quarterly mean"))
    if period == "year":
        return PeriodWords(period, _("year"), _("years"), _("yearly mean"))
    return PeriodWords("period", _("period"), _("periods"), _("mean per period"))


# --------------------------------------------------------------------------------------------
# The cache the pages read: one run of the default configuration, recomputed when stale.

# A run still "running" after this long died with its process: another may start.
RUN_TIMEOUT = timedelta(minutes=30)


@dataclass(frozen=True)
class ImpactSettings:
    """The configuration whose results the pages show (``IMPACT_*`` settings)."""

    period: str = "week"
    window: int = 12
    control: str = "notyet"
    min_units: int = MIN_UNITS

    @classmethod
    def from_config(cls, config) -> ImpactSettings:
        return cls(
            period=config.get("IMPACT_PERIOD", "week"),
            window=int(config.get("IMPACT_WINDOW", 12)),
            control=config.get("IMPACT_CONTROL", "notyet"),
            min_units=int(config.get("IMPACT_MIN_UNITS", MIN_UNITS)),
        )


@dataclass(frozen=True)
class Freshness:
    """What the pages say about the estimates they show."""

    run: ImpactRun | None
    data_version: int
    running: bool

    @property
    def stale(self) -> bool:
        return self.run is None or self.run.data_version < self.data_version

    @property
    def words(self) -> PeriodWords:
        """The words of the run's grain ("week" before any run), for the freshness line."""
        return period_words(self.run.period if self.run is not None else "week")


# Sent with the session once a run's estimates are stored, before they are committed: listeners
# write in the same transaction (the crowd feature tells followers a solution was measured).
run_stored = Namespace().signal("impact-run-stored")


def latest_run(session: Session) -> ImpactRun | None:
    """The newest finished run: the estimates the pages show."""
    return session.scalar(
        sa.select(ImpactRun)
        .where(ImpactRun.status == "done", ImpactRun.estimator == DEFAULT_ESTIMATOR)
        .order_by(ImpactRun.finished_at.desc(), ImpactRun.id.desc())
        .limit(1)
    )


def running_run(session: Session) -> ImpactRun | None:
    """A run started recently and not finished, if any."""
    return session.scalar(
        sa.select(ImpactRun)
        .where(ImpactRun.status == "running", ImpactRun.started_at > utcnow() - RUN_TIMEOUT)
        .order_by(ImpactRun.started_at.desc())
        .limit(1)
    )


def freshness(session: Session) -> Freshness:
    return Freshness(
        run=latest_run(session),
        data_version=current_data_version(session),
        running=running_run(session) is not None,
    )


def claim_refresh(session: Session, settings: ImpactSettings, trigger: str) -> int | None:
    """Start a run unless one is under way; commits the claim. Returns the run id or None.

    A unique index admits one ``running`` run at a time, so two processes cannot both claim;
    a run left ``running`` by a process that died is closed as failed after ``RUN_TIMEOUT``.
    """
    session.execute(
        sa.update(ImpactRun)
        .where(ImpactRun.status == "running", ImpactRun.started_at <= utcnow() - RUN_TIMEOUT)
        .values(status="failed", finished_at=utcnow(), error="abandoned: its process stopped")
    )
    session.commit()
    if running_run(session) is not None:
        return None
    run = ImpactRun(
        estimator=DEFAULT_ESTIMATOR,
        period=settings.period,
        window=settings.window,
        control=settings.control,
        min_units=settings.min_units,
        status="running",
        trigger=trigger,
        data_version=current_data_version(session),
    )
    session.add(run)
    try:
        session.commit()
    except sa.exc.IntegrityError:
        session.rollback()
        return None
    return run.id


def refresh_impact(
    session: Session,
    settings: ImpactSettings | None = None,
    *,
    trigger: str = "cli",
    run_id: int | None = None,
    progress: Progress | None = None,
) -> ImpactRun | None:
    """Recompute the cached estimates and store them; returns the finished run.

    Returns None when another run is already under way. A failure is recorded on the run
    (status ``failed``, the error) and re-raised; the previous estimates stay in place.
    """
    settings = settings or ImpactSettings()
    if run_id is None:
        run_id = claim_refresh(session, settings, trigger)
        if run_id is None:
            return None
    started = time.perf_counter()
    try:
        report = compute_impact(
            session,
            period=settings.period,
            options=ImpactOptions(window=settings.window, control=settings.control),
            min_units=settings.min_units,
            progress=progress,
            by_region=True,
        )
        run = session.get(ImpactRun, run_id)
        _store(session, run, report)
        run_stored.send(session, run=run)  # e.g. followers hear of new measurements
        run.status = "done"
        run.finished_at = utcnow()
        run.seconds = time.perf_counter() - started
        prune_runs(session)
        session.commit()
        return run
    except Exception as error:
        session.rollback()
        run = session.get(ImpactRun, run_id)
        if run is not None:
            run.status = "failed"
            run.finished_at = utcnow()
            run.error = f"{type(error).__name__}: {error}"[:2000]
            session.commit()
        raise


def _store(session: Session, run: ImpactRun, report: ImpactReport) -> None:
    ids = dict(session.execute(sa.select(Solution.code, Solution.id)).all())
    run.anticipation = report.result.options.anticipation
    run.units = report.units
    run.periods = report.periods
    run.notes = list(report.notes)
    if report.prior is not None and np.isfinite(report.prior.mean):
        run.prior_mean = report.prior.mean
        run.prior_sd = float(np.sqrt(report.prior.variance))

    def number(value):
        return None if value is None or pd.isna(value) else float(value)

    def figures(row) -> dict:
        """What a company-wide and a regional estimate row both hold."""
        return {
            "solution_id": ids[row.solution_id],
            "effect": number(row.effect),
            "se": number(row.se),
            "ci_low": number(row.ci_low),
            "ci_high": number(row.ci_high),
            "raw_effect": number(row.raw_effect),
            "raw_se": number(row.raw_se),
            "n_units": int(row.n_units),
            "n_cells": int(getattr(row, "n_cells", 0) or 0),
            "rank": None if pd.isna(row.rank) else int(row.rank),
            "enough_evidence": bool(row.enough_evidence),
        }

    estimates = [
        {
            "run_id": run.id,
            **figures(row),
            "placebo": number(row.placebo),
            "placebo_se": number(row.placebo_se),
            "placebo_warning": bool(row.placebo_warning),
        }
        for row in report.ranked.itertuples(index=False)
        if row.solution_id in ids
    ]
    if estimates:
        session.execute(sa.insert(ImpactEstimate), estimates)
    events = [
        {
            "run_id": run.id,
            "solution_id": ids[row.solution],
            "event_time": int(row.event_time),
            "phase": row.phase,
            "effect": number(row.effect),
            "se": number(row.se),
            "ci_low": number(row.ci_low),
            "ci_high": number(row.ci_high),
            "n_units": None if pd.isna(row.n_units) else int(row.n_units),
        }
        for row in report.result.event.itertuples(index=False)
        if row.solution in ids
    ]
    if events:
        session.execute(sa.insert(ImpactEventEstimate), events)
    if report.by_region is not None and not report.by_region.empty:
        region_ids = dict(
            session.execute(sa.select(Unit.code, Unit.id).where(Unit.parent_id.is_(None))).all()
        )
        regions = [
            {
                "run_id": run.id,
                "region_id": region_ids[row.group],
                **figures(row),
            }
            for row in report.by_region.itertuples(index=False)
            if row.solution_id in ids and row.group in region_ids
        ]
        if regions:
            session.execute(sa.insert(ImpactRegionEstimate), regions)


def prune_runs(session: Session, keep: int = 5) -> int:
    """Delete all but the newest ``keep`` finished runs (and failed ones older than those)."""
    keep_ids = session.scalars(
        sa.select(ImpactRun.id).order_by(ImpactRun.started_at.desc()).limit(keep)
    ).all()
    if not keep_ids:
        return 0
    deleted = session.execute(
        sa.delete(ImpactRun).where(ImpactRun.id.not_in(keep_ids), ImpactRun.status != "running")
    )
    return deleted.rowcount or 0


def adoption_trajectory(
    session: Session, unit_code: str, solution_code: str, settings: ImpactSettings | None = None
) -> pd.DataFrame:
    """ "Did it work here?": the unit's scores against its comparison, around one adoption.

    Reads only the unit's region. Raises ``ValueError`` with a reason a page can show when
    there is nothing to compare (no responses, adoption not implemented or outside the data).
    """

    settings = settings or ImpactSettings()
    panel = load_panel(session, settings.period, region_of=unit_code)
    return unit_trajectory(panel, unit_code, solution_code, ImpactOptions(window=settings.window))


def latest_attempt(session: Session) -> ImpactRun | None:
    """The newest run of the default estimator whatever its status (done, running, failed)."""
    return session.scalar(
        sa.select(ImpactRun)
        .where(ImpactRun.estimator == DEFAULT_ESTIMATOR)
        .order_by(ImpactRun.started_at.desc(), ImpactRun.id.desc())
        .limit(1)
    )


# --------------------------------------------------------------------------------------------
# "What worked at similar units": a solution's effect in the reader's region, from the cache.


@dataclass(frozen=True)
class Evidence:
    """A solution's measured effect as a unit's page shows it: among the adopting units of the
    unit's region (``scope == "region"``) when at least the run's ``min_units`` of them
    adopted it, otherwise the company-wide figure (``scope == "company"``).

    ``n_units`` and ``rank`` belong to the figure shown; ``region_units`` counts the region's
    adopting units whatever the scope (0 when none), so a page can say why it fell back.
    """

    solution_id: int
    scope: str
    effect: float | None
    ci_low: float | None
    ci_high: float | None
    n_units: int
    rank: int | None
    enough_evidence: bool
    region_id: int
    region_code: str
    region_name: str
    region_units: int

    @property
    def label(self) -> str:
        """Where the figure comes from, in the reader's language."""
        if self.scope == "region":
            return _(
                "Similar units (%(region)s): %(units)s",
                region=self.region_name,
                units=unit_count(self.n_units),
            )
        if self.region_units == 0:
            return _("Company-wide: %(units)s", units=unit_count(self.n_units))
        return _(
            "Company-wide: %(units)s (too few in %(region)s)",
            units=unit_count(self.n_units),
            region=self.region_name,
        )


def region_of(unit: Unit) -> Unit:
    """A unit's region: its top-level ancestor (the unit itself when it has no parent)."""
    chain = trees.ancestors(unit)
    return chain[0] if chain else unit


def similar_unit_evidence(
    session: Session, unit: Unit, solution_ids: Iterable[int]
) -> dict[int, Evidence]:
    """For ``unit``, each solution's effect among the adopting units of its region when enough
    of them adopted it, else the company-wide one; keyed by solution database id.

    Reads the cached run the pages show (the unit's ancestors, then three small indexed
    queries; no estimation): solutions without an estimate in that run, and every solution
    before the first run, are absent.
    """
    wanted = sorted(set(solution_ids))
    run = latest_run(session)
    if run is None or not wanted:
        return {}
    region = region_of(unit)
    company = {
        row.solution_id: row
        for row in session.scalars(
            sa.select(ImpactEstimate).where(
                ImpactEstimate.run_id == run.id, ImpactEstimate.solution_id.in_(wanted)
            )
        )
    }
    regional = {
        row.solution_id: row
        for row in session.scalars(
            sa.select(ImpactRegionEstimate).where(
                ImpactRegionEstimate.run_id == run.id,
                ImpactRegionEstimate.region_id == region.id,
                ImpactRegionEstimate.solution_id.in_(wanted),
            )
        )
    }
    evidence = {}
    for solution_id, overall in company.items():
        local = regional.get(solution_id)
        region_units = local.n_units if local is not None else 0
        shown, scope = overall, "company"
        if local is not None and local.effect is not None and region_units >= run.min_units:
            shown, scope = local, "region"
        evidence[solution_id] = Evidence(
            solution_id=solution_id,
            scope=scope,
            effect=shown.effect,
            ci_low=shown.ci_low,
            ci_high=shown.ci_high,
            n_units=shown.n_units,
            rank=shown.rank,
            enough_evidence=shown.enough_evidence,
            region_id=region.id,
            region_code=region.code,
            region_name=region.name,
            region_units=region_units,
        )
    return evidence
