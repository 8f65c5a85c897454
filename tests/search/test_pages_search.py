"""The search page and /search.json: highlights, filters and facets, typos, pages, outages."""

from __future__ import annotations

import re

import pytest

from cxactions.auth.models import Role
from cxactions.foundations.vocabulary import SolutionKind, SolutionStatus
from tests.factories import small_library, solution
from tests.pages import visible_text


@pytest.fixture
def library(db):
    """Two categories with one challenge each; approved, draft and retired solutions: the small
    library with its STAFF branch renamed, a French SOP and no pending proposal."""
    small_library(
        pending=False,
        challenges={
            "SPEED-QUEUE": {"description": "Customers wait in line."},
            "STAFF": {"name": "Staff attitude"},
            "STAFF-GREET": {"name": "Nobody says hello"},
            "OLD": {"name": "An old category"},
        },
        solutions={
            "SOP-TILL": {
                "title": "Open a third till at rush hour",
                "summary": "When the queue passes three customers, open a till.",
            },
            "TRN-LINE": {
                "summary": "Take payment in the queue <script>alert(1)</script> at peaks."
            },
            "TRN-GREET": {
                "title": "Greeting every customer",
                "challenges": ["STAFF-GREET"],
                "kind": SolutionKind.TRAINING,
                "summary": "A warm greeting within ten seconds.",
            },
            "FR-ACCUEIL": {
                "title": "Accueil en caisse",
                "language": "fr",
                "summary": "Saluer chaque client.",
            },
            "DRAFT-GREET": {"title": "A draft greeting idea", "status": SolutionStatus.DRAFT},
            "OLD-GREET": {"title": "A retired greeting poster", "status": SolutionStatus.RETIRED},
        },
    )


def test_results_link_to_their_pages_with_highlighted_snippets(library, client_as):
    response = client_as(Role.STAFF).get("/search?q=queue")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    text = visible_text(page)
    assert "3 results for “queue”" in text
    assert 'href="/challenges/SPEED-QUEUE"' in page
    assert 'href="/solutions/SOP-TILL"' in page and 'href="/solutions/TRN-LINE"' in page
    assert re.search(r"When the <mark[^>]*>queue</mark> passes", page)
    # Snippets are escaped by the engine: a script in a summary is shown as text, never run.
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page
    assert '<span class="badge badge--sop">SOP</span>' in page
    assert '<span class="badge badge--training">Training</span>' in page
    assert '<span class="badge badge--challenge">Challenge</span>' in page
    assert "Speed and responsiveness" in text  # categories by name, not by code


def test_the_navigation_links_to_search(library, client_as):
    page = client_as(Role.STAFF).get("/search").get_data(as_text=True)
    assert 'href="/search" aria-current="page">Search</a>' in page


def test_an_empty_query_lists_everything_visible(library, client_as):
    text = visible_text(client_as(Role.STAFF).get("/search").get_data(as_text=True))
    # 4 approved solutions and 4 active challenges; no draft, nothing retired.
    assert "8 results" in text
    assert "A draft greeting idea" not in text and "A retired greeting poster" not in text
    assert "An old category" not in text


def test_filters_narrow_the_results_and_facets_count_the_rest(library, client_as):
    page = client_as(Role.STAFF).get("/search?q=queue&kind=training").get_data(as_text=True)
    text = visible_text(page)
    assert "1 result for “queue”" in text
    assert "Line-busting training" in text and "Open a third till" not in text
    # The kind facet counts the other kinds too, so switching is one click...
    assert re.search(
        r'href="/search\?q=queue&amp;kind=sop">\s*<span class="facet__label">SOP</span>', page
    )
    # ...and the kind in use links to the same search without it.
    active = re.search(
        r'<a class="facet__link is-active" href="([^"]+)" aria-current="true">', page
    )
    assert active and active.group(1) == "/search?q=queue"
    assert '<option value="training" selected>Training</option>' in page


