"""Who may do what in the crowd feature. Each rule has a test that fails when the rule is
removed: staff and managers never moderate; authors alone edit their comments and their pending
proposals; an anonymous author's name and e-mail reach no colleague's page or download, while
CX leads still see who proposed what."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from cxactions.auth.models import Role
from cxactions.auth.permissions import ROUTE_ACCESS, Access, can_edit_proposal, can_view_solution
from cxactions.crowd import services
from cxactions.crowd.models import Comment, CommentReport
from cxactions.foundations.vocabulary import AdoptionStatus, SolutionStatus
from cxactions.library.models import Solution
from cxactions.plans.models import Adoption
from tests.conftest import TEST_PASSWORD, browser_for
from tests.crowd.test_crowd_pages import said, signed
from tests.crowd.test_crowd_services import (
    AUTHOR_EMAIL,
    AUTHOR_NAME,
    PROPOSAL,
    CrowdWorld,
    crowd_world,
    propose,
)
from tests.factories import challenge, impact_run, solution, unit_tree


@pytest.fixture
def world(db, make_user) -> CrowdWorld:
    return crowd_world(db, make_user)


def fresh(db, model, row_id):
    db.session.expire_all()
    return db.session.get(model, row_id)


# --- Moderation is for CX leads -----------------------------------------------------------------


@pytest.mark.parametrize("who", ["colleague", "manager", "author"])
def test_only_cx_leads_moderate(app, db, world, who):
    idea = propose(world)
    comment = services.add_comment(world.till, world.author, "Reported words.")
    services.report_comment(comment, world.stranger, "Rude.")
    code, comment_id = idea.code, comment.id
    browser = signed(app, getattr(world, who))
    requests = [
        ("get", "/desk", {}),
        ("post", f"/desk/{code}/approve", {}),
        ("post", f"/desk/{code}/reject", {"reason": "No."}),
        ("get", f"/desk/{code}/review", {}),
        ("post", f"/desk/{code}/review", {**PROPOSAL, "title": "Taken over", "send": "1"}),
        ("post", f"/comments/{comment_id}/moderate", {"action": "hide", "reason": "Rude."}),
        ("post", f"/comments/{comment_id}/moderate", {"action": "keep"}),
        ("post", f"/comments/{comment_id}/moderate", {"action": "restore"}),
    ]
    for method, path, data in requests:
        response = getattr(browser, method)(path, data=data)
        assert response.status_code == 403, (method, path)
    proposal = fresh(db, Solution, idea.id)
    assert (proposal.status, proposal.title) == (SolutionStatus.PENDING, PROPOSAL["title"])
    assert fresh(db, Comment, comment_id).hidden is False
    assert db.session.scalar(sa.select(CommentReport.resolved_at)) is None
    # The desk's link is not offered either.
    assert 'href="/desk"' not in browser.get("/proposals").get_data(as_text=True)


def test_a_cx_lead_moderates(app, db, world):
    """The other side of the rule: the same requests succeed for a CX lead."""
    idea = propose(world)
    comment = services.add_comment(world.till, world.author, "Reported words.")
    lead = signed(app, world.lead)
    assert lead.get("/desk").status_code == 200
    assert lead.get(f"/desk/{idea.code}/review").status_code == 200
    kept = lead.post(f"/comments/{comment.id}/moderate", data={"action": "keep"})
    assert kept.status_code == 302
    assert lead.post(f"/desk/{idea.code}/approve").status_code == 302
    assert 'href="/desk"' in lead.get("/proposals").get_data(as_text=True)


# --- Authors edit their own comments ------------------------------------------------------------


@pytest.mark.parametrize("who", ["stranger", "author", "lead"])
def test_only_its_author_edits_or_deletes_a_comment(app, db, world, who):
    comment = services.add_comment(world.till, world.colleague, "My words.")
    comment_id = comment.id
    browser = signed(app, getattr(world, who))
    assert browser.get(f"/comments/{comment_id}/edit").status_code == 403
    edited = browser.post(f"/comments/{comment_id}/edit", data={"body": "Yours now."})
    assert edited.status_code == 403
    assert browser.post(f"/comments/{comment_id}/delete").status_code == 403
    kept = fresh(db, Comment, comment_id)
    assert (kept.body, kept.edited_at, kept.deleted_at) == ("My words.", None, None)
    # Nor are the buttons offered.
    page = browser.get("/solutions/SOP-TILL").get_data(as_text=True)
    assert f"/comments/{comment_id}/edit" not in page
    assert f"/comments/{comment_id}/delete" not in page


def test_its_author_edits_and_deletes_a_comment_until_a_moderator_hides_it(app, db, world):
    comment = services.add_comment(world.till, world.colleague, "My words.")
    other = services.add_comment(world.till, world.colleague, "More words.")
    colleague = signed(app, world.colleague)
    page = colleague.get("/solutions/SOP-TILL").get_data(as_text=True)
    assert f"/comments/{comment.id}/edit" in page and f"/comments/{comment.id}/delete" in page
    assert colleague.get(f"/comments/{comment.id}/edit").status_code == 200
    edited = colleague.post(f"/comments/{comment.id}/edit", data={"body": "Better words."})
    assert edited.status_code == 302
    services.moderate_comment(fresh(db, Comment, other.id), world.lead, hide=True, reason="No.")
    assert colleague.get(f"/comments/{other.id}/edit").status_code == 403
    assert colleague.post(f"/comments/{other.id}/delete").status_code == 403
    assert fresh(db, Comment, other.id).deleted_at is None
    assert colleague.post(f"/comments/{comment.id}/delete").status_code == 302
    assert colleague.post(f"/comments/{comment.id}/delete").status_code == 403  # gone already


# --- Authors edit their own pending proposals ---------------------------------------------------


def edit_form(**changes) -> dict:
    return {**PROPOSAL, "send": "1", **changes}


@pytest.mark.parametrize("who", ["colleague", "lead", "manager"])
def test_only_its_author_edits_a_proposal(app, db, world, who):
    idea = propose(world)
    browser = signed(app, getattr(world, who))
    assert browser.get(f"/proposals/{idea.code}/edit").status_code == 403
    response = browser.post(f"/proposals/{idea.code}/edit", data=edit_form(title="Hijacked"))
    assert response.status_code == 403
    assert fresh(db, Solution, idea.id).title == PROPOSAL["title"]
    page = browser.get(f"/solutions/{idea.code}").get_data(as_text=True)
    assert f"/proposals/{idea.code}/edit" not in page


def test_its_author_edits_a_pending_proposal_and_not_once_it_is_reviewed(app, db, world):
    idea, other = propose(world), propose(world, title="Second idea")
    author = signed(app, world.author)
    page = author.get(f"/solutions/{idea.code}").get_data(as_text=True)
    assert f'href="/proposals/{idea.code}/edit"' in page
    form = author.get(f"/proposals/{idea.code}/edit")
    assert form.status_code == 200
    invalid = author.post(f"/proposals/{idea.code}/edit", data=edit_form(title=""))
    assert invalid.status_code == 400 and "A solution needs a title." in said(
        invalid.get_data(as_text=True)
    )
    saved = author.post(f"/proposals/{idea.code}/edit", data=edit_form(title="Door greeter"))
    assert saved.status_code == 302
    assert fresh(db, Solution, idea.id).title == "Door greeter"

    services.review(fresh(db, Solution, idea.id), SolutionStatus.APPROVED, world.lead)
    services.review(fresh(db, Solution, other.id), SolutionStatus.REJECTED, world.lead, "No.")
    for code in (idea.code, other.code):
        assert author.get(f"/proposals/{code}/edit").status_code == 403
        response = author.post(f"/proposals/{code}/edit", data=edit_form(title="Changed later"))
        assert response.status_code == 403
        assert f"/proposals/{code}/edit" not in author.get(f"/solutions/{code}").get_data(
            as_text=True
        )
    assert fresh(db, Solution, idea.id).title == "Door greeter"
    assert fresh(db, Solution, other.id).title == "Second idea"


def test_the_proposal_rule_in_words(db, world):
    idea = propose(world)
    assert can_edit_proposal(world.author, idea)
    assert not can_edit_proposal(world.colleague, idea)
    assert not can_edit_proposal(world.lead, idea)
    services.merge(idea, world.till, world.lead)
    assert not can_edit_proposal(world.author, fresh(db, Solution, idea.id))


def test_the_route_table_names_the_authors_routes():
    for endpoint in ("crowd.edit_proposal", "crowd.edit_comment", "crowd.delete_comment"):
        assert ROUTE_ACCESS[endpoint] == Access.AUTHORS
    for endpoint in (
        "crowd.show_desk",
        "crowd.approve",
        "crowd.reject",
        "crowd.edit_and_approve",
        "crowd.moderate_comment",
    ):
        assert ROUTE_ACCESS[endpoint] == Access.CX_LEAD


# --- Who sees a proposal ------------------------------------------------------------------------


def test_pending_proposals_are_open_to_everyone_signed_in_rejected_ones_are_not(
    app, db, client, world
):
    idea, rejected = propose(world), propose(world, title="Rejected idea")
    services.review(rejected, SolutionStatus.REJECTED, world.lead, "No.")
    stranger = signed(app, world.stranger)
    assert stranger.get(f"/solutions/{idea.code}").status_code == 200
    assert stranger.post(f"/solutions/{idea.code}/vote").status_code == 302
    assert services.vote_count(db.session, fresh(db, Solution, idea.id)) == 1
    assert stranger.get(f"/solutions/{rejected.code}").status_code == 404
    assert stranger.post(f"/solutions/{rejected.code}/vote").status_code == 404
    assert signed(app, world.author).get(f"/solutions/{rejected.code}").status_code == 200
    assert signed(app, world.lead).get(f"/solutions/{rejected.code}").status_code == 200
    assert client.get(f"/solutions/{idea.code}").status_code == 302  # to the sign-in page
    assert not can_view_solution(None, idea)


# --- Anonymous authors --------------------------------------------------------------------------


@pytest.fixture
def anonymous(db, world):
    """One anonymous proposal still pending, one approved, adopted at S1 and measured."""
    waiting = propose(world, title="Quiet greeter idea", anonymous=True)
    approved = propose(
        world,
        title="Doorway welcome ritual",
        summary="Say hello at the doorway.",
        challenges=["STAFF-GREET", "SPEED-QUEUE"],
        anonymous=True,
    )
    services.review(approved, SolutionStatus.APPROVED, world.lead)
    db.session.add(
        Adoption(
            unit=world.units["S1"],
            solution=approved,
            status=AdoptionStatus.IN_PROGRESS,
            owner="Store team",
        )
    )
    db.session.commit()
    impact_run({approved.code: (0.4, 0.1, 0.7, 1), "SOP-TILL": (0.2, -0.1, 0.5, 2)})
    return {"waiting": waiting.code, "approved": approved.code}


def leaks(text: str) -> list[str]:
    return [word for word in (AUTHOR_NAME, AUTHOR_EMAIL, "zelda") if word.lower() in text.lower()]


STAFF_PAGES = [
    ("/solutions/{waiting}", "Quiet greeter idea"),
    ("/solutions/{approved}", "Doorway welcome ritual"),
    ("/proposals", "Quiet greeter idea"),
    ("/proposals?sort=newest", "Quiet greeter idea"),
    ("/search?q=doorway+welcome", "Doorway welcome ritual"),
    ("/search.json?q=doorway+welcome", "Doorway welcome ritual"),
    ("/challenges/STAFF-GREET", "Doorway welcome ritual"),
    ("/challenges/SPEED-QUEUE", "Doorway welcome ritual"),
    ("/solutions", "Doorway welcome ritual"),
    ("/impact", "Doorway welcome ritual"),
    ("/impact.csv", "Doorway welcome ritual"),
    ("/impact/solutions/{approved}", "Doorway welcome ritual"),
]
MANAGER_PAGES = [
    ("/units/S1/plan/find?q=doorway+welcome", "Doorway welcome ritual"),
    ("/units/S1/plans.csv", "Doorway welcome ritual"),
    ("/units/D1/plans.csv", "Doorway welcome ritual"),
    ("/plans.csv", "Doorway welcome ritual"),
    ("/units/S1", "Doorway welcome ritual"),
]


def test_an_anonymous_author_is_named_on_no_colleagues_page_or_download(app, world, anonymous):
    """Every page and download a colleague (or a manager) reaches shows the proposal and never
    its author's name or e-mail."""
    for who, pages in (("colleague", STAFF_PAGES), ("manager", MANAGER_PAGES)):
        browser = signed(app, getattr(world, who))
        for path, expected in pages:
            response = browser.get(path.format(**anonymous))
            assert response.status_code == 200, path
            text = response.get_data(as_text=True)
            assert expected in text, path  # the page does show the proposal
            assert leaks(text) == [], path
            if "Proposed by" in text:
                assert "Proposed by a colleague" in said(text), path


