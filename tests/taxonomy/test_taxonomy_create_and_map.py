"""CX leads create challenges and categories in the browser, and map solutions from the
challenge's side; each change is audited, refused clearly when wrong, and reaches the solution
pages and the search index."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from cxactions.audit.models import AuditEvent
from cxactions.auth.models import Role
from cxactions.foundations.changes import RefusedChange
from cxactions.foundations.extensions import db as _db
from cxactions.foundations.vocabulary import ChallengeStatus, SolutionStatus
from cxactions.library.models import Solution
from cxactions.search.models import SearchOutbox
from cxactions.search.service import SearchOptions, search
from cxactions.taxonomy import services
from cxactions.taxonomy.models import Challenge
from tests.factories import challenge, solution
from tests.pages import visible_text


def found(query: str, doc_type: str = "solution", **options) -> set[str]:
    result = search(_db.session, query, SearchOptions(doc_type=doc_type, per_page=50, **options))
    return {hit.id for hit in result.results}


def events(db, action: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


def get(db, code: str) -> Challenge | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(Challenge).where(Challenge.code == code))


def challenge_count(db) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Challenge))


def mapped_codes(db, code: str) -> set[str]:
    return {item.code for item in get(db, code).solutions}


@pytest.fixture
def taxonomy(db):
    """SPEED (QUEUE, HOLD), OLD (retired); SOP-TILL on QUEUE, SOP-BOARD and SOP-CALL approved
    and unmapped, SOP-DRAFT a draft, SOP-GONE retired but mapped to HOLD."""
    speed = challenge("SPEED", "Speed and responsiveness")
    queue = challenge("SPEED-QUEUE", "Long checkout queues", parent=speed)
    hold = challenge("SPEED-HOLD", "Long phone hold times", parent=speed, position=1)
    challenge("OLD", "Fax replies", status=ChallengeStatus.RETIRED, position=1)
    solution("SOP-TILL", "Open a till at three", challenges=[queue])
    solution("SOP-BOARD", "Queue board by the door")
    solution("SOP-CALL", "Offer a callback")
    solution("SOP-DRAFT", "A draft idea", status=SolutionStatus.DRAFT)
    solution("SOP-GONE", "Fax the answer", status=SolutionStatus.RETIRED, challenges=[hold])
    db.session.commit()


@pytest.fixture
def curator(make_user):
    return make_user(Role.CX_LEAD)


# --- Creating challenges and categories ----------------------------------------------------


def test_a_curator_creates_a_category_then_a_challenge_in_it(db, taxonomy, client_as):
    client = client_as(Role.CX_LEAD)
    tree = client.get("/challenges").get_data(as_text=True)
    assert 'href="/challenges/new"' in tree
    assert 'href="/challenges/new?parent=SPEED"' in tree  # "New challenge here" on a category

    form = client.get("/challenges/new")
    assert form.status_code == 200
    page = form.get_data(as_text=True)
    assert '<option selected value="">' in page  # no parent: a top-level category
    assert 'value="OLD"' not in page  # nothing goes under a retired challenge
    response = client.post(
        "/challenges/new",
        data={
            "code": "STORE",
            "name": "  Store upkeep ",
            "name_fr": "Entretien du magasin",
            "description": "Clean, tidy, working.",
            "keywords": "dirty\nsale\nDirty",
            "parent": "",
        },
    )
    assert response.status_code == 302 and response.location.endswith("/challenges/STORE")
    store = get(db, "STORE")
    assert store.parent_id is None and store.status == ChallengeStatus.ACTIVE
    assert store.name == "Store upkeep" and store.name_fr == "Entretien du magasin"
    assert store.keywords == "dirty\nsale"
    assert store.position == 2  # after SPEED (0) and OLD (1)

    # The new category's page offers "New challenge here", which preselects it.
    category_page = client.get("/challenges/STORE").get_data(as_text=True)
    assert 'href="/challenges/new?parent=STORE"' in category_page
    form = client.get("/challenges/new?parent=STORE").get_data(as_text=True)
    assert '<option selected value="STORE">' in form
    response = client.post(
        "/challenges/new", data={"code": "STORE-LIGHT", "name": "Dim lights", "parent": "STORE"}
    )
    assert response.status_code == 302
    light = get(db, "STORE-LIGHT")
    assert light.parent.code == "STORE" and light.position == 0
    assert [child.code for child in get(db, "STORE").children] == ["STORE-LIGHT"]
    assert "Dim lights" in client.get("/challenges").get_data(as_text=True)

    # A challenge added under SPEED comes last among its siblings.
    client.post("/challenges/new", data={"code": "SPEED-PAY", "name": "Slow card payments",
                                         "parent": "SPEED"})  # fmt: skip
    assert get(db, "SPEED-PAY").position == 2
    assert [c.code for c in get(db, "SPEED").children][-1] == "SPEED-PAY"

    created = events(db, "challenge.create")
    assert [event.details["code"] for event in created] == ["STORE", "STORE-LIGHT", "SPEED-PAY"]
    assert created[1].details == {
        "code": "STORE-LIGHT",
        "name": "Dim lights",
        "parent": "STORE",
        "position": 0,
    }
    assert created[0].user_id is not None
    # The search index follows: the challenge is found, in French too.
    assert "STORE-LIGHT" in found("dim lights", doc_type="challenge")
    assert "STORE" in found("entretien", doc_type="challenge")


def test_a_code_left_empty_is_made_from_the_name(db, taxonomy, curator):
    first = services.create_challenge(db.session, {"name": "Rayons vides à l’été!"}, curator)
    assert first.code == "RAYONS-VIDES-A-L-ETE"
    again = services.create_challenge(db.session, {"name": "Rayons vides à l'été"}, curator)
    assert again.code == "RAYONS-VIDES-A-L-ETE-2"
    # "new" is the creation page's address, never a code.
    assert services.create_challenge(db.session, {"name": "New"}, curator).code == "NEW-2"
    # Made codes are unique ignoring case, like typed ones.
    challenge("long-wait", "Long wait")
    db.session.commit()
    assert services.create_challenge(db.session, {"name": "Long wait"}, curator).code == (
        "LONG-WAIT-2"
    )


def test_the_form_makes_the_code_when_it_is_left_empty(db, taxonomy, client_as):
    response = client_as(Role.CX_LEAD).post(
        "/challenges/new", data={"code": " ", "name": "Dirty fitting rooms", "parent": "SPEED"}
    )
    assert response.status_code == 302
    assert response.location.endswith("/challenges/DIRTY-FITTING-ROOMS")
    assert get(db, "DIRTY-FITTING-ROOMS").parent.code == "SPEED"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"code": "SPEED-QUEUE"},
            "code",
            "The code “SPEED-QUEUE” is already used by another challenge; choose another one.",
        ),
        (
            {"code": "speed-queue"},
            "code",
            "The code “speed-queue” differs only by case from the existing challenge "
            "“SPEED-QUEUE”: codes are unique ignoring case; choose another one.",
        ),
        ({"code": "old"}, "code", "differs only by case from the existing challenge “OLD”"),
        ({"code": "NEW"}, "code", "“NEW” is reserved; choose another code."),
        ({"code": "A/B"}, "code", "may only hold letters, digits"),
        ({"code": "X" * 65}, "code", "at most 64 characters long"),
        ({"parent": "NOPE"}, "parent", "There is no challenge with the code “NOPE”."),
        (
            {"parent": "OLD"},
            "parent",
            "OLD is retired: an active challenge under it would be hidden",
        ),
        ({"name": "  "}, "name", "A challenge needs a name."),
        ({"name": "x" * 201}, "name", "keep it to 200"),
        ({"name_fr": "x" * 201}, "name_fr", "The French name is 201 characters long"),
        ({"status": "retired"}, None, "Unknown challenge field: status."),
    ],
)
def test_an_invalid_challenge_is_refused_with_a_specific_message_and_writes_nothing(
    db, taxonomy, curator, data, field, message
):
    before = challenge_count(db)
    with pytest.raises(RefusedChange, match=re.escape(message)) as error:
        services.create_challenge(db.session, {"name": "Slow refunds", **data}, curator)
    assert error.value.field == field
    db.session.rollback()
    assert challenge_count(db) == before
    assert not events(db, "challenge.create")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SearchOutbox)) == 0
    assert not found("refunds", doc_type="challenge")


def test_a_refused_form_is_shown_again_with_the_input_kept(db, taxonomy, client_as):
    client = client_as(Role.CX_LEAD)
    typed = {
        "code": "speed-queue",
        "name": "Slow refunds",
        "name_fr": "Remboursements lents",
        "description": "Refunds take days.",
        "description_fr": "Les remboursements prennent des jours.",
        "keywords": "refund\nremboursement",
        "parent": "SPEED",
    }
    response = client.post("/challenges/new", data=typed)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "codes are unique ignoring case" in visible_text(page)
    assert "Nothing was saved." in page
    assert 'value="speed-queue"' in page and 'value="Slow refunds"' in page
    assert 'value="Remboursements lents"' in page
    assert "Refunds take days.</textarea>" in page
    assert "Les remboursements prennent des jours.</textarea>" in page
    assert "refund\nremboursement</textarea>" in page
    assert '<option selected value="SPEED">' in page

    # An unknown parent stays selected beside its error.
    response = client.post("/challenges/new", data={**typed, "code": "", "parent": "NOPE"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "There is no challenge with the code “NOPE”." in visible_text(page)
    assert '<option selected value="NOPE">' in page
    # No name: the form says so and keeps the rest.
    response = client.post("/challenges/new", data={**typed, "code": "REFUNDS", "name": ""})
    assert response.status_code == 400
    assert "A challenge needs a name." in response.get_data(as_text=True)
    assert get(db, "REFUNDS") is None and not events(db, "challenge.create")


def test_a_code_taken_at_the_last_moment_is_a_clear_refusal(db, taxonomy, curator, monkeypatch):
    # Another curator saves the same code between the check and the insert.
    monkeypatch.setattr(services, "check_new_code", lambda session, column, code, **_: code)
    with pytest.raises(RefusedChange, match="was just taken by another challenge") as error:
        services.create_challenge(db.session, {"code": "speed-QUEUE", "name": "Dup"}, curator)
    assert error.value.field == "code"
    assert challenge_count(db) == 4  # the fixture's, none added
    assert not events(db, "challenge.create")


# --- Mapping solutions from the challenge's side --------------------------------------------


def test_mapping_from_the_challenge_reaches_the_solution_page_and_search(db, taxonomy, client_as):
    client = client_as(Role.CX_LEAD)
    assert "SOP-BOARD" not in found("phone hold")
    assert "SOP-BOARD" not in found("", challenge="SPEED-HOLD")
    page = client.get("/challenges/SPEED-HOLD").get_data(as_text=True)
    assert 'href="/challenges/SPEED-HOLD/solutions"' in page  # "Map solutions"

    form = client.get("/challenges/SPEED-HOLD/solutions")
    assert form.status_code == 200
    html = form.get_data(as_text=True)
    datalist = html[html.index('<datalist id="mappable-solutions">') :]
    datalist = datalist[: datalist.index("</datalist>")]
    # Approved and not yet mapped: offered. Drafts, retired and mapped ones: not.
    assert re.findall(r'value="([^"]+)"', datalist) == ["SOP-CALL", "SOP-TILL", "SOP-BOARD"]
    assert 'id="mapped-solutions"' in html and "Fax the answer" in html  # mapped, retired

    response = client.post(
        "/challenges/SPEED-HOLD/solutions", data={"add": "sop-board, SOP-TILL;SOP-board"}
    )
    assert response.status_code == 302
    assert response.location.endswith("/challenges/SPEED-HOLD/solutions")
    assert mapped_codes(db, "SPEED-HOLD") == {"SOP-BOARD", "SOP-TILL", "SOP-GONE"}
    assert mapped_codes(db, "SPEED-QUEUE") == {"SOP-TILL"}  # the other mapping stays
    (event,) = events(db, "challenge.map_solutions")
    assert event.details == {
        "code": "SPEED-HOLD",
        "added": ["SOP-BOARD", "SOP-TILL"],
        "removed": [],
    }
    assert event.user_id is not None

    # The solution's page lists the challenge, and search finds the solution by it.
    solution_page = client.get("/solutions/SOP-BOARD").get_data(as_text=True)
    assert 'href="/challenges/SPEED-HOLD"' in solution_page
    assert "SOP-BOARD" in found("phone hold")
    assert {"SOP-BOARD", "SOP-TILL"} <= found("", challenge="SPEED-HOLD")
    assert "Queue board by the door" in client.get("/challenges/SPEED-HOLD").get_data(as_text=True)

    # Unmap SOP-BOARD and SOP-GONE, map SOP-CALL: one save, one event.
    response = client.post(
        "/challenges/SPEED-HOLD/solutions",
        data={"remove": ["SOP-BOARD", "SOP-GONE"], "add": "SOP-CALL"},
    )
    assert response.status_code == 302
    assert mapped_codes(db, "SPEED-HOLD") == {"SOP-TILL", "SOP-CALL"}
    event = events(db, "challenge.map_solutions")[-1]
    assert event.details["added"] == ["SOP-CALL"]
    assert sorted(event.details["removed"]) == ["SOP-BOARD", "SOP-GONE"]
    assert 'href="/challenges/SPEED-HOLD"' not in client.get("/solutions/SOP-BOARD").get_data(
        as_text=True
    )
    assert "SOP-BOARD" not in found("phone hold")
    assert "SOP-BOARD" not in found("", challenge="SPEED-HOLD")
    assert "SOP-CALL" in found("phone hold")


def test_saving_the_same_mapping_writes_nothing(db, taxonomy, client_as):
    client = client_as(Role.CX_LEAD)
    response = client.post("/challenges/SPEED-QUEUE/solutions", data={"add": "SOP-TILL"})
    assert response.status_code == 302
    follow = client.get(response.location).get_data(as_text=True)
    assert "Nothing changed." in follow
    assert not events(db, "challenge.map_solutions")
    # Ticked for removal and typed to add: it stays.
    client.post("/challenges/SPEED-QUEUE/solutions", data={"remove": "SOP-TILL", "add": "SOP-TILL"})
    assert mapped_codes(db, "SPEED-QUEUE") == {"SOP-TILL"}
    assert not events(db, "challenge.map_solutions")


@pytest.mark.parametrize(
    ("code", "add", "message"),
    [
        (
            "SPEED-HOLD",
            "SOP-BOARD NOPE nope-2",
            "There are no solutions with the codes NOPE, nope-2.",
        ),
        ("SPEED-HOLD", "NOPE", "There is no solution with the code NOPE."),
        (
            "SPEED-HOLD",
            "SOP-BOARD sop-draft",
            "SOP-DRAFT (draft) is not approved: only approved solutions can be mapped here.",
        ),
        ("OLD", "SOP-BOARD", "OLD is retired: no solution can be newly mapped to it"),
    ],
)
def test_a_refused_mapping_says_why_keeps_the_input_and_writes_nothing(
    db, taxonomy, client_as, code, add, message
):
    before = mapped_codes(db, code)
    response = client_as(Role.CX_LEAD).post(
        f"/challenges/{code}/solutions", data={"add": add, "remove": sorted(before)}
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in visible_text(page)
    assert f'value="{add}"' in page  # the add field as typed
    for kept in before:  # the ticked boxes stay ticked
        assert re.search(rf'checked[^>]*value="{kept}"|value="{kept}"[^>]*checked', page)
    assert mapped_codes(db, code) == before
    assert not events(db, "challenge.map_solutions")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SearchOutbox)) == 0


def test_a_retired_challenge_can_lose_solutions_but_gains_none(db, taxonomy, curator):
    # A mapping made before the challenge was retired may still be removed from its side.
    old = get(db, "OLD")
    old.solutions.append(db.session.scalar(sa.select(Solution).where(Solution.code == "SOP-TILL")))
    db.session.commit()
    assert services.map_solutions(get(db, "OLD"), remove=["sop-till"], user=curator) == (
        [],
        ["SOP-TILL"],
    )
    assert mapped_codes(db, "OLD") == set()
    assert mapped_codes(db, "SPEED-QUEUE") == {"SOP-TILL"}
    with pytest.raises(RefusedChange, match="OLD is retired") as error:
        services.map_solutions(get(db, "OLD"), add=["SOP-TILL"], user=curator)
    assert error.value.field == "add"
    assert mapped_codes(db, "OLD") == set()


def test_the_add_list_and_the_number_of_codes_are_bounded(db, taxonomy, curator):
    hold = get(db, "SPEED-HOLD")
    assert [s.code for s in services.mappable_solutions(db.session, hold, limit=2)] == [
        "SOP-CALL",
        "SOP-TILL",
    ]
    assert len(services.mappable_solutions(db.session, hold, limit=10**9)) == 3
    too_many = [f"SOP-{number}" for number in range(services.ADD_MAX + 1)]
    with pytest.raises(RefusedChange, match=f"add at most {services.ADD_MAX} in one save"):
        services.map_solutions(hold, add=too_many, user=curator)


def test_the_mapping_page_of_a_retired_challenge_offers_removal_only(db, taxonomy, client_as):
    page = client_as(Role.CX_LEAD).get("/challenges/OLD/solutions").get_data(as_text=True)
    assert "you can unmap its solutions, but not map new ones" in page
    assert 'name="add"' not in page and "<datalist" not in page


# --- Who may do it ------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.STAFF, Role.MANAGER])
def test_staff_and_managers_may_not_create_challenges_or_map_solutions(
    db, taxonomy, client_as, role
):
    client = client_as(role)
    for path in ("/challenges/new", "/challenges/new?parent=SPEED", "/challenges/SPEED/solutions"):
        assert client.get(path).status_code == 403, path
    response = client.post("/challenges/new", data={"code": "HACK", "name": "Hack"})
    assert response.status_code == 403
    response = client.post(
        "/challenges/SPEED-HOLD/solutions", data={"add": "SOP-BOARD", "remove": "SOP-GONE"}
    )
    assert response.status_code == 403
    assert get(db, "HACK") is None
    assert mapped_codes(db, "SPEED-HOLD") == {"SOP-GONE"}
    assert not events(db, "challenge.create") and not events(db, "challenge.map_solutions")
    # Nor are they offered the links.
    assert "/challenges/new" not in client.get("/challenges").get_data(as_text=True)
    page = client.get("/challenges/SPEED-HOLD").get_data(as_text=True)
    assert "/challenges/SPEED-HOLD/solutions" not in page and "/challenges/new" not in page
