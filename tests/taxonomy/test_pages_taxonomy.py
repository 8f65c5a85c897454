"""The challenge tree and the challenge page."""

from __future__ import annotations

import sqlalchemy as sa

from cxactions.auth.models import Role
from cxactions.foundations.vocabulary import ChallengeStatus
from tests.factories import challenge, small_library, solution
from tests.pages import counting_queries, visible_text


def _taxonomy(db):
    """The small library with descriptions and keywords; a gap ``SPEED-HOLD`` and a retired
    ``SPEED-OLD`` under SPEED; TRN-LINE in French on QUEUE and GREET; PEND-1 hidden on QUEUE."""
    small_library(
        retired=False,
        challenges={
            "SPEED": {"description": "Customers wait."},
            "SPEED-QUEUE": {
                "description": "Customers queue too long to pay.",
                "keywords": "queue\nfile d'attente",
            },
            "SPEED-HOLD": {"name": "Long phone hold times", "parent": "SPEED"},
            "SPEED-OLD": {
                "name": "Fax replies",
                "parent": "SPEED",
                "status": ChallengeStatus.RETIRED,
            },
        },
        solutions={
            "TRN-LINE": {"challenges": ["SPEED-QUEUE", "STAFF-GREET"], "language": "fr"},
            "PEND-1": {"title": "Hidden proposal"},
        },
    )


def test_tree_lists_categories_challenges_and_solution_counts(db, client_as):
    _taxonomy(db)
    response = client_as(Role.STAFF).get("/challenges")
    assert response.status_code == 200
    text = visible_text(response.get_data(as_text=True))
    assert "Speed and responsiveness" in text
    assert "Long checkout queues 2 solutions" in text  # the pending one does not count
    assert "Long phone hold times No solution yet" in text
    assert "Customers not greeted 1 solution" in text
    assert "1 without a solution" in text
    assert "Fax replies" not in text


def test_retired_challenges_show_only_when_a_curator_asks(db, client_as):
    _taxonomy(db)
    staff = client_as(Role.STAFF)
    assert "Fax replies" not in staff.get("/challenges?show=retired").get_data(as_text=True)
    staff.post("/logout")  # client_as signs in on the one test client
    curator = client_as(Role.CX_LEAD)
    assert "Fax replies" not in curator.get("/challenges").get_data(as_text=True)
    page = curator.get("/challenges?show=retired").get_data(as_text=True)
    assert "Fax replies" in page
    assert "Retired" in page
    assert "Hide retired" in page


def test_empty_taxonomy_says_how_to_load_one(client_as):
    page = client_as(Role.STAFF).get("/challenges").get_data(as_text=True)
    assert "No challenges yet" in page
    assert "cxactions demo" in page


def test_tree_runs_the_same_queries_whatever_its_size(db, client_as):
    client = client_as(Role.STAFF)
    _taxonomy(db)
    with counting_queries(db) as small:
        client.get("/challenges")
    for index in range(15):
        parent = challenge(f"CAT-{index}", f"Category {index}")
        child = challenge(f"CH-{index}", f"Challenge {index}", parent=parent)
        solution(f"SOL-{index}", f"Solution {index}", challenges=[child])
    db.session.commit()
    with counting_queries(db) as large:
        client.get("/challenges")
    assert len(large) == len(small)


def test_challenge_page_shows_where_it_sits_and_what_addresses_it(db, client_as):
    _taxonomy(db)
    response = client_as(Role.STAFF).get("/challenges/SPEED-QUEUE")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    text = visible_text(page)
    assert 'href="/challenges/SPEED"' in page  # breadcrumb
    assert "Customers queue too long to pay." in text
    assert "file d&#39;attente" in page
    assert "Open a till at three" in text and "A trigger." in text
    assert "Line-busting training" in text and "Français" in text
    assert "Hidden proposal" not in text
    assert 'href="/solutions/SOP-TILL"' in page


def test_category_page_lists_its_sub_challenges(db, client_as):
    _taxonomy(db)
    text = visible_text(client_as(Role.STAFF).get("/challenges/SPEED").get_data(as_text=True))
    assert "Sub-challenges" in text
    assert "Long checkout queues 2 solutions" in text
    assert "Fax replies" not in text


def test_a_challenge_with_no_solution_is_shown_as_a_gap(db, client_as):
    _taxonomy(db)
    text = visible_text(client_as(Role.STAFF).get("/challenges/SPEED-HOLD").get_data(as_text=True))
    assert "A gap in the library" in text


def test_a_merged_challenge_points_to_its_survivor(db, client_as):
    _taxonomy(db)
    old = db.session.scalar(sa.text("SELECT id FROM challenges WHERE code = 'SPEED-OLD'"))
    survivor = db.session.scalar(sa.text("SELECT id FROM challenges WHERE code = 'SPEED-HOLD'"))
    db.session.execute(
        sa.text("UPDATE challenges SET merged_into_id = :s WHERE id = :o"),
        {"s": survivor, "o": old},
    )
    db.session.commit()
    page = client_as(Role.STAFF).get("/challenges/SPEED-OLD").get_data(as_text=True)
    assert "This challenge is retired" in page
    assert 'href="/challenges/SPEED-HOLD"' in page


def test_unknown_challenge_is_not_found(db, client_as):
    response = client_as(Role.STAFF).get("/challenges/NOPE")
    assert response.status_code == 404
    assert "There is no challenge with the code" in response.get_data(as_text=True)
