"""Key-driver estimators on their own: planted weights, brute force and a published reference."""

from __future__ import annotations

from itertools import permutations

import numpy as np
import pandas as pd
import pytest

from cxactions.analytics.drivers import (
    MAX_SHAPLEY_PREDICTORS,
    METHODS,
    key_drivers,
    shapley_from_correlation,
)
from tests.paths import DATA


def planted(seed: int = 1, rows: int = 20_000) -> pd.DataFrame:
    """Unit-weeks where overall = 0.5 x1 + 0.3 x2 + 0 x3, and x3 is x1's shadow (r = 0.7).

    x3 correlates with overall more than x2 does (0.35 against 0.30 before noise), so raw
    correlations rank the irrelevant x3 above x2. ``n`` responses per row: noisier when fewer.
    """
    rng = np.random.default_rng(seed)
    x1, x2, e = rng.standard_normal((3, rows))
    x3 = 0.7 * x1 + np.sqrt(1 - 0.7**2) * e
    n = rng.integers(5, 36, size=rows)
    overall = 7 + 0.5 * x1 + 0.3 * x2 + 0.0 * x3 + rng.standard_normal(rows) * 2 / np.sqrt(n)
    return pd.DataFrame({"overall": overall, "x1": x1, "x2": x2, "x3": x3, "n": n.astype(float)})


def brute_force_shapley(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """R² gains averaged over every order of entry, each R² from an OLS fit on the raw data."""

    def r2(columns: tuple[int, ...]) -> float:
        design = np.column_stack([np.ones(len(y)), x[:, list(columns)]])
        fitted = design @ np.linalg.lstsq(design, y, rcond=None)[0]
        return 1 - np.sum((y - fitted) ** 2) / np.sum((y - y.mean()) ** 2)

    p = x.shape[1]
    orders = list(permutations(range(p)))
    values = np.zeros(p)
    for order in orders:
        for position, j in enumerate(order):
            values[j] += r2(tuple(sorted(order[: position + 1]))) - r2(
                tuple(sorted(order[:position]))
            )
    return values / len(orders)


def test_raw_correlations_rank_the_shadow_driver_wrongly():
    frame = planted()
    correlations = frame[["x1", "x2", "x3"]].corrwith(frame["overall"])
    assert correlations["x3"] > correlations["x2"]


@pytest.mark.parametrize("method", METHODS)
def test_planted_importance_order_is_recovered_despite_correlated_drivers(method):
    frame = planted()
    result = key_drivers(frame, "overall", ["x1", "x2", "x3"], weights=frame["n"], method=method)
    assert list(result.table()["driver"]) == ["x1", "x2", "x3"]
    assert result.shares.sum() == pytest.approx(1.0)
    assert result.raw.sum() == pytest.approx(result.r_squared)
    # The standardized betas recover the planted weights; the shares are a different scale.
    assert result.betas["x3"] == pytest.approx(0.0, abs=0.01)


def test_shapley_and_relative_weights_nearly_agree():
    rng = np.random.default_rng(7)
    base = rng.standard_normal((5000, 5))
    mixing = np.array([[1, 0.6, 0.3, 0, 0], [0, 1, 0.5, 0.2, 0], [0, 0, 1, 0.4, 0.3],
                       [0, 0, 0, 1, 0.5], [0, 0, 0, 0, 1]])  # fmt: skip
    x = base @ mixing
    y = x @ np.array([0.4, 0.3, 0.2, 0.1, 0.05]) + rng.standard_normal(5000)
    frame = pd.DataFrame(x, columns=list("abcde")).assign(y=y)
    shapley = key_drivers(frame, "y", method="shapley")
    weights = key_drivers(frame, "y", method="relative_weights")
    assert shapley.shares.sum() == pytest.approx(1.0)
    assert weights.shares.sum() == pytest.approx(1.0)
    assert np.abs(shapley.shares - weights.shares).max() < 0.03
    assert shapley.r_squared == pytest.approx(weights.r_squared)


def test_exact_shapley_matches_brute_force_over_orders():
    frame = planted(seed=3, rows=500)
    x = frame[["x1", "x2", "x3"]].to_numpy()
    expected = brute_force_shapley(frame["overall"].to_numpy(), x)
    result = key_drivers(frame, "overall", ["x1", "x2", "x3"], method="shapley")
    np.testing.assert_allclose(result.raw.to_numpy(), expected, atol=1e-10)


def test_shapley_matches_relaimpo_lmg_on_swiss():
    """Grömping (2006), JSS 17(1), section 4: ``calc.relimp(cov(swiss), type = "lmg")``.

    Data: R's ``datasets::swiss`` (via Rdatasets); shares and R² as printed in the paper (the
    vignette shipped with relaimpo): lmg 0.08078165, 0.24220256, 0.36807952, 0.14937728,
    0.15955899; R² 70.67%; response variance 156.0425.
    """
    swiss = pd.read_csv(DATA / "swiss.csv").drop(columns="province")
    assert swiss["Fertility"].var() == pytest.approx(156.0425, abs=1e-4)
    result = key_drivers(swiss, "Fertility", method="shapley")
    published = {
        "Agriculture": 0.08078165,
        "Examination": 0.24220256,
        "Education": 0.36807952,
        "Catholic": 0.14937728,
        "Infant.Mortality": 0.15955899,
    }
    for name, share in published.items():
        assert round(result.shares[name], 3) == round(share, 3)
        assert result.shares[name] == pytest.approx(share, abs=1e-7)
    assert round(result.r_squared, 4) == 0.7067


def test_weights_count_like_repeated_rows():
    frame = planted(seed=5, rows=300)
    repeated = frame.loc[frame.index.repeat(frame["n"].astype(int))]
    weighted = key_drivers(frame, "overall", ["x1", "x2", "x3"], weights=frame["n"])
    unweighted = key_drivers(repeated, "overall", ["x1", "x2", "x3"])
    np.testing.assert_allclose(weighted.shares, unweighted.shares, atol=1e-10)


def test_missing_values_are_left_out_listwise():
    frame = planted(seed=9, rows=400)
    frame.loc[::7, "x2"] = np.nan
    frame.loc[::11, "overall"] = np.nan
    result = key_drivers(frame, "overall", ["x1", "x2", "x3"])
    complete = key_drivers(frame.dropna(), "overall", ["x1", "x2", "x3"])
    np.testing.assert_allclose(result.shares, complete.shares)
    assert result.n_rows == len(frame.dropna())


@pytest.mark.parametrize("method", METHODS)
def test_a_constant_driver_gets_zero_importance_and_a_note(method):
    frame = planted(seed=2, rows=300).assign(flat=4.0)
    result = key_drivers(frame, "overall", ["x1", "x2", "flat", "x3"], method=method)
    assert result.shares["flat"] == 0.0
    assert result.shares.sum() == pytest.approx(1.0)
    assert result.ranks["flat"] == 4
    assert any("flat" in note for note in result.notes)


def test_fewer_rows_than_predictors_is_a_clear_error():
    frame = planted(rows=4)
    with pytest.raises(ValueError, match="too few complete rows"):
        key_drivers(frame, "overall", ["x1", "x2", "x3"])


def test_exact_shapley_refuses_too_many_predictors():
    p = MAX_SHAPLEY_PREDICTORS + 1
    with pytest.raises(ValueError, match="relative-weights"):
        shapley_from_correlation(np.eye(p), np.full(p, 0.1))


def test_unknown_method_is_refused():
    with pytest.raises(ValueError, match="unknown method"):
        key_drivers(planted(rows=50), "overall", method="correlation")
