"""Who may open which page, for every role and every page."""

from __future__ import annotations

from datetime import date

import pytest
from flask_login import AnonymousUserMixin

from cxactions.auth.models import Role, User
from cxactions.auth.permissions import can_view_solution, can_view_unit, managed_unit_ids
from cxactions.foundations.vocabulary import AdoptionStatus, SolutionStatus
from cxactions.plans.models import Adoption
from tests.factories import challenge, solution, unit_tree

PAGES = [
    "/challenges",
    "/challenges/SPEED-QUEUE",
    "/solutions",
    "/solutions/SOP-TILL",
    "/units",
    "/units/S1",
    "/units/S1/adoptions/SOP-TILL",
    "/impact",
    "/impact.csv",
    "/impact/solutions/SOP-TILL",
    "/impact/methods",
    "/impact/gaps",
    "/search",
    "/search?q=queue&kind=sop",
    "/search.json?q=queue",
    "/company",
    "/drivers",
    "/metrics",
]
UNAPPROVED = [status for status in SolutionStatus if status != SolutionStatus.APPROVED]
# Pages anyone may open, signed in or not.
PUBLIC_ENDPOINTS = {"static", "web.home", "web.health", "auth.login"}


@pytest.fixture
def world(db, make_user):
    """A region R1 with districts D1 (S1, S2) and D2 (S3, S4), a challenge and its solutions;
    S1 and S3 implemented one of them."""
    units = unit_tree()
    queue = challenge("SPEED-QUEUE", "Long checkout queues")
    till = solution("SOP-TILL", "Open a till at three", challenges=[queue])
    for code in ("S1", "S3"):
        db.session.add(
            Adoption(
                unit=units[code],
                solution=till,
                status=AdoptionStatus.IMPLEMENTED,
                effective_on=date(2024, 5, 6),
            )
        )
    author = make_user(Role.STAFF, email="author@example.com")
    proposals = {
        status: solution(f"PROP-{status.value}", f"A {status.value} idea", status=status)
        for status in UNAPPROVED
    }
    for proposal in proposals.values():
        proposal.author_id = author.id
    db.session.commit()
    return {"units": units, "author": author, "proposals": proposals}


def _user(make_user, world, role: Role) -> User:
    # Staff and managers work in district D1; CX leads and admins see every unit.
    scope = [world["units"]["D1"]] if role in (Role.STAFF, Role.MANAGER) else []
    return make_user(role, units=scope)


def test_the_home_page_is_public(client, world):
    assert client.get("/").status_code == 200


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(client, world, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.location.startswith("/login?next=")


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("role", list(Role))
def test_every_role_opens_every_page_in_its_scope(world, make_user, login, role, path):
    response = login(_user(make_user, world, role)).get(path)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]


@pytest.mark.parametrize(
    "path", ["/units/S3", "/units/D2", "/units/R1", "/units/S3/adoptions/SOP-TILL"]
)
def test_a_manager_outside_their_scope_is_refused(world, make_user, login, path):
    response = login(_user(make_user, world, Role.MANAGER)).get(path)
    assert response.status_code == 403
    assert "outside the units you look after" in response.get_data(as_text=True)


def test_a_manager_of_a_region_sees_every_store_below_it(world, make_user, login):
    manager = make_user(Role.MANAGER, units=[world["units"]["R1"]])
    client = login(manager)
    for code in ["R1", "D2", "S3", "S4"]:
        assert client.get(f"/units/{code}").status_code == 200


def test_a_manager_without_units_sees_none(world, make_user, login):
    client = login(make_user(Role.MANAGER))
    assert client.get("/units/S1").status_code == 403
    assert "No unit assigned to you yet" in client.get("/units").get_data(as_text=True)


