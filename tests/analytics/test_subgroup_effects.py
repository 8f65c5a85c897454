"""What worked at similar units: each solution's effect among one region's adopting units,
recovered from simulated stores whose planted effect differs by region."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from cxactions.analytics.estimators import BY_GROUP_COLUMNS, estimate, subgroup_effects
from cxactions.analytics.panel import Panel, build_panel
from cxactions.analytics.simulator import Simulation, SimulationConfig, simulate

# Three regions: a solution works fully in R01, a fifth as well in R02, not at all in R03. The
# strongest of the two planted solutions is +1.0: +1.0, +0.2 and 0 by region (latent scale).
REGIONAL = SimulationConfig(
    seed=1,
    n_units=150,
    n_regions=3,
    n_districts=6,
    n_weeks=80,
    n_solutions=2,
    mean_responses=8,
    zero_effect_share=0.0,
    negative_effect_share=0.0,
    effect_min=0.0,
    effect_max=1.0,
    never_treated_share=0.3,
    region_effect_scale=(1.0, 0.2, 0.0),
    with_comments=False,
)


def panel_of(simulation: Simulation) -> Panel:
    """The weekly panel ``cxactions impact`` would read from the simulation's responses."""
    responses = simulation.responses
    cells = (
        responses.assign(period_start=responses["responded_at"].dt.to_period("W-SUN").dt.start_time)
        .assign(square=lambda frame: frame["overall"] ** 2)
        .groupby(["unit_id", "period_start"], observed=True)
        .agg(n=("overall", "size"), total=("overall", "sum"), total_sq=("square", "sum"))
        .reset_index()
    )
    regions = pd.DataFrame(
        {"unit_id": simulation.truth.units["unit_id"], "group": simulation.truth.units["region_id"]}
    )
    implemented = simulation.adoptions[simulation.adoptions["status"] == "implemented"]
    return build_panel(cells, regions, implemented, "week")


def regions_of(simulation: Simulation) -> dict[str, str]:
    units = simulation.truth.units
    return dict(zip(units["unit_id"], units["region_id"], strict=True))


@pytest.fixture(scope="module")
def regional():
    simulation = simulate(REGIONAL)
    return simulation, panel_of(simulation)


def with_truth(simulation: Simulation, by_group: pd.DataFrame) -> pd.DataFrame:
    truth = simulation.true_region_effects(12).rename(
        columns={"solution_id": "solution", "region_id": "group", "effect": "truth"}
    )
    truth = truth[["solution", "group", "truth", "n_units"]]
    return by_group.merge(truth, on=["solution", "group"], suffixes=("", "_true"))


def test_regional_figures_recover_each_regions_planted_effect(regional):
    simulation, panel = regional
    result = estimate(panel, by=regions_of(simulation))
    assert list(result.by_group.columns) == BY_GROUP_COLUMNS
    rows = with_truth(simulation, result.by_group)
    strongest = simulation.solutions.loc[simulation.solutions["effect"].idxmax(), "solution_id"]
    assert simulation.solutions["effect"].max() == 1.0
    mine = rows[rows["solution"] == strongest].set_index("group")
    assert list(mine.index) == ["R01", "R02", "R03"]
    # The truth differs by region as planted (observed 0-10 scale: clipping trims R01 a bit).
    assert mine.loc["R01", "truth"] > 0.8 and mine.loc["R03", "truth"] == 0.0
    assert 0.1 < mine.loc["R02", "truth"] < 0.25
    # Every regional interval holds its region's truth, and the regions come out in order.
    assert ((rows["ci_low"] <= rows["truth"]) & (rows["truth"] <= rows["ci_high"])).all()
    assert mine.loc["R01", "ci_low"] > mine.loc["R03", "ci_high"]
    assert mine.loc["R01", "effect"] > mine.loc["R02", "effect"] > mine.loc["R03", "effect"]
    # The company-wide figure lies between the regions', and counts their units.
    company = result.summary.set_index("solution").loc[strongest]
    assert mine["effect"].min() < company["effect"] < mine["effect"].max()
    assert mine["n_units"].sum() == company["n_units"]
    assert (rows["n_units"] == rows["n_units_true"]).all()


