"""The plan's "find a solution" step: search the library for a unit, add a solution to its plan."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from cxactions.audit.models import AuditEvent
from cxactions.auth.models import Role
from cxactions.foundations.vocabulary import AdoptionStatus, ChallengeStatus, SolutionStatus
from cxactions.plans.models import Adoption
from tests.factories import impact_run, small_library, unit_tree
from tests.pages import visible_text

DUE = date.today() + timedelta(days=30)


@pytest.fixture
def world(db, make_user):
    """Units R1 > D1 (S1, S2), D2 (S3, S4); a manager of D1; queue and greeting solutions."""
    units = unit_tree()
    lib = small_library(
        retired=False,
        pending=False,
        challenges={
            "STAFF": {"name": "Staff attitude"},
            "STAFF-GREET": {"name": "Nobody says hello"},
            "OLD-QUEUE": {
                "name": "Queues of old",
                "parent": "SPEED",
                "status": ChallengeStatus.RETIRED,
            },
        },
        solutions={
            "SOP-TILL": {
                "title": "Open a third till at rush hour",
                "summary": "When the queue passes three customers, open a till.",
            },
            "TRN-LINE": {"summary": "Take payment in the queue at peaks."},
            "TRN-GREET": {
                "title": "Greeting every customer",
                "challenges": ["STAFF-GREET"],
                "summary": "Say hello.",
            },
            "DRAFT-QUEUE": {"title": "A draft queue idea", "status": SolutionStatus.DRAFT},
        },
    )
    queue = lib["SPEED-QUEUE"]
    manager = make_user(Role.MANAGER, units=[units["D1"]], email="maya@example.com")
    return {"units": units, "manager": manager, "queue": queue}


def adoptions(db) -> list[Adoption]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Adoption).order_by(Adoption.id)))


def audit_events(db, action: str = "adoption.create") -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


def adopt(client, unit="S1", **fields):
    data = {"solution": "SOP-TILL", "owner": "Marie Dupont", "due_on": DUE.isoformat()}
    data.update(fields)
    return client.post(f"/units/{unit}/plan", data=data)


# --- Finding --------------------------------------------------------------------------------


def test_a_manager_searches_solutions_for_their_unit(world, login):
    response = login(world["manager"]).get("/units/S1/plan/find?q=queue")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    text = visible_text(page)
    assert "Find a solution for Store 1" in text
    assert "2 solutions for “queue”" in text
    assert "Long checkout queues" not in re.sub(r"<select.*?</select>", "", page, flags=re.S)
    assert re.search(r"When the <mark[^>]*>queue</mark> passes", page)
    assert page.count('action="/units/S1/plan"') == 2
    assert '<input id="solution-SOP-TILL" name="solution" type="hidden" value="SOP-TILL">' in page
    assert '<label class="field__label" for="owner-SOP-TILL">Owner</label>' in page
    assert 'href="/units/S1">Store 1</a>' in page  # the breadcrumb leads back
    # Due, unless the manager says otherwise, at the end of the 90-day focus window.
    due = (date.today() + timedelta(days=90)).isoformat()
    assert re.search(rf'<input[^>]*id="due_on-SOP-TILL"[^>]*value="{due}"', page), due


def test_only_approved_solutions_are_offered_even_to_curators(world, client_as):
    text = visible_text(client_as(Role.CX_LEAD).get("/units/S1/plan/find").get_data(as_text=True))
    assert "3 solutions" in text
    assert "A draft queue idea" not in text
    assert "Long checkout queues" in text  # as a category of a solution, not as a result


def test_a_challenge_narrows_the_search_and_is_chosen_in_each_form(world, login):
    page = login(world["manager"]).get("/units/S1/plan/find?challenge=SPEED-QUEUE")
    html = page.get_data(as_text=True)
    text = visible_text(html)
    assert "Solutions for the challenge Long checkout queues" in text
    assert "2 solutions" in text and "Greeting every customer" not in text
    assert '<option selected value="SPEED-QUEUE">Long checkout queues</option>' in html
    assert 'href="/units/S1/plan/find">Search the whole library</a>' in html
    # The retired challenge is never offered.
    assert "Queues of old" not in html


def test_a_top_level_challenge_finds_the_solutions_below_it(world, login):
    text = visible_text(
        login(world["manager"]).get("/units/S1/plan/find?challenge=SPEED").get_data(as_text=True)
    )
    assert "2 solutions" in text and "Open a third till at rush hour" in text


def test_unknown_or_retired_challenges_are_ignored(world, login):
    client = login(world["manager"])
    for code in ("NOPE", "OLD-QUEUE"):
        response = client.get(f"/units/S1/plan/find?challenge={code}")
        assert response.status_code == 200
        assert "3 solutions" in visible_text(response.get_data(as_text=True))


def test_a_typo_is_corrected_in_the_plan_search_too(world, login):
    page = login(world["manager"]).get("/units/S1/plan/find?q=grteeting").get_data(as_text=True)
    assert "showing results for “greeting”" in visible_text(page)
    assert 'href="/units/S1/plan/find?q=greeting"' in page
    assert "Greeting every customer" in page


def test_nothing_found_suggests_what_to_try(world, login):
    url = "/units/S1/plan/find?q=zzyzx&challenge=SPEED-QUEUE"
    text = visible_text(login(world["manager"]).get(url).get_data(as_text=True))
    assert "No solution found for “zzyzx”" in text
    assert "Search the whole library" in text


def test_solutions_already_in_the_plan_say_so(world, db, login):
    adopt(login(world["manager"]))
    page = login(world["manager"]).get("/units/S1/plan/find?q=queue").get_data(as_text=True)
    assert "Planned Already in the plan, due" in visible_text(page)
    assert page.count('action="/units/S1/plan"') == 1  # only the other one can be added


def test_the_find_step_survives_a_broken_index(world, app, login, tmp_path):
    client = login(world["manager"])
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    app.config["SEARCH_INDEX_PATH"] = str(blocker / "search-index")
    response = client.get("/units/S1/plan/find?q=queue")
    assert response.status_code == 503
    assert "Search is unavailable for a moment." in visible_text(response.get_data(as_text=True))


# --- Adopting -------------------------------------------------------------------------------


def test_adding_a_solution_plans_it_and_records_who_did(world, db, login):
    client = login(world["manager"])
    response = adopt(client, challenge="SPEED-QUEUE", owner="  Marie Dupont ")
    assert response.status_code == 302
    assert response.location == "/units/S1#plan-heading"
    [item] = adoptions(db)
    assert item.unit.code == "S1" and item.solution.code == "SOP-TILL"
    assert item.challenge.code == "SPEED-QUEUE"
    assert item.status == AdoptionStatus.PLANNED
    assert (item.owner, item.due_on, item.effective_on) == ("Marie Dupont", DUE, None)
    assert item.created_by_id == world["manager"].id
    [event] = audit_events(db)
    assert event.user_id == world["manager"].id and event.entity_id == str(item.id)
    assert event.details["solution"] == "SOP-TILL" and event.details["unit"] == "S1"
    text = visible_text(client.get("/units/S1").get_data(as_text=True))
    assert "“Open a third till at rush hour” is in the action plan of Store 1." in text
    assert "Action plan 1" in text
    assert "Open a third till at rush hour for Long checkout queues Planned Marie Dupont" in text


def test_a_challenge_is_optional(world, db, login):
    assert adopt(login(world["manager"]), challenge="").status_code == 302
    assert adoptions(db)[0].challenge_id is None


def test_a_solution_cannot_be_added_twice(world, db, login):
    client = login(world["manager"])
    adopt(client)
    response = adopt(client, owner="Paul Martin", due_on=(DUE + timedelta(days=9)).isoformat())
    assert response.status_code == 302
    [item] = adoptions(db)  # the first plan item, untouched
    assert (item.owner, item.due_on) == ("Marie Dupont", DUE)
    assert len(audit_events(db)) == 1
    text = visible_text(client.get("/units/S1").get_data(as_text=True))
    assert "“Open a third till at rush hour” is already in the action plan of Store 1" in text


def test_an_unapproved_solution_is_refused(world, db, client_as):
    response = adopt(client_as(Role.CX_LEAD), solution="DRAFT-QUEUE")
    assert response.status_code == 302
    assert adoptions(db) == [] and audit_events(db) == []


def test_the_refusal_of_an_unapproved_solution_says_why(world, db, client_as):
    client = client_as(Role.CX_LEAD)
    adopt(client, solution="DRAFT-QUEUE")
    text = visible_text(client.get("/units/S1").get_data(as_text=True))
    assert "“A draft queue idea” is not an approved solution of the library (draft)" in text


def test_a_manager_cannot_tell_a_draft_from_a_missing_solution(world, db, login):
    client = login(world["manager"])
    for code in ("DRAFT-QUEUE", "NOPE"):
        adopt(client, solution=code)
        text = visible_text(client.get("/units/S1").get_data(as_text=True))
        assert f"There is no solution with the code “{code}”." in text
    assert adoptions(db) == []


def test_invalid_fields_are_shown_again_with_the_input_kept(world, db, login):
    client = login(world["manager"])
    response = adopt(client, owner="", due_on="", q="queue")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    text = visible_text(page)
    assert "Say who owns this action." in text and "Choose the date it is due." in text
    assert 'href="/units/S1/plan/find?q=queue"' in page  # back to the search
    past = adopt(client, owner="Marie Dupont", due_on="2020-01-31")
    assert past.status_code == 400
    page = past.get_data(as_text=True)
    assert "The due date is in the past" in visible_text(page)
    assert 'value="Marie Dupont"' in page and 'value="2020-01-31"' in page
    garbled = adopt(client, due_on="next week")
    assert "Give the due date as a date" in visible_text(garbled.get_data(as_text=True))
    unknown = adopt(client, challenge="NOPE")
    assert unknown.status_code == 400
    assert "Choose one of the listed challenges." in visible_text(unknown.get_data(as_text=True))
    assert adoptions(db) == [] and audit_events(db) == []


def test_the_unit_page_offers_the_find_step_to_those_who_may_plan(world, login, client_as):
    manager = login(world["manager"])
    assert 'id="find-solution" href="/units/S1/plan/find"' in manager.get("/units/S1").get_data(
        as_text=True
    )
    manager.post("/logout")
    page = client_as(Role.STAFF).get("/units/S1").get_data(as_text=True)
    assert "/plan/find" not in page


# --- Who may ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "allowed"), [(Role.STAFF, False), (Role.CX_LEAD, True), (Role.ADMIN, True)]
)
def test_only_managers_in_scope_and_curators_change_a_plan(world, db, client_as, role, allowed):
    client = client_as(role)
    assert client.get("/units/S3/plan/find").status_code == (200 if allowed else 403)
    assert adopt(client, unit="S3").status_code == (302 if allowed else 403)
    assert len(adoptions(db)) == (1 if allowed else 0)


def test_a_manager_is_refused_units_outside_their_scope(world, db, login):
    client = login(world["manager"])
    assert client.get("/units/S3/plan/find").status_code == 403
    response = adopt(client, unit="S3")
    assert response.status_code == 403
    assert "Only this unit's managers and the CX leads" in html.unescape(
        response.get_data(as_text=True)
    )
    assert adoptions(db) == []
    assert client.get("/units/S2/plan/find").status_code == 200  # below their district


def test_an_unknown_unit_is_not_found(world, login):
    client = login(world["manager"])
    assert client.get("/units/NOPE/plan/find").status_code == 404
    assert adopt(client, unit="NOPE").status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(world, client, db):
    for response in (client.get("/units/S1/plan/find"), adopt(client)):
        assert response.status_code == 302 and "/login" in response.location
    assert adoptions(db) == []


def test_adding_without_the_csrf_token_is_refused(world, app, db, login):
    client = login(world["manager"])
    app.config["WTF_CSRF_ENABLED"] = True
    assert adopt(client).status_code == 400
    assert adoptions(db) == []


# --- Evidence at the point of decision ----------------------------------------------------------


def _measured(*, till_rank: int, line_rank: int, region_units: int) -> None:
    """TRN-LINE ranked above or below SOP-TILL company-wide, and the till's effect among the
    region R1's adopting units (``region_units`` of them; no figure below 5)."""
    enough = region_units >= 5
    impact_run(
        {"SOP-TILL": (0.4, 0.3, 0.5, till_rank), "TRN-LINE": (0.2, 0.1, 0.3, line_rank)},
        regions={
            ("R1", "SOP-TILL"): (0.9, 0.5, 1.3, region_units)
            if enough
            else (None, None, None, region_units)
        },
    )