def test_a_signed_proposal_names_its_author_to_colleagues(app, db, world):
    """The other side of the rule: without the anonymous flag the same pages name the author."""
    idea = propose(world, title="Signed greeter idea")
    colleague = signed(app, world.colleague)
    for path in (f"/solutions/{idea.code}", "/proposals"):
        text = said(colleague.get(path).get_data(as_text=True))
        assert f"Proposed by {AUTHOR_NAME} at Store 1" in text, path


def test_cx_leads_and_the_author_see_who_proposed_anonymously(app, world, anonymous):
    lead = signed(app, world.lead)
    for code in anonymous.values():
        page = said(lead.get(f"/solutions/{code}").get_data(as_text=True))
        assert f"Proposed by {AUTHOR_NAME} at Store 1" in page
        assert "Anonymous to colleagues" in page
    desk = said(lead.get("/desk").get_data(as_text=True))
    assert f"Sent by {AUTHOR_NAME} ({AUTHOR_EMAIL})" in desk
    author = signed(app, world.author)
    own = said(author.get(f"/solutions/{anonymous['waiting']}").get_data(as_text=True))
    assert f"Proposed by {AUTHOR_NAME}" in own


def test_an_anonymous_author_is_not_named_in_a_colleagues_notifications(app, db, world):
    """Approving or commenting on an anonymous proposal tells its followers without naming
    who proposed it."""
    idea = propose(world, anonymous=True)
    services.set_follow(idea, world.colleague, True)
    services.add_comment(idea, world.stranger, "Nice one.")
    services.review(fresh(db, Solution, idea.id), SolutionStatus.APPROVED, world.lead)
    text = signed(app, world.colleague).get("/notifications").get_data(as_text=True)
    assert PROPOSAL["title"] in text
    assert leaks(text) == []


