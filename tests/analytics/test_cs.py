"""Callaway & Sant'Anna group-time ATTs: published did numbers on mpdta, and the `differences`
package (PyPI, 0.3.0) as a side-by-side reference on simulated staggered panels."""

from __future__ import annotations

import ast
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cxactions.analytics import cs
from cxactions.analytics.cs import CSOptions, callaway_santanna
from tests.reference_data import load_mpdta

# R did 2.5.1, att_gt(control_group="nevertreated", base_period="varying") + aggte(), analytic SEs
# (tests/data/mpdta-published.md). Cohorts and years as published.
PUBLISHED_GROUP_TIME = {
    2004: [-0.0105, -0.0704, -0.1373, -0.1008],
    2006: [0.0065, -0.0028, -0.0046, -0.0412],
    2007: [0.0305, -0.0027, -0.0311, -0.0261],
}
PUBLISHED_SIMPLE = (-0.0399512751551763, 0.0120340128)
PUBLISHED_DYNAMIC = (-0.0772398214573151, 0.0199649891)
PUBLISHED_GROUP = (-0.0310182822287484, 0.0124460593)
PUBLISHED_EVENT = dict(
    zip(range(-3, 4), [0.0305, -0.0006, -0.0245, -0.0199, -0.0510, -0.1373, -0.1008], strict=True)
)


def mpdta_panel() -> pd.DataFrame:
    """mpdta in the module's long format: period = year - 2003, never treated = -1."""
    data = load_mpdta()
    return pd.DataFrame(
        {
            "unit": data["countyreal"],
            "period": data["year"] - 2003,
            "y": data["lemp"],
            "cohort": np.where(data["first.treat"] > 0, data["first.treat"] - 2003, -1),
        }
    )


def simulated_panel(seed: int, n_units: int = 240, n_periods: int = 9, missing_share: float = 0.0):
    """Staggered adoption with five cohorts, never-treated units, units treated from the first
    period (did drops them), a cohort after the panel's end (did counts it as never treated),
    cohort-specific dynamic effects, an anticipation bump, and optionally missing unit-periods.

    Missing rows spare each unit's first and last period: `differences` re-labels a unit whose
    cohort lies outside its own observed span (did and this module do not), so the reference
    comparison stays about the estimator, not about that rule.
    """
    rng = np.random.default_rng(seed)
    cohort = rng.choice(
        [-1, 0, 2, 3, 4, 6, 7, 12],
        size=n_units,
        p=[0.2, 0.05, 0.15, 0.15, 0.15, 0.1, 0.15, 0.05],
    )
    level = rng.normal(0, 1, n_units)
    shock = rng.normal(0, 0.5, n_periods)
    unit = np.repeat(np.arange(n_units), n_periods)
    period = np.tile(np.arange(n_periods), n_units)
    g = cohort[unit]
    event = period - g
    treated = (g >= 0) & (event >= 0)
    effect = np.where(treated, (0.2 + 0.1 * g) * (1 + event.clip(0)) ** 0.7, 0.0)
    effect += np.where((g >= 0) & (event == -1), 0.15, 0.0)
    trend = 0.05 * g.clip(0) * period / n_periods  # cohorts drift apart a little
    y = level[unit] + trend + shock[period] + effect + rng.normal(0, 1, unit.size)
    panel = pd.DataFrame({"unit": unit, "period": period, "y": y, "cohort": g})
    if missing_share:
        edge = (panel["period"] == 0) | (panel["period"] == n_periods - 1)
        panel = panel[edge | (rng.random(len(panel)) >= missing_share)]
    return panel.reset_index(drop=True)


