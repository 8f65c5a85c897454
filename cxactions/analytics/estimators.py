"""Estimating what each solution did to satisfaction at the units that adopted it.

One interface, ``estimate(panel, estimator, options)``, over four estimators:

- ``imputation`` (the default, the one the product ranks on): the imputation / two-stage
  difference-in-differences of Borusyak, Jaravel & Spiess (2024, "Revisiting event-study
  designs") and Gardner (2022, "Two-stage differences in differences"), with every solution
  estimated jointly so that overlapping adoptions at one unit are not credited to the wrong one.
  Stage 1 fits unit levels plus region × period effects on the cells no solution touches
  (before adoption, outside a pre-adoption dip window), weighting each unit-period by the inverse
  of its variance (few responses = noisy); stage 2 regresses what is left at adopting units on
  solution indicators by phase. Standard errors are clustered by unit and include the
  uncertainty of stage 1 (the influence of untreated cells on the imputed counterfactuals).
- ``cs``: Callaway & Sant'Anna (2021), one solution at a time (``analytics/cs.py``).
- ``twfe`` and ``naive``: two-way fixed effects and before/after, baselines for the benchmark
  and the methods page only; they are never used to rank.

``estimate(..., by=groups)`` (or ``subgroup_effects``) adds each solution's effect within groups
of units (regions: "what worked at similar units"), the same estimand restricted to a group's
adopting units, from the same run: for ``imputation`` the effect indicator of stage 2 is split
by group, for ``cs`` the other groups' adopters of the solution are left out.

Pure numpy/pandas/scipy: no Flask, no database.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import scipy.linalg
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from cxactions.analytics import cs
from cxactions.analytics.distributions import normal_quantile, t_quantile
from cxactions.analytics.fixed_effects import TwoWaySolver
from cxactions.analytics.panel import Panel
from cxactions.analytics.ranking import MIN_UNITS
from cxactions.foundations import translation

ESTIMATORS = ("imputation", "cs", "twfe", "naive")
DEFAULT_ESTIMATOR = "imputation"
RANKING_ESTIMATORS = ("imputation", "cs")
# The estimators that can restrict their estimand to a group of units (``by=``).
GROUP_ESTIMATORS = ("imputation", "cs")
# Standard errors of estimates by group are computed this many coefficients at a time.
GROUP_COLUMNS_AT_ONCE = 256
CONTROLS = ("notyet", "never")

# Periods before adoption left out of the baseline (the dip that made managers act), and the
# earlier periods used as placebo checks, by period grain.
DEFAULT_DIP = {"week": 6, "month": 1, "quarter": 1, "year": 0}
DEFAULT_PLACEBO = {"week": 8, "month": 3, "quarter": 2, "year": 1}
# Periods before adoption whose mean deviation predicts the recovery that follows a dip.
DEFAULT_LOOKBACK = {"week": 4, "month": 1, "quarter": 0, "year": 0}
# The "before" of the naive before/after: the stretch just before the plan (about a month).
NAIVE_BEFORE = {"week": 4, "month": 1, "quarter": 1, "year": 1}
# Event times with their own share of the pre-adoption dip left (when the window is all).
RECOVERY_HORIZON = 26

PLACEBO, DIP, EFFECT, LATE = 0, 1, 2, 3
# A unit's baseline needs at least this many untreated periods before placebo weeks are spared.
MIN_BASELINE_PERIODS = 4
PHASES = ("placebo", "dip", "effect", "late")

Progress = Callable[[str], None]


@dataclass(frozen=True)
class ImpactOptions:
    """What to estimate: see the contract's ``cxactions impact`` options."""

    window: int = 12  # event times 0..window-1 count towards the effect; 0 = all
    anticipation: int | None = None  # periods before adoption left out; None = default
    placebo: int | None = None  # earlier periods checked for pre-trends; None = default
    control: str = "notyet"
    confidence: float = 0.95
    lookback: int | None = None  # dip-recovery adjustment (imputation); None = default, 0 = off

    def __post_init__(self) -> None:
        if self.window < 0:
            raise ValueError("window must be 0 (all periods) or positive")
        if self.anticipation is not None and self.anticipation < 0:
            raise ValueError("anticipation must be 0 or positive")
        if self.placebo is not None and self.placebo < 0:
            raise ValueError("placebo must be 0 or positive")
        if self.control not in CONTROLS:
            raise ValueError(f"control must be one of {', '.join(CONTROLS)}")
        if not 0 < self.confidence < 1:
            raise ValueError("confidence must be between 0 and 1")

    def resolved(self, period: str) -> ImpactOptions:
        """The options with the period's defaults filled in."""
        return replace(
            self,
            anticipation=DEFAULT_DIP[period] if self.anticipation is None else self.anticipation,
            placebo=DEFAULT_PLACEBO[period] if self.placebo is None else self.placebo,
        )

    @property
    def z(self) -> float:
        return normal_quantile(0.5 + self.confidence / 2)


@dataclass
class ImpactResult:
    """Estimates by solution (``summary``), by event time (``event``) and by cohort and period
    (``group_time``), in points of the outcome; ``se`` columns are standard errors."""

    estimator: str
    period: str
    options: ImpactOptions
    summary: pd.DataFrame
    event: pd.DataFrame
    group_time: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    # With ``estimate(..., by=...)``: one row per solution and group (``BY_GROUP_COLUMNS``).
    by_group: pd.DataFrame | None = None


SUMMARY_COLUMNS = [
    "solution",
    "effect",
    "se",
    "ci_low",
    "ci_high",
    "n_units",
    "n_cells",
    "placebo",
    "placebo_se",
]
EVENT_COLUMNS = ["solution", "event_time", "effect", "se", "ci_low", "ci_high", "n_units", "phase"]
GROUP_TIME_COLUMNS = ["solution", "cohort", "period", "effect", "se", "ci_low", "ci_high"]
BY_GROUP_COLUMNS = ["solution", "group", "effect", "se", "ci_low", "ci_high", "n_units", "n_cells"]