@pytest.mark.parametrize("role", [Role.STAFF, Role.MANAGER, Role.CX_LEAD, Role.ADMIN])
def test_a_pending_proposal_is_open_to_colleagues(world, make_user, login, role):
    """Colleagues vote and comment on proposals while they wait for review."""
    response = login(_user(make_user, world, role)).get("/solutions/PROP-pending")
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("role", "visible"),
    [(Role.STAFF, False), (Role.MANAGER, False), (Role.CX_LEAD, True), (Role.ADMIN, True)],
)
def test_a_draft_is_hidden_from_other_staff(world, make_user, login, role, visible):
    response = login(_user(make_user, world, role)).get("/solutions/PROP-draft")
    assert response.status_code == (200 if visible else 404)


@pytest.mark.parametrize("status", [s for s in UNAPPROVED if s != SolutionStatus.PENDING])
def test_only_the_author_and_curators_see_an_unapproved_solution(world, make_user, status):
    proposal = world["proposals"][status]
    assert can_view_solution(world["author"], proposal)
    assert can_view_solution(make_user(Role.CX_LEAD), proposal)
    assert not can_view_solution(make_user(Role.STAFF), proposal)
    assert not can_view_solution(make_user(Role.MANAGER), proposal)
    assert not can_view_solution(AnonymousUserMixin(), proposal)


def test_the_author_opens_their_own_proposal(world, login):
    assert login(world["author"]).get("/solutions/PROP-draft").status_code == 200


def test_anonymous_users_see_no_unit(world):
    assert not can_view_unit(AnonymousUserMixin(), world["units"]["S1"])


def test_managed_unit_ids_cover_the_subtree(world, make_user):
    manager = make_user(Role.MANAGER, units=[world["units"]["D1"]])
    units = world["units"]
    assert managed_unit_ids(manager) == {units["D1"].id, units["S1"].id, units["S2"].id}
    assert managed_unit_ids(make_user(Role.STAFF)) is None


def test_no_page_is_public_by_accident(app, world, client):
    """Every GET page of the app, except the few public ones, sends anonymous users to sign in:
    a new page that forgets its rule fails here."""
    checked = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS or "GET" not in (rule.methods or ()):
            continue
        values = {name: 1 if f"<int:{name}>" in rule.rule else "X" for name in rule.arguments}
        path = rule.build(values, append_unknown=False)[1]
        response = client.get(path)
        assert response.status_code in (302, 401), f"{rule.endpoint} ({path}) is public"
        if response.status_code == 302:
            assert "/login" in response.location, rule.endpoint
        checked.append(rule.endpoint)
    assert {
        "taxonomy.show_challenge",
        "library.list_solutions",
        "units.show_unit",
        "units.show_adoption",
        "impact.show_leaderboard",
        "impact.export_leaderboard",
        "impact.show_solution_impact",
        "impact.show_methods",
        "impact.show_gaps",
        "units.show_company",
        "drivers.show_drivers",
        "surveys.list_metrics",
        "search.search_library",
        "search.search_json",
        "plans.find_solution",
        "library.create_solution",
        "library.edit_solution",
        "library.merge_solution",
        "taxonomy.edit_challenge",
        "taxonomy.merge_challenge",
        "taxonomy.edit_signals",
    } <= set(checked)


@pytest.mark.parametrize(
    "path",
    [
        "/solutions/new",
        "/solutions/SOP-TILL/edit",
        "/solutions/SOP-TILL/merge",
        "/challenges/SPEED-QUEUE/edit",
        "/challenges/SPEED-QUEUE/merge",
        "/challenges/SPEED-QUEUE/signals",
    ],
)
@pytest.mark.parametrize("role", list(Role))
def test_only_curators_open_the_curation_pages(world, make_user, login, role, path):
    response = login(_user(make_user, world, role)).get(path)
    assert response.status_code == (200 if role in (Role.CX_LEAD, Role.ADMIN) else 403)


@pytest.mark.parametrize("role", list(Role))
def test_plan_pages_open_for_the_units_managers_and_curators(world, make_user, login, role):
    client = login(_user(make_user, world, role))
    allowed = role != Role.STAFF
    assert client.get("/units/S1/plan/find").status_code == (200 if allowed else 403)
    assert client.get("/units/S3/plan/find").status_code == (
        403 if role in (Role.STAFF, Role.MANAGER) else 200
    )