def reference_results(panel: pd.DataFrame, options: CSOptions) -> dict[str, pd.DataFrame]:
    """The same estimation by `differences` 0.3.0; a missing package fails the calling test."""
    import differences  # not skipped on purpose: the reference must be installed ([test] extra)

    data = panel.copy()
    last = data["period"].max()
    cohort = data["cohort"].astype(float)
    # did's sample rules, which `differences` leaves to its caller.
    cohort[(cohort < 0) | (cohort > last + options.anticipation)] = np.nan
    data["cohort"] = cohort
    data = data[~(data["cohort"] <= data["period"].min() + options.anticipation)]
    data = data.set_index(["unit", "period"])
    columns = ["att", "se", "ci_low", "ci_high", "significant"]
    with warnings.catch_warnings():
        # differences 0.3.0 uses pandas' deprecated inplace= calls.
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"differences\.")
        warnings.filterwarnings("ignore", category=FutureWarning, module=r"differences\.")
        model = differences.ATTgt(
            data=data,
            cohort_column="cohort",
            base_period=options.base_period,
            anticipation=options.anticipation,
        )
        if options.window:
            model.filter_gt(base_period=options.base_period, relative_period_end=options.window - 1)
        model.fit(
            formula="y",
            control_group="never_treated" if options.control == "never" else "not_yet_treated",
            # pairwise-balanced 2x2 cells on unbalanced panels, as this module does
            as_repeated_cross_section=False,
            progress_bar=False,
        )
        group_time = model.results().reset_index()
        group_time.columns = ["cohort", "base_period", "period", *columns]
        out = {"group_time": group_time}
        for name, kind, overall in [
            ("event", "event", False),
            ("simple", "simple", False),
            ("dynamic_overall", "event", True),
            ("group", "cohort", False),
            ("group_overall", "cohort", True),
        ]:
            frame = model.aggregate(kind, overall=overall)
            frame.columns = columns
            out[name] = frame
    return out


# --- did's published numbers on mpdta -------------------------------------------------------


@pytest.fixture(scope="module")
def mpdta_result():
    return callaway_santanna(mpdta_panel(), CSOptions(control="never"))


def test_mpdta_group_time_atts_match_published_did(mpdta_result):
    table = mpdta_result.group_time.set_index(["cohort", "period"])
    assert len(table) == 12
    for cohort, atts in PUBLISHED_GROUP_TIME.items():
        for year, published in zip(range(2004, 2008), atts, strict=True):
            att = table.loc[(cohort - 2003, year - 2003), "att"]
            assert abs(att - published) <= 0.5e-4 + 1e-12, (cohort, year, att)


def test_mpdta_aggregations_and_standard_errors_match_published_did(mpdta_result):
    for estimate, (att, se) in [
        (mpdta_result.simple, PUBLISHED_SIMPLE),
        (mpdta_result.dynamic_overall, PUBLISHED_DYNAMIC),
        (mpdta_result.group_overall, PUBLISHED_GROUP),
    ]:
        assert estimate.att == pytest.approx(att, abs=1e-12)
        assert estimate.se == pytest.approx(se, abs=1e-10)
        z = 1.959963984540054
        assert estimate.ci_low == pytest.approx(att - z * se, abs=1e-9)
        assert estimate.ci_high == pytest.approx(att + z * se, abs=1e-9)


def test_mpdta_event_study_matches_published_did(mpdta_result):
    event = mpdta_result.event.set_index("event_time")["att"]
    assert list(event.index) == list(PUBLISHED_EVENT)
    for e, published in PUBLISHED_EVENT.items():
        assert abs(event[e] - published) <= 0.5e-4 + 1e-12, e


def test_mpdta_counts_and_no_notes(mpdta_result):
    assert mpdta_result.n_units == 500
    assert mpdta_result.n_treated_units == 191
    assert mpdta_result.n_never_treated == 309
    assert mpdta_result.balanced
    assert mpdta_result.notes == []
    assert set(mpdta_result.group_time["n_control"]) == {309}
    sizes = mpdta_result.group_time.groupby("cohort")["n_treated"].first().to_dict()
    assert sizes == {1: 20, 3: 40, 4: 131}