@dataclass(frozen=True)
class _Grouping:
    """Units in groups for the estimates by group: ``codes`` per panel unit indexes ``names``
    (-1: in no group); below ``min_units`` adopting units a group gets no estimate."""

    codes: np.ndarray
    names: list[str]
    min_units: int

    @classmethod
    def of(cls, panel: Panel, by: Mapping[str, str], min_units: int) -> _Grouping:
        labels = [by.get(unit) for unit in panel.unit_ids.tolist()]
        names = sorted({str(label) for label in labels if label is not None})
        index = {name: code for code, name in enumerate(names)}
        codes = np.array(
            [-1 if label is None else index[str(label)] for label in labels], dtype=np.int64
        )
        return cls(codes, names, max(int(min_units), 1))


def estimate(
    panel: Panel,
    estimator: str = DEFAULT_ESTIMATOR,
    options: ImpactOptions | None = None,
    progress: Progress | None = None,
    *,
    by: Mapping[str, str] | None = None,
    min_group_units: int = MIN_UNITS,
) -> ImpactResult:
    """Run one estimator over every solution adopted in ``panel``.

    ``by`` maps unit ids to group names (a unit missing from it is in no group): the result's
    ``by_group`` then holds each solution's effect among each group's adopting units, left
    empty (NaN) where fewer than ``min_group_units`` of them contributed.
    """
    options = (options or ImpactOptions()).resolved(panel.period)
    functions = {"imputation": imputation, "cs": callaway_santanna, "twfe": twfe, "naive": naive}
    if estimator not in functions:
        raise ValueError(f"unknown estimator {estimator!r}: choose one of {', '.join(ESTIMATORS)}")
    grouping = None
    if by is not None:
        if estimator not in GROUP_ESTIMATORS:
            raise ValueError(
                f"estimates by group need the {' or '.join(GROUP_ESTIMATORS)} estimator, "
                f"not {estimator}"
            )
        grouping = _Grouping.of(panel, by, min_group_units)
    if panel.adoptions.empty:
        empty = ImpactResult(
            estimator,
            panel.period,
            options,
            pd.DataFrame(columns=SUMMARY_COLUMNS),
            pd.DataFrame(columns=EVENT_COLUMNS),
            pd.DataFrame(columns=GROUP_TIME_COLUMNS),
            [*panel.notes, "no implemented adoption inside the data: nothing to estimate"],
            by_group=None if grouping is None else pd.DataFrame(columns=BY_GROUP_COLUMNS),
        )
        return empty
    progress = progress or (lambda _: None)
    # Many small factorisations: BLAS threads cost more to wake than they save (measured on
    # 2 cores: 1.2 s -> 0.2 s for stage 1 at 5,000 units; see bench/RESULTS.md).
    with threadpool_limits(limits=1, user_api="blas"):
        if grouping is None:
            result = functions[estimator](panel, options, progress)
        else:
            result = functions[estimator](panel, options, progress, grouping=grouping)
    result.notes[:0] = panel.notes
    return result


