"""The default impact estimator and its parts, on panels whose truth we know."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxactions.analytics.estimators import ImpactOptions, estimate
from cxactions.analytics.fixed_effects import TwoWaySolver
from cxactions.analytics.panel import Panel, build_panel, period_starts
from cxactions.analytics.ranking import estimate_prior, rank_on_evidence


def test_period_starts_follow_the_contract():
    days = pd.to_datetime(["2024-03-03", "2024-03-04", "2024-03-10", "2024-05-31", "2024-12-31"])
    assert list(period_starts(days, "week").astype(str)) == [
        "2024-02-26", "2024-03-04", "2024-03-04", "2024-05-27", "2024-12-30",
    ]  # fmt: skip
    assert list(period_starts(days, "month").astype(str))[3] == "2024-05-01"
    assert list(period_starts(days, "quarter").astype(str)) == [
        "2024-01-01", "2024-01-01", "2024-01-01", "2024-04-01", "2024-10-01",
    ]  # fmt: skip
    assert set(period_starts(days, "year").astype(str)) == {"2024-01-01"}
    with pytest.raises(ValueError, match="unknown period 'fortnight'"):
        period_starts(days, "fortnight")


def test_two_way_solver_matches_dense_least_squares():
    rng = np.random.default_rng(3)
    n_units, n_periods = 14, 9
    groups = np.repeat([0, 1], 7)
    weights = rng.uniform(0.5, 3.0, (n_units, n_periods)) * (rng.random((n_units, n_periods)) > 0.2)
    y = rng.normal(size=(n_units, n_periods))
    fitted = TwoWaySolver(weights, groups).fit(y[..., None]).predict(groups)[..., 0]

    unit, period = np.nonzero(weights)
    design = np.zeros((unit.size, n_units + 2 * n_periods))
    design[np.arange(unit.size), unit] = 1
    design[np.arange(unit.size), n_units + groups[unit] * n_periods + period] = 1
    root_w = np.sqrt(weights[unit, period])
    coefficients = np.linalg.lstsq(design * root_w[:, None], y[unit, period] * root_w, rcond=None)[
        0
    ]
    np.testing.assert_allclose(fitted[unit, period], design @ coefficients, atol=1e-10)


def synthetic_panel(
    rng: np.random.Generator,
    effects: dict[str, float],
    *,
    n_units: int = 60,
    n_periods: int = 40,
    noise: float = 0.0,
    overlap: bool = True,
) -> tuple[Panel, dict]:
    """Units in 3 regions with region-specific seasons; solutions adopted at staggered times,
    some units running two at once. Returns the panel (weekly) and the truth."""
    weeks = pd.date_range("2024-01-01", periods=n_periods, freq="7D")
    units = [f"U{i:03d}" for i in range(n_units)]
    region = np.arange(n_units) % 3
    level = rng.normal(7, 0.6, n_units)
    season = rng.normal(0, 0.3, (3, n_periods)).cumsum(axis=1)
    y = level[:, None] + season[region] + rng.normal(0, noise, (n_units, n_periods))
    names = list(effects)
    adoptions = []
    for i in range(n_units):
        if i % 4 == 0:
            continue  # never treated
        first = names[i % len(names)]
        start = 8 + (i * 7) % (n_periods - 14)
        adoptions.append((units[i], first, start))
        if overlap and i % 3 == 0:
            second = names[(i + 1) % len(names)]
            adoptions.append((units[i], second, min(start + 3, n_periods - 2)))
    for unit, solution, start in adoptions:
        y[units.index(unit), start:] += effects[solution]
    cells = pd.DataFrame(
        {
            "unit_id": np.repeat(units, n_periods),
            "period_start": np.tile(weeks, n_units),
            "n": 10,
            "total": 10 * y.ravel(),
        }
    )
    regions = pd.DataFrame({"unit_id": units, "group": [f"R{r}" for r in region]})
    adoption_frame = pd.DataFrame(
        {
            "unit_id": [a[0] for a in adoptions],
            "solution_id": [a[1] for a in adoptions],
            "adopted_on": [weeks[a[2]] + pd.Timedelta(days=2) for a in adoptions],  # mid-week
        }
    )
    return build_panel(cells, regions, adoption_frame, "week"), {"adoptions": adoptions}


def test_imputation_recovers_overlapping_effects_exactly_without_noise():
    effects = {"A": 0.5, "B": -0.2, "C": 0.0, "D": 0.8}
    panel, _ = synthetic_panel(np.random.default_rng(1), effects)
    result = estimate(panel, "imputation", ImpactOptions(window=0))
    found = result.summary.set_index("solution")["effect"]
    for solution, effect in effects.items():
        assert found[solution] == pytest.approx(effect, abs=1e-9)
    assert set(result.event.loc[result.event["phase"] == "effect", "effect"].round(9)) <= {
        round(v, 9) for v in effects.values()
    }
    placebo = result.event[result.event["phase"] == "placebo"]
    assert np.allclose(placebo["effect"], 0, atol=1e-9)


def test_twfe_and_naive_are_available_as_baselines():
    panel, _ = synthetic_panel(np.random.default_rng(1), {"A": 0.5, "B": -0.2})
    for name in ("twfe", "naive"):
        summary = estimate(panel, name).summary
        assert list(summary["solution"]) == ["A", "B"]
        assert summary["effect"].notna().all()


def test_standard_errors_match_the_spread_of_estimates_over_replications():
    effects = {"A": 0.3, "B": 0.0, "C": -0.1}
    estimates, errors = [], []
    for seed in range(120):
        rng = np.random.default_rng(seed)
        panel, _ = synthetic_panel(rng, effects, n_units=45, n_periods=30, noise=0.4)
        summary = estimate(panel, "imputation", ImpactOptions(window=6, lookback=0)).summary
        estimates.append(summary.set_index("solution")["effect"])
        errors.append(summary.set_index("solution")["se"])
    estimates, errors = pd.DataFrame(estimates), pd.DataFrame(errors)
    # Unbiased, and the reported standard error is the real spread (within sampling error).
    assert (estimates.mean() - pd.Series(effects)).abs().max() < 0.03
    ratio = errors.mean() / estimates.std()
    assert ratio.between(0.8, 1.25).all(), ratio


def test_units_adopting_before_the_data_starts_are_left_out_with_a_note():
    panel, _ = synthetic_panel(np.random.default_rng(2), {"A": 0.5})
    cells = pd.DataFrame(
        {
            "unit_id": np.repeat(panel.unit_ids, panel.shape[1]),
            "period_start": np.tile(panel.periods, panel.shape[0]),
            "n": 1,
            "total": 1.0,
        }
    )
    regions = pd.DataFrame({"unit_id": panel.unit_ids, "group": "R"})
    early = pd.DataFrame(
        {"unit_id": ["U001"], "solution_id": ["A"], "adopted_on": [pd.Timestamp("2023-06-01")]}
    )
    rebuilt = build_panel(cells, regions, early, "week")
    assert "U001" not in set(rebuilt.unit_ids)
    assert any("before the first period" in note for note in rebuilt.notes)


def test_empirical_bayes_shrinks_noisy_estimates_most():
    frame = pd.DataFrame(
        {
            "solution": ["precise", "noisy", "small", "mid", "other", "low"],
            "effect": [0.5, 0.9, 1.5, 0.1, 0.2, -0.2],
            "se": [0.05, 0.4, 0.5, 0.05, 0.06, 0.05],
            "n_units": [30, 12, 3, 25, 20, 18],
            "placebo": [0.0, 0.3, 0.0, 0.01, -0.4, 0.0],
            "placebo_se": [0.05, 0.4, 0.5, 0.05, 0.1, 0.05],
        }
    )
    ranked, prior = rank_on_evidence(frame, shrink=True, min_units=5)
    by = ranked.set_index("solution")
    assert prior is not None and prior.solutions == 5
    assert by.loc["precise", "effect"] == pytest.approx(0.5, abs=0.02)
    assert abs(by.loc["noisy", "effect"] - prior.mean) < abs(0.9 - prior.mean) * 0.8
    assert pd.isna(by.loc["small", "rank"]) and not by.loc["small", "enough_evidence"]
    assert list(ranked["rank"].dropna()) == [1, 2, 3, 4, 5]
    assert ranked["effect"].iloc[:5].is_monotonic_decreasing
    assert by.loc["other", "placebo_warning"] and not by.loc["precise", "placebo_warning"]


def test_too_few_rankable_solutions_are_not_shrunk():
    frame = pd.DataFrame(
        {
            "solution": ["a", "b", "c"],
            "effect": [0.5, -0.1, 0.3],
            "se": [0.1, 0.1, 0.2],
            "n_units": [8, 9, 2],
            "placebo": [0.0, 0.0, 0.0],
            "placebo_se": [0.1, 0.1, 0.1],
        }
    )
    ranked, prior = rank_on_evidence(frame, shrink=True, min_units=5, small_sample=True)
    by = ranked.set_index("solution")
    assert prior is None
    assert by["effect"].to_dict() == {"a": 0.5, "b": -0.1, "c": 0.3}
    # Student t with 7 degrees of freedom for 8 adopting units: wider than the normal interval.
    assert by.loc["a", "ci_high"] == pytest.approx(0.5 + 2.364624 * 0.1, abs=1e-6)


def test_prior_variance_is_recovered_from_many_noisy_estimates():
    rng = np.random.default_rng(0)
    truth = rng.normal(0.2, 0.3, 4000)
    se = rng.uniform(0.1, 0.4, truth.size)
    prior = estimate_prior(truth + rng.normal(0, se), se)
    assert prior.mean == pytest.approx(0.2, abs=0.02)
    assert prior.variance == pytest.approx(0.09, rel=0.1)
