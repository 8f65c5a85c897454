"""The contract's promise: mpdta through ``cxactions import`` + ``cxactions impact --estimator cs``
reproduces the published results of R's ``did`` package, on SQLite and PostgreSQL."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from tests.analytics.test_cs import PUBLISHED_EVENT, PUBLISHED_GROUP_TIME, PUBLISHED_SIMPLE
from tests.reference_data import write_mpdta_csvs

CS_YEARLY = ["--estimator", "cs", "--period", "year", "--control", "never", "--window", "0"]


@pytest.fixture
def mpdta_loaded(runner, db, tmp_path):
    files = write_mpdta_csvs(tmp_path / "mpdta")
    # targets.csv first: it sets the scale of overall (lemp is not a 0–10 score).
    for kind in ("targets", "units", "solutions", "responses", "adoptions"):
        result = runner.invoke(args=["import", kind, str(files[kind])])
        assert result.exit_code == 0, result.output


def impact_csv(runner, *args: str) -> pd.DataFrame:
    result = runner.invoke(args=["impact", *CS_YEARLY, "--format", "csv", *args])
    assert result.exit_code == 0, result.output
    return pd.read_csv(io.StringIO(result.stdout), dtype={"cohort": str, "period": str})


def test_group_time_atts_match_did(runner, mpdta_loaded):
    table = impact_csv(runner, "--detail", "group-time")
    found = {(int(row.cohort[:4]), int(row.period[:4])): row.effect for row in table.itertuples()}
    assert len(found) == 12
    for cohort, effects in PUBLISHED_GROUP_TIME.items():
        for year, published in zip(range(2004, 2008), effects, strict=True):
            assert round(found[(cohort, year)], 4) == pytest.approx(published, abs=1e-4)
            assert found[(cohort, year)] == pytest.approx(published, abs=5e-4)  # 3 decimals


def test_simple_aggregation_matches_did(runner, mpdta_loaded):
    summary = impact_csv(runner)
    assert list(summary["solution_id"]) == ["MINWAGE"]
    effect, se = PUBLISHED_SIMPLE
    row = summary.iloc[0]
    assert row["effect"] == pytest.approx(effect, abs=1e-6)
    assert row["se"] == pytest.approx(se, abs=1e-6)
    assert row["ci_low"] == pytest.approx(effect - 1.959964 * se, abs=1e-5)
    assert row["n_units"] == 191


def test_event_study_matches_did(runner, mpdta_loaded):
    event = impact_csv(runner, "--detail", "event").set_index("event_time")["effect"]
    for event_time, published in PUBLISHED_EVENT.items():
        assert event[event_time] == pytest.approx(published, abs=5e-5)