def subgroup_effects(
    panel: Panel,
    groups: Mapping[str, str],
    estimator: str = DEFAULT_ESTIMATOR,
    options: ImpactOptions | None = None,
    *,
    min_units: int = MIN_UNITS,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Each solution's effect among the adopting units of each group ("what worked at similar
    units"): the company-wide estimand restricted to those units, with its interval.

    ``groups`` maps unit ids to group names (regions, or kinds of unit). One row per solution
    and group with adopting units (``BY_GROUP_COLUMNS``): ``n_units`` counts the group's
    adopting units that contributed; ``effect``, ``se`` and the interval are NaN below
    ``min_units``. Runs the whole estimator: use ``estimate(..., by=groups)`` to get the
    company-wide figures from the same run.
    """
    result = estimate(panel, estimator, options, progress, by=groups, min_group_units=min_units)
    return result.by_group


def _intervals(
    frame: pd.DataFrame, options: ImpactOptions, clusters: pd.Series | None = None
) -> pd.DataFrame:
    """Add ``ci_low``/``ci_high``; with ``clusters`` (adopting units), Student t quantiles with
    clusters − 1 degrees of freedom, the usual guard when few units carry an estimate."""
    critical = options.z if clusters is None else critical_values(options.confidence, clusters)
    frame["ci_low"] = frame["effect"] - critical * frame["se"]
    frame["ci_high"] = frame["effect"] + critical * frame["se"]
    return frame


def critical_values(confidence: float, clusters) -> np.ndarray:
    """Two-sided t quantiles with ``clusters - 1`` degrees of freedom (at least 1)."""
    degrees = np.maximum(np.asarray(clusters, dtype=float) - 1, 1)
    return t_quantile(0.5 + confidence / 2, degrees)


# --------------------------------------------------------------------------------------------
# Where each adoption puts each cell.


@dataclass
class _Exposure:
    """One row per (adoption, period) from the placebo window to the panel's end."""

    unit: np.ndarray
    period: np.ndarray
    solution: np.ndarray  # solution index
    event_time: np.ndarray
    phase: np.ndarray
    cohort: np.ndarray  # adoption period index
    adoption: np.ndarray  # row of panel.adoptions


def _exposure(panel: Panel, solutions: list[str], options: ImpactOptions) -> _Exposure:
    n_periods = panel.shape[1]
    adoptions = panel.adoptions
    lead = options.anticipation + options.placebo
    first = adoptions["start"].to_numpy() - lead
    lengths = n_periods - first
    index = np.repeat(np.arange(len(adoptions)), lengths)
    offset = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    period = first[index] + offset
    inside = period >= 0
    index, period = index[inside], period[inside]
    start = adoptions["start"].to_numpy()[index]
    event_time = period - start
    phase = np.full(event_time.shape, EFFECT, dtype=np.int8)
    phase[event_time < 0] = DIP
    phase[event_time < -options.anticipation] = PLACEBO
    if options.window:
        phase[event_time >= options.window] = LATE
    solution_index = pd.Index(solutions).get_indexer(adoptions["solution"])
    return _Exposure(
        unit=adoptions["unit"].to_numpy()[index],
        period=period,
        solution=solution_index[index],
        event_time=event_time,
        phase=phase,
        cohort=start,
        adoption=index,
    )


def _untreated(observed: np.ndarray, exposure: _Exposure) -> np.ndarray:
    """Observed cells that no adoption's placebo, dip or post-adoption window touches."""
    exposed = np.zeros(observed.shape, dtype=bool)
    exposed[exposure.unit, exposure.period] = True
    return observed & ~exposed


def _subset(exposure: _Exposure, keep: np.ndarray) -> _Exposure:
    return _Exposure(
        **{name: getattr(exposure, name)[keep] for name in exposure.__dataclass_fields__}
    )


# --------------------------------------------------------------------------------------------
# The default: imputation / two-stage DiD, all solutions jointly.


def imputation(
    panel: Panel,
    options: ImpactOptions,
    progress: Progress,
    grouping: _Grouping | None = None,
) -> ImpactResult:
    """Borusyak–Jaravel–Spiess imputation with every solution at once (see the module doc)."""
    notes: list[str] = []
    solutions = panel.solutions
    n_solutions = len(solutions)
    n_units, n_periods = panel.shape
    groups = panel.groups
    n_groups = len(panel.group_names)
    observed = panel.count > 0
    y = np.where(observed, panel.mean, 0.0)

    progress("placing adoptions")
    exposure = _exposure(panel, solutions, options)
    untreated = _untreated(observed, exposure)
    # A unit that adopted early has little history left once the placebo weeks are set aside:
    # there the placebo weeks serve as its baseline instead of being lost with the unit.
    short = untreated.sum(axis=1) < max(options.placebo, MIN_BASELINE_PERIODS)
    if options.placebo and short.any():
        drop = (exposure.phase == PLACEBO) & short[exposure.unit]
        if drop.any():
            exposure = _subset(exposure, ~drop)
            untreated = _untreated(observed, exposure)
    if options.control == "never":
        adopters = np.zeros(n_units, dtype=bool)
        adopters[panel.adoptions["unit"].to_numpy()] = True
        informs = ~adopters
        if not informs.any():
            raise ValueError("--control never needs units that never adopt a solution")
    else:
        informs = np.ones(n_units, dtype=bool)

    progress("stage 1: unit levels and region-period effects on untreated cells")
    weights = _cell_weights(panel, untreated, y, groups, n_groups, informs)
    stage1 = weights * untreated
    alpha, lam, solver, stage1 = _stage_one(y, stage1, groups, n_groups, informs)
    fitted = alpha[:, None] + lam[groups]
    residual = np.where(observed & np.isfinite(fitted), y - np.nan_to_num(fitted), np.nan)

    progress("stage 2: solutions jointly")
    cell = exposure.unit * n_periods + exposure.period
    usable = np.isfinite(residual[exposure.unit, exposure.period])
    lost = int(np.unique(cell[~usable & observed[exposure.unit, exposure.period]]).size)
    if lost:
        notes.append(
            f"{lost} adopting unit-periods could not be compared (no untreated history at the "
            "unit, or no comparison unit in its region that period) and were left out"
        )
    keep = usable
    rows_cell = cell[keep]
    column = exposure.phase[keep].astype(np.int64) * n_solutions + exposure.solution[keep]
    stage2_cells, row = np.unique(rows_cell, return_inverse=True)
    n_columns = 4 * n_solutions
    design = sp.csr_matrix((np.ones(row.size), (row, column)), shape=(stage2_cells.size, n_columns))
    s2_unit, s2_period = np.divmod(stage2_cells, n_periods)
    s2_weight = weights[s2_unit, s2_period]
    s2_residual = residual[s2_unit, s2_period]

    gram = (design.T @ sp.diags(s2_weight) @ design).toarray()
    present = np.flatnonzero(np.diag(gram) > 0)
    inverse = np.zeros((n_columns, n_columns))
    inverse[np.ix_(present, present)] = _inverse(gram[np.ix_(present, present)], notes)
    beta = inverse @ (design.T @ (s2_weight * s2_residual))
    s2_error = s2_residual - design @ beta

    lookback = DEFAULT_LOOKBACK[panel.period] if options.lookback is None else options.lookback
    if lookback:
        progress("stage 2 again, with the recovery from pre-adoption dips")
        dip, latest = _dips(
            lookback=lookback,
            partial=s2_error[row] + beta[column],
            weight=s2_weight[row],
            row=row,
            event_time=exposure.event_time[keep],
            cohort=exposure.cohort[keep],
            adoption=exposure.adoption[keep],
            n_adoptions=len(panel.adoptions),
        )
        horizon = options.window or min(RECOVERY_HORIZON, n_periods)
        recovery = _recovery_columns(
            dip, latest, row, exposure.event_time[keep], exposure.adoption[keep],
            stage2_cells.size, horizon,
        )  # fmt: skip
        design = sp.hstack([design, recovery]).tocsr()
        n_columns = design.shape[1]
        gram = (design.T @ sp.diags(s2_weight) @ design).toarray()
        present = np.flatnonzero(np.diag(gram) > 0)
        inverse = np.zeros((n_columns, n_columns))
        inverse[np.ix_(present, present)] = _inverse(gram[np.ix_(present, present)], notes)
        beta = inverse @ (design.T @ (s2_weight * s2_residual))
        s2_error = s2_residual - design @ beta
        carried = beta[4 * n_solutions :]
        notes.append(
            f"dip recovery: {carried[0]:.2f} of a pre-adoption dip is still there in the "
            f"adoption period, {carried[min(3, carried.size - 1)]:.2f} three periods on"
        )

    progress("standard errors")
    wanted = np.concatenate(
        [
            PLACEBO * n_solutions + np.arange(n_solutions),
            EFFECT * n_solutions + np.arange(n_solutions),
        ]
    )
    influence = _influence(
        design=design,
        inverse=inverse[:, wanted],
        s2_unit=s2_unit,
        s2_period=s2_period,
        s2_weight=s2_weight,
        s2_error=s2_error,
        stage1=stage1,
        informs=informs,
        residual=residual,
        groups=groups,
        n_groups=n_groups,
        solver=solver,
        n_units=n_units,
    )
    clusters = max(int(np.count_nonzero(stage1.sum(axis=1) > 0)), 2)
    variance = clusters / (clusters - 1) * (influence**2).sum(axis=0)
    se = np.sqrt(variance)

    effect_units = np.zeros(n_solutions, dtype=np.int64)
    effect_cells = np.zeros(n_solutions, dtype=np.int64)
    in_effect = keep & (exposure.phase == EFFECT)
    pairs = np.unique(exposure.solution[in_effect] * n_units + exposure.unit[in_effect])
    np.add.at(effect_units, pairs // n_units, 1)
    np.add.at(effect_cells, exposure.solution[in_effect], 1)
    placebo_cells = np.bincount(
        exposure.solution[keep & (exposure.phase == PLACEBO)], minlength=n_solutions
    )
    effect_index = EFFECT * n_solutions + np.arange(n_solutions)
    placebo_index = PLACEBO * n_solutions + np.arange(n_solutions)
    summary = pd.DataFrame(
        {
            "solution": solutions,
            "effect": np.where(effect_cells > 0, beta[effect_index], np.nan),
            "se": np.where(effect_cells > 0, se[n_solutions:], np.nan),
            "n_units": effect_units,
            "n_cells": effect_cells,
            "placebo": np.where(placebo_cells > 0, beta[placebo_index], np.nan),
            "placebo_se": np.where(placebo_cells > 0, se[:n_solutions], np.nan),
        }
    )
    summary = _intervals(summary, options, clusters=summary["n_units"])[SUMMARY_COLUMNS]

    by_group = None
    if grouping is not None:
        progress("effects by group")
        by_group = _imputation_by_group(
            grouping=grouping,
            design=design,
            row=row,
            unit=exposure.unit[keep],
            solution=exposure.solution[keep],
            phase=exposure.phase[keep],
            solutions=solutions,
            s2_unit=s2_unit,
            s2_period=s2_period,
            s2_weight=s2_weight,
            s2_residual=s2_residual,
            stage1=stage1,
            informs=informs,
            residual=residual,
            groups=groups,
            n_groups=n_groups,
            solver=solver,
            clusters=clusters,
            options=options,
            notes=notes,
        )

    progress("event-time profiles")
    # Each solution's profile: the stage-2 residual of its cells with its own phase effect put
    # back, i.e. with the other solutions' estimated effects taken out.
    partial = s2_error[row] + beta[column]
    event, group_time = _profiles(
        partial=partial,
        weight=s2_weight[row],
        unit=exposure.unit[keep],
        solution=exposure.solution[keep],
        event_time=exposure.event_time[keep],
        phase=exposure.phase[keep],
        cohort=exposure.cohort[keep],
        period=exposure.period[keep],
        solutions=solutions,
        periods=panel.periods,
        options=options,
    )
    return ImpactResult(
        "imputation", panel.period, options, summary, event, group_time, notes, by_group
    )


def _imputation_by_group(
    *,
    grouping: _Grouping,
    design: sp.csr_matrix,
    row: np.ndarray,
    unit: np.ndarray,
    solution: np.ndarray,
    phase: np.ndarray,
    solutions: list[str],
    s2_unit: np.ndarray,
    s2_period: np.ndarray,
    s2_weight: np.ndarray,
    s2_residual: np.ndarray,
    stage1: np.ndarray,
    informs: np.ndarray,
    residual: np.ndarray,
    groups: np.ndarray,
    n_groups: int,
    solver: TwoWaySolver,
    clusters: int,
    options: ImpactOptions,
    notes: list[str],
) -> pd.DataFrame:
    """Stage 2 again with each solution's effect indicator split by the adopting unit's group.

    Each (solution, group) coefficient is the weighted mean of the imputed effects of that
    group's cells over event times 0..window-1, the company-wide estimand restricted to the
    group, with the other solutions, the placebo, dip and late phases and the dip recovery
    still fitted jointly. Same weights, same unit-clustered standard errors with the stage-1
    uncertainty, same Student t intervals (adopting units - 1 degrees of freedom). A group
    below ``min_units`` adopting units is counted, not estimated: its cells stay under the
    solution's own indicator. Arguments are the kept stage-2 rows of ``imputation`` (``row``:
    their stage-2 cell).
    """
    n_solutions = len(solutions)
    n_labels = len(grouping.names)
    label = grouping.codes[unit]
    label = np.where(label < 0, n_labels, label)  # adopters in no group: never reported
    in_effect = np.flatnonzero(phase == EFFECT)
    pairs, pair_of_row = np.unique(
        solution[in_effect] * (n_labels + 1) + label[in_effect], return_inverse=True
    )
    pair_solution, pair_label = np.divmod(pairs, n_labels + 1)
    n_pairs = pairs.size
    n_units = len(stage1)
    pair_units = np.bincount(
        np.unique(pair_of_row * n_units + unit[in_effect]) // n_units, minlength=n_pairs
    )
    pair_cells = np.bincount(pair_of_row, minlength=n_pairs)

    # Only the groups with a figure to report get an indicator of their own; the solution's
    # other adopting cells (small groups, units in no group) keep its company-wide indicator,
    # so the regression grows with the figures asked for, not with the number of groups.
    reported = (pair_label < n_labels) & (pair_units >= grouping.min_units)
    column_of_pair = np.full(n_pairs, -1)
    column_of_pair[reported] = np.arange(np.count_nonzero(reported))
    moved = in_effect[reported[pair_of_row]]
    n_cells, n_base = design.shape
    removal = sp.csr_matrix(
        (np.ones(moved.size), (row[moved], EFFECT * n_solutions + solution[moved])),
        shape=design.shape,
    )
    base = (design - removal).tocsr()
    base.eliminate_zeros()
    split = sp.csr_matrix(
        (np.ones(moved.size), (row[moved], column_of_pair[pair_of_row[reported[pair_of_row]]])),
        shape=(n_cells, np.count_nonzero(reported)),
    )
    full = sp.hstack([base, split]).tocsr()
    n_columns = full.shape[1]
    gram = (full.T @ sp.diags(s2_weight) @ full).toarray()
    present = np.flatnonzero(np.diag(gram) > 0)
    wanted = n_base + np.arange(np.count_nonzero(reported))
    # Only the coefficients and the inverse's columns of the reported ones are needed.
    targets = np.zeros((n_columns, 1 + wanted.size))
    targets[:, 0] = full.T @ (s2_weight * s2_residual)
    targets[wanted, 1 + np.arange(wanted.size)] = 1.0
    solved = np.zeros_like(targets)
    inner = gram[np.ix_(present, present)]
    try:
        factor = scipy.linalg.cho_factor(inner, lower=True, check_finite=False)
        solved[present] = scipy.linalg.cho_solve(factor, targets[present], check_finite=False)
    except (np.linalg.LinAlgError, scipy.linalg.LinAlgError):
        notes.append(
            "by group: some solutions were always adopted together within a group; their "
            "group estimates share the effect between them"
        )
        solved[present] = np.linalg.pinv(inner, hermitian=True) @ targets[present]
    beta, inverse = solved[:, 0], solved[:, 1:]
    error = s2_residual - full @ beta

    effect = np.full(n_pairs, np.nan)
    effect[reported] = beta[n_base:]
    se = np.full(n_pairs, np.nan)
    spread = np.empty(wanted.size)
    # In slices: the stage-1 term holds groups x periods x columns.
    for start in range(0, wanted.size, GROUP_COLUMNS_AT_ONCE):
        chunk = slice(start, start + GROUP_COLUMNS_AT_ONCE)
        influence = _influence(
            design=full,
            inverse=inverse[:, chunk],
            s2_unit=s2_unit,
            s2_period=s2_period,
            s2_weight=s2_weight,
            s2_error=error,
            stage1=stage1,
            informs=informs,
            residual=residual,
            groups=groups,
            n_groups=n_groups,
            solver=solver,
            n_units=n_units,
        )
        spread[chunk] = (influence**2).sum(axis=0)
    se[reported] = np.sqrt(clusters / (clusters - 1) * spread)
    in_group = pair_label < n_labels
    frame = pd.DataFrame(
        {
            "solution": np.asarray(solutions, dtype=object)[pair_solution[in_group]],
            "group": np.asarray(grouping.names, dtype=object)[pair_label[in_group]],
            "effect": effect[in_group],
            "se": se[in_group],
            "n_units": pair_units[in_group],
            "n_cells": pair_cells[in_group],
        }
    )
    frame = _intervals(frame, options, clusters=frame["n_units"])
    return frame[BY_GROUP_COLUMNS].reset_index(drop=True)


def _dips(
    *,
    lookback: int,
    partial: np.ndarray,
    weight: np.ndarray,
    row: np.ndarray,
    event_time: np.ndarray,
    cohort: np.ndarray,
    adoption: np.ndarray,
    n_adoptions: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Each adoption's dip, and for each stage-2 row the latest adoption started at its cell.

    The dip is the weighted mean of the adoption's own partial residuals over the ``lookback``
    periods before it: how far below its usual level the unit was when its manager acted.
    Returns the dips and, per exposure row, the index of that row's position among the rows
    that carry the recovery (-1 elsewhere).
    """
    in_window = (event_time < 0) & (event_time >= -lookback)
    dip_sum = np.bincount(
        adoption[in_window], weights=(weight * partial)[in_window], minlength=n_adoptions
    )
    dip_weight = np.bincount(adoption[in_window], weights=weight[in_window], minlength=n_adoptions)
    with np.errstate(invalid="ignore", divide="ignore"):
        dip = np.where(dip_weight > 0, dip_sum / dip_weight, 0.0)
    after = np.flatnonzero(event_time >= 0)
    # The latest adoption that has started at a cell speaks for the unit's recent past.
    order = np.lexsort((cohort[after], row[after]))
    rows_after = row[after][order]
    last = np.ones(rows_after.size, dtype=bool)
    last[:-1] = rows_after[1:] != rows_after[:-1]
    latest = after[order][last]
    return dip, latest


def _recovery_columns(
    dip: np.ndarray,
    latest: np.ndarray,
    row: np.ndarray,
    event_time: np.ndarray,
    adoption: np.ndarray,
    n_rows: int,
    horizon: int,
) -> sp.csr_matrix:
    """Stage-2 regressors: the dip of the unit's latest adoption, by event time.

    Managers adopt after a bad stretch, and a bad stretch partly persists (shocks fade over
    weeks): against the unit's usual level, the tail of the dip would be blamed on the
    solution. Conditioning on the pre-adoption outcomes managers reacted to (the lagged-outcome
    control of Ashenfelter & Card 1985, here on top of the fixed effects) takes it out. How much
    of a dip remains ``k`` periods on is estimated freely for ``k < horizon`` (one shared value
    beyond), jointly with the solutions, from how adoptions after deep and shallow dips differ.
    """
    k = np.minimum(event_time[latest], horizon)
    return sp.csr_matrix((dip[adoption[latest]], (row[latest], k)), shape=(n_rows, horizon + 1))


def _cell_weights(
    panel: Panel,
    untreated: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    n_groups: int,
    informs: np.ndarray,
) -> np.ndarray:
    """Inverse-variance weights of unit-period means: 1 / (tau² + sigma²/n).

    ``sigma²`` is the variance of one response around its unit-period mean (from the sums of
    squares); ``tau²`` the variance of unit-period means beyond sampling noise (shocks that no
    number of responses averages away), estimated from a first stage-1 fit weighted by counts.
    Without within-cell variances (one value per cell) every cell weighs the same.
    """
    count = panel.count
    sigma2 = panel.response_variance
    if sigma2 is None or sigma2 <= 0:
        if np.all(count[count > 0] == 1):
            return (count > 0).astype(float)
        return count.copy()
    first = count * untreated
    alpha, lam, _, used = _stage_one(y, first, groups, n_groups, informs)
    fitted = alpha[:, None] + lam[groups]
    cells = (used > 0) & np.isfinite(fitted)
    residual = (y - np.nan_to_num(fitted))[cells]
    sampling = sigma2 / count[cells]
    n_cells = residual.size
    parameters = int(np.count_nonzero(used.sum(axis=1) > 0)) + int(np.isfinite(lam).sum())
    dof = max(n_cells - parameters, 1)
    tau2 = max(float(((residual**2).sum() - sampling.sum() * dof / n_cells) / dof), 0.0)
    with np.errstate(divide="ignore"):
        weights = np.where(count > 0, 1.0 / (tau2 + sigma2 / np.maximum(count, 1)), 0.0)
    return weights / weights[count > 0].mean()


def _stage_one(
    y: np.ndarray,
    weights: np.ndarray,
    groups: np.ndarray,
    n_groups: int,
    informs: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, TwoWaySolver, np.ndarray]:
    """Unit levels ``alpha`` and group×period effects ``lam`` fitted on weighted cells.

    Period effects come from the units that ``informs`` (all, or the never-treated ones);
    every unit's level then comes from its own cells. Returns the effects, the solver (for the
    standard errors) and the weights of the cells that were actually used.
    """
    solver = TwoWaySolver(weights * informs[:, None], groups, n_groups)
    fitted = solver.fit(y[..., None])
    lam = fitted.lam[..., 0]
    usable = weights * np.isfinite(lam[groups])
    total = usable.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        alpha = (usable * (y - np.nan_to_num(lam[groups]))).sum(axis=1) / total
    alpha[total <= 0] = np.nan
    return alpha, lam, solver, usable


def _inverse(matrix: np.ndarray, notes: list[str]) -> np.ndarray:
    try:
        factor = scipy.linalg.cho_factor(matrix, lower=True, check_finite=False)
        return scipy.linalg.cho_solve(factor, np.eye(len(matrix)), check_finite=False)
    except (np.linalg.LinAlgError, scipy.linalg.LinAlgError):
        notes.append(
            "some solutions were always adopted together and cannot be told apart: their "
            "estimates share the effect between them"
        )
        return np.linalg.pinv(matrix, hermitian=True)


def _influence(
    *,
    design: sp.csr_matrix,
    inverse: np.ndarray,
    s2_unit: np.ndarray,
    s2_period: np.ndarray,
    s2_weight: np.ndarray,
    s2_error: np.ndarray,
    stage1: np.ndarray,
    informs: np.ndarray,
    residual: np.ndarray,
    groups: np.ndarray,
    n_groups: int,
    solver: TwoWaySolver,
    n_units: int,
) -> np.ndarray:
    """Per-unit influence of the wanted coefficients (units × k), stage 1 included.

    Stage 2 contributes each unit's weighted scores; stage 1 contributes through the period
    effects its untreated cells set for the imputed counterfactuals (Borusyak, Jaravel & Spiess
    2024, section 4; Gardner 2022). The unit levels' own share is carried by the unit's
    stage-2 residuals, which the clustering already sums.
    """
    n_periods = stage1.shape[1]
    to_unit = sp.csr_matrix(
        (np.ones(s2_unit.size), (s2_unit, np.arange(s2_unit.size))),
        shape=(n_units, s2_unit.size),
    )
    scores = to_unit @ design.multiply((s2_weight * s2_error)[:, None]).tocsr()
    influence = np.asarray(scores @ inverse)

    # How the imputed counterfactuals move with the stage-1 effects.
    weighted_design = design.multiply(s2_weight[:, None]).tocsr()
    rhs_alpha = np.asarray((to_unit @ weighted_design) @ inverse)
    to_group_period = sp.csr_matrix(
        (
            np.ones(s2_unit.size),
            (groups[s2_unit] * n_periods + s2_period, np.arange(s2_unit.size)),
        ),
        shape=(n_groups * n_periods, s2_unit.size),
    )
    rhs_lambda = np.asarray((to_group_period @ weighted_design) @ inverse).reshape(
        n_groups, n_periods, -1
    )
    # Each unit's level depends on the period effects of its own cells: fold the unit block in.
    unit_total = stage1.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_unit = np.where(unit_total[:, None] > 0, rhs_alpha / unit_total[:, None], 0.0)
    for g in range(n_groups):
        members = np.flatnonzero(groups == g)
        rhs_lambda[g] -= stage1[members].T @ per_unit[members]
    theta = solver.solve(np.zeros((n_units, inverse.shape[1])), rhs_lambda).lam
    theta = np.nan_to_num(theta)
    weighted_residual = (
        np.where(stage1 > 0, stage1 * np.nan_to_num(residual), 0.0) * informs[:, None]
    )
    for g in range(n_groups):
        members = np.flatnonzero(groups == g)
        influence[members] -= weighted_residual[members] @ theta[g]
    return influence


def _profiles(
    *,
    partial: np.ndarray,
    weight: np.ndarray,
    unit: np.ndarray,
    solution: np.ndarray,
    event_time: np.ndarray,
    phase: np.ndarray,
    cohort: np.ndarray,
    period: np.ndarray,
    solutions: list[str],
    periods: np.ndarray,
    options: ImpactOptions,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Weighted means of the partial residuals by event time and by (cohort, period)."""
    frame = pd.DataFrame(
        {
            "solution": solution,
            "event_time": event_time,
            "phase": phase,
            "cohort": cohort,
            "period": period,
            "unit": unit,
            "p": partial,
            "wy": weight * partial,
            "w": weight,
        }
    )
    frame = frame[frame["phase"] != LATE]

    def weighted_means(keys: list[str]) -> pd.DataFrame:
        sums = frame.groupby(keys, sort=True).agg(
            wy=("wy", "sum"), w=("w", "sum"), n_units=("unit", "nunique")
        )
        sums["effect"] = sums["wy"] / sums["w"]
        merged = frame.join(sums["effect"], on=keys)
        deviation = (merged["w"] * (merged["p"] - merged["effect"])) ** 2
        spread = deviation.groupby([merged[k] for k in keys]).sum()
        correction = sums["n_units"] / (sums["n_units"] - 1).clip(lower=1)
        sums["se"] = np.sqrt(spread * correction) / sums["w"]
        sums.loc[sums["n_units"] < 2, "se"] = np.nan
        return sums.reset_index()

    event = weighted_means(["solution", "event_time", "phase"])
    event["solution"] = np.asarray(solutions, dtype=object)[event["solution"].to_numpy()]
    event["phase"] = np.asarray(PHASES, dtype=object)[event["phase"].to_numpy()]
    event = _intervals(event, options)[EVENT_COLUMNS]

    group_time = weighted_means(["solution", "cohort", "period"])
    group_time["solution"] = np.asarray(solutions, dtype=object)[group_time["solution"].to_numpy()]
    group_time["cohort"] = periods[group_time["cohort"].to_numpy()]
    group_time["period"] = periods[group_time["period"].to_numpy()]
    group_time = _intervals(group_time, options)[GROUP_TIME_COLUMNS]
    return event.reset_index(drop=True), group_time.reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Callaway & Sant'Anna, one solution at a time.


def callaway_santanna(
    panel: Panel,
    options: ImpactOptions,
    progress: Progress,
    grouping: _Grouping | None = None,
) -> ImpactResult:
    """Group-time ATTs per solution (``analytics/cs.py``); summary = the simple aggregation.

    By group: the simple aggregation of a run that leaves out the solution's adopters in the
    other groups, so that its treated units are the group's (controls stay every unit that
    has not adopted the solution, or not yet).
    """

    cells = panel.long()
    summaries, events, group_times, notes, by_group = [], [], [], [], []
    cs_options = cs.CSOptions(
        control=options.control,
        anticipation=options.anticipation,
        window=options.window,
        alpha=1 - options.confidence,
    )
    solutions = panel.solutions
    for number, solution in enumerate(solutions, start=1):
        progress(f"cs: solution {number} of {len(solutions)}")
        cohort = panel.cohorts(solution)
        frame = pd.DataFrame(
            {
                "unit": cells["unit"],
                "period": cells["period"],
                "y": cells["y"],
                "cohort": cohort[cells["unit"].to_numpy()],
            }
        )
        try:
            result = cs.callaway_santanna(frame, cs_options)
        except ValueError as error:
            notes.append(f"{solution}: {error}")
            continue
        notes.extend(f"{solution}: {note}" for note in result.notes)
        simple = result.simple
        summaries.append(
            {
                "solution": solution,
                "effect": simple.att,
                "se": simple.se,
                "n_units": result.n_treated_units,
                "n_cells": int((result.group_time["period"] >= result.group_time["cohort"]).sum()),
                **_cs_placebo(result.event, options),
            }
        )
        event = result.event.rename(columns={"att": "effect"}).assign(solution=solution)
        event["phase"] = np.where(event["event_time"] >= 0, "effect", "placebo")
        event["n_units"] = np.nan
        events.append(event)
        group_time = result.group_time.rename(columns={"att": "effect"}).assign(solution=solution)
        group_time["cohort"] = panel.periods[group_time["cohort"].to_numpy()]
        group_time["period"] = panel.periods[group_time["period"].to_numpy()]
        group_times.append(group_time)
        if grouping is not None:
            by_group.extend(_cs_by_group(frame, cohort, solution, grouping, cs_options, notes))
    summary = pd.DataFrame(
        summaries, columns=[c for c in SUMMARY_COLUMNS if c not in ("ci_low", "ci_high")]
    )
    summary = _intervals(summary, options)[SUMMARY_COLUMNS]
    event = pd.concat(events, ignore_index=True) if events else pd.DataFrame(columns=EVENT_COLUMNS)
    if options.window and not event.empty:
        event = event[event["event_time"] < options.window]
    group_time = (
        pd.concat(group_times, ignore_index=True)
        if group_times
        else pd.DataFrame(columns=GROUP_TIME_COLUMNS)
    )
    groups_frame = None
    if grouping is not None:
        groups_frame = pd.DataFrame(
            by_group, columns=[c for c in BY_GROUP_COLUMNS if c not in ("ci_low", "ci_high")]
        )
        groups_frame = _intervals(groups_frame.astype({"effect": float, "se": float}), options)
        groups_frame = groups_frame[BY_GROUP_COLUMNS].reset_index(drop=True)
    return ImpactResult(
        "cs",
        panel.period,
        options,
        summary,
        _intervals(event, options)[EVENT_COLUMNS].reset_index(drop=True),
        _intervals(group_time, options)[GROUP_TIME_COLUMNS].reset_index(drop=True),
        notes,
        groups_frame,
    )


def _cs_by_group(
    frame: pd.DataFrame,
    cohort: np.ndarray,
    solution: str,
    grouping: _Grouping,
    cs_options: cs.CSOptions,
    notes: list[str],
) -> list[dict]:
    """One solution's CS simple aggregation among each group's adopters (rows of
    ``BY_GROUP_COLUMNS`` without the interval); too few adopters: counted, not estimated."""
    adopters = np.flatnonzero(cohort >= 0)
    labels = grouping.codes[adopters]
    rows = []
    for code in np.unique(labels[labels >= 0]).tolist():
        members = adopters[labels == code]
        row = {
            "solution": solution,
            "group": grouping.names[code],
            "effect": math.nan,
            "se": math.nan,
            "n_units": int(members.size),
            "n_cells": 0,
        }
        if members.size >= grouping.min_units:
            elsewhere = np.setdiff1d(adopters, members)
            try:
                result = cs.callaway_santanna(frame[~frame["unit"].isin(elsewhere)], cs_options)
            except ValueError as error:
                notes.append(f"{solution} in {grouping.names[code]}: {error}")
            else:
                cells = result.group_time
                row["n_units"] = int(result.n_treated_units)
                row["n_cells"] = int((cells["period"] >= cells["cohort"]).sum())
                if result.n_treated_units >= grouping.min_units:
                    row["effect"] = result.simple.att
                    row["se"] = result.simple.se
        rows.append(row)
    return rows


def _cs_placebo(event: pd.DataFrame, options: ImpactOptions) -> dict[str, float]:
    """Mean of the pre-period event-time estimates (their SE as if independent)."""
    pre = event[event["event_time"] < -options.anticipation]
    if options.placebo:
        pre = pre[pre["event_time"] >= -options.anticipation - options.placebo]
    if pre.empty:
        return {"placebo": math.nan, "placebo_se": math.nan}
    return {
        "placebo": float(pre["att"].mean()),
        "placebo_se": float(np.sqrt((pre["se"] ** 2).sum()) / len(pre)),
    }


# --------------------------------------------------------------------------------------------
# Baselines: never used to rank.


def naive(panel: Panel, options: ImpactOptions, progress: Progress) -> ImpactResult:
    """Before/after at each adopting unit, as a CX dashboard shows it: the score since the plan
    took effect (over the window) minus the score of the stretch just before it (the month that
    prompted the plan: ``NAIVE_BEFORE`` periods). Blind to seasons, dips and comparison units."""
    progress("naive before/after")
    n_periods = panel.shape[1]
    span = options.window or n_periods
    before_span = NAIVE_BEFORE[panel.period]
    rows = []
    for solution in panel.solutions:
        adoptions = panel.adoptions[panel.adoptions["solution"] == solution]
        changes = []
        for unit, start in zip(adoptions["unit"], adoptions["start"], strict=True):
            values = panel.mean[unit]
            after = values[start : start + span]
            before = values[max(start - before_span, 0) : start]
            if np.isfinite(after).any() and np.isfinite(before).any():
                changes.append(np.nanmean(after) - np.nanmean(before))
        changes = np.asarray(changes)
        n = changes.size
        rows.append(
            {
                "solution": solution,
                "effect": changes.mean() if n else np.nan,
                "se": changes.std(ddof=1) / math.sqrt(n) if n > 1 else np.nan,
                "n_units": n,
                "n_cells": n,
                "placebo": np.nan,
                "placebo_se": np.nan,
            }
        )
    summary = _intervals(pd.DataFrame(rows), options)[SUMMARY_COLUMNS]
    return ImpactResult(
        "naive",
        panel.period,
        options,
        summary,
        pd.DataFrame(columns=EVENT_COLUMNS),
        pd.DataFrame(columns=GROUP_TIME_COLUMNS),
        [
            "naive before/after (the window after adoption against the stretch just before): "
            "a baseline that ignores seasonality, dips and comparison units"
        ],
    )


def twfe(panel: Panel, options: ImpactOptions, progress: Progress) -> ImpactResult:
    """Unit and period fixed effects plus one post-adoption dummy per solution, jointly (OLS,
    errors clustered by unit). Biased under staggered, heterogeneous effects: a baseline."""
    progress("two-way fixed effects")
    solutions = panel.solutions
    n_solutions = len(solutions)
    n_units, n_periods = panel.shape
    observed = panel.count > 0
    exposure = _exposure(panel, solutions, replace(options, anticipation=0, placebo=0))
    columns = 2 * n_solutions  # effect window, then later periods
    later = (exposure.phase == LATE).astype(np.int64)
    regressors = np.zeros((n_units, n_periods, columns))
    regressors[exposure.unit, exposure.period, later * n_solutions + exposure.solution] = 1.0
    y = np.where(observed, panel.mean, 0.0)
    values = np.concatenate([y[..., None], regressors], axis=2)
    solver = TwoWaySolver(observed.astype(float), np.zeros(n_units, dtype=np.int64), 1)
    residualised = np.empty_like(values)
    for start in range(0, values.shape[2], 64):
        chunk = values[..., start : start + 64]
        fitted = solver.fit(chunk).predict(np.zeros(n_units, dtype=np.int64))
        residualised[..., start : start + 64] = chunk - fitted
    unit_index, period_index = np.nonzero(observed)
    target = residualised[unit_index, period_index, 0]
    design = residualised[unit_index, period_index, 1:]
    present = np.flatnonzero((np.abs(design) > 1e-12).any(axis=0))
    design = design[:, present]
    gram_inverse = np.linalg.pinv(design.T @ design)
    beta = gram_inverse @ design.T @ target
    error = target - design @ beta
    scores = np.zeros((n_units, present.size))
    np.add.at(scores, unit_index, design * error[:, None])
    clusters = n_units
    covariance = clusters / (clusters - 1) * gram_inverse @ (scores.T @ scores) @ gram_inverse
    full_beta = np.full(columns, np.nan)
    full_se = np.full(columns, np.nan)
    full_beta[present] = beta
    full_se[present] = np.sqrt(np.diag(covariance))
    in_effect = exposure.phase == EFFECT
    n_adopters = pd.Series(exposure.unit[in_effect]).groupby(exposure.solution[in_effect]).nunique()
    summary = pd.DataFrame(
        {
            "solution": solutions,
            "effect": full_beta[:n_solutions],
            "se": full_se[:n_solutions],
            "n_units": n_adopters.reindex(range(n_solutions), fill_value=0).to_numpy(),
            "n_cells": np.bincount(exposure.solution[in_effect], minlength=n_solutions),
            "placebo": np.nan,
            "placebo_se": np.nan,
        }
    )
    return ImpactResult(
        "twfe",
        panel.period,
        options,
        _intervals(summary, options)[SUMMARY_COLUMNS],
        pd.DataFrame(columns=EVENT_COLUMNS),
        pd.DataFrame(columns=GROUP_TIME_COLUMNS),
        ["two-way fixed effects: a baseline, biased when effects vary across cohorts"],
    )


# --------------------------------------------------------------------------------------------
# One unit's own story: "did it work here?"


def unit_trajectory(
    panel: Panel, unit_id: str, solution: str, options: ImpactOptions | None = None
) -> pd.DataFrame:
    """A unit's observed scores next to what it would have scored without its solutions.

    The comparison is the imputation estimator's stage 1: the unit's own level before any
    solution plus the period effects of its region's untreated units. One unit's difference is
    noisy; the solution's impact page pools every adopting unit. Columns: ``period_start``,
    ``event_time`` (0 = the adoption period of ``solution``), ``observed``, ``expected`` (NaN
    where it cannot be imputed), ``n`` (responses) and ``phase`` (before/dip/after).
    """
    options = (options or ImpactOptions()).resolved(panel.period)
    rows = np.flatnonzero(panel.unit_ids == unit_id)
    if rows.size == 0:
        # Shown on the unit's "did it work here?" page: in the reader's language.
        raise ValueError(translation._("no survey responses at unit %(unit)r", unit=unit_id))
    unit = int(rows[0])
    adoption = panel.adoptions[
        (panel.adoptions["unit"] == unit) & (panel.adoptions["solution"] == solution)
    ]
    if adoption.empty:
        raise ValueError(
            translation._(
                "%(solution)r has not taken effect at %(unit)r inside the data",
                solution=solution,
                unit=unit_id,
            )
        )
    start = int(adoption["start"].iloc[0])
    solutions = panel.solutions
    exposure = _exposure(panel, solutions, replace(options, placebo=0))
    observed = panel.count > 0
    untreated = _untreated(observed, exposure)
    y = np.where(observed, panel.mean, 0.0)
    n_groups = len(panel.group_names)
    informs = np.ones(panel.shape[0], dtype=bool)
    with threadpool_limits(limits=1, user_api="blas"):
        weights = _cell_weights(panel, untreated, y, panel.groups, n_groups, informs)
        alpha, lam, _, _ = _stage_one(y, weights * untreated, panel.groups, n_groups, informs)
    expected = alpha[unit] + lam[panel.groups[unit]]
    event_time = np.arange(panel.shape[1]) - start
    phase = np.where(
        event_time >= 0, "after", np.where(event_time >= -options.anticipation, "dip", "before")
    )
    return pd.DataFrame(
        {
            "period_start": panel.periods,
            "event_time": event_time,
            "observed": np.where(observed[unit], panel.mean[unit], np.nan),
            "expected": expected,
            "n": panel.count[unit].astype(int),
            "phase": phase,
        }
    )
