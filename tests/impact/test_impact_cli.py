"""``cxactions impact`` end to end: contract CSVs in, contract tables out, on both databases."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pandas as pd
import pytest

from cxactions.analytics.data import load_panel, panel_cells
from cxactions.analytics.estimators import estimate
from cxactions.analytics.simulator import SimulationConfig, simulate
from cxactions.foundations.extensions import db as _db
from tests.reference_data import write_simulation_csvs

CONFIG = SimulationConfig(
    seed=5, n_units=40, n_regions=2, n_districts=4, n_weeks=60, n_solutions=5, mean_responses=6
)


@pytest.fixture(scope="module")
def simulation():
    return simulate(CONFIG)


@pytest.fixture
def loaded(runner, db, simulation, tmp_path):
    files = write_simulation_csvs(simulation, tmp_path / "org")
    for kind in ("units", "solutions", "responses", "adoptions"):
        result = runner.invoke(args=["import", kind, str(files[kind])])
        assert result.exit_code == 0, result.output
    return simulation


def impact(runner, *args: str):
    result = runner.invoke(args=["impact", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_summary_csv_has_the_contract_columns_and_ranks(runner, loaded):
    rows = list(csv.DictReader(io.StringIO(impact(runner, "--format", "csv"))))
    assert list(rows[0])[:7] == [
        "solution_id", "title", "effect", "ci_low", "ci_high", "n_units", "rank",
    ]  # fmt: skip
    implemented = loaded.adoptions[loaded.adoptions["status"] == "implemented"]
    assert {row["solution_id"] for row in rows} == set(implemented["solution_id"])
    for row in rows:
        assert float(row["ci_low"]) <= float(row["effect"]) <= float(row["ci_high"])
        assert (row["rank"] == "") == (int(row["n_units"]) < 5)
    ranks = [int(row["rank"]) for row in rows if row["rank"]]
    assert ranks == list(range(1, len(ranks) + 1))  # best first


def test_event_and_group_time_details(runner, loaded):
    event = pd.read_csv(io.StringIO(impact(runner, "--detail", "event", "--format", "csv")))
    assert list(event.columns[:5]) == ["solution_id", "event_time", "effect", "ci_low", "ci_high"]
    assert event["event_time"].min() < 0 <= event["event_time"].max() <= 11
    group_time = pd.read_csv(
        io.StringIO(impact(runner, "--detail", "group-time", "--format", "csv"))
    )
    assert list(group_time.columns[:7]) == [
        "solution_id", "cohort", "period", "effect", "se", "ci_low", "ci_high",
    ]  # fmt: skip
    cohorts = pd.to_datetime(group_time["cohort"])
    assert (cohorts.dt.day_of_week == 0).all()  # ISO dates of Mondays


def test_json_and_output_file(runner, loaded, tmp_path):
    document = json.loads(impact(runner, "--format", "json", "--window", "8"))
    assert document["estimator"] == "imputation" and document["window"] == 8
    assert {"solution_id", "effect", "ci_low", "ci_high", "n_units", "rank"} <= set(
        document["results"][0]
    )
    target = tmp_path / "ranking.csv"
    result = runner.invoke(args=["impact", "--format", "csv", "--output", str(target)])
    assert result.exit_code == 0 and result.stdout == ""
    assert target.read_text().startswith("solution_id,title,effect,ci_low,ci_high,n_units,rank")


def test_the_cli_estimates_what_the_pure_estimator_gives_on_the_same_data(runner, loaded):
    from_cli = pd.read_csv(io.StringIO(impact(runner, "--format", "csv")))
    direct = estimate(load_panel(_db.session, "week")).summary.set_index("solution")
    raw = from_cli.set_index("solution_id")["raw_effect"]
    np.testing.assert_allclose(raw.sort_index(), direct["effect"].sort_index(), atol=1e-6)


@pytest.mark.parametrize("period", ["month", "quarter", "year"])
def test_period_panels_are_summed_in_the_database_like_pandas_would(loaded, period):
    responses = loaded.responses
    day = pd.to_datetime(responses["responded_at"]).dt.to_period(
        {"month": "M", "quarter": "Q", "year": "Y"}[period]
    )
    expected = (
        responses.assign(period_start=day.dt.start_time)
        .groupby(["unit_id", "period_start"])["overall"]
        .agg(n="size", total="sum")
        .reset_index()
    )
    cells = panel_cells(_db.session, period).sort_values(["unit_id", "period_start"])
    merged = expected.merge(cells, on=["unit_id", "period_start"], suffixes=("", "_db"))
    assert len(merged) == len(expected) == len(cells)
    assert (merged["n"] == merged["n_db"]).all()
    np.testing.assert_allclose(merged["total"], merged["total_db"])


def test_bad_options_fail_with_a_reason(runner, loaded):
    result = runner.invoke(args=["impact", "--period", "fortnight"])
    assert result.exit_code == 2
    result = runner.invoke(args=["impact", "--control", "never", "--estimator", "imputation"])
    assert result.exit_code == 0, result.output


def test_no_adoptions_gives_an_empty_table_with_a_note(runner, db, simulation, tmp_path):
    files = write_simulation_csvs(simulation, tmp_path / "org")
    for kind in ("units", "responses"):
        assert runner.invoke(args=["import", kind, str(files[kind])]).exit_code == 0
    result = runner.invoke(args=["impact"])
    assert result.exit_code == 0
    assert "no implemented adoption" in result.stdout
