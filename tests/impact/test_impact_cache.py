"""Cached impact estimates: stale when the data changes, refreshed once, never half-written."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from cxactions.analytics.simulator import SimulationConfig, simulate
from cxactions.foundations.extensions import db as _db
from cxactions.foundations.versions import bump_data_version
from cxactions.impact import services
from cxactions.impact.models import ImpactEstimate, ImpactEventEstimate, ImpactRun
from cxactions.impact.services import ImpactSettings, claim_refresh, freshness, refresh_impact
from tests.reference_data import write_simulation_csvs

CONFIG = SimulationConfig(
    seed=11, n_units=30, n_regions=2, n_districts=4, n_weeks=50, n_solutions=4, mean_responses=5
)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return write_simulation_csvs(simulate(CONFIG), tmp_path_factory.mktemp("org"))


def load(runner, files, kinds=("units", "solutions", "responses", "adoptions")):
    for kind in kinds:
        result = runner.invoke(args=["import", kind, str(files[kind])])
        assert result.exit_code == 0, result.output


def test_imports_make_estimates_stale_and_a_refresh_makes_them_fresh(runner, db, files):
    assert freshness(_db.session).stale and freshness(_db.session).run is None
    load(runner, files)
    run = refresh_impact(_db.session, trigger="test")
    state = freshness(_db.session)
    assert run.status == "done" and state.run.id == run.id and not state.stale
    estimates = _db.session.scalars(
        sa.select(ImpactEstimate).where(ImpactEstimate.run_id == run.id)
    )
    implemented = simulate(CONFIG).adoptions.query("status == 'implemented'")
    assert {e.solution.code for e in estimates} == set(implemented["solution_id"])
    assert (
        _db.session.scalar(
            sa.select(sa.func.count())
            .select_from(ImpactEventEstimate)
            .where(ImpactEventEstimate.run_id == run.id)
        )
        > 0
    )

    # Re-importing unchanged rows changes nothing; a changed adoption makes them stale.
    load(runner, files, kinds=("adoptions",))
    assert not freshness(_db.session).stale
    bump_data_version(_db.session)
    _db.session.commit()
    assert freshness(_db.session).stale


def test_only_one_refresh_runs_at_a_time(runner, db, files):
    load(runner, files)
    settings = ImpactSettings()
    first = claim_refresh(_db.session, settings, "test")
    assert first is not None
    assert claim_refresh(_db.session, settings, "test") is None
    assert refresh_impact(_db.session, settings, trigger="test") is None
    assert freshness(_db.session).running
    run = refresh_impact(_db.session, settings, run_id=first)
    assert run.status == "done" and not freshness(_db.session).running


def test_a_failed_refresh_is_recorded_and_keeps_the_previous_estimates(
    runner, db, files, monkeypatch
):
    load(runner, files)
    good = refresh_impact(_db.session, trigger="test")

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(services, "compute_impact", broken)
    bump_data_version(_db.session)
    _db.session.commit()
    with pytest.raises(RuntimeError, match="disk on fire"):
        refresh_impact(_db.session, trigger="test")
    failed = _db.session.scalar(sa.select(ImpactRun).where(ImpactRun.status == "failed"))
    assert failed.error == "RuntimeError: disk on fire"
    state = freshness(_db.session)
    assert state.run.id == good.id and state.stale and not state.running


def test_old_runs_are_pruned(runner, db, files):
    load(runner, files)
    for _ in range(7):
        refresh_impact(_db.session, trigger="test")
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(ImpactRun)) == 5


def test_refresh_impact_command(runner, db, files):
    load(runner, files)
    result = runner.invoke(args=["refresh-impact"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Impact estimates refreshed: ")
