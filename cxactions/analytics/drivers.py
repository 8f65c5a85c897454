"""Key-driver analysis: how much of ``overall`` each driver score and operational input explains.

Drivers of satisfaction are strongly correlated with one another (a store that is slow is often
also understaffed and untidy), so raw correlations and regression coefficients both mislead: a
driver that merely travels with an important one looks important by correlation, and the betas of
correlated drivers swing and change sign. Two decompositions of the model R² that handle this:

- ``relative_weights``: Johnson, J. W. (2000). A heuristic method for estimating the relative
  weight of predictor variables in multiple regression. *Multivariate Behavioral Research* 35(1),
  1-19. Fast (one eigen-decomposition), any number of predictors.
- ``shapley``: the Shapley value of R² over the predictors, a.k.a. LMG (Lindeman, Merenda & Gold
  1980, p. 119ff; Grömping, U. (2006). Relative importance for linear regression in R: the
  package relaimpo. *Journal of Statistical Software* 17(1); Budescu's general dominance).
  Exact over all 2^p subsets, so capped at ``MAX_SHAPLEY_PREDICTORS``.

The two agree closely in practice (Johnson 2000; LeBreton, Ployhart & Ladd 2004). Both work on the
(weighted) correlation matrix only. Missing values are handled *listwise*: a row (unit-week) enters
only when the outcome and every predictor are present, so the matrix is a real correlation matrix
(pairwise deletion can make it indefinite, and the decompositions then lose their meaning).

Pure numpy/pandas: no Flask, no database.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
import pandas as pd

from cxactions.foundations.translation import _

METHODS = ("relative_weights", "shapley")
DEFAULT_METHOD = "relative_weights"
MAX_SHAPLEY_PREDICTORS = 15  # 2^15 = 32,768 sub-models; beyond that use relative weights
_CONSTANT = 1e-12  # relative variance below which a column counts as constant
_RANK_TOLERANCE = 1e-10  # eigenvalues below this (relative to the largest) count as zero


@dataclass
class DriverImportance:
    """The decomposition of R² over the predictors, with the naive measures beside it.

    ``shares`` sum to 1 over the predictors (0 for a constant predictor); ``raw`` are the same
    contributions on the R² scale (they sum to ``r_squared``). ``betas`` are the standardized
    regression coefficients and ``correlations`` the raw correlations with the outcome, both for
    comparison only: neither is an importance measure when predictors are correlated.
    """

    method: str
    outcome: str
    shares: pd.Series
    raw: pd.Series
    r_squared: float
    betas: pd.Series
    correlations: pd.Series
    n_rows: int
    total_weight: float
    notes: list[str] = field(default_factory=list)

    @property
    def ranks(self) -> pd.Series:
        """1 = most important; ties broken by name so the order is stable."""
        order = sorted(self.shares.index, key=lambda name: (-self.shares[name], name))
        return pd.Series({name: rank for rank, name in enumerate(order, start=1)})[
            self.shares.index
        ]

    def table(self) -> pd.DataFrame:
        """One row per predictor, most important first."""
        frame = pd.DataFrame(
            {
                "driver": self.shares.index,
                "importance": self.shares.to_numpy(),
                "rank": self.ranks.to_numpy(),
                "r2_contribution": self.raw.to_numpy(),
                "beta": self.betas.to_numpy(),
                "correlation": self.correlations.to_numpy(),
            }
        )
        return frame.sort_values("rank", kind="stable").reset_index(drop=True)


def weighted_correlation(
    frame: pd.DataFrame, weights: np.ndarray | pd.Series | None = None
) -> tuple[np.ndarray, int, float]:
    """The weighted correlation matrix of complete rows (listwise deletion).

    Returns the matrix (NaN rows/columns for constant columns), the number of complete rows and
    their total weight. ``weights`` are frequency-like (e.g. responses per unit-week).
    """
    values = frame.to_numpy(dtype=float)
    w = np.ones(len(values)) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != (len(values),):
        raise ValueError("weights must have one value per row")
    keep = np.isfinite(values).all(axis=1) & np.isfinite(w) & (w > 0)
    values, w = values[keep], w[keep]
    total = float(w.sum())
    if len(values) == 0:
        return np.full((values.shape[1],) * 2, np.nan), 0, 0.0
    mean = w @ values / total
    centred = values - mean
    cov = (centred * w[:, None]).T @ centred / total
    scale = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    constant = scale <= np.sqrt(_CONSTANT) * np.maximum(np.abs(mean), 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = cov / np.outer(scale, scale)
    corr[constant, :] = np.nan
    corr[:, constant] = np.nan
    np.fill_diagonal(corr, np.where(constant, np.nan, 1.0))
    return np.clip(corr, -1.0, 1.0), int(len(values)), total


def _r_squared(rxx: np.ndarray, rxy: np.ndarray) -> float:
    """R² of the regression with correlation matrix ``rxx`` and correlations ``rxy`` with y."""
    if len(rxy) == 0:
        return 0.0
    # lstsq rather than solve: perfectly collinear predictors add nothing instead of failing.
    beta = np.linalg.lstsq(rxx, rxy, rcond=None)[0]
    return float(rxy @ beta)


def relative_weights_from_correlation(rxx: np.ndarray, rxy: np.ndarray) -> np.ndarray:
    """Johnson's (2000) relative weights: each predictor's share of R², on the R² scale.

    With Rxx = P diag(λ) Pᵀ, the orthogonal variables closest to the predictors in least squares
    have correlations Λ = P diag(√λ) Pᵀ with them; y is regressed on those (β = Λ⁻¹ rxy) and each
    predictor gets ε_j = Σ_k Λ_jk² β_k². The ε sum to R².
    """
    eigenvalues, vectors = np.linalg.eigh(rxx)
    positive = eigenvalues > _RANK_TOLERANCE * max(eigenvalues.max(), 1.0)
    root = np.sqrt(np.where(positive, eigenvalues, 0.0))
    inverse_root = np.where(positive, 1.0 / np.where(positive, root, 1.0), 0.0)
    lam = (vectors * root) @ vectors.T
    beta = (vectors * inverse_root) @ vectors.T @ rxy
    return (lam**2) @ (beta**2)


def shapley_from_correlation(rxx: np.ndarray, rxy: np.ndarray) -> np.ndarray:
    """The exact Shapley value (LMG) of R²: each predictor's sequential R² gain averaged over
    every order of entry (Lindeman, Merenda & Gold 1980; Grömping 2006), on the R² scale.

    Computed over all 2^p subsets: R²(S) once per subset, then φ_j = Σ_{S∌j} |S|!(p-|S|-1)!/p!
    · (R²(S∪{j}) - R²(S)).
    """
    p = len(rxy)
    if p > MAX_SHAPLEY_PREDICTORS:
        raise ValueError(
            _(
                "the exact Shapley decomposition needs 2^%(predictors)d regressions: use at most "
                "%(most)d predictors, or the relative-weights method",
                predictors=p,
                most=MAX_SHAPLEY_PREDICTORS,
            )
        )
    r2 = np.zeros(1 << p)
    for size in range(1, p + 1):
        for subset in combinations(range(p), size):
            index = list(subset)
            mask = sum(1 << j for j in subset)
            r2[mask] = _r_squared(rxx[np.ix_(index, index)], rxy[index])
    weight = [math.factorial(s) * math.factorial(p - s - 1) / math.factorial(p) for s in range(p)]
    sizes = np.array([bin(mask).count("1") for mask in range(1 << p)])
    values = np.zeros(p)
    for j in range(p):
        bit = 1 << j
        without = np.array([mask for mask in range(1 << p) if not mask & bit], dtype=np.int64)
        gains = r2[without | bit] - r2[without]
        values[j] = float(np.sum(np.take(weight, sizes[without]) * gains))
    return values


def key_drivers(
    frame: pd.DataFrame,
    outcome: str,
    predictors: list[str] | None = None,
    *,
    weights: np.ndarray | pd.Series | None = None,
    method: str = DEFAULT_METHOD,
) -> DriverImportance:
    """Relative importance of ``predictors`` (default: every other column) for ``outcome``.

    Rows are the unit of analysis (unit-weeks in the product), weighted by ``weights``
    (responses); rows with any missing value are left out (listwise). A constant predictor gets
    importance 0 and a note. Raises ``ValueError`` when there are not more complete rows than
    predictors + 1, when the outcome is constant, or for an unknown method.
    """
    if method not in METHODS:
        raise ValueError(
            _(
                "unknown method %(method)s: choose one of %(methods)s",
                method=repr(method),
                methods=", ".join(METHODS),
            )
        )
    if predictors is None:
        predictors = [column for column in frame.columns if column != outcome]
    if not predictors:
        raise ValueError(_("no predictors to analyse"))
    corr, n_rows, total = weighted_correlation(frame[[outcome, *predictors]], weights)
    p = len(predictors)
    if n_rows <= p + 1:
        raise ValueError(
            _(
                "too few complete rows for %(predictors)d predictors: %(rows)d rows with the "
                "outcome and every predictor present; at least %(needed)d are needed",
                predictors=p,
                rows=n_rows,
                needed=p + 2,
            )
        )
    if np.isnan(corr[0, 0]):
        raise ValueError(
            _(
                "the outcome %(outcome)s is constant: nothing to explain",
                outcome=repr(outcome),
            )
        )
    notes: list[str] = []
    constant = [j for j in range(p) if np.isnan(corr[j + 1, j + 1])]
    for j in constant:
        notes.append(
            _(
                "%(predictor)s does not vary over the rows analysed: importance 0",
                predictor=predictors[j],
            )
        )
    live = [j for j in range(p) if j not in constant]
    rxx = corr[1:, 1:][np.ix_(live, live)]
    rxy = corr[1:, 0][live]
    if method == "shapley":
        contributions = shapley_from_correlation(rxx, rxy)
    else:
        contributions = relative_weights_from_correlation(rxx, rxy)
    r_squared = _r_squared(rxx, rxy)
    betas = np.linalg.lstsq(rxx, rxy, rcond=None)[0] if live else np.zeros(0)
    if np.linalg.matrix_rank(rxx) < len(live):
        notes.append(
            _("some predictors are perfectly collinear: their shares are split between them")
        )

    raw = pd.Series(0.0, index=predictors)
    beta = pd.Series(np.nan, index=predictors)
    correlation = pd.Series(np.nan, index=predictors)
    live_names = [predictors[j] for j in live]
    raw[live_names] = np.clip(contributions, 0.0, None)
    beta[live_names] = betas
    correlation[live_names] = rxy
    total_raw = float(raw.sum())
    if total_raw > 0:
        shares = raw / total_raw
    else:
        shares = pd.Series(0.0, index=predictors)
        notes.append(_("the predictors explain none of the outcome's variation"))
    return DriverImportance(
        method=method,
        outcome=outcome,
        shares=shares,
        raw=raw,
        r_squared=r_squared,
        betas=beta,
        correlations=correlation,
        n_rows=n_rows,
        total_weight=total,
        notes=notes,
    )
