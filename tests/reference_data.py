"""Reference data sets written out in the contract's CSV formats, as a user would prepare them.

``mpdta`` (the R package ``did``'s minimum-wage panel: 500 US counties, 2003–2007, log teen
employment) becomes an organisation whose "units" are counties grouped by state, whose yearly
"survey" outcome is ``lemp``, and whose one "solution" is the minimum-wage rise adopted on
1 January of ``first.treat``. Issue 4's ``cs`` estimator must reproduce the published figures
from exactly these files.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

# The reference data sets travel with the tests (sources and licences: tests/data/README.md):
# a clone of the repository alone passes ``make test``.
DATA = Path(__file__).resolve().parent / "data"


def reference_file(name: str) -> Path:
    """The path of a reference data file in tests/data; fails the test when it is missing."""
    path = DATA / name
    if not path.is_file():
        pytest.fail(f"reference data {name} is missing from {DATA}: see tests/data/README.md")
    return path


MPDTA_SOLUTION = "MINWAGE"


def load_mpdta() -> pd.DataFrame:
    return pd.read_csv(reference_file("mpdta.csv"))


def write_mpdta_csvs(folder: Path) -> dict[str, Path]:
    """targets, units, solutions, responses and adoptions CSVs of ``mpdta``; returns their paths
    by kind. ``lemp`` (up to 10.44) is off the default 0–10 scale of ``overall``: targets.csv
    sets its scale first (0–20, no target), as a user whose outcome is not a 0–10 score would."""
    frame = load_mpdta()
    counties = frame.drop_duplicates("countyreal").sort_values("countyreal")
    states = sorted({county // 1000 for county in counties["countyreal"]})
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        kind: folder / f"{kind}.csv"
        for kind in ("targets", "units", "solutions", "responses", "adoptions")
    }
    paths["targets"].write_text("metric,target,min,max\noverall,,0,20\n", encoding="utf-8")

    units = pd.concat(
        [
            pd.DataFrame(
                {
                    "unit_id": [f"ST{state:02d}" for state in states],
                    "name": [f"State {state:02d}" for state in states],
                    "parent_id": "",
                    "kind": "region",
                }
            ),
            pd.DataFrame(
                {
                    "unit_id": counties["countyreal"].astype(str),
                    "name": "County " + counties["countyreal"].astype(str),
                    "parent_id": [f"ST{county // 1000:02d}" for county in counties["countyreal"]],
                    "kind": "county",
                }
            ),
        ]
    )
    units.to_csv(paths["units"], index=False)

    pd.DataFrame(
        {
            "solution_id": [MPDTA_SOLUTION],
            "title": ["Minimum wage above the federal floor"],
            "kind": ["other"],
            "description": ["The state raised its minimum wage (mpdta's treatment)."],
        }
    ).to_csv(paths["solutions"], index=False)

    pd.DataFrame(
        {
            "response_id": frame["countyreal"].astype(str) + "-" + frame["year"].astype(str),
            "unit_id": frame["countyreal"].astype(str),
            "responded_at": frame["year"].astype(str) + "-01-01",
            "overall": frame["lemp"].map(repr),
            "lpop": frame["lpop"].map(repr),
        }
    ).to_csv(paths["responses"], index=False)

    treated = counties[counties["first.treat"] > 0]
    pd.DataFrame(
        {
            "unit_id": treated["countyreal"].astype(str),
            "solution_id": MPDTA_SOLUTION,
            "adopted_on": treated["first.treat"].astype(str) + "-01-01",
            "status": "implemented",
        }
    ).to_csv(paths["adoptions"], index=False)
    return paths


def write_simulation_csvs(simulation, folder: Path) -> dict[str, Path]:
    """A simulated organisation (``analytics.simulator``) as the contract's CSV files."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        kind: folder / f"{kind}.csv" for kind in ("units", "solutions", "responses", "adoptions")
    }
    simulation.units[["unit_id", "name", "parent_id", "kind"]].to_csv(paths["units"], index=False)
    pd.DataFrame(
        {
            "solution_id": simulation.solutions["solution_id"],
            "title": "Solution " + simulation.solutions["solution_id"],
            "kind": "sop",
        }
    ).to_csv(paths["solutions"], index=False)
    responses = simulation.responses.drop(columns=["comment"], errors="ignore")
    responses.to_csv(paths["responses"], index=False)
    simulation.adoptions[["unit_id", "solution_id", "adopted_on", "status"]].to_csv(
        paths["adoptions"], index=False
    )
    return paths
