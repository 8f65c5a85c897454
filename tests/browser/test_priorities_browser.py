"""A CX lead links a challenge to a signal, or sets a target; the store's manager sees the
priority, or the scorecard measured against the target."""

from __future__ import annotations

import pytest

from cxactions.auth.models import Role
from tests.browser.conftest import sign_in, store_scores
from tests.factories import challenge, solution

pytestmark = pytest.mark.browser


def test_a_signal_set_by_the_lead_becomes_the_managers_priority(page, make_user):
    units = store_scores()
    staff = challenge("STAFF", "Staff attitude")
    greet = challenge("STAFF-GREET", "Nobody says hello", parent=staff)
    solution("TRN-GREET", "Greeting every customer", challenges=[greet])
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


def test_a_target_set_by_the_lead_shows_on_the_managers_scorecard(page, make_user):
    units = store_scores()
    make_user(Role.CX_LEAD, email="lead@example.com")
    make_user(Role.MANAGER, email="maya@example.com", units=[units["D1"]])

    sign_in(page, "lead@example.com")
    page.goto("/metrics")
    row = page.locator("#metric-staff_rating")
    row.locator("input[name$=label]").fill("Friendliness of staff")
    target = row.locator("input[name$=target]")
    assert target.get_attribute("type") == "number"  # the browser itself refuses words
    target.fill("4.5")
    row.locator("text=Save").click()
    page.wait_for_url("**/metrics#metric-staff_rating")
    assert "staff_rating: saved." in page.locator("main").inner_text()
    row = page.locator("#metric-staff_rating")
    assert "Friendliness of staff" in row.inner_text()
    assert row.locator("td.num").inner_text().strip() == "4.50"

    page.click("text=Sign out")

    sign_in(page, "maya@example.com")
    page.goto("/metrics")
    assert page.locator("#metric-staff_rating form").count() == 0  # managers only read
    page.goto("/units/S1")
    drivers = page.locator("table[aria-label='Survey drivers']")
    staff_row = drivers.locator("tr", has_text="Friendliness of staff")
    assert "4.50" in staff_row.inner_text()
    assert staff_row.locator(".badge", has_text="off target").is_visible()
