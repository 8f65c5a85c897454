"""``cxactions drivers`` end to end: contract CSVs in, the contract table out, on both databases."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from cxactions.analytics.data import driver_frame, subtree_unit_ids
from cxactions.drivers.services import driver_importance, importance_by_metric
from cxactions.foundations.extensions import db as _db

FIRST_MONDAY = date(2024, 1, 1)
WEEKS = 30
REGIONS = {"R1": ["S11", "S12", "S13", "S14", "S15", "S16"], "R2": ["S21", "S22", "S23", "S24"]}
DRIVERS = ["wait_time_rating", "staff_rating", "cleanliness_rating"]


def write_organisation(folder) -> dict[str, str]:
    """Units, responses and operations CSVs with planted driver weights; paths by kind.

    Per unit-week, overall = 7 + 0.6 wait + 0.3 staff + 0 cleanliness (+ noise), with the
    cleanliness score travelling with the wait score (r = 0.6) and wait_minutes following it.
    """
    rng = np.random.default_rng(11)
    folder.mkdir(parents=True, exist_ok=True)
    units = [("R1", "North", "", "region"), ("R2", "South", "", "region")]
    units += [(s, f"Store {s}", r, "store") for r, stores in REGIONS.items() for s in stores]
    pd.DataFrame(units, columns=["unit_id", "name", "parent_id", "kind"]).to_csv(
        folder / "units.csv", index=False
    )
    responses, operations = [], []
    for stores in REGIONS.values():
        for store in stores:
            for week in range(WEEKS):
                monday = FIRST_MONDAY + timedelta(weeks=week)
                wait, staff, e = rng.standard_normal(3)
                clean = 0.6 * wait + 0.8 * e
                overall = 7 + 0.6 * wait + 0.3 * staff + 0.2 * rng.standard_normal()
                for k in range(3):
                    responses.append(
                        {
                            "response_id": f"{store}-{week}-{k}",
                            "unit_id": store,
                            "responded_at": (monday + timedelta(days=2 * k)).isoformat(),
                            "overall": round(overall + 0.1 * rng.standard_normal(), 3),
                            # Survey scores lie on their 0–10 scale (3 of 900 would not).
                            "wait_time_rating": round(min(7 + wait, 10.0), 3),
                            "staff_rating": round(min(7 + staff, 10.0), 3),
                            "cleanliness_rating": round(min(7 + clean, 10.0), 3),
                        }
                    )
                minutes = 6 - 2 * wait + 0.5 * rng.standard_normal()
                for day, shift in ((0, -0.5), (6, 0.5)):  # Monday and Sunday: one Monday week
                    operations.append(
                        (store, (monday + timedelta(days=day)).isoformat(), "wait_minutes",
                         round(minutes + shift, 3))
                    )  # fmt: skip
    pd.DataFrame(responses).to_csv(folder / "responses.csv", index=False)
    pd.DataFrame(operations, columns=["unit_id", "date", "metric", "value"]).to_csv(
        folder / "operations.csv", index=False
    )
    return {kind: str(folder / f"{kind}.csv") for kind in ("units", "responses", "operations")}


@pytest.fixture
def loaded(runner, db, tmp_path):
    files = write_organisation(tmp_path / "org")
    for kind in ("units", "responses", "operations"):
        result = runner.invoke(args=["import", kind, files[kind]])
        assert result.exit_code == 0, result.output
    return files


def drivers(runner, *args: str) -> str:
    result = runner.invoke(args=["drivers", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_csv_starts_with_the_contract_columns_and_shares_sum_to_one(runner, loaded):
    rows = list(csv.DictReader(io.StringIO(drivers(runner, "--format", "csv"))))
    assert list(rows[0])[:3] == ["driver", "importance", "rank"]
    assert {row["driver"] for row in rows} == {*DRIVERS, "wait_minutes"}
    assert sum(float(row["importance"]) for row in rows) == pytest.approx(1.0, abs=1e-5)
    assert [int(row["rank"]) for row in rows] == [1, 2, 3, 4]
    kinds = {row["driver"]: row["kind"] for row in rows}
    assert kinds["wait_minutes"] == "operational" and kinds["staff_rating"] == "driver"
    # wait (the score and its operational mirror) and then staff carry overall; cleanliness
    # only shadows wait.
    order = [row["driver"] for row in rows]
    assert order.index("staff_rating") < order.index("cleanliness_rating")
    correlation = {row["driver"]: float(row["correlation"]) for row in rows}
    assert correlation["cleanliness_rating"] > correlation["staff_rating"]  # raw r misleads
    assert set(order[:2]) <= {"wait_time_rating", "wait_minutes", "staff_rating"}


def test_json_table_and_output_file(runner, loaded, tmp_path):
    document = json.loads(drivers(runner, "--format", "json", "--method", "shapley"))
    assert document["method"] == "shapley"
    assert document["unit_weeks"] == 10 * WEEKS and document["responses"] == 30 * WEEKS
    assert 0 < document["r_squared"] <= 1
    assert {"driver", "importance", "rank", "performance", "target"} <= set(document["results"][0])
    table = drivers(runner)
    assert table.splitlines()[0].split()[:3] == ["driver", "importance", "rank"]
    assert "R² =" in table
    target = tmp_path / "drivers.csv"
    result = runner.invoke(args=["drivers", "--format", "csv", "--output", str(target)])
    assert result.exit_code == 0 and result.stdout == ""
    assert target.read_text(encoding="utf-8").startswith("driver,importance,rank,")


def test_region_and_weeks_narrow_the_analysis(runner, loaded):
    region = json.loads(drivers(runner, "--region", "R2", "--format", "json"))
    assert region["region"] == "R2" and region["unit_weeks"] == 4 * WEEKS
    recent = json.loads(drivers(runner, "--weeks", "8", "--format", "json"))
    assert recent["unit_weeks"] == 10 * 8
    assert sum(row["importance"] for row in recent["results"]) == pytest.approx(1.0)


def test_shapley_and_relative_weights_agree_on_the_imported_data(app, loaded):
    shapley = driver_importance(_db.session, method="shapley").rows.set_index("driver")
    weights = driver_importance(_db.session).rows.set_index("driver")
    assert (shapley["importance"] - weights["importance"]).abs().max() < 0.05
    shares = importance_by_metric(_db.session, region_code="R1")
    assert set(shares) == {*DRIVERS, "wait_minutes"}
    assert sum(shares.values()) == pytest.approx(1.0)


def test_unit_week_frame_averages_operations_per_monday_week(app, loaded):
    frame = driver_frame(_db.session)
    assert len(frame) == 10 * WEEKS
    assert (frame["week_start"].dt.day_of_week == 0).all()
    assert frame["n"].eq(3).all()
    # Monday's value is the week's minutes - 0.5 and Sunday's + 0.5: only their mean (the
    # Monday week's) sits on the planted line, up to its noise.
    residual = frame["wait_minutes"] - (6 - 2 * (frame["wait_time_rating"] - 7))
    assert residual.std() == pytest.approx(0.5, abs=0.1)
    assert residual.abs().max() < 2.5
    responses = pd.read_csv(loaded["responses"])
    first = responses[responses["unit_id"] == "S11"].head(3)
    row = frame[frame["week_start"] == pd.Timestamp(FIRST_MONDAY)].iloc[0]
    assert row["overall"] == pytest.approx(first["overall"].mean())
    region = driver_frame(_db.session, unit_ids=subtree_unit_ids(_db.session, "R1"), weeks=5)
    assert len(region) == 6 * 5
    assert region["week_start"].min() == pd.Timestamp(FIRST_MONDAY + timedelta(weeks=WEEKS - 5))


def test_unknown_region_is_a_clear_error(runner, loaded):
    result = runner.invoke(args=["drivers", "--region", "NOWHERE"])
    assert result.exit_code != 0
    assert "unknown unit 'NOWHERE'" in result.output


def test_no_data_is_a_clear_error(runner, db):
    result = runner.invoke(args=["drivers"])
    assert result.exit_code != 0
    assert "no survey responses" in result.output
