"""Weighted least squares with unit and group×period fixed effects, exactly and fast.

The model ``y_it = alpha_i + lambda_{g(i),t}`` (unit levels plus a period effect shared by the
units of a comparison group) is solved from its normal equations by eliminating the unit
effects: what is left is one small ``T × T`` system per group, whatever the number of units.
Several right-hand sides are solved at once, which the imputation estimator's standard errors
and the two-way fixed-effects baseline both need.

Pure numpy/scipy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg


@dataclass
class FixedEffects:
    """Fitted effects: ``alpha`` (units × k) and ``lam`` (groups × periods × k).

    ``alpha`` is NaN for units without any weighted cell and ``lam`` is NaN for group-periods
    without any: such cells cannot be predicted.
    """

    alpha: np.ndarray
    lam: np.ndarray

    def predict(self, groups: np.ndarray) -> np.ndarray:
        """Fitted values on the whole unit × period grid: units × periods × k."""
        return self.alpha[:, None, :] + self.lam[groups]


class TwoWaySolver:
    """Normal equations of unit + group×period effects for one set of cell weights.

    ``weights`` is the dense units × periods array of cell weights (0 = cell not in the fit);
    ``groups`` gives each unit's group. The per-group systems are factored once and reused for
    every right-hand side.
    """

    def __init__(self, weights: np.ndarray, groups: np.ndarray, n_groups: int | None = None):
        self.weights = weights
        self.groups = groups
        self.n_groups = int(groups.max()) + 1 if n_groups is None else n_groups
        self.unit_weight = weights.sum(axis=1)
        self.members = [np.flatnonzero(groups == g) for g in range(self.n_groups)]
        self._factors = [self._factor(members) for members in self.members]

    def _factor(self, members: np.ndarray):
        weights = self.weights[members]
        unit_weight = self.unit_weight[members]
        active = unit_weight > 0
        weights, unit_weight = weights[active], unit_weight[active]
        period_weight = weights.sum(axis=0)
        identified = np.flatnonzero(period_weight > 0)
        if identified.size == 0:
            return None
        # Schur complement of the unit block: diag(W_t) - B' diag(1/W_i) B.
        reduced = weights[:, identified]
        matrix = np.diag(period_weight[identified]) - reduced.T @ (reduced / unit_weight[:, None])
        # The effects are identified up to a constant shared by alpha and lambda: pin lambda
        # to zero in the best-observed period.
        reference = int(np.argmax(period_weight[identified]))
        free = np.delete(np.arange(identified.size), reference)
        system = matrix[np.ix_(free, free)]
        try:
            factor = ("cholesky", scipy.linalg.cho_factor(system, lower=True, check_finite=False))
        except (np.linalg.LinAlgError, scipy.linalg.LinAlgError):
            # A group whose cells split into unconnected parts: least squares picks one solution.
            factor = ("lstsq", system)
        return identified, identified[free], factor

    def solve(self, rhs_alpha: np.ndarray, rhs_lambda: np.ndarray) -> FixedEffects:
        """Effects for right-hand sides ``Z'Wv``: units × k and groups × periods × k."""
        n_units, n_periods = self.weights.shape
        k = rhs_alpha.shape[1]
        lam = np.full((self.n_groups, n_periods, k), np.nan)
        with np.errstate(invalid="ignore", divide="ignore"):
            scaled_alpha = rhs_alpha / self.unit_weight[:, None]
        for g, members in enumerate(self.members):
            factored = self._factors[g]
            if factored is None:
                continue
            identified, free, (method, factor) = factored
            active = members[self.unit_weight[members] > 0]
            weights = self.weights[np.ix_(active, free)]
            rhs = rhs_lambda[g, free] - weights.T @ scaled_alpha[active]
            if method == "cholesky":
                solution = scipy.linalg.cho_solve(factor, rhs, check_finite=False)
            else:
                solution = scipy.linalg.lstsq(factor, rhs, check_finite=False)[0]
            lam[g, identified] = 0.0
            lam[g, free] = solution
        filled = np.nan_to_num(lam)
        alpha = np.full((n_units, k), np.nan)
        # alpha_i = (rhs_i - sum_t w_it lambda_gt) / W_i, one group at a time (no units × periods
        # × k array: k reaches hundreds when standard errors are computed).
        for g, members in enumerate(self.members):
            active = members[self.unit_weight[members] > 0]
            explained = self.weights[active] @ filled[g]
            alpha[active] = (rhs_alpha[active] - explained) / self.unit_weight[active, None]
        return FixedEffects(alpha=alpha, lam=lam)

    def fit(self, values: np.ndarray) -> FixedEffects:
        """Weighted least-squares effects of ``values`` (units × periods × k; NaN allowed where
        the weight is 0)."""
        weighted = np.where(self.weights[..., None] > 0, values, 0.0) * self.weights[..., None]
        rhs_alpha = weighted.sum(axis=1)
        rhs_lambda = np.zeros((self.n_groups, self.weights.shape[1], values.shape[2]))
        for g, members in enumerate(self.members):
            rhs_lambda[g] = weighted[members].sum(axis=0)
        return self.solve(rhs_alpha, rhs_lambda)
