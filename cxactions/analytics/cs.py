"""Callaway & Sant'Anna (2021) group-time average treatment effects, in plain numpy.

Reference: B. Callaway and P. H. C. Sant'Anna, "Difference-in-Differences with multiple time
periods", Journal of Econometrics 225(2), 2021, 200-230 ("CS"). The numbers follow the R package
``did`` 2.5.1 (``att_gt`` + ``aggte``, analytic standard errors) without covariates; with an
intercept only, its doubly-robust, outcome-regression and IPW 2x2 estimators all reduce to a
difference of mean changes, which is what is computed here.

For a cohort ``g`` (first treated period) and a period ``t`` with base period ``b``::

    ATT(g, t) = mean over G=g of (Y_t - Y_b)  -  mean over comparison units of (Y_t - Y_b)

- ``b = g - anticipation - 1`` (the last period before any anticipation effect) for
  post-treatment cells and, with ``base_period="universal"``, for every cell; with
  ``base_period="varying"`` pre-treatment cells compare ``t`` with the period before it, so they
  are placebo short differences (CS Section 3, did's default).
- Comparison units: never treated (``control="never"``), or never treated plus units whose own
  cohort is later than ``max(t, b) + anticipation`` (``control="notyet"``), as in did.

Inference uses the influence function of each cell (CS Section 4): for the ``n1`` treated and
comparison units in a cell it is the usual two-sample one, scaled by ``n / n1`` so that every
cell lives on the same ``n`` units, and ``se = sqrt(sum(psi**2)) / n``. Aggregations are linear
combinations of cell influence functions plus, where the weights are estimated cohort shares, the
weight-estimation term (did's ``wif``), exactly as ``did::aggte`` computes them.

Aggregations (CS Section 3.1, did's ``aggte``): *simple* weights the post-treatment cells by
cohort size; *event* averages the cells of each event time ``e = t - g`` by cohort size;
*dynamic overall* is the plain mean of the event-time effects ``e >= 0``; *group* averages each
cohort's post-treatment cells, and *group overall* weights those by cohort size. ``window = w``
keeps only event times ``0..w-1`` in the simple, overall and group numbers (did's
``max_e = w - 1``); the event table always lists every event time.

Sample rules, as did's ``pre_process_did``: rows with a missing ``y`` are dropped; cohorts after
the last period (+ anticipation) count as never treated; without never-treated units the last
cohort becomes the comparison group (``never``) or only a comparison (``notyet``) and the
periods from its start (- anticipation) on are dropped; units treated in the first period
(+ anticipation) are dropped. Each rule leaves a line in ``CSResult.notes``, as does each cell
skipped for want of treated or comparison units.

Missing observations: a unit missing period ``t`` or ``b`` simply does not enter the 2x2 cell
``(g, t)`` (pairwise-balanced cells; the ``differences`` package's panel treatment of unbalanced
panels). Cohort shares and ``n`` still count every unit. On a balanced panel this is exactly
did's panel estimator; did itself would instead drop incomplete units (or switch to its
repeated-cross-section estimator with ``allow_unbalanced_panel=TRUE``).

Pure: numpy, pandas and scipy only, so the CLI, the web and the benchmarks share it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from cxactions.analytics.distributions import normal_quantile

REQUIRED_COLUMNS = ("unit", "period", "y", "cohort")

# did reports a standard error below this as missing (it only arises from an influence function
# that is identically zero, e.g. the universal base period's reference cell).
SE_FLOOR = 10 * math.sqrt(np.finfo(float).eps)

# Skipped cells listed by name in a note before the rest are only counted.
MAX_LISTED_CELLS = 10


@dataclass(frozen=True)
class CSOptions:
    """How to estimate: comparison group, anticipation, base period, window and interval level."""

    control: Literal["never", "notyet"] = "notyet"
    anticipation: int = 0
    base_period: Literal["varying", "universal"] = "varying"
    window: int = 0
    alpha: float = 0.05

    def __post_init__(self) -> None:
        if self.control not in ("never", "notyet"):
            raise ValueError(f"control must be 'never' or 'notyet', not {self.control!r}")
        if self.base_period not in ("varying", "universal"):
            raise ValueError(
                f"base_period must be 'varying' or 'universal', not {self.base_period!r}"
            )
        for name in ("anticipation", "window"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
                raise ValueError(f"{name} must be an integer >= 0, not {value!r}")
        if not 0 < self.alpha < 1:
            raise ValueError(f"alpha must lie strictly between 0 and 1, not {self.alpha!r}")


@dataclass(frozen=True)
class Estimate:
    """One aggregated effect with its analytic standard error and pointwise interval."""

    att: float
    se: float
    ci_low: float
    ci_high: float


@dataclass
class CSResult:
    """Group-time effects, their aggregations, and what was dropped or skipped on the way.

    ``event`` holds every event time, pre-treatment placebos included (the window only limits
    the overall numbers); ``group`` holds each cohort's average post-treatment effect within the
    window, which ``group_overall`` (did's ``aggte(type="group")``) weights by cohort size.
    """

    group_time: pd.DataFrame
    event: pd.DataFrame
    simple: Estimate
    dynamic_overall: Estimate
    group_overall: Estimate | None
    n_treated_units: int
    group: pd.DataFrame = field(default_factory=pd.DataFrame)
    n_units: int = 0
    n_never_treated: int = 0
    balanced: bool = True
    options: CSOptions = field(default_factory=CSOptions)
    notes: list[str] = field(default_factory=list)


@dataclass
class _Prepared:
    """The panel as arrays: units sorted by cohort, outcomes as a periods x units matrix."""

    periods: np.ndarray  # sorted distinct periods (did's tlist)
    outcomes: np.ndarray  # (periods, units); 0 where a unit is not observed
    observed: np.ndarray | None  # (periods, units) 1.0/0.0; None for a balanced panel
    unit_cohort: np.ndarray  # per unit, ascending; inf = never treated
    block_cohort: np.ndarray  # distinct cohorts in unit order (inf last)
    block_start: np.ndarray  # first unit of each block, then the number of units
    cohorts: list[int]  # cohorts that get ATT(g, t) cells (did's glist)

    @property
    def n_units(self) -> int:
        return self.unit_cohort.size

    def block(self, g: float) -> tuple[int, int]:
        """The slice of units in cohort ``g``."""
        i = int(np.searchsorted(self.block_cohort, g))
        return int(self.block_start[i]), int(self.block_start[i + 1])

    def changes(self, cur: int, base: int, lo: int, hi: int) -> tuple[np.ndarray, int]:
        """Outcome changes from ``base`` to ``cur`` of units ``lo:hi`` (0 where either period is
        missing) and how many units are observed in both."""
        change = self.outcomes[cur, lo:hi] - self.outcomes[base, lo:hi]
        if self.observed is None:
            return change, hi - lo
        both = self.observed[cur, lo:hi] * self.observed[base, lo:hi]
        return change * both, int(both.sum())

    def residuals(self, cur: int, base: int, lo: int, hi: int, mean: float) -> np.ndarray:
        """Changes minus ``mean`` for units ``lo:hi`` observed in both periods, 0 for the rest."""
        change = self.outcomes[cur, lo:hi] - self.outcomes[base, lo:hi] - mean
        if self.observed is None:
            return change
        return change * (self.observed[cur, lo:hi] * self.observed[base, lo:hi])


@dataclass
class _Cells:
    """What the loop over cells leaves for the aggregations."""

    rows: list[tuple]  # cohort, period, att, se, n_treated, n_control, base_period
    skipped: list[tuple[int, int, int, int, int]]
    event_times: list[int]
    influence: np.ndarray  # (1 + events + cohorts, units): weighted sums of cell influence


def callaway_santanna(panel: pd.DataFrame, options: CSOptions = CSOptions()) -> CSResult:
    """Estimate CS (2021) group-time ATTs on a long panel and aggregate them as did's aggte does.

    ``panel`` has columns ``unit``, ``period`` (integer period index), ``y`` and ``cohort`` (the
    unit's first treated period; -1, any negative value or NaN = never treated). Returns a
    :class:`CSResult`; raises ``ValueError`` on malformed input or when nothing can be estimated.
    """
    notes: list[str] = []
    prepared = _prepare(panel, options, notes)
    cells = _estimate_cells(prepared, options)
    if cells.skipped:
        notes.append(_skipped_note(cells.skipped))
    if not cells.rows:
        reason = notes[-1] if cells.skipped else "the panel has fewer than two periods"
        raise ValueError(f"no (cohort, period) cell could be estimated: {reason}")

    z = normal_quantile(1 - options.alpha / 2)
    group_time = pd.DataFrame(
        cells.rows,
        columns=["cohort", "period", "att", "se", "n_treated", "n_control", "base_period"],
    )
    group_time["event_time"] = group_time["period"] - group_time["cohort"]
    group_time.insert(4, "ci_low", group_time["att"] - z * group_time["se"])
    group_time.insert(5, "ci_high", group_time["att"] + z * group_time["se"])

    n = prepared.n_units
    block_sizes = np.diff(prepared.block_start)
    cohort = group_time["cohort"].to_numpy()
    att = group_time["att"].to_numpy()
    event_time = group_time["event_time"].to_numpy()
    share = np.array([_block_size(prepared, g) for g in cohort]) / n
    block = np.searchsorted(prepared.block_cohort, cohort)
    in_window = (event_time >= 0) & ((options.window == 0) | (event_time < options.window))

    def weighted(row: int, keep: np.ndarray) -> tuple[float, np.ndarray]:
        # ATT(g,t) weighted by cohort share P(G=g), with did's wif term for estimating those
        # shares; for unit i of cohort c, wif . att reduces to
        # (sum of kept ATTs of cohort c - theta * number of kept cells of c) / (sum of weights).
        total = share[keep].sum()
        theta = float(share[keep] @ att[keep] / total)
        per_block = np.bincount(block[keep], weights=att[keep], minlength=block_sizes.size)
        per_block -= theta * np.bincount(block[keep], minlength=block_sizes.size)
        psi = cells.influence[row] / total + np.repeat(per_block / total, block_sizes)
        return theta, psi

    if in_window.any():
        simple = _estimate(*weighted(0, in_window), z)
    else:
        notes.append("no post-treatment cell in the window: the simple aggregation is undefined")
        simple = _MISSING

    event_rows, event_parts = [], {}
    for i, e in enumerate(cells.event_times):
        keep = event_time == e
        if keep.any():
            event_parts[e] = weighted(1 + i, keep)
            event_rows.append((e, *_values(_estimate(*event_parts[e], z))))
    event = pd.DataFrame(event_rows, columns=["event_time", "att", "se", "ci_low", "ci_high"])

    # did's dynamic overall effect: the plain mean of the event-time effects e >= 0.
    overall = [e for e in event_parts if e >= 0 and (options.window == 0 or e < options.window)]
    dynamic_overall = _MISSING
    if overall:
        theta = float(np.mean([event_parts[e][0] for e in overall]))
        psi = np.mean([event_parts[e][1] for e in overall], axis=0)
        dynamic_overall = _estimate(theta, psi, z)

    # Each cohort's mean post-treatment effect (equal weights, so no wif), then their
    # cohort-share weighted mean with its own wif: did's aggte(type = "group").
    group_rows, group_parts = [], {}
    first_group_row = 1 + len(cells.event_times)
    for i, g in enumerate(prepared.cohorts):
        keep = in_window & (cohort == g)
        if keep.any():
            group_parts[g] = (
                float(att[keep].mean()),
                cells.influence[first_group_row + i] / keep.sum(),
            )
            estimate = _estimate(*group_parts[g], z)
            group_rows.append((g, *_values(estimate), _block_size(prepared, g)))
    group = pd.DataFrame(
        group_rows, columns=["cohort", "att", "se", "ci_low", "ci_high", "n_units"]
    )
    group_overall = None
    if group_parts:
        weights = np.array([_block_size(prepared, g) for g in group_parts]) / n
        thetas = np.array([theta for theta, _ in group_parts.values()])
        total = weights.sum()
        theta = float(weights @ thetas / total)
        per_block = np.zeros(block_sizes.size)
        per_block[np.searchsorted(prepared.block_cohort, list(group_parts))] = thetas - theta
        psi = sum(w * psi_g for w, (_, psi_g) in zip(weights, group_parts.values(), strict=True))
        psi = psi / total + np.repeat(per_block / total, block_sizes)
        group_overall = _estimate(theta, psi, z)

    never_start = int(np.searchsorted(prepared.unit_cohort, np.inf))
    return CSResult(
        group_time=group_time,
        event=event,
        simple=simple,
        dynamic_overall=dynamic_overall,
        group_overall=group_overall,
        n_treated_units=int(sum(_block_size(prepared, g) for g in prepared.cohorts)),
        group=group,
        n_units=n,
        n_never_treated=n - never_start,
        balanced=prepared.observed is None,
        options=options,
        notes=notes,
    )


def _estimate_cells(prepared: _Prepared, options: CSOptions) -> _Cells:
    """ATT(g,t) and its standard error for each cell, and the running sums of cell influence
    functions that the simple, event-time and cohort aggregations need."""
    periods, unit_cohort, n = prepared.periods, prepared.unit_cohort, prepared.n_units
    cells = _cells(prepared, options)
    event_times = sorted({int(periods[cur]) - g for g, cur, _ in cells})
    event_row = {e: 1 + i for i, e in enumerate(event_times)}
    group_row = {g: 1 + len(event_times) + i for i, g in enumerate(prepared.cohorts)}
    # One row per aggregated parameter (simple, each event time, each cohort), holding the
    # weighted sum of the influence functions of its cells; normalised once the weights are known.
    influence = np.zeros((1 + len(event_times) + len(prepared.cohorts), n))
    never_start = int(np.searchsorted(unit_cohort, np.inf))

    rows, skipped = [], []
    for g, cur, base in cells:
        t, b = int(periods[cur]), int(periods[base])
        lo, hi = prepared.block(g)
        if options.control == "never":
            controls = [(never_start, n)]
        else:
            threshold = periods[max(cur, base)] + options.anticipation
            start = int(np.searchsorted(unit_cohort, threshold, side="right"))
            # not yet treated = cohort after the threshold, except the treated cohort itself
            controls = [(start, lo), (hi, n)] if lo >= start else [(start, n)]
        controls = [(first, stop) for first, stop in controls if stop > first]

        treated_change, n_treated = prepared.changes(cur, base, lo, hi)
        control_parts = [prepared.changes(cur, base, *part) for part in controls]
        n_control = sum(count for _, count in control_parts)
        if cur == base:
            # Universal base period: the reference cell is 0 by construction; did lists it.
            rows.append((g, t, 0.0, np.nan, n_treated, n_control, b))
            continue
        if n_treated == 0 or n_control == 0:
            skipped.append((g, t, b, n_treated, n_control))
            continue

        treated_mean = treated_change.sum() / n_treated
        control_mean = sum(change.sum() for change, _ in control_parts) / n_control
        treated_residual = prepared.residuals(cur, base, lo, hi, treated_mean)
        control_residuals = [
            prepared.residuals(cur, base, *part, control_mean) for part in controls
        ]
        # se = sqrt(sum psi^2) / n with the influence function psi below.
        variance = treated_residual @ treated_residual / n_treated**2
        variance += sum(r @ r for r in control_residuals) / n_control**2
        se = math.sqrt(variance)
        se = se if se > SE_FLOOR else np.nan
        rows.append((g, t, treated_mean - control_mean, se, n_treated, n_control, b))

        # psi_i = n (dY_i - mean_T) / n_T for treated units, -n (dY_i - mean_C) / n_C for
        # comparison units, 0 elsewhere: the 2x2 influence function scaled by n / n1 as in did.
        share = (hi - lo) / n
        targets = [(event_row[t - g], share)]
        if g <= t and (options.window == 0 or t - g < options.window):
            targets += [(0, share), (group_row[g], 1.0)]
        for row, weight in targets:
            influence[row, lo:hi] += (weight * n / n_treated) * treated_residual
            for (first, stop), residual in zip(controls, control_residuals, strict=True):
                influence[row, first:stop] -= (weight * n / n_control) * residual
    return _Cells(rows=rows, skipped=skipped, event_times=event_times, influence=influence)


def _prepare(panel: pd.DataFrame, options: CSOptions, notes: list[str]) -> _Prepared:
    """Validate the long panel and apply did's sample rules; returns the arrays the loop needs."""
    if not isinstance(panel, pd.DataFrame):
        raise ValueError("panel must be a pandas DataFrame")
    missing = [c for c in REQUIRED_COLUMNS if c not in panel.columns]
    if missing:
        raise ValueError(
            f"panel is missing column(s) {', '.join(missing)}; "
            f"expected {', '.join(REQUIRED_COLUMNS)}"
        )
    if panel.empty:
        raise ValueError("panel has no rows")
    for name in ("period", "y", "cohort"):
        column = panel[name]
        if not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
            raise ValueError(f"column {name!r} must be numeric, not {column.dtype}")

    unit, labels = pd.factorize(panel["unit"])
    if (unit < 0).any():
        raise ValueError("column 'unit' has missing values")
    period = panel["period"].to_numpy(dtype=float, na_value=np.nan)
    if not np.isfinite(period).all() or (period != np.round(period)).any():
        raise ValueError("column 'period' must hold whole period indexes, without missing values")
    period = period.astype(np.int64)
    y = panel["y"].to_numpy(dtype=float, na_value=np.nan)
    cohort = panel["cohort"].to_numpy(dtype=float, na_value=np.nan)
    treated = np.isfinite(cohort) & (cohort >= 0)
    if (cohort[treated] != np.round(cohort[treated])).any():
        raise ValueError("column 'cohort' must hold whole period indexes (or -1/NaN for never)")
    cohort = np.where(treated, cohort, np.inf)

    order = np.lexsort((period, unit))
    repeated = (np.diff(unit[order]) == 0) & (np.diff(period[order]) == 0)
    if repeated.any():
        row = order[int(np.argmax(repeated))]
        raise ValueError(
            f"unit {labels[unit[row]]!r} has more than one row for period {period[row]}: "
            "the panel must have one row per unit and period"
        )
    unit_cohort = np.full(labels.size, np.inf)
    np.minimum.at(unit_cohort, unit, cohort)
    highest = np.full(labels.size, -np.inf)
    np.maximum.at(highest, unit, cohort)
    if (unit_cohort != highest).any():
        label = labels[int(np.argmax(unit_cohort != highest))]
        raise ValueError(
            f"unit {label!r} has more than one cohort: a unit's first treated period "
            "must be the same on all its rows (treatment is irreversible)"
        )

    keep = np.isfinite(y)
    if not keep.all():
        notes.append(f"dropped {int((~keep).sum())} rows with a missing or non-finite y")
        if not keep.any():
            raise ValueError("column 'y' has no finite values")

    def present() -> np.ndarray:
        return np.bincount(unit[keep], minlength=labels.size) > 0

    # did's sample rules (pre_process_did), in its order.
    periods = np.unique(period[keep])
    late = np.isfinite(unit_cohort) & (unit_cohort > periods[-1] + options.anticipation)
    if (late & present()).any():
        notes.append(
            f"{int((late & present()).sum())} units first treated after the last period "
            "(+ anticipation) count as never treated"
        )
    unit_cohort[late] = np.inf
    control_only = None
    if not np.isinf(unit_cohort[present()]).any():
        latest = float(unit_cohort[present()].max())
        keep &= period < latest - options.anticipation
        cutoff = int(latest - options.anticipation)
        if options.control == "never":
            notes.append(
                f"no never-treated units: cohort {int(latest)} serves as the never-treated "
                f"comparison group and periods from {cutoff} on are dropped"
            )
            unit_cohort[unit_cohort == latest] = np.inf
        else:
            notes.append(
                f"no never-treated units: cohort {int(latest)} serves only as a not-yet-treated "
                f"comparison and periods from {cutoff} on are dropped"
            )
            control_only = int(latest)
        if not keep.any():
            raise ValueError("no never-treated units and no period before the last cohort")
        periods = np.unique(period[keep])

    first_treated = unit_cohort <= periods[0] + options.anticipation
    if (first_treated & present()).any():
        notes.append(
            f"dropped {int((first_treated & present()).sum())} units already treated in the "
            f"first period {int(periods[0])}"
            + (f" (anticipation {options.anticipation})" if options.anticipation else "")
        )
        keep &= ~first_treated[unit]
        if not keep.any():
            raise ValueError("every unit is treated from the first period: nothing to compare")
        periods = np.unique(period[keep])

    units = np.flatnonzero(present())
    cohorts = [int(g) for g in np.unique(unit_cohort[units]) if np.isfinite(g)]
    # did's glist: the first period may have moved with the units dropped just above.
    cohorts = [g for g in cohorts if g != control_only and g > periods[0] + options.anticipation]
    if not cohorts:
        raise ValueError(
            "no treated units: no unit is first treated after the first period "
            "(+ anticipation) and by the last period (+ anticipation)"
        )

    # Units sorted by cohort (never treated last) make every cohort, and every set of
    # not-yet-treated comparison units, a contiguous slice.
    units = units[np.argsort(unit_cohort[units], kind="stable")]
    position = np.full(labels.size, -1)
    position[units] = np.arange(units.size)
    rows = (np.searchsorted(periods, period[keep]), position[unit[keep]])
    outcomes = np.zeros((periods.size, units.size))
    outcomes[rows] = y[keep]
    observed = None
    if keep.sum() < outcomes.size:
        observed = np.zeros_like(outcomes)
        observed[rows] = 1.0
    sorted_cohort = unit_cohort[units]
    block_cohort, block_start = np.unique(sorted_cohort, return_index=True)
    return _Prepared(
        periods=periods,
        outcomes=outcomes,
        observed=observed,
        unit_cohort=sorted_cohort,
        block_cohort=block_cohort,
        block_start=np.append(block_start, units.size),
        cohorts=cohorts,
    )


def _cells(prepared: _Prepared, options: CSOptions) -> list[tuple[int, int, int]]:
    """The (cohort, period index, base period index) cells did's att_gt visits, in its order."""
    periods = prepared.periods
    cells = []
    for g in prepared.cohorts:
        base_g = int(np.flatnonzero(periods + options.anticipation < g)[-1])
        if options.base_period == "varying":
            for cur in range(1, periods.size):
                cells.append((g, cur, cur - 1 if periods[cur] < g else base_g))
        else:
            cells.extend((g, cur, base_g) for cur in range(periods.size))
    return cells


def _block_size(prepared: _Prepared, g: float) -> int:
    lo, hi = prepared.block(g)
    return hi - lo


_MISSING = Estimate(np.nan, np.nan, np.nan, np.nan)


def _estimate(theta: float, psi: np.ndarray, z: float) -> Estimate:
    """An estimate from its influence function: se = sqrt(sum psi^2) / n, as did's getSE."""
    se = math.sqrt(float(psi @ psi)) / psi.size
    if not se > SE_FLOOR:
        se = np.nan
    return Estimate(float(theta), se, float(theta - z * se), float(theta + z * se))


def _values(estimate: Estimate) -> tuple[float, float, float, float]:
    return estimate.att, estimate.se, estimate.ci_low, estimate.ci_high


def _skipped_note(skipped: list[tuple[int, int, int, int, int]]) -> str:
    listed = "; ".join(
        f"cohort {g} period {t} (base {b}: {nt} treated, {nc} comparison units observed)"
        for g, t, b, nt, nc in skipped[:MAX_LISTED_CELLS]
    )
    more = len(skipped) - MAX_LISTED_CELLS
    return (
        f"skipped {len(skipped)} cells without treated or comparison units observed in both "
        f"periods: {listed}" + (f"; and {more} more" if more > 0 else "")
    )
