"""Ranking solutions on evidence, not on luck.

A solution tried at three stores can show a large effect by chance. Estimates are shrunk
towards the library-wide mean in proportion to their noise (normal–normal empirical Bayes,
Morris 1983: the prior's mean and variance estimated across solutions by REML), and only
solutions with enough adopting units get a rank. Pre-adoption placebo estimates that differ
from zero get a warning.

Pure numpy/pandas.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cxactions.analytics.distributions import normal_quantile, t_quantile, t_survival

MIN_UNITS = 5
PLACEBO_WARNING_LEVEL = 0.05
# Below this many rankable solutions the spread of true effects cannot be estimated: no shrinkage.
MIN_SOLUTIONS_TO_SHRINK = 5


@dataclass(frozen=True)
class Prior:
    """The spread of true effects across the library, as estimated from the solutions."""

    mean: float
    variance: float
    solutions: int


def estimate_prior(effect: np.ndarray, se: np.ndarray, iterations: int = 200) -> Prior:
    """REML estimates of the mean and variance of true effects given noisy ``effect`` ± ``se``."""
    keep = np.isfinite(effect) & np.isfinite(se) & (se > 0)
    effect, variance = effect[keep], se[keep] ** 2
    if effect.size == 0:
        return Prior(math.nan, math.nan, 0)
    if effect.size < 3:
        weights = 1 / variance
        return Prior(float((weights * effect).sum() / weights.sum()), 0.0, int(effect.size))
    spread = max(float(np.var(effect, ddof=1) - variance.mean()), 0.0)
    for _ in range(iterations):
        weights = 1 / (spread + variance)
        mean = float((weights * effect).sum() / weights.sum())
        # Fixed point of the REML score (Morris 1983; as in DerSimonian–Laird iterated).
        updated = float(
            ((weights**2) * ((effect - mean) ** 2 - variance)).sum() / (weights**2).sum()
            + 1 / weights.sum()
        )
        updated = max(updated, 0.0)
        if abs(updated - spread) < 1e-12:
            spread = updated
            break
        spread = updated
    weights = 1 / (spread + variance)
    mean = float((weights * effect).sum() / weights.sum())
    return Prior(mean, spread, int(effect.size))


def rank_on_evidence(
    summary: pd.DataFrame,
    *,
    shrink: bool,
    min_units: int = MIN_UNITS,
    confidence: float = 0.95,
    rank: bool = True,
    small_sample: bool = False,
) -> tuple[pd.DataFrame, Prior | None]:
    """Add ``raw_effect``/``raw_se``, shrunk ``effect``/``se``/intervals, ``rank`` and
    ``placebo_warning`` to an estimator's summary (columns ``effect``, ``se``, ``n_units``,
    ``placebo``, ``placebo_se``). Returns the ranked frame, best first, and the prior used.

    ``small_sample``: intervals and placebo tests use Student t with (adopting units − 1)
    degrees of freedom, since unit-clustered errors from a handful of units run small.
    """
    frame = summary.copy()
    for column in ("effect", "se", "placebo", "placebo_se"):
        if column in frame:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    frame["n_units"] = pd.to_numeric(frame["n_units"], errors="coerce").fillna(0).astype(int)
    frame["raw_effect"] = frame["effect"]
    frame["raw_se"] = frame["se"]
    if small_sample:
        degrees = np.maximum(frame["n_units"].to_numpy(float) - 1, 1)
        z = t_quantile(0.5 + confidence / 2, degrees)
    else:
        degrees = np.full(len(frame), np.inf)
        z = normal_quantile(0.5 + confidence / 2)
    eligible = (frame["n_units"] >= min_units) & frame["effect"].notna() & frame["se"].notna()
    prior = None
    if shrink and eligible.sum() >= MIN_SOLUTIONS_TO_SHRINK:
        prior = estimate_prior(
            frame.loc[eligible, "effect"].to_numpy(float), frame.loc[eligible, "se"].to_numpy(float)
        )
        raw = frame["raw_effect"].to_numpy(float)
        variance = frame["raw_se"].to_numpy(float) ** 2
        with np.errstate(invalid="ignore", divide="ignore"):
            keep = prior.variance / (prior.variance + variance)  # share of the estimate kept
        # Uncertainty about the prior mean adds to every posterior (Morris 1983, eq. 3.4).
        weights = 1 / (prior.variance + variance[eligible.to_numpy()])
        mean_variance = 1 / weights.sum()
        posterior_variance = keep * variance + (1 - keep) ** 2 * mean_variance
        usable = np.isfinite(raw) & np.isfinite(variance)
        frame["effect"] = np.where(usable, prior.mean + keep * (raw - prior.mean), np.nan)
        frame["se"] = np.where(usable, np.sqrt(posterior_variance), np.nan)
    frame["ci_low"] = frame["effect"] - z * frame["se"]
    frame["ci_high"] = frame["effect"] + z * frame["se"]
    frame["enough_evidence"] = eligible
    frame["rank"] = pd.array([pd.NA] * len(frame), dtype="Int64")
    if rank and eligible.any():
        order = frame.loc[eligible].sort_values(["effect", "ci_low"], ascending=False).index
        frame.loc[order, "rank"] = np.arange(1, len(order) + 1)
    if "placebo" in frame:
        with np.errstate(invalid="ignore", divide="ignore"):
            placebo_z = frame["placebo"] / frame["placebo_se"]
        frame["placebo_p"] = 2 * t_survival(np.abs(placebo_z), degrees)
        frame["placebo_warning"] = frame["placebo_p"] < PLACEBO_WARNING_LEVEL
    frame = frame.sort_values(
        ["rank", "effect"], ascending=[True, False], na_position="last"
    ).reset_index(drop=True)
    return frame, prior