def test_mpdta_matches_reference_package_to_machine_precision(mpdta_result):
    reference = reference_results(mpdta_panel(), CSOptions(control="never"))
    merged = mpdta_result.group_time.merge(reference["group_time"], on=["cohort", "period"])
    assert len(merged) == 12
    np.testing.assert_allclose(merged["att_x"], merged["att_y"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(merged["se_x"], merged["se_y"], rtol=0, atol=1e-12)


# --- the reference package on simulated panels ------------------------------------------------

REFERENCE_CASES = [
    # control, base_period, anticipation, missing share, window
    ("never", "varying", 0, 0.0, 0),
    ("notyet", "varying", 0, 0.0, 0),
    ("notyet", "universal", 0, 0.0, 0),
    ("never", "varying", 1, 0.0, 0),
    ("never", "universal", 1, 0.1, 0),
    ("notyet", "varying", 2, 0.1, 0),
    ("notyet", "universal", 1, 0.15, 0),
    ("notyet", "varying", 0, 0.1, 3),
    ("never", "universal", 0, 0.1, 2),
]


@pytest.mark.parametrize(
    ("control", "base_period", "anticipation", "missing_share", "window"), REFERENCE_CASES
)
def test_matches_reference_package(control, base_period, anticipation, missing_share, window):
    panel = simulated_panel(seed=7 + anticipation, missing_share=missing_share)
    options = CSOptions(
        control=control, base_period=base_period, anticipation=anticipation, window=window
    )
    result = callaway_santanna(panel, options)
    reference = reference_results(panel, options)
    assert result.balanced == (missing_share == 0)
    assert any("already treated in the first period" in note for note in result.notes)
    assert any("after the last period" in note for note in result.notes)

    ours = result.group_time
    if window:  # the reference estimated only the cells inside the window
        ours = ours[ours["event_time"] < window]
    merged = ours.merge(
        reference["group_time"], on=["cohort", "period"], how="outer", indicator=True
    )
    assert (merged["_merge"] == "both").all()
    assert (merged["base_period_x"] == merged["base_period_y"]).all()
    np.testing.assert_allclose(merged["att_x"], merged["att_y"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(merged["se_x"], merged["se_y"], rtol=0, atol=1e-10)
    assert (merged["se_x"].isna() == merged["se_y"].isna()).all()
    assert merged["cohort"].nunique() >= 4

    event = result.event.set_index("event_time")
    if window:
        event = event[event.index < window]
    expected_event = reference["event"]
    assert list(event.index) == list(expected_event.index)
    for column in ("att", "se", "ci_low", "ci_high"):
        np.testing.assert_allclose(event[column], expected_event[column], rtol=0, atol=1e-10)

    group = result.group.set_index("cohort")
    assert list(group.index) == list(reference["group"].index)
    for column in ("att", "se"):
        np.testing.assert_allclose(group[column], reference["group"][column], rtol=0, atol=1e-10)

    for name in ("simple", "dynamic_overall", "group_overall"):
        estimate = getattr(result, name)
        expected = reference[name].iloc[0]
        assert estimate.att == pytest.approx(expected["att"], abs=1e-10), name
        assert estimate.se == pytest.approx(expected["se"], abs=1e-10), name
        assert estimate.ci_low == pytest.approx(expected["ci_low"], abs=1e-10), name


def test_universal_base_period_reports_the_reference_cell_as_zero_without_se():
    options = CSOptions(base_period="universal", anticipation=1)
    result = callaway_santanna(simulated_panel(3), options)
    reference_cells = result.group_time[result.group_time["event_time"] == -2]
    assert len(reference_cells) == result.group_time["cohort"].nunique()
    assert (reference_cells["att"] == 0).all()
    assert reference_cells["se"].isna().all()
    assert (reference_cells["base_period"] == reference_cells["period"]).all()
    event = result.event.set_index("event_time")
    assert event.loc[-2, "att"] == 0 and math.isnan(event.loc[-2, "se"])


# --- unbalanced panels -------------------------------------------------------------------------


def test_missing_observations_use_units_observed_in_both_periods_of_each_cell():
    panel = simulated_panel(5, missing_share=0.2)
    result = callaway_santanna(panel, CSOptions(control="notyet"))
    assert not result.balanced
    wide = panel.pivot(index="unit", columns="period", values="y")
    cohort = panel.groupby("unit")["cohort"].first()
    cohort = cohort.where((cohort >= 0) & (cohort <= 8), np.inf)
    for row in result.group_time.sample(8, random_state=1).itertuples():
        change = (wide[row.period] - wide[row.base_period]).dropna()
        group = cohort.reindex(change.index)
        treated = change[group == row.cohort]
        threshold = max(row.period, row.base_period)
        control = change[(group > threshold) & (group != row.cohort)]
        assert row.n_treated == len(treated) and row.n_control == len(control)
        assert row.att == pytest.approx(treated.mean() - control.mean(), abs=1e-12)
        n = result.n_units
        psi_t = n * (treated - treated.mean()) / len(treated)
        psi_c = n * (control - control.mean()) / len(control)
        se = math.sqrt((psi_t**2).sum() + (psi_c**2).sum()) / n
        assert row.se == pytest.approx(se, rel=1e-12)


def test_balanced_panel_gives_the_same_numbers_whatever_the_unit_labels_and_row_order():
    panel = simulated_panel(11)
    shuffled = panel.sample(frac=1.0, random_state=3).assign(
        unit=lambda frame: "store-" + frame["unit"].astype(str)
    )
    first = callaway_santanna(panel, CSOptions())
    second = callaway_santanna(shuffled, CSOptions())
    pd.testing.assert_frame_equal(first.group_time, second.group_time, rtol=1e-12)
    pd.testing.assert_frame_equal(first.event, second.event, rtol=1e-12)
    assert first.simple.att == pytest.approx(second.simple.att, abs=1e-13)
    assert first.simple.se == pytest.approx(second.simple.se, abs=1e-13)


def test_cells_without_comparison_units_are_skipped_with_a_note():
    panel = simulated_panel(13)
    never = (panel["cohort"] < 0) | (panel["cohort"] > panel["period"].max())
    # No never-treated unit is observed in period 5: cells comparing with period 5 cannot run.
    panel = panel[~(never & (panel["period"] == 5))]
    result = callaway_santanna(panel, CSOptions(control="never"))
    cells = result.group_time
    assert not ((cells["period"] == 5) | (cells["base_period"] == 5)).any()
    assert cells["att"].notna().all()
    assert any(note.startswith("skipped") and "period 5" in note for note in result.notes)
    assert math.isfinite(result.simple.att) and math.isfinite(result.simple.se)


def test_missing_outcomes_are_dropped_as_missing_observations():
    panel = simulated_panel(17)
    holes = panel.sample(30, random_state=2).index
    with_nan = panel.copy()
    with_nan.loc[holes, "y"] = np.nan
    result = callaway_santanna(with_nan, CSOptions())
    expected = callaway_santanna(panel.drop(index=holes), CSOptions())
    assert "dropped 30 rows with a missing or non-finite y" in result.notes
    pd.testing.assert_frame_equal(result.group_time, expected.group_time)


# --- did's sample rules ----------------------------------------------------------------------


def test_without_never_treated_units_the_last_cohort_becomes_the_comparison_group():
    panel = simulated_panel(19)
    panel = panel[(panel["cohort"] >= 0) & (panel["cohort"] <= 8)]  # nobody is never treated
    latest = panel["cohort"].max()
    by_hand = panel[panel["period"] < latest].assign(
        cohort=lambda frame: frame["cohort"].where(frame["cohort"] != latest, -1)
    )
    never = callaway_santanna(panel, CSOptions(control="never"))
    expected = callaway_santanna(by_hand, CSOptions(control="never"))
    assert any("no never-treated units" in note for note in never.notes)
    pd.testing.assert_frame_equal(never.group_time, expected.group_time)

    notyet = callaway_santanna(panel, CSOptions(control="notyet"))
    assert latest not in set(notyet.group_time["cohort"])
    assert notyet.group_time["period"].max() == latest - 1
    assert any("not-yet-treated comparison" in note for note in notyet.notes)


def test_window_limits_the_overall_numbers_but_not_the_event_study():
    panel = simulated_panel(23)
    full = callaway_santanna(panel, CSOptions())
    short = callaway_santanna(panel, CSOptions(window=2))
    pd.testing.assert_frame_equal(full.event, short.event)
    pd.testing.assert_frame_equal(full.group_time, short.group_time)
    event = full.event.set_index("event_time")["att"]
    assert short.dynamic_overall.att == pytest.approx(event[[0, 1]].mean(), abs=1e-14)
    cells = full.group_time[full.group_time["event_time"].between(0, 1)]
    sizes = cells["cohort"].map(full.group.set_index("cohort")["n_units"])
    assert short.simple.att == pytest.approx(np.average(cells["att"], weights=sizes), abs=1e-14)


# --- bad input ---------------------------------------------------------------------------------


def test_missing_columns_are_named():
    with pytest.raises(ValueError, match="missing column.*cohort"):
        callaway_santanna(mpdta_panel().drop(columns="cohort"))


def test_a_panel_without_treated_units_is_refused():
    panel = mpdta_panel().assign(cohort=-1)
    with pytest.raises(ValueError, match="no treated units"):
        callaway_santanna(panel)


def test_a_panel_treated_only_in_the_first_period_is_refused():
    panel = mpdta_panel()
    panel["cohort"] = np.where(panel["cohort"] > 0, 0, -1)
    with pytest.raises(ValueError, match="no treated units"):
        callaway_santanna(panel)


def test_duplicate_unit_periods_are_refused():
    panel = mpdta_panel()
    panel = pd.concat([panel, panel.iloc[[0]]])
    with pytest.raises(ValueError, match="more than one row for period"):
        callaway_santanna(panel)


def test_a_cohort_that_changes_within_a_unit_is_refused():
    panel = mpdta_panel()
    panel.loc[panel.index[0], "cohort"] = 2
    with pytest.raises(ValueError, match="more than one cohort"):
        callaway_santanna(panel)


@pytest.mark.parametrize(
    ("column", "values", "message"),
    [
        ("period", "text", "'period' must be numeric"),
        ("period", 0.5, "whole period indexes"),
        ("y", "text", "'y' must be numeric"),
        ("cohort", 1.5, "'cohort' must hold whole period indexes"),
    ],
)
def test_malformed_columns_are_refused(column, values, message):
    panel = mpdta_panel()
    panel[column] = panel[column].astype(object if isinstance(values, str) else float)
    panel.loc[panel.index[:5], column] = values
    with pytest.raises(ValueError, match=message):
        callaway_santanna(panel)


@pytest.mark.parametrize(
    "options",
    [
        {"control": "nevertreated"},
        {"base_period": "fixed"},
        {"anticipation": -1},
        {"window": 1.5},
        {"alpha": 1.0},
    ],
)
def test_bad_options_are_refused(options):
    with pytest.raises(ValueError):
        CSOptions(**options)


def test_module_imports_only_numpy_pandas_scipy_and_the_standard_library():
    tree = ast.parse(Path(cs.__file__).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    allowed = {"numpy", "pandas", "scipy", "__future__", "math", "dataclasses", "typing"}
    # ... and the package's own Flask-free helpers (the distribution functions).
    assert imported <= allowed | {"cxactions"}, imported - allowed
    own = {
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("cxactions")
    }
    assert own <= {"cxactions.analytics.distributions"}
