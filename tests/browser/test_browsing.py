"""A manager finds their store and the library's answer to a challenge, in a real browser."""

from __future__ import annotations

import pytest

from cxactions.auth.models import Role
from cxactions.foundations.extensions import db
from tests.browser.conftest import sign_in
from tests.factories import challenge, solution, unit_tree

pytestmark = pytest.mark.browser


def test_manager_walks_from_their_store_to_a_solution(page, make_user):
    units = unit_tree()
    speed = challenge("SPEED", "Speed and responsiveness")
    queue = challenge("SPEED-QUEUE", "Long checkout queues", parent=speed)
    solution(
        "SPD-LINE",
        "Line-busting with mobile tills",
        challenges=[queue],
        summary="Take payment in the queue at peaks.",
        body="## How it runs\nA second associate <script>alert(1)</script> takes payment in the line.",
    )
    db.session.commit()
    make_user(Role.MANAGER, email="maya@example.com", units=[units["D1"]])

    sign_in(page, "maya@example.com")
    page.click("nav >> text=Units")
    # The manager's scope only: district D1 and its stores, not D2's.
    assert page.locator("text=Store 1").first.is_visible()
    assert page.locator("text=Store 3").count() == 0
    page.click("text=Store 1")
    page.wait_for_url("**/units/S1")
    assert page.locator("h1", has_text="Store 1").is_visible()

    page.click("nav >> text=Challenges")
    page.click("text=Long checkout queues")
    page.wait_for_url("**/challenges/SPEED-QUEUE")
    page.click("text=Line-busting with mobile tills")
    page.wait_for_url("**/solutions/SPD-LINE")
    assert page.locator("h2", has_text="How it runs").is_visible()
    # The script tag in the body was stripped, not run and not shown as markup.
    assert page.locator("script", has_text="alert(1)").count() == 0

    response = page.goto("/units/S3")
    assert response.status == 403
