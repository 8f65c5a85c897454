"""The contract's ``cxactions import`` on data we did not generate: the ``mpdta`` panel."""

from __future__ import annotations

import math

import pytest
import sqlalchemy as sa

from cxactions.foundations.extensions import db as _db
from cxactions.foundations.vocabulary import AdoptionStatus
from cxactions.library.models import Solution
from cxactions.plans.models import Adoption
from cxactions.surveys.models import Response
from cxactions.units.models import Unit
from tests.reference_data import MPDTA_SOLUTION, load_mpdta, write_mpdta_csvs

# targets.csv first: it sets the scale of overall (lemp is not a 0–10 score).
ORDER = ("targets", "units", "solutions", "responses", "adoptions")


@pytest.fixture
def mpdta_files(tmp_path):
    return write_mpdta_csvs(tmp_path / "mpdta")


def import_all(runner, files) -> list[str]:
    summaries = []
    for kind in ORDER:
        result = runner.invoke(args=["import", kind, str(files[kind])])
        assert result.exit_code == 0, result.output
        summaries.append(result.stdout.strip())
    return summaries


def count(model) -> int:
    return _db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_mpdta_loads_through_the_cli_exactly(runner, db, mpdta_files):
    frame = load_mpdta()
    counties = frame["countyreal"].nunique()
    states = frame["countyreal"].floordiv(1000).nunique()
    treated = frame.loc[frame["first.treat"] > 0, "countyreal"].nunique()

    summaries = import_all(runner, mpdta_files)
    assert "1 row read: 1 inserted" in summaries[0]  # overall, declared with its scale
    assert f"{counties + states} rows read: {counties + states} inserted" in summaries[1]
    assert f"{len(frame):,} rows read: {len(frame):,} inserted" in summaries[3]
    assert f"{treated} rows read: {treated} inserted" in summaries[4]

    assert count(Unit) == counties + states
    assert count(Response) == len(frame) == 2500
    # Every outcome survives the round trip to the last bit (text -> float -> database).
    stored = dict(_db.session.execute(sa.select(Response.response_key, Response.overall)).all())
    for row in frame.itertuples(index=False):
        assert stored[f"{row.countyreal}-{row.year}"] == row.lemp
    assert math.isclose(
        _db.session.scalar(sa.select(sa.func.avg(Response.overall))), frame["lemp"].mean()
    )

    adoptions = _db.session.execute(
        sa.select(Unit.code, Adoption.effective_on, Adoption.status)
        .join(Adoption, Adoption.unit_id == Unit.id)
        .join(Solution, Solution.id == Adoption.solution_id)
        .where(Solution.code == MPDTA_SOLUTION)
    ).all()
    assert len(adoptions) == treated
    first_treat = frame.drop_duplicates("countyreal").set_index("countyreal")["first.treat"]
    for code, effective_on, status in adoptions:
        assert status == AdoptionStatus.IMPLEMENTED
        assert effective_on.year == first_treat[int(code)] and (
            effective_on.month,
            effective_on.day,
        ) == (1, 1)


def test_reimporting_mpdta_changes_nothing(runner, db, mpdta_files):
    import_all(runner, mpdta_files)
    again = import_all(runner, mpdta_files)
    assert all(" 0 inserted, 0 updated, " in line for line in again), again
    assert count(Response) == 2500