def test_category_filter_offers_names_and_keeps_the_other_filters(library, client_as):
    client = client_as(Role.STAFF)
    page = client.get("/search?q=greeting").get_data(as_text=True)
    assert '<option value="STAFF">Staff attitude</option>' in page
    assert "An old category" not in page  # retired categories are for curators
    assert 'href="/search?q=greeting&amp;category=STAFF"' in page
    text = visible_text(client.get("/search?q=greeting&category=STAFF").get_data(as_text=True))
    assert "Greeting every customer" in text
    text = visible_text(client.get("/search?q=queue&category=STAFF").get_data(as_text=True))
    assert "No result for “queue”" in text and "Search without the filters" in text


def test_type_filter_keeps_one_kind_of_document(library, client_as):
    text = visible_text(
        client_as(Role.STAFF).get("/search?q=queue&type=challenge").get_data(as_text=True)
    )
    assert "1 result for “queue”" in text and "Long checkout queues" in text


def test_unknown_filter_values_are_ignored(library, client_as):
    client = client_as(Role.STAFF)
    plain = visible_text(client.get("/search?q=queue").get_data(as_text=True))
    response = client.get(
        "/search?q=queue&kind=nonsense&category=NOPE&type=x&sort=zzz&page=abc&per_page=lots"
    )
    assert response.status_code == 200
    assert "3 results for “queue”" in visible_text(response.get_data(as_text=True))
    assert "3 results for “queue”" in plain


@pytest.mark.parametrize("role", [Role.STAFF, Role.MANAGER])
def test_only_curators_may_ask_for_drafts(library, client_as, role):
    page = client_as(role).get("/search?q=greeting&status=draft").get_data(as_text=True)
    text = visible_text(page)
    assert "Greeting every customer" in text
    assert "A draft greeting idea" not in text
    assert 'name="status"' not in page  # no status filter to offer
    assert "facet-status" not in page


def test_curators_filter_by_status_and_see_its_counts(library, client_as):
    client = client_as(Role.CX_LEAD)
    page = client.get("/search?q=greeting&status=draft").get_data(as_text=True)
    text = visible_text(page)
    assert "1 result for “greeting”" in text
    assert "A draft greeting idea" in text and "Greeting every customer" not in text
    assert '<span class="badge badge--status-draft">Draft</span>' in page
    assert '<option value="draft" selected>Draft</option>' in page
    assert 'id="facet-status"' in page
    retired = visible_text(client.get("/search?q=greeting&status=retired").get_data(as_text=True))
    assert "A retired greeting poster" in retired


def test_results_come_in_pages_that_keep_the_search(db, client_as):
    for index in range(25):
        solution(f"SOP-{index:02}", f"Checklist number {index:02}", summary="A checklist.")
    db.session.commit()
    client = client_as(Role.STAFF)
    first = client.get("/search?q=checklist&kind=sop").get_data(as_text=True)
    assert "25 results for “checklist” · page 1 of 3" in visible_text(first)
    assert first.count('class="search-hit"') == 10
    assert 'href="/search?page=2&amp;q=checklist&amp;kind=sop"' in first
    third = client.get("/search?q=checklist&kind=sop&page=3").get_data(as_text=True)
    assert third.count('class="search-hit"') == 5
    assert '<ol class="search-results" start="21">' in third
    seen_first = set(re.findall(r'href="/solutions/(SOP-\d+)"', first))
    seen_third = set(re.findall(r'href="/solutions/(SOP-\d+)"', third))
    assert len(seen_first) == 10 and len(seen_third) == 5 and not seen_first & seen_third
    past = visible_text(client.get("/search?q=checklist&page=9").get_data(as_text=True))
    assert "past the end" in past


def test_a_typo_is_corrected_and_says_so(library, client_as):
    page = client_as(Role.STAFF).get("/search?q=grteeting").get_data(as_text=True)
    text = visible_text(page)
    assert "No result for “grteeting”; showing results for “greeting”" in text
    assert '<a href="/search?q=greeting">“greeting”</a>' in page
    assert "Greeting every customer" in text


