"""The home page: a public intro when signed out, the headline counts when signed in."""

from __future__ import annotations

from datetime import date

from cxactions.auth.models import Role
from cxactions.foundations.vocabulary import AdoptionStatus
from cxactions.plans.models import Adoption
from cxactions.surveys.aggregates import refresh_unit_weeks
from cxactions.surveys.models import Response
from tests.factories import small_library, unit_tree
from tests.pages import visible_text


def _populate(db):
    units = unit_tree()
    # Three challenges (SPEED > QUEUE and the gap HOLD), SOP-TILL and a pending proposal.
    lib = small_library(
        staff=False,
        training=False,
        retired=False,
        challenges={"SPEED-HOLD": {"name": "Long hold times", "parent": "SPEED"}},
        commit=False,
    )
    fix = lib["SOP-TILL"]
    for index, day in enumerate([date(2024, 3, 4), date(2024, 3, 5), date(2024, 3, 12)]):
        db.session.add(
            Response(response_key=f"r{index}", unit_id=units["S1"].id, responded_on=day, overall=8)
        )
    db.session.flush()
    refresh_unit_weeks(db.session)
    db.session.add(Adoption(unit=units["S1"], solution=fix, status=AdoptionStatus.IMPLEMENTED))
    db.session.commit()
    return units


def test_signed_out_home_shows_a_short_intro_and_no_figures(client, db):
    _populate(db)
    page = client.get("/").get_data(as_text=True)
    assert "Turn what customers say into fixes that work" in page
    assert 'href="/login"' in page
    assert "approved solutions" not in page


def test_fresh_install_suggests_the_demo_or_an_import(client_as):
    page = client_as(Role.CX_LEAD).get("/").get_data(as_text=True)
    assert "Nothing here yet" in page
    assert "cxactions demo" in page
    assert "cxactions import units" in page


def test_home_counts_the_library_and_the_organisation(db, client_as):
    _populate(db)
    response = client_as(Role.CX_LEAD).get("/")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Nothing here yet" not in page
    text = visible_text(page)
    for figure in [
        "3 challenges",
        "1 approved solutions",
        "7 units",
        "3 survey responses",
        "1 implemented adoptions",
        "1 solution waiting for moderation",
        "1 challenge with no approved solution",
    ]:
        assert figure in text
    assert "waiting for moderation" in page
    assert 'href="/desk"' in page
    assert "gaps in the library" in page


def test_pending_count_is_for_curators_only(db, client_as):
    _populate(db)
    page = client_as(Role.STAFF).get("/").get_data(as_text=True)
    assert "waiting for moderation" not in page
    assert "For curators" not in page


def test_a_manager_finds_links_to_their_units(db, make_user, login):
    units = _populate(db)
    manager = make_user(Role.MANAGER, units=[units["D1"]])
    page = login(manager).get("/").get_data(as_text=True)
    assert "My units" in page
    assert 'href="/units/D1"' in page
    assert "Lakeside district" in page


def test_a_manager_without_units_is_told_whom_to_ask(db, client_as):
    _populate(db)
    page = client_as(Role.MANAGER).get("/").get_data(as_text=True)
    assert "No unit assigned to you yet" in page
