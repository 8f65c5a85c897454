"""The unit scorecard: overall against region, company and target; drivers and inputs;
where the unit started."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from cxactions.auth.models import Role
from cxactions.foundations.extensions import db as _db
from cxactions.surveys.models import Metric
from cxactions.units import services
from cxactions.units.models import Unit

MONDAY = date(2025, 1, 6)


@pytest.fixture
def organisation(db, runner, tmp_path):
    """Two regions; S1 (R1) scores lower on staff and waits longer than S2 (R1) and S3 (R2)."""
    (tmp_path / "units.csv").write_text(
        "unit_id,name,parent_id,kind\nR1,North,,region\nR2,South,,region\n"
        "S1,Store 1,R1,store\nS2,Store 2,R1,store\nS3,Store 3,R2,store\n"
    )
    rows = ["response_id,unit_id,responded_at,overall,staff_rating"]
    levels = {"S1": (6.0, 3.0), "S2": (8.0, 4.0), "S3": (9.0, 5.0)}
    for week in range(20):
        day = MONDAY + timedelta(weeks=week)
        for unit, (overall, staff) in levels.items():
            lift = 1.0 if unit == "S1" and week >= 12 else 0.0  # S1 improves later
            for k in range(2):
                rows.append(f"{unit}-{week}-{k},{unit},{day},{overall + lift},{staff}")
    (tmp_path / "responses.csv").write_text("\n".join(rows) + "\n")
    ops = ["unit_id,date,metric,value"]
    for week in range(20):
        day = MONDAY + timedelta(weeks=week)
        ops += [f"S1,{day},wait_minutes,9", f"S2,{day},wait_minutes,5", f"S3,{day},wait_minutes,4"]
    (tmp_path / "operations.csv").write_text("\n".join(ops) + "\n")
    for kind in ("units", "responses", "operations"):
        result = runner.invoke(args=["import", kind, str(tmp_path / f"{kind}.csv")])
        assert result.exit_code == 0, result.output
    wait = db.session.scalar(sa.select(Metric).where(Metric.code == "wait_minutes"))
    wait.higher_is_better, wait.target, wait.label = False, 6.0, "Wait (minutes)"
    staff = db.session.scalar(sa.select(Metric).where(Metric.code == "staff_rating"))
    staff.target = 4.0
    overall = db.session.scalar(sa.select(Metric).where(Metric.code == "overall"))
    overall.target = 8.0
    db.session.commit()


def scorecard(code: str):
    unit = services.get_unit(_db.session, code)
    return services.unit_scorecard(_db.session, unit, services.ancestors(unit))


def test_overall_is_compared_with_region_company_and_target(organisation):
    card = scorecard("S1")
    recent = card.periods[0]
    assert recent.mean == pytest.approx(7.0)
    assert recent.peer_mean == pytest.approx(7.5)  # S1 and S2 in North
    assert recent.company_mean == pytest.approx((7.0 + 8.0 + 9.0) / 3)
    assert card.target == 8.0


def test_where_the_unit_started_is_its_first_weeks(organisation):
    card = scorecard("S1")
    assert card.baseline_mean == pytest.approx(6.0)
    assert card.baseline_weeks == (MONDAY, MONDAY + timedelta(weeks=7))


def test_drivers_and_inputs_against_region_company_and_target(organisation):
    card = scorecard("S1")
    (staff,) = card.drivers
    assert (staff.unit_value, staff.region_value, staff.company_value) == (3.0, 3.5, 4.0)
    assert staff.vs_region == pytest.approx(-0.5) and staff.meets_target is False
    (wait,) = card.inputs
    assert (wait.unit_value, wait.region_value) == (9.0, 7.0)
    assert wait.vs_target == pytest.approx(-3.0)  # lower is better: 9 minutes is 3 too many
    assert scorecard("S3").inputs[0].meets_target is True


def test_region_scorecard_rolls_its_stores_up(organisation):
    card = scorecard("R1")
    assert card.periods[0].mean == pytest.approx(7.5)
    assert card.drivers[0].unit_value == pytest.approx(3.5)


def test_the_unit_page_shows_drivers_inputs_and_the_baseline(organisation, client_as, db):
    store = db.session.scalar(sa.select(Unit).where(Unit.code == "S1"))
    page = client_as(Role.MANAGER, units=[store]).get("/units/S1").get_data(as_text=True)
    assert "Drivers and inputs" in page and "Wait (minutes)" in page
    assert "(lower is better)" in page and "off target" in page
    assert "Where we started:" in page
    assert "vs company" in page and "vs target" in page


def test_company_scorecard_rolls_every_unit_up(organisation, client_as):
    card = services.company_scorecard(_db.session)
    assert card.periods[0].mean == pytest.approx(8.0)
    assert card.periods[0].peer_mean is None and card.periods[0].company_mean is None
    assert card.drivers[0].unit_value == pytest.approx(4.0)
    page = client_as(Role.STAFF).get("/company").get_data(as_text=True)
    assert "Company scorecard" in page and "Drivers and inputs" in page
    assert "Where we started:" in page
    units_page = client_as(Role.STAFF).get("/units").get_data(as_text=True)
    assert 'href="/company"' in units_page
