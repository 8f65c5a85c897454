"""A CX lead links a challenge to a signal; the store's manager then sees it as a priority."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from cxactions.auth.models import Role
from cxactions.extensions import db
from cxactions.surveys.models import Metric, UnitWeekScore
from cxactions.vocabulary import MetricKind
from tests.browser.conftest import sign_in
from tests.factories import challenge, solution, unit_tree

pytestmark = pytest.mark.browser


def test_a_signal_set_by_the_lead_becomes_the_managers_priority(page, make_user):
    units = unit_tree()
    staff = challenge("STAFF", "Staff attitude")
    greet = challenge("STAFF-GREET", "Nobody says hello", parent=staff)
    solution("TRN-GREET", "Greeting every customer", challenges=[greet])
    overall = Metric(code="overall", kind=MetricKind.OUTCOME)
    rating = Metric(code="staff_rating", label="Staff friendliness", kind=MetricKind.DRIVER)
    db.session.add_all([overall, rating])
    db.session.flush()
    levels = {"S1": (6.0, 3.0), "S2": (8.0, 4.5), "S3": (8.2, 4.6), "S4": (7.9, 4.4)}
    monday = date(2025, 3, 3)
    for week in range(8):
        for code, (score, staff_score) in levels.items():
            for metric, mean in ((overall, score), (rating, staff_score + 0.05 * week)):
                db.session.add(
                    UnitWeekScore(
                        metric_id=metric.id,
                        unit_id=units[code].id,
                        week_start=monday + timedelta(weeks=week),
                        n=20,
                        total=mean * 20,
                        total_sq=mean * mean * 20,
                    )
                )
    db.session.commit()
    make_user(Role.CX_LEAD, email="lead@example.com")
    make_user(Role.MANAGER, email="maya@example.com", units=[units["D1"]])

    sign_in(page, "lead@example.com")
    page.goto("/challenges/STAFF-GREET/signals")
    page.select_option("select[name=metric]", "staff_rating")
    page.select_option("select[name=direction]", "below")
    page.select_option("select[name=threshold_kind]", "peer_sd")
    page.fill("input[name=threshold]", "1")
    page.click("text=Save signal")
    page.wait_for_url("**/challenges/STAFF-GREET/signals")
    assert page.locator("table", has_text="Staff friendliness").is_visible()
    page.click("text=Sign out")

    sign_in(page, "maya@example.com")
    page.goto("/units/S1")
    body = page.locator("main").inner_text()
    assert "Nobody says hello" in body
    assert "Staff friendliness" in body and "SD below" in body
    assert page.locator("a[href='/solutions/TRN-GREET']").first.is_visible()