def test_a_challenge_lists_its_solutions_best_evidence_first_with_similar_units(world, login, db):
    _measured(till_rank=2, line_rank=1, region_units=6)
    page = login(world["manager"]).get("/units/S1/plan/find?challenge=SPEED-QUEUE")
    html = page.get_data(as_text=True)
    text = visible_text(html)
    # Ranked first by the evidence, not by the words.
    assert html.index('id="candidate-TRN-LINE"') < html.index('id="candidate-SOP-TILL"')
    assert "Measured effect: #1 +0.20 pts" in text
    # What worked at similar units: the store's region, labelled as such, with its interval.
    similar = visible_text(re.search(r'<span id="similar-SOP-TILL">.*?</span>', html, re.S)[0])
    assert similar == "Similar units (North region): 6 units · +0.90 pts (+0.50 to +1.30)"
    # Asked for relevance, the words decide again.
    relevance = login(world["manager"]).get(
        "/units/S1/plan/find?challenge=SPEED-QUEUE&sort=relevance"
    )
    assert '<option value="relevance" selected>' in relevance.get_data(as_text=True)


def test_too_few_similar_units_fall_back_to_the_company_figure(world, login, db):
    _measured(till_rank=1, line_rank=2, region_units=2)
    html = (
        login(world["manager"])
        .get("/units/S1/plan/find?challenge=SPEED-QUEUE")
        .get_data(as_text=True)
    )
    assert html.index('id="candidate-SOP-TILL"') < html.index('id="candidate-TRN-LINE"')
    similar = visible_text(
        re.search(r'<span class="muted" id="similar-SOP-TILL">.*?</span>', html, re.S)[0]
    )
    assert similar == "Company-wide: 9 units (too few in North region)"
