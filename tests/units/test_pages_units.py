"""The unit tree and the unit page: scorecard, trend, children and action plan."""

from __future__ import annotations

import re
from datetime import date, timedelta

from cxactions.auth.models import Role
from cxactions.foundations.vocabulary import AdoptionStatus
from cxactions.plans.models import Adoption
from cxactions.surveys.aggregates import refresh_unit_weeks
from cxactions.surveys.models import Response
from cxactions.units.models import Unit
from tests.factories import challenge, solution, unit_tree
from tests.pages import counting_queries, visible_text

LATEST_WEEK = date(2024, 6, 3)  # a Monday


def _responses(db, unit: Unit, weeks_back: range, overall: float, per_week: int) -> None:
    for back in weeks_back:
        monday = LATEST_WEEK - timedelta(weeks=back)
        for index in range(per_week):
            db.session.add(
                Response(
                    response_key=f"{unit.code}-{back}-{index}",
                    unit_id=unit.id,
                    responded_on=monday + timedelta(days=index % 7),
                    overall=overall,
                )
            )


def _organisation(db) -> dict[str, Unit]:
    """S1 scores 8 in the last 4 weeks (2 responses a week) and 6 in the 4 before (1 a week);
    S3, elsewhere in the region, scores 5 in the last 4 weeks."""
    units = unit_tree()
    _responses(db, units["S1"], range(0, 4), 8.0, 2)
    _responses(db, units["S1"], range(4, 8), 6.0, 1)
    _responses(db, units["S3"], range(0, 4), 5.0, 1)
    db.session.flush()
    refresh_unit_weeks(db.session)
    queue = challenge("SPEED-QUEUE", "Long checkout queues")
    till = solution("SOP-TILL", "Open a till at three", challenges=[queue])
    training = solution("TRN-LINE", "Line-busting training")
    db.session.add_all(
        [
            Adoption(
                unit=units["S1"],
                solution=till,
                challenge=queue,
                status=AdoptionStatus.IMPLEMENTED,
                owner="Marie Dupont",
                due_on=date(2024, 5, 1),
                effective_on=date(2024, 5, 6),
            ),
            Adoption(unit=units["S1"], solution=training, status=AdoptionStatus.PLANNED),
        ]
    )
    db.session.commit()
    return units


def test_tree_lists_every_unit_with_figures_summed_below(db, client_as):
    _organisation(db)
    response = client_as(Role.CX_LEAD).get("/units")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    text = visible_text(page)
    # Name, code, kind, responses (all time), mean over the last 4 weeks.
    assert "North region R1 Region 16 7.00" in text
    assert "Lakeside district D1 District 12 8.00" in text
    assert "Store 1 S1 Store 12 8.00" in text
    assert "Store 2 S2 Store 0 –" in text
    assert "Hillside district D2 District 4 5.00" in text
    # Depth first, by name: each district directly above its stores.
    assert page.index("Hillside district") < page.index("Store 3") < page.index("Lakeside")
    assert page.index("Lakeside district") < page.index("Store 1")
    assert "tree-row--depth-2" in page


def test_a_manager_sees_only_their_part_of_the_tree(db, make_user, login):
    units = _organisation(db)
    manager = make_user(Role.MANAGER, units=[units["D1"]])
    text = visible_text(login(manager).get("/units").get_data(as_text=True))
    assert "My units" in text
    assert "Lakeside district" in text and "Store 1" in text and "Store 2" in text
    assert "North region" not in text and "Hillside district" not in text


def test_staff_see_only_the_units_they_are_attached_to(db, make_user, login):
    units = _organisation(db)
    staff = make_user(Role.STAFF, units=[units["S1"]])
    client = login(staff)
    text = visible_text(client.get("/units").get_data(as_text=True))
    assert "My units" in text and "Store 1" in text
    assert "Store 2" not in text and "Hillside district" not in text
    assert client.get("/units/S1").status_code == 200
    assert client.get("/units/S2").status_code == 403
    assert client.get("/units/D1").status_code == 403  # the district above is not theirs
    # Unattached staff see no unit, and are told how to get theirs.
    other = make_user(Role.STAFF, email="new@example.com")
    client.post("/logout")
    text = visible_text(login(other).get("/units").get_data(as_text=True))
    assert "No unit assigned to you yet" in text


def test_empty_organisation_says_how_to_load_one(client_as):
    text = visible_text(client_as(Role.CX_LEAD).get("/units").get_data(as_text=True))
    assert "No units yet" in text


