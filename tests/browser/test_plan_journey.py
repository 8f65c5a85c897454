"""From a challenge to a measured plan item, in the browser: the demo manager opens a store of
their district, takes a prioritised challenge, finds solutions for it, adopts two, ticks steps,
marks one implemented with the date it took effect; once the estimates are recomputed, the
solution's adopting units include the store and "did it work here?" answers for it."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from cxactions.foundations.extensions import db
from cxactions.impact.models import ImpactEstimate
from cxactions.impact.services import ImpactSettings, latest_run, refresh_impact
from cxactions.library.models import Solution
from cxactions.plans.models import Adoption
from cxactions.units.models import Unit
from tests.browser.conftest import served_demo

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def demo(backend: str, browser, tmp_path_factory, request) -> Iterator[tuple]:
    """The demo organisation for this module alone: the journey changes it."""
    with served_demo(backend, browser, tmp_path_factory, request, "plans") as served:
        yield served


def adopting_units(application, code: str) -> int:
    with application.app_context():
        run = latest_run(db.session)
        solution = db.session.scalar(sa.select(Solution).where(Solution.code == code))
        estimate = db.session.scalar(
            sa.select(ImpactEstimate).where(
                ImpactEstimate.run_id == run.id, ImpactEstimate.solution_id == solution.id
            )
        )
        return estimate.n_units if estimate is not None else 0


def test_a_manager_takes_a_challenge_to_a_measured_plan_item(demo, browser):
    application, base_url, codes, states = demo
    context = browser.new_context(
        base_url=base_url, viewport={"width": 1280, "height": 900}, storage_state=states["manager"]
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    store = codes["store"]

    # The store's page: its prioritised challenges, each with a way to find solutions for it.
    page.goto(f"/units/{store}")
    finds = page.locator("a[href*='/plan/find?challenge=']")
    assert finds.count() > 0, "the demo store shows no prioritised challenge"
    finds.first.click()
    page.wait_for_url(re.compile(r"/plan/find\?challenge="))

    # Candidates not yet in the plan carry the "Add to plan" form, prefilled (owner, due date).
    candidates = page.locator("details.plan-candidate__add")
    assert candidates.count() >= 2, "fewer than two solutions to adopt for this challenge"
    chosen = []
    for _ in range(2):
        candidate = page.locator("details.plan-candidate__add").first
        article = candidate.locator("xpath=ancestor::*[starts-with(@id, 'candidate-')][1]")
        chosen.append(article.get_attribute("id").removeprefix("candidate-"))
        candidate.locator("summary").click()
        candidate.locator("[type=submit]").click()
        page.wait_for_url(f"**/units/{store}#plan-heading")
        assert "is in the action plan of" in page.locator(".flash--success").inner_text()
        page.go_back()
        page.reload()
    with application.app_context():
        unit = db.session.scalar(sa.select(Unit).where(Unit.code == store))
        items = {
            item.solution.code: item.id
            for item in db.session.scalars(sa.select(Adoption).where(Adoption.unit_id == unit.id))
        }
    assert set(chosen) <= set(items)

    # The first item's page: tick two steps, then mark it implemented from eight weeks ago.
    code = chosen[0]
    page.goto(f"/units/{store}")
    page.locator(f"a[href='/units/{store}/plan/{items[code]}']").click()
    page.wait_for_url(f"**/units/{store}/plan/{items[code]}")
    steps = page.locator(".checklist__toggle")
    for index in range(min(2, steps.count())):
        page.locator(".checklist__toggle").nth(index).click()
        page.wait_for_url(f"**/plan/{items[code]}#checklist")
    assert page.locator(".checklist__item--done").count() == min(2, steps.count())
    took_effect = date.today() - timedelta(weeks=8)
    page.get_by_label("Took effect on").fill(took_effect.isoformat())
    page.get_by_role("button", name="Mark implemented").click()
    page.wait_for_url(f"**/plan/{items[code]}")
    assert "Implemented from" in page.locator(".flash--success").inner_text()
    assert "Implemented" in page.locator(".plan-item__badges").inner_text()

    # The district's roll-up counts it, and its CSV lists it as implemented from that date.
    district = codes["district"]
    page.goto(f"/units/{district}")
    page.get_by_role("link", name="Plans roll-up").click()
    page.wait_for_url(f"**/units/{district}/plans")
    with application.app_context():
        title = db.session.scalar(sa.select(Solution.title).where(Solution.code == code))
        store_name = db.session.scalar(sa.select(Unit.name).where(Unit.code == store))
    tried = page.locator("tr", has_text=title).last.inner_text()
    assert store in tried or store_name in tried, tried
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text("utf-8"))))
    mine = [row for row in rows if row["unit_id"] == store and row["solution_id"] == code]
    assert [(row["status"], row["adopted_on"]) for row in mine] == [
        ("implemented", took_effect.isoformat())
    ]
    other = [row for row in rows if row["unit_id"] == store and row["solution_id"] == chosen[1]]
    assert [row["status"] for row in other] == ["planned"]

    # The estimates are recomputed (here by hand; the app does it in the background): the store
    # is now one of the solution's adopting units, and its own story answers.
    before = adopting_units(application, code)
    with application.app_context():
        refresh_impact(db.session, ImpactSettings.from_config(application.config), trigger="test")
    assert adopting_units(application, code) == before + 1
    page.goto(f"/impact/solutions/{code}")
    adopters = page.locator("#adopters").inner_text()
    assert store_name in adopters
    page.goto(f"/units/{store}/adoptions/{code}")
    assert page.locator("table#story-figures").count() == 1
    assert "Nothing to draw yet" not in page.locator("main").inner_text()
    context.close()