def test_regional_intervals_cover_the_truth_about_95_percent_of_the_time():
    rows = []
    for seed in range(2, 8):
        simulation = simulate(replace(REGIONAL, seed=seed))
        by_group = subgroup_effects(panel_of(simulation), regions_of(simulation))
        rows.append(with_truth(simulation, by_group))
    rows = pd.concat(rows)
    covered = (rows["ci_low"] <= rows["truth"]) & (rows["truth"] <= rows["ci_high"])
    assert len(rows) == 36
    assert covered.mean() >= 0.85
    assert abs((rows["effect"] - rows["truth"]).mean()) < 0.05


def test_one_group_of_every_unit_gives_the_company_figure(regional):
    simulation, panel = regional
    result = estimate(panel, by={unit: "all" for unit in panel.unit_ids})
    company = result.summary.set_index("solution")
    everyone = result.by_group.set_index("solution")
    assert (everyone["group"] == "all").all()
    for column in ("effect", "se", "ci_low", "ci_high", "n_units"):
        np.testing.assert_allclose(everyone[column], company.loc[everyone.index, column])


def test_asking_for_groups_leaves_the_company_figures_alone(regional):
    simulation, panel = regional
    plain = estimate(panel).summary
    grouped = estimate(panel, by=regions_of(simulation)).summary
    pd.testing.assert_frame_equal(plain, grouped)


def test_fewer_than_five_adopting_units_give_no_effect(regional):
    simulation, panel = regional
    solution = panel.solutions[0]
    adopters = panel.unit_ids[panel.adoptions.loc[panel.adoptions["solution"] == solution, "unit"]]
    # Four of its adopters form a group of their own: counted, not estimated.
    groups = regions_of(simulation) | {unit: "few" for unit in sorted(adopters)[:4]}
    rows = subgroup_effects(panel, groups).set_index(["solution", "group"])
    few = rows.loc[(solution, "few")]
    assert few["n_units"] == 4
    assert few[["effect", "se", "ci_low", "ci_high"]].isna().all()
    regions = rows[rows.index.get_level_values("group") != "few"]
    assert (regions["n_units"] >= 5).all() and regions["effect"].notna().all()
    # A higher bar leaves more groups without a figure.
    strict = subgroup_effects(panel, regions_of(simulation), min_units=1000)
    assert strict["effect"].isna().all() and (strict["n_units"] > 0).all()


def test_units_outside_every_group_count_nowhere(regional):
    simulation, panel = regional
    groups = {unit: region for unit, region in regions_of(simulation).items() if region != "R03"}
    rows = subgroup_effects(panel, groups).set_index(["solution", "group"])
    assert set(rows.index.get_level_values("group")) == {"R01", "R02"}
    full = subgroup_effects(panel, regions_of(simulation)).set_index(["solution", "group"])
    # R03's adopters keep a column of their own: the other regions' figures do not move.
    np.testing.assert_allclose(rows["effect"], full.loc[rows.index, "effect"], atol=1e-9)


def test_callaway_santanna_by_region_restricts_the_treated_to_the_region(regional):
    simulation, panel = regional
    result = estimate(panel, "cs", by=regions_of(simulation))
    rows = with_truth(simulation, result.by_group)
    assert list(result.by_group.columns) == BY_GROUP_COLUMNS
    assert rows["effect"].notna().all()
    strongest = simulation.solutions.loc[simulation.solutions["effect"].idxmax(), "solution_id"]
    mine = rows[rows["solution"] == strongest].set_index("group")
    assert mine.loc["R01", "effect"] > mine.loc["R03", "effect"] + 0.3
    assert mine["n_units"].sum() == result.summary.set_index("solution").loc[strongest, "n_units"]


def test_baselines_cannot_estimate_by_group(regional):
    simulation, panel = regional
    with pytest.raises(ValueError, match="estimates by group need the imputation or cs"):
        estimate(panel, "twfe", by=regions_of(simulation))
