"""A manager searches the library with a typo, then finds a fix for their store and plans it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from cxactions.auth.models import Role
from cxactions.foundations.extensions import db
from cxactions.foundations.vocabulary import AdoptionStatus, SolutionKind
from cxactions.plans.models import Adoption
from tests.browser.conftest import sign_in
from tests.factories import challenge, solution, unit_tree

pytestmark = pytest.mark.browser


def test_manager_searches_with_a_typo_then_adds_a_solution_to_the_plan(page, make_user):
    units = unit_tree()
    speed = challenge("SPEED", "Speed and responsiveness")
    queue = challenge("SPEED-QUEUE", "Long checkout queues", parent=speed)
    staff = challenge("STAFF", "Staff attitude")
    greet = challenge("STAFF-GREET", "Nobody says hello", parent=staff)
    solution(
        "TRN-GREET",
        "Greeting every customer",
        challenges=[greet],
        kind=SolutionKind.TRAINING,
        summary="A warm greeting within ten seconds of the door.",
    )
    solution(
        "SOP-TILL",
        "Open a third till at rush hour",
        challenges=[queue],
        summary="When the queue passes three customers, open a till.",
    )
    db.session.commit()
    make_user(Role.MANAGER, email="maya@example.com", units=[units["D1"]])

    sign_in(page, "maya@example.com")
    page.click("nav >> text=Search")
    page.wait_for_url("**/search")
    page.fill("input[name=q]", "grteeting")
    page.press("input[name=q]", "Enter")
    page.wait_for_url("**/search?q=grteeting*")
    corrected = page.locator("#search-corrected")
    assert "showing results for “greeting”" in corrected.inner_text()
    assert page.locator(".search-hit__snippet mark", has_text="greeting").first.is_visible()
    page.click(".search-hit >> text=Greeting every customer")
    page.wait_for_url("**/solutions/TRN-GREET")
    assert page.locator("h1", has_text="Greeting every customer").is_visible()

    page.goto("/units/S1")
    page.click("#find-solution")
    page.wait_for_url("**/units/S1/plan/find")
    page.fill("input[name=q]", "queue")
    page.press("input[name=q]", "Enter")
    page.wait_for_url("**/plan/find?q=queue*")
    candidate = page.locator("#candidate-SOP-TILL")
    candidate.locator("summary", has_text="Add to plan").click()
    due = date.today() + timedelta(days=21)
    candidate.get_by_label("Owner").fill("Marie Dupont")
    candidate.get_by_label("Due date").fill(due.isoformat())
    candidate.get_by_label("For the challenge").select_option("SPEED-QUEUE")
    candidate.get_by_role("button", name="Add to plan").click()
    page.wait_for_url("**/units/S1#plan-heading")

    assert "is in the action plan of Store 1" in page.locator(".flash--success").inner_text()
    row = page.locator("table tbody tr", has_text="Open a third till at rush hour")
    assert "Planned" in row.inner_text() and "Marie Dupont" in row.inner_text()
    db.session.expire_all()
    item = db.session.scalar(sa.select(Adoption))
    assert (item.status, item.owner, item.due_on) == (AdoptionStatus.PLANNED, "Marie Dupont", due)
