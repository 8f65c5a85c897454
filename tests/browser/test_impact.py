"""A manager reads the impact ranking, one solution's evidence and their own store's story."""

from __future__ import annotations

import pytest

from cxactions.auth.models import Role
from cxactions.foundations.extensions import db
from cxactions.impact.services import ImpactSettings, refresh_impact
from tests.browser.conftest import sign_in
from tests.impact_world import build_world

pytestmark = pytest.mark.browser


def test_manager_reads_what_works_then_checks_their_own_store(page, make_user):
    world = build_world()
    refresh_impact(db.session, ImpactSettings(), trigger="test")
    make_user(Role.MANAGER, email="maya@example.com", units=[world.units["D1"]])

    sign_in(page, "maya@example.com")
    page.click("nav >> text=Impact")
    page.wait_for_url("**/impact")
    ranked = page.locator("#ranked tbody tr")
    assert ranked.count() == 3
    assert "Greeting training" in ranked.first.inner_text()
    assert page.locator("#ranked svg.interval").count() == 3
    assert "Floor walker at peaks" in page.locator("#early").inner_text()

    page.click("#ranked >> text=Greeting training")
    page.wait_for_url("**/impact/solutions/SOL-GOOD")
    assert page.locator("#plain-reading").inner_text().startswith("Raised satisfaction by about")
    chart = page.locator(".chart__wide svg.event-chart")
    assert chart.is_visible()
    assert chart.locator(".point--placebo").count() > 0
    assert chart.locator(".point--effect").count() == 12
    assert chart.locator("rect.band--dip").count() == 1

    # Only the manager's own stores are listed, each with its own story.
    assert page.locator("#adopters tbody tr").count() == 2
    page.locator("#adopters tbody tr", has_text="Store 1").get_by_text("Did it work here?").click()
    page.wait_for_url("**/units/S01/adoptions/SOL-GOOD")
    assert page.locator("h1", has_text="Greeting training at Store 1").is_visible()
    assert page.locator("#one-unit-note", has_text="One unit is a noisy measure").is_visible()
    story = page.locator(".chart__wide svg.event-chart")
    assert story.is_visible()
    assert story.locator(".series--unit .series__dot").count() > 20
    page.click("#one-unit-note >> text=see the impact of Greeting training")
    page.wait_for_url("**/impact/solutions/SOL-GOOD")
