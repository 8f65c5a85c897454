"""The solution list (filters, pagination) and the solution page."""

from __future__ import annotations

from cxactions.auth.models import Role
from cxactions.foundations.vocabulary import Level, SolutionKind, SolutionStatus
from tests.factories import small_library, solution
from tests.pages import visible_text


def _library(db):
    """A flat small library: the retired ``OLD`` is also on SOP-TILL; one French training,
    a pending proposal on no challenge and a retired solution."""
    small_library(
        categories=False,
        staff=False,
        challenges={"OLD": {"name": "An old problem"}},
        solutions={
            "SOP-TILL": {
                "challenges": ["SPEED-QUEUE", "OLD"],
                "summary": "A visible trigger.",
                "body": "## Why\n\nQueues **hurt**.\n\n- one\n- two",
                "steps": "Count the queue\nCall a backup cashier\n\n",
                "effort": Level.LOW,
                "cost": Level.MEDIUM,
                "owner": "Store operations",
            },
            "PEND-1": {"challenges": []},
            "TRN-FR": {
                "title": "Accueil en caisse",
                "kind": SolutionKind.TRAINING,
                "language": "fr",
            },
            "OLD-1": {"title": "A retired fix", "status": SolutionStatus.RETIRED},
        },
    )


def test_list_shows_approved_solutions_with_their_challenges(db, client_as):
    _library(db)
    response = client_as(Role.STAFF).get("/solutions")
    assert response.status_code == 200
    text = visible_text(response.get_data(as_text=True))
    assert "3 solutions" in text
    for title in ["Open a till at three", "Line-busting training", "Accueil en caisse"]:
        assert title in text
    assert "A pending proposal" not in text and "A retired fix" not in text
    assert "Long checkout queues" in text
    assert "An old problem" not in text


def test_list_filters_by_kind_and_language(db, client_as):
    _library(db)
    client = client_as(Role.STAFF)
    text = visible_text(client.get("/solutions?kind=training").get_data(as_text=True))
    assert "Line-busting training" in text and "Accueil en caisse" in text
    assert "Open a till at three" not in text
    text = visible_text(client.get("/solutions?kind=training&language=fr").get_data(as_text=True))
    assert "Accueil en caisse" in text and "Line-busting training" not in text
    assert "1 solution" in text


def test_unknown_filter_values_are_ignored(db, client_as):
    _library(db)
    response = client_as(Role.STAFF).get("/solutions?kind=nonsense&page=-3")
    assert response.status_code == 200
    assert "3 solutions" in visible_text(response.get_data(as_text=True))


def test_filters_that_match_nothing_say_so(db, client_as):
    _library(db)
    text = visible_text(client_as(Role.STAFF).get("/solutions?kind=asset").get_data(as_text=True))
    assert "No solution matches these filters" in text


def test_only_curators_may_list_other_statuses(db, client_as):
    _library(db)
    staff = client_as(Role.STAFF)
    assert "A pending proposal" not in staff.get("/solutions?status=pending").get_data(as_text=True)
    staff.post("/logout")
    curator = client_as(Role.CX_LEAD)
    text = visible_text(curator.get("/solutions?status=pending").get_data(as_text=True))
    assert "A pending proposal" in text
    assert "Open a till at three" not in text


def test_list_paginates_and_keeps_the_filters(db, client_as):
    for index in range(25):
        solution(f"SOP-{index:02}", f"Procedure {index:02}", language="fr")
    db.session.commit()
    client = client_as(Role.STAFF)
    first = client.get("/solutions?language=fr").get_data(as_text=True)
    assert "25 solutions · page 1 of 2" in visible_text(first)
    assert "Procedure 19" in first and "Procedure 20" not in first
    assert "/solutions?page=2&amp;language=fr" in first
    second = visible_text(client.get("/solutions?language=fr&page=2").get_data(as_text=True))
    assert "Procedure 20" in second and "Procedure 24" in second
    assert "Procedure 19" not in second
    past_the_end = visible_text(client.get("/solutions?page=9").get_data(as_text=True))
    assert "past the end" in past_the_end


def test_empty_library_says_how_to_fill_it(client_as):
    text = visible_text(client_as(Role.STAFF).get("/solutions").get_data(as_text=True))
    assert "The library is empty" in text
    assert "cxactions demo" in text


def test_solution_page_shows_everything_a_manager_needs(db, client_as):
    _library(db)
    response = client_as(Role.STAFF).get("/solutions/SOP-TILL")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    text = visible_text(page)
    assert "Open a till at three" in text and "A visible trigger." in text
    assert "<h2>Why</h2>" in page and "<strong>hurt</strong>" in page
    assert page.count('class="checklist__item"') == 2
    assert '<label for="step-2">' in page and "Call a backup cashier" in text
    assert "Effort Low" in text and "Cost Medium" in text
    assert "Store operations" in text
    assert 'href="/challenges/SPEED-QUEUE"' in page
    assert "An old problem" not in text  # retired challenges are for curators


def test_unknown_solution_is_not_found(client_as):
    response = client_as(Role.STAFF).get("/solutions/NOPE")
    assert response.status_code == 404
    assert "There is no solution with the code" in response.get_data(as_text=True)


def test_curators_see_a_retired_solution_with_a_notice(db, client_as):
    _library(db)
    page = client_as(Role.CX_LEAD).get("/solutions/OLD-1").get_data(as_text=True)
    assert "This solution was retired from the library" in page
