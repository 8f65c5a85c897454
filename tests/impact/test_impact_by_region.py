"""``cxactions impact --by region`` and the "worked at similar units" evidence of the pages, on a
small simulated organisation in the database (both backends)."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from cxactions.analytics.data import load_panel, unit_top_ancestors
from cxactions.analytics.estimators import subgroup_effects
from cxactions.analytics.simulator import SimulationConfig, simulate
from cxactions.foundations.extensions import db as _db
from cxactions.impact.models import ImpactEstimate, ImpactRegionEstimate
from cxactions.impact.services import refresh_impact, similar_unit_evidence
from cxactions.library.models import Solution
from cxactions.units.models import Unit
from tests.reference_data import write_simulation_csvs

# Three regions of 60 stores; adopters per solution and region (R01, R02, R03):
# SIM-1 10/10/8, SIM-2 7/2/8, SIM-3 9/9/4, so two regions fall short of 5 for one solution.
CONFIG = SimulationConfig(
    seed=0,
    n_units=60,
    n_regions=3,
    n_districts=6,
    n_weeks=60,
    n_solutions=3,
    mean_responses=5,
    zero_effect_share=0.0,
    negative_effect_share=0.0,
    effect_min=0.0,
    effect_max=1.0,
    region_effect_scale=(1.0, 0.2, 0.0),
    with_comments=False,
)
HEADER = ["solution_id", "group", "title", "effect", "ci_low", "ci_high", "n_units", "rank"]


@pytest.fixture(scope="module")
def simulation():
    return simulate(CONFIG)


@pytest.fixture(scope="module")
def adopters(simulation):
    """Implemented adopters per (solution_id, region_id)."""
    implemented = simulation.adoptions[simulation.adoptions["status"] == "implemented"]
    regions = simulation.truth.units[["unit_id", "region_id"]]
    return implemented.merge(regions).groupby(["solution_id", "region_id"]).size()


@pytest.fixture
def loaded(runner, db, simulation, tmp_path):
    files = write_simulation_csvs(simulation, tmp_path / "org")
    for kind in ("units", "solutions", "responses", "adoptions"):
        result = runner.invoke(args=["import", kind, str(files[kind])])
        assert result.exit_code == 0, result.output
    return simulation


def impact(runner, *args: str) -> str:
    result = runner.invoke(args=["impact", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_by_region_adds_a_row_per_solution_and_region_after_the_company_rows(
    runner, loaded, adopters
):
    text = impact(runner, "--by", "region", "--format", "csv")
    assert text.splitlines()[0].split(",")[:8] == HEADER
    rows = list(csv.DictReader(io.StringIO(text)))
    company = [row for row in rows if row["group"] == ""]
    regional = [row for row in rows if row["group"] != ""]
    assert rows[: len(company)] == company  # the company-wide rows come first
    # ... and say exactly what they say without --by region.
    plain = list(csv.DictReader(io.StringIO(impact(runner, "--format", "csv"))))
    assert [{k: v for k, v in row.items() if k != "group"} for row in company] == plain

    assert {(row["solution_id"], row["group"]) for row in regional} == set(adopters.index)
    for row in regional:
        assert int(row["n_units"]) == adopters[(row["solution_id"], row["group"])]
        assert row["title"] == f"Solution {row['solution_id']}"
        if int(row["n_units"]) < 5:
            assert row["effect"] == row["ci_low"] == row["ci_high"] == row["rank"] == ""
            assert row["raw_effect"] == ""
        else:
            assert float(row["ci_low"]) <= float(row["effect"]) <= float(row["ci_high"])
            assert row["rank"] != ""
    assert sum(int(row["n_units"]) < 5 for row in regional) == 2
    # Within a region, ranks run 1, 2, ... best first.
    for region in ("R01", "R02", "R03"):
        ranks = [int(row["rank"]) for row in regional if row["group"] == region and row["rank"]]
        assert ranks == list(range(1, len(ranks) + 1))


def test_regional_rows_are_the_pure_estimators_figures(runner, loaded):
    frame = pd.read_csv(io.StringIO(impact(runner, "--by", "region", "--format", "csv")))
    regional = frame[frame["group"].notna()].set_index(["solution_id", "group"])
    direct = subgroup_effects(
        load_panel(_db.session, "week"), unit_top_ancestors(_db.session)
    ).set_index(["solution", "group"])
    # Fewer than 5 solutions per region: nothing to shrink, the raw figures are the shown ones.
    np.testing.assert_allclose(
        regional["raw_effect"], direct.loc[regional.index, "effect"], atol=1e-6
    )
    np.testing.assert_allclose(regional["effect"], regional["raw_effect"], atol=1e-9)
    np.testing.assert_allclose(
        regional["ci_low"].dropna(), direct.loc[regional.index, "ci_low"].dropna(), atol=1e-5
    )
    # The planted effects differ by region: the strongest solution did most in R01.
    best = loaded.solutions.loc[loaded.solutions["effect"].idxmax(), "solution_id"]
    assert regional.loc[(best, "R01"), "effect"] > regional.loc[(best, "R03"), "effect"] + 0.3


def test_by_region_as_json_and_table(runner, loaded):
    document = json.loads(impact(runner, "--by", "region", "--format", "json"))
    assert document["by"] == "region"
    results = document["results"]
    assert list(results[0])[:3] == ["solution_id", "group", "title"]
    assert results[0]["group"] is None and results[-1]["group"] in {"R01", "R02", "R03"}
    short = [row for row in results if row["group"] and row["n_units"] < 5]
    assert short and all(row["effect"] is None and row["rank"] is None for row in short)
    table = impact(runner, "--by", "region").splitlines()
    assert table[0].split()[:3] == ["solution_id", "group", "title"]


def test_by_region_with_callaway_santanna(runner, loaded, adopters):
    rows = list(
        csv.DictReader(
            io.StringIO(impact(runner, "--by", "region", "--estimator", "cs", "--format", "csv"))
        )
    )
    regional = [row for row in rows if row["group"]]
    assert {(row["solution_id"], row["group"]) for row in regional} == set(adopters.index)
    for row in regional:
        assert (row["effect"] == "") == (int(row["n_units"]) < 5)


@pytest.mark.parametrize(
    "args, reason",
    [
        (["--detail", "event"], "--by region needs --detail summary"),
        (["--estimator", "twfe"], "--by region needs --estimator imputation or cs"),
        (["--by", "district"], "Invalid value for '--by'"),
    ],
)
def test_by_region_refuses_what_it_cannot_do(runner, db, args, reason):
    result = runner.invoke(args=["impact", "--by", "region", *args])
    assert result.exit_code == 2
    assert reason in result.output


# --- What the pages read -----------------------------------------------------------------


def store_in(simulation, region: str) -> Unit:
    units = simulation.truth.units
    code = units.loc[units["region_id"] == region, "unit_id"].iloc[0]
    return _db.session.scalar(sa.select(Unit).where(Unit.code == code))


def solution_ids() -> dict[str, int]:
    return dict(_db.session.execute(sa.select(Solution.code, Solution.id)).all())


def test_a_refresh_stores_the_regional_estimates(loaded, adopters):
    run = refresh_impact(_db.session, trigger="test")
    stored = _db.session.execute(
        sa.select(Unit.code, Solution.code, ImpactRegionEstimate)
        .join(Unit, Unit.id == ImpactRegionEstimate.region_id)
        .join(Solution, Solution.id == ImpactRegionEstimate.solution_id)
        .where(ImpactRegionEstimate.run_id == run.id)
    ).all()
    assert {(solution, region) for region, solution, _ in stored} == set(adopters.index)
    for region, solution, row in stored:
        assert row.n_units == adopters[(solution, region)]
        assert (row.effect is None) == (row.n_units < 5) == (row.rank is None)


def test_evidence_comes_from_the_units_region_when_five_of_its_units_adopted(loaded, adopters):
    run = refresh_impact(_db.session, trigger="test")
    ids = solution_ids()
    store = store_in(loaded, "R02")  # SIM-1: 10 adopters in R02, SIM-2: 2
    evidence = similar_unit_evidence(_db.session, store, ids.values())
    assert set(evidence) == set(ids.values())

    regional = evidence[ids["SIM-1"]]
    row = _db.session.get(ImpactRegionEstimate, (run.id, regional.region_id, ids["SIM-1"]))
    assert regional.scope == "region"
    assert (regional.region_code, regional.region_name) == ("R02", "Region 2")
    assert regional.n_units == regional.region_units == adopters[("SIM-1", "R02")] == 10
    assert (regional.effect, regional.ci_low, regional.ci_high) == (
        row.effect, row.ci_low, row.ci_high,
    )  # fmt: skip
    assert regional.label == "Similar units (Region 2): 10 units"

    fallback = evidence[ids["SIM-2"]]
    company = _db.session.get(ImpactEstimate, (run.id, ids["SIM-2"]))
    assert fallback.scope == "company" and fallback.region_units == 2
    assert fallback.region_code == "R02"
    assert (fallback.effect, fallback.n_units, fallback.rank) == (
        company.effect, company.n_units, company.rank,
    )  # fmt: skip
    assert fallback.label == f"Company-wide: {company.n_units} units (too few in Region 2)"


def test_evidence_falls_back_to_the_company_without_a_regional_figure(loaded, runner):
    refresh_impact(_db.session, trigger="test")
    ids = solution_ids()
    # A store alone at the top of the tree is a region of its own, where nobody adopted.
    store = store_in(loaded, "R03")
    store.parent_id = None
    _db.session.commit()
    evidence = similar_unit_evidence(_db.session, store, [ids["SIM-1"], ids["SIM-3"]])
    assert {item.scope for item in evidence.values()} == {"company"}
    assert {item.region_units for item in evidence.values()} == {0}
    assert evidence[ids["SIM-1"]].region_code == store.code
    assert evidence[ids["SIM-1"]].label.startswith("Company-wide: ")
    assert "too few" not in evidence[ids["SIM-1"]].label
    # No solutions asked, or no run yet: nothing.
    assert similar_unit_evidence(_db.session, store, []) == {}


def test_no_run_means_no_evidence(db, runner, loaded):
    store = store_in(loaded, "R01")
    assert similar_unit_evidence(_db.session, store, solution_ids().values()) == {}


def test_no_adoptions_by_region_gives_the_header_and_a_note(runner, db, simulation, tmp_path):
    files = write_simulation_csvs(simulation, tmp_path / "org")
    for kind in ("units", "responses"):
        assert runner.invoke(args=["import", kind, str(files[kind])]).exit_code == 0
    lines = impact(runner, "--by", "region", "--format", "csv").splitlines()
    assert len(lines) == 1 and lines[0].split(",")[:8] == HEADER
    assert "no implemented adoption" in impact(runner, "--by", "region")