def test_tree_runs_the_same_queries_whatever_its_size(db, client_as):
    client = client_as(Role.CX_LEAD)
    _organisation(db)
    client.get("/units")  # figures kept until the data changes (the newest week) are read once
    db.session.commit()  # both counted requests then start a transaction
    with counting_queries(db) as small:
        client.get("/units")
    region = Unit(code="R9", name="South", kind="region")
    db.session.add_all(
        [Unit(code=f"X{i}", name=f"Extra {i}", kind="store", parent=region) for i in range(20)]
    )
    db.session.commit()
    with counting_queries(db) as large:
        client.get("/units")
    assert len(large) == len(small)


def test_scorecard_compares_with_the_previous_period_and_the_region(db, client_as):
    _organisation(db)
    response = client_as(Role.CX_LEAD).get("/units/S1")
    assert response.status_code == 200
    text = visible_text(response.get_data(as_text=True))
    # Last 4 weeks: 8.00 against 6.00 before, against 7.00 in the region ((8*8 + 4*5) / 12).
    assert "Last 4 weeks 8.00 vs previous 4 weeks ▲ +2.00 from 6.00" in text
    assert "vs North region ▲ +1.00 its mean 7.00" in text
    assert "Responses 8 (previously 4)" in text
    # Last 12 weeks: everything (8*8 + 4*6) / 12, nothing before to compare with.
    assert "Last 12 weeks 7.33 vs previous 12 weeks no earlier data" in text
    assert "12 survey responses, since the week of 15 Apr 2024" in text
    assert "latest week starts 3 Jun 2024" in text


def test_scorecard_draws_the_weekly_trend_as_inline_svg(db, client_as):
    _organisation(db)
    page = client_as(Role.CX_LEAD).get("/units/S1").get_data(as_text=True)
    assert page.count('<svg class="chart__svg"') == 2  # wide and compact drawings
    assert 'role="img"' in page and '<title id="trend-title">' in page
    path = re.search(r'<g class="series--unit">\s*<path class="series__line" d="([^"]+)"', page)
    assert path is not None
    assert path.group(1).startswith("M") and path.group(1).count("L") == 7  # 8 weeks, one line
    assert "Show the weekly figures" in page


def test_a_region_page_adds_up_its_stores_and_lists_its_children(db, client_as):
    _organisation(db)
    text = visible_text(client_as(Role.CX_LEAD).get("/units/R1").get_data(as_text=True))
    assert "Last 4 weeks 7.00" in text
    assert "Units below 2" in text
    assert "Lakeside district D1 District 12 8.00" in text
    assert "vs All units" in text


def test_unit_page_lists_the_action_plan(db, client_as):
    _organisation(db)
    page = client_as(Role.CX_LEAD).get("/units/S1").get_data(as_text=True)
    text = visible_text(page)
    assert "Action plan 2" in text
    assert "Open a till at three for Long checkout queues Implemented Marie Dupont" in text
    assert "1 May 2024 6 May 2024" in text
    assert "Line-busting training" in text and "Planned" in text
    assert text.index("Line-busting training") < text.index("Open a till at three for")
    assert re.search(r'href="/units/S1/plan/\d+" lang="en">Open a till at three</a>', page)


def test_unit_without_responses_or_plan_shows_empty_states(db, client_as):
    _organisation(db)
    text = visible_text(client_as(Role.CX_LEAD).get("/units/S4").get_data(as_text=True))
    assert "No survey responses yet" in text
    assert "No action plan yet" in text


def test_breadcrumb_leads_up_the_tree(db, client_as):
    _organisation(db)
    page = client_as(Role.CX_LEAD).get("/units/S1").get_data(as_text=True)
    assert 'href="/units/R1">North region</a>' in page
    assert 'href="/units/D1">Lakeside district</a>' in page


def test_a_manager_sees_units_above_their_scope_unlinked(db, make_user, login):
    units = _organisation(db)
    manager = make_user(Role.MANAGER, units=[units["D1"]])
    page = login(manager).get("/units/S1").get_data(as_text=True)
    assert "<span>North region</span>" in page
    assert 'href="/units/R1"' not in page
    assert 'href="/units/D1">Lakeside district</a>' in page


def test_unknown_unit_is_not_found(client_as):
    response = client_as(Role.CX_LEAD).get("/units/NOPE")
    assert response.status_code == 404
    assert "There is no unit with the code" in response.get_data(as_text=True)