def test_an_anonymous_authors_own_comments_do_not_reveal_them(app, db, make_user):
    """Commenting on one's anonymous proposal signs the comment "the author" for colleagues,
    in the thread and in the followers' notifications; CX leads still see the name."""
    units = unit_tree()
    queue = challenge("SPEED-QUEUE", "Long checkout queues")
    author = make_user(Role.STAFF, units=[units["D1"]], email="hidden.author@example.com")
    author.name = "Hidden Author"
    colleague = make_user(Role.STAFF, units=[units["D1"]], email="colleague@example.com")
    lead = make_user(Role.CX_LEAD)
    idea = solution(
        "IDEA-ANON", "Bell at the till", challenges=[queue],
        status=SolutionStatus.PENDING, author_id=author.id, anonymous=True,
    )  # fmt: skip
    db.session.commit()
    services.set_follow(idea, colleague, True)
    services.add_comment(idea, author, "I tried it at my store first.")

    def page(user, path):
        browser = browser_for(app)
        browser.post("/login", data={"email": user.email, "password": TEST_PASSWORD})
        return browser.get(path).get_data(as_text=True)

    for path in ("/solutions/IDEA-ANON", "/notifications"):
        text = page(colleague, path)
        assert "Hidden Author" not in text and "hidden.author@example.com" not in text, path
    assert "The author (anonymous)" in page(colleague, "/solutions/IDEA-ANON")
    assert "Its author commented on" in page(colleague, "/notifications")
    assert "Hidden Author" in page(lead, "/solutions/IDEA-ANON")