def test_dropped_words_are_announced(library, client_as):
    text = visible_text(client_as(Role.STAFF).get("/search?q=queue+zzyzx").get_data(as_text=True))
    assert "No result has every word of “queue zzyzx”; these have some of them." in text
    assert "Open a third till at rush hour" in text


def test_nothing_found_gives_tips(library, client_as):
    text = visible_text(client_as(Role.STAFF).get("/search?q=zzyzx").get_data(as_text=True))
    assert "No result for “zzyzx”" in text
    assert "Check the spelling" in text and "Try the other language" in text


def test_sorting_by_measured_impact_is_offered(library, client_as):
    page = client_as(Role.STAFF).get("/search?q=queue&sort=impact").get_data(as_text=True)
    assert "3 results for “queue” · by measured impact" in visible_text(page)
    assert '<option value="impact" selected>Measured impact</option>' in page


def test_json_is_the_contract_plus_the_page(library, client_as):
    response = client_as(Role.STAFF).get("/search.json?q=queue&per_page=2")
    assert response.status_code == 200
    payload = response.get_json()
    assert set(payload) == {
        "query", "total", "suggestion", "results", "page", "pages", "per_page",
        "corrected", "relaxed", "facets",
    }  # fmt: skip
    assert payload["query"] == "queue" and payload["total"] == 3
    assert (payload["page"], payload["pages"], payload["per_page"]) == (1, 2, 2)
    assert payload["suggestion"] is None and not payload["corrected"] and not payload["relaxed"]
    first = payload["results"][0]
    assert set(first) == {"type", "id", "title", "score", "kind", "status", "url", "snippet"}
    assert first == {
        **first,
        "type": "challenge",
        "id": "SPEED-QUEUE",
        "url": "/challenges/SPEED-QUEUE",
    }
    assert all(item["status"] in ("approved", "active") for item in payload["results"])
    kinds = {item["value"]: item["count"] for item in payload["facets"]["kind"]}
    assert kinds == {"challenge": 1, "sop": 1, "training": 1}
    assert set(payload["facets"]) == {"type", "kind", "category", "language"}
    second = client_as(Role.STAFF).get("/search.json?q=queue&per_page=2&page=2").get_json()
    on_first = {item["id"] for item in payload["results"]}
    on_second = {item["id"] for item in second["results"]}
    assert len(on_first) == 2 and len(on_second) == 1 and not on_first & on_second
    snippets = [item["snippet"] or "" for item in payload["results"] + second["results"]]
    assert any(re.search(r"<mark[^>]*>queue</mark>", snippet) for snippet in snippets)


def test_json_gives_the_suggestion_and_hides_drafts_from_staff(library, client_as):
    client = client_as(Role.STAFF)
    payload = client.get("/search.json?q=grteeting&status=draft").get_json()
    assert payload["suggestion"] == "greeting" and payload["corrected"]
    assert "DRAFT-GREET" not in [item["id"] for item in payload["results"]]
    assert "TRN-GREET" in [item["id"] for item in payload["results"]]
    assert "status" not in payload["facets"]


def test_anonymous_visitors_are_sent_to_sign_in(library, client):
    for path in ("/search?q=queue", "/search.json?q=queue"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.location


def test_an_index_that_cannot_be_built_is_a_503_not_a_crash(library, app, client_as, tmp_path):
    client = client_as(Role.STAFF)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    app.config["SEARCH_INDEX_PATH"] = str(blocker / "search-index")
    response = client.get("/search.json?q=queue")
    assert response.status_code == 503
    assert "unavailable" in response.get_json()["error"]
    page = client.get("/search?q=queue")
    assert page.status_code == 503
    text = visible_text(page.get_data(as_text=True))
    assert "Search is unavailable for a moment." in text and "nothing is lost" in text


def test_language_filter_keeps_one_language(library, client_as):
    client = client_as(Role.STAFF)
    page = client.get("/search?q=greeting").get_data(as_text=True)
    assert 'href="/search?q=greeting&amp;language=fr"' in page  # the facet is a link
    text = visible_text(client.get("/search?q=greeting&language=fr").get_data(as_text=True))
    assert "Accueil en caisse" in text and "Greeting every customer" not in text
