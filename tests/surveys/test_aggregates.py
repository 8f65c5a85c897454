"""unit_week_scores sums exactly what responses hold, on both databases."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from cxactions.foundations.vocabulary import MetricKind
from cxactions.surveys.aggregates import ensure_metrics, refresh_unit_weeks
from cxactions.surveys.models import Metric, Response, UnitWeekScore
from cxactions.units.models import Unit
from tests.factories import unit_tree


def test_refresh_sums_overall_and_drivers_per_monday_week(db):
    units = unit_tree()
    ensure_metrics(db.session, ["staff_rating"], MetricKind.DRIVER)
    rows = [
        # Sunday 2024-01-07 belongs to the week of Monday 2024-01-01; Monday 2024-01-08 starts the next.
        ("a", "S1", date(2024, 1, 1), 8.0, {"staff_rating": 6.0}),
        ("b", "S1", date(2024, 1, 7), 6.0, {"staff_rating": None}),
        ("c", "S1", date(2024, 1, 8), 9.0, {}),
        ("d", "S2", date(2024, 1, 3), 4.0, {"staff_rating": 2.0}),
    ]
    for key, unit, day, overall, scores in rows:
        db.session.add(
            Response(
                response_key=key,
                unit_id=units[unit].id,
                responded_on=day,
                overall=overall,
                scores=scores,
            )
        )
    db.session.flush()
    refresh_unit_weeks(db.session)
    db.session.commit()
    got = {
        (code, unit_code, week, n, total, total_sq)
        for code, unit_code, week, n, total, total_sq in db.session.execute(
            sa.select(Metric.code, Unit.code, UnitWeekScore.week_start, UnitWeekScore.n,
                      UnitWeekScore.total, UnitWeekScore.total_sq)
            .join(Metric, Metric.id == UnitWeekScore.metric_id)
            .join(Unit, Unit.id == UnitWeekScore.unit_id)
        )
    }  # fmt: skip
    assert got == {
        ("overall", "S1", date(2024, 1, 1), 2, 14.0, 100.0),
        ("overall", "S1", date(2024, 1, 8), 1, 9.0, 81.0),
        ("overall", "S2", date(2024, 1, 1), 1, 4.0, 16.0),
        ("staff_rating", "S1", date(2024, 1, 1), 1, 6.0, 36.0),
        ("staff_rating", "S2", date(2024, 1, 1), 1, 2.0, 4.0),
    }
    # Refreshing one unit replaces only its rows.
    db.session.execute(sa.delete(Response).where(Response.response_key == "a"))
    refresh_unit_weeks(db.session, [units["S1"].id])
    total = db.session.scalar(sa.select(sa.func.sum(UnitWeekScore.n)))
    assert total == 6 - 2  # response a gone from overall and from staff_rating
