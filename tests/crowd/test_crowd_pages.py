"""The crowd's pages, as people use them: propose (with the similar-solutions check), vote,
comment, "we tried it", notifications, my submissions and the CX leads' desk. Several people
act in one test, each with a browser of their own."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa
from flask import Flask

from cxactions.auth.models import Role, User
from cxactions.crowd import services
from cxactions.crowd.models import Comment, CommentReport, Follow, Notification, Vote
from cxactions.foundations.vocabulary import AdoptionStatus, NotificationKind, SolutionStatus
from cxactions.library.models import Solution
from cxactions.plans.models import Adoption
from cxactions.search.service import SearchOptions, search
from tests.conftest import TEST_PASSWORD, Browser, browser_for
from tests.crowd.test_crowd_services import (
    AUTHOR_NAME,
    PROPOSAL,
    CrowdWorld,
    crowd_world,
    propose,
)
from tests.factories import challenge, solution
from tests.pages import visible_text


def signed(app: Flask, user: User) -> Browser:
    """A browser of its own, signed in as ``user``."""
    browser = browser_for(app)
    response = browser.post("/login", data={"email": user.email, "password": TEST_PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return browser


@pytest.fixture
def world(db, make_user) -> CrowdWorld:
    return crowd_world(db, make_user)


class FormValues(HTMLParser):
    """What a browser would send back from a page's forms: each field's values by name
    (text inputs, checked boxes, textareas, selected options)."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, list[str]] = {}
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        name = attributes.get("name")
        if tag == "input" and name:
            kind = attributes.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in attributes:
                return
            if kind not in ("submit", "button"):
                self.values.setdefault(name, []).append(attributes.get("value") or "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.values.setdefault(name, []).append("")
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in attributes:
            self.values.setdefault(self._select, []).append(attributes.get("value") or "")

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data):
        if self._textarea:
            self.values[self._textarea][-1] += data


def form_values(html: str) -> dict[str, list[str]]:
    parser = FormValues()
    parser.feed(html)
    return {
        # A textarea's first line break is markup, not text.
        name: [value.removeprefix("\r\n").removeprefix("\n") for value in values]
        for name, values in parser.values.items()
    }


def said(html: str) -> str:
    """The page's words, without the space a closing tag leaves before punctuation."""
    return re.sub(r" ([.,:;!?)])", r"\1", visible_text(html))


def text_of(response) -> str:
    return said(response.get_data(as_text=True))


def part(html: str, element_id: str) -> str:
    """The markup from the element with ``element_id`` to the end of the element that holds it
    (good enough for a card, a list item or a section)."""
    start = html.index(f'id="{element_id}"')
    tag = html.rfind("<", 0, start)
    name = re.match(r"<(\w+)", html[tag:]).group(1)
    depth, position = 0, tag
    for match in re.finditer(rf"<(/?){name}\b", html[tag:]):
        depth += -1 if match.group(1) else 1
        if depth == 0:
            position = tag + match.end()
            break
    return html[tag : html.index(">", position) + 1]


def count(db, model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def solution_named(db, title: str) -> Solution | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(Solution).where(Solution.title == title))


def form_data(**changes) -> dict:
    data = {**PROPOSAL, "send": "1"}
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}


def send_proposal(browser: Browser, data: dict, path: str = "/proposals/new"):
    """Send, and send again once the similar solutions were shown: the proposal goes."""
    response = browser.post(path, data=data)
    if response.status_code == 200 and 'id="similar"' in response.get_data(as_text=True):
        checked = form_values(response.get_data(as_text=True))["checked"][0]
        response = browser.post(path, data={**data, "checked": checked})
    assert response.status_code == 302, text_of(response)[:2000]
    return response


# --- Propose ------------------------------------------------------------------------------------


def test_the_form_offers_the_challenge_it_was_opened_from(app, world):
    page = signed(app, world.author).get("/proposals/new?challenge=SPEED-QUEUE")
    assert page.status_code == 200
    assert form_values(page.get_data(as_text=True))["challenges"] == ["SPEED-QUEUE"]


def test_a_proposal_without_a_title_is_shown_again_with_everything_typed(app, db, world):
    browser = signed(app, world.author)
    typed = form_data(
        title="",
        kind="training",
        language="fr",
        summary="Zebra quartz xylophone",
        body="Body **kept**",
        steps="One\nTwo",
        challenges=["STAFF-GREET", "SPEED-QUEUE"],
        anonymous="y",
    )
    response = browser.post("/proposals/new", data=typed)
    assert response.status_code == 400
    assert "A solution needs a title." in text_of(response)
    values = form_values(response.get_data(as_text=True))
    assert values["kind"] == ["training"] and values["language"] == ["fr"]
    assert values["summary"] == ["Zebra quartz xylophone"]
    assert values["body"] == ["Body **kept**"]
    assert values["steps"][0].splitlines() == ["One", "Two"]
    assert sorted(values["challenges"]) == ["SPEED-QUEUE", "STAFF-GREET"]
    assert values["anonymous"] == ["y"]
    assert count(db, Solution) == 1


def test_a_proposal_without_a_challenge_is_shown_again_with_everything_typed(app, db, world):
    browser = signed(app, world.author)
    typed = form_data(title="Zebra crossing", summary="Quartz xylophone", challenges=None)
    response = browser.post("/proposals/new", data=typed)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Choose at least one challenge the solution addresses." in part(html, "challenges-error")
    values = form_values(html)
    assert (values["title"], values["summary"]) == (["Zebra crossing"], ["Quartz xylophone"])
    assert values["steps"][0].splitlines() == PROPOSAL["steps"].splitlines()
    assert "challenges" not in values
    assert count(db, Solution) == 1


def test_a_proposal_without_a_kind_is_refused(app, db, world):
    response = signed(app, world.author).post(
        "/proposals/new", data=form_data(title="Zebra crossing", summary="Quartz", kind="")
    )
    assert response.status_code == 400
    assert "Choose the kind of solution" in text_of(response)
    assert count(db, Solution) == 1


def test_invalid_input_is_refused_with_its_messages_even_when_similar_solutions_exist(
    app, db, world
):
    """A draft without a title whose words match a library solution: the similar solutions may
    be shown, but the title's message must be too (HTTP 400), not a plain 200."""
    typed = form_data(title="", summary="Open a till when three customers wait in the queue")
    response = signed(app, world.author).post("/proposals/new", data=typed)
    assert "A solution needs a title." in text_of(response)
    assert response.status_code == 400
    assert count(db, Solution) == 1


def test_the_first_send_shows_similar_solutions_and_writes_nothing(app, db, world):
    browser = signed(app, world.author)
    typed = form_data(
        title="Open a till when three wait",
        summary="A third customer in the checkout queue means a new till.",
        challenges=["SPEED-QUEUE"],
    )
    first = browser.post("/proposals/new", data=typed)
    assert first.status_code == 200
    html = first.get_data(as_text=True)
    assert 'href="/solutions/SOP-TILL"' in part(html, "similar")
    assert "Look at these similar solutions first" in text_of(first)
    assert count(db, Solution) == 1
    values = form_values(html)
    assert values["title"] == [typed["title"]] and values["challenges"] == ["SPEED-QUEUE"]

    again = browser.post("/proposals/new", data={**typed, "checked": values["checked"][0]})
    assert again.status_code == 302
    idea = solution_named(db, "Open a till when three wait")
    assert again.location.endswith(f"/solutions/{idea.code}")
    assert idea.status == SolutionStatus.PENDING


def test_changed_words_show_the_similar_solutions_again(app, db, world):
    browser = signed(app, world.author)
    typed = form_data(title="Open a till when three wait", challenges=["SPEED-QUEUE"])
    checked = form_values(browser.post("/proposals/new", data=typed).get_data(as_text=True))
    changed = {**typed, "title": "Open a till when four wait", "checked": checked["checked"][0]}
    response = browser.post("/proposals/new", data=changed)
    assert response.status_code == 200 and 'id="similar"' in response.get_data(as_text=True)
    assert count(db, Solution) == 1


def test_looking_for_similar_solutions_never_writes(app, db, world):
    browser = signed(app, world.author)
    typed = form_data(title="Zebra quartz xylophone", summary="", send=None, check="1")
    first = browser.post("/proposals/new", data=typed)
    assert first.status_code == 200
    assert "No similar solution in the library" in text_of(first)
    checked = form_values(first.get_data(as_text=True))["checked"][0]
    second = browser.post("/proposals/new", data={**typed, "checked": checked})
    assert second.status_code == 200
    assert count(db, Solution) == 1


def test_a_proposal_without_similar_solutions_goes_at_once(app, db, world):
    response = signed(app, world.author).post(
        "/proposals/new", data=form_data(title="Zebra quartz xylophone", summary="")
    )
    assert response.status_code == 302
    idea = solution_named(db, "Zebra quartz xylophone")
    assert (idea.status, idea.language, idea.anonymous) == (SolutionStatus.PENDING, "en", False)
    assert idea.origin_unit.code == "S1" and idea.author_id == world.author.id
    assert db.session.get(Follow, (world.author.id, idea.id)) is not None
    page = signed(app, world.author).get(response.location)
    assert "waits for a CX lead's review" in text_of(page)


def test_the_language_is_guessed_from_the_words_when_left_empty(app, db, world):
    french = form_data(
        title="Accueillir les clients à la porte",
        summary="Une personne dit bonjour à chaque client qui entre dans le magasin.",
        body="Il faut choisir une personne pour les heures de pointe.",
        language="",
    )
    send_proposal(signed(app, world.author), french)
    assert solution_named(db, "Accueillir les clients à la porte").language == "fr"


def test_the_language_is_guessed_too_when_the_author_edits_with_it_left_empty(app, db, world):
    idea = propose(world)
    french = form_data(
        title="Accueillir les clients à la porte",
        summary="Une personne dit bonjour à chaque client qui entre dans le magasin.",
        body="Il faut choisir une personne pour les heures de pointe.",
        language="",
    )
    response = signed(app, world.author).post(f"/proposals/{idea.code}/edit", data=french)
    assert response.status_code == 302
    edited = solution_named(db, "Accueillir les clients à la porte")
    assert edited.language == "fr"


def test_the_anonymous_choice_is_kept(app, db, world):
    send_proposal(signed(app, world.author), form_data(title="Quiet zebra", anonymous="y"))
    assert solution_named(db, "Quiet zebra").anonymous is True


def test_a_pending_proposal_is_out_of_search_until_a_cx_lead_approves_it(app, db, world):
    send_proposal(signed(app, world.author), form_data(title="Doorway welcome ritual"))
    idea = solution_named(db, "Doorway welcome ritual")
    found = search(db.session, "doorway welcome ritual", SearchOptions(doc_type="solution"))
    assert idea.code not in [hit.id for hit in found.results]
    lead = signed(app, world.lead)
    assert lead.post(f"/desk/{idea.code}/approve").status_code == 302
    db.session.expire_all()
    found = search(db.session, "doorway welcome ritual", SearchOptions(doc_type="solution"))
    assert idea.code in [hit.id for hit in found.results]


# --- Improvements -------------------------------------------------------------------------------


def test_the_improvement_form_is_prefilled_from_the_original(app, world):
    page = signed(app, world.author).get("/proposals/new?improves=SOP-TILL")
    assert page.status_code == 200
    values = form_values(page.get_data(as_text=True))
    assert values["title"] == ["Open a till at three"]
    assert values["summary"] == [world.till.summary]
    assert values["kind"] == ["sop"] and values["challenges"] == ["SPEED-QUEUE"]
    assert "Propose an improvement" in text_of(page)


def test_only_library_solutions_take_improvements(app, db, world):
    idea = propose(world)
    browser = signed(app, world.colleague)
    assert browser.get(f"/proposals/new?improves={idea.code}").status_code == 404
    assert browser.get("/proposals/new?improves=NO-SUCH").status_code == 404


def test_an_approved_improvement_rewrites_the_original_and_its_author_hears(app, db, world):
    author = signed(app, world.author)
    data = form_data(
        title="Open a till at two",
        summary="Two customers waiting is enough.",
        body="Ring the **bell**.",
        steps="Watch\nRing",
        challenges=["SPEED-QUEUE"],
    )
    send_proposal(author, data, "/proposals/new?improves=SOP-TILL")
    better = solution_named(db, "Open a till at two")
    assert better.improves_id == world.till.id
    colleague = signed(app, world.colleague)
    colleague.post(f"/solutions/{better.code}/vote")
    colleague.post(f"/solutions/{better.code}/comments", data={"body": "Two is right."})

    lead = signed(app, world.lead)
    desk = lead.get("/desk").get_data(as_text=True)
    assert "An improvement to" in said(part(desk, f"desk-{better.code}"))
    response = lead.post(f"/desk/{better.code}/approve", follow_redirects=True)
    assert "The improvement is applied to SOP-TILL." in text_of(response)

    db.session.expire_all()
    till = db.session.get(Solution, world.till.id)
    assert (till.title, till.summary, till.body, till.step_list) == (
        "Open a till at two",
        "Two customers waiting is enough.",
        "Ring the **bell**.",
        ["Watch", "Ring"],
    )
    assert db.session.get(Solution, better.id).merged_into_id == till.id
    page = colleague.get("/solutions/SOP-TILL").get_data(as_text=True)
    assert "1 vote" in part(page, "crowd") and "Two is right." in page
    notes = author.get("/notifications")
    assert "Your improvement was applied to Open a till at two." in text_of(notes)


# --- Votes --------------------------------------------------------------------------------------


def votes_shown(browser: Browser, code: str) -> str:
    html = browser.get(f"/solutions/{code}").get_data(as_text=True)
    return said(part(html, "crowd"))


def test_one_vote_per_person_shown_and_taken_back(app, db, world):
    colleague, stranger = signed(app, world.colleague), signed(app, world.stranger)
    assert "0 votes" in votes_shown(colleague, "SOP-TILL")
    response = colleague.post("/solutions/SOP-TILL/vote", follow_redirects=True)
    assert "Your vote is counted." in text_of(response)
    colleague.post("/solutions/SOP-TILL/vote")
    shown = votes_shown(colleague, "SOP-TILL")
    assert re.search(r"\b1 vote\b", shown) and "Withdraw my vote" in shown
    stranger.post("/solutions/SOP-TILL/vote")
    assert "2 votes" in votes_shown(stranger, "SOP-TILL")
    colleague.post("/solutions/SOP-TILL/vote", data={"vote": "off"})
    shown = votes_shown(colleague, "SOP-TILL")
    assert "1 vote" in shown and "Vote for it" in shown
    assert count(db, Vote) == 1


@pytest.mark.parametrize("closing", ["rejected", "retired", "merged"])
def test_voting_is_closed_on_rejected_retired_and_merged_solutions(app, db, world, closing):
    idea = propose(world)
    services.set_vote(idea, world.colleague, True)
    if closing == "rejected":
        services.review(idea, SolutionStatus.REJECTED, world.lead, "No.")
        message = "This solution is rejected: it takes no more votes or comments."
    elif closing == "retired":
        services.review(idea, SolutionStatus.APPROVED, world.lead)
        services.review(idea, SolutionStatus.RETIRED, world.lead, "Old.")
        message = "This solution is retired: it takes no more votes or comments."
    else:
        services.merge(idea, world.till, world.lead)
        message = "This solution was merged into another: vote and comment there."
    code = idea.code
    votes = count(db, Vote)
    for user in (world.author, world.lead):  # both may still open the page
        browser = signed(app, user)
        response = browser.post(f"/solutions/{code}/vote", follow_redirects=True)
        assert message in text_of(response)
        comment = browser.post(f"/solutions/{code}/comments", data={"body": "Hello?"})
        assert comment.status_code == 400
        assert "it takes no more" in text_of(comment) or "merged into another" in text_of(comment)
    assert count(db, Vote) == votes and count(db, Comment) == 0
    page = signed(app, world.lead).get(f"/solutions/{code}").get_data(as_text=True)
    assert "Voting is closed." in page and 'id="discussion-closed"' in page
    assert f'action="/solutions/{code}/vote"' not in page


# --- Comments -----------------------------------------------------------------------------------


def comment_on(browser: Browser, code: str, body: str) -> int:
    response = browser.post(f"/solutions/{code}/comments", data={"body": body})
    assert response.status_code == 302, text_of(response)[:1000]
    return int(response.location.rsplit("#comment-", 1)[1])


def test_comments_are_sanitised(app, db, world):
    colleague = signed(app, world.colleague)
    comment_on(
        colleague,
        "SOP-TILL",
        "Works **well**.\n\n<script>alert('boo')</script>\n\n<img src=x onerror=\"alert(1)\">",
    )
    html = signed(app, world.stranger).get("/solutions/SOP-TILL").get_data(as_text=True)
    comments = part(html, "comments")
    assert "<strong>well</strong>" in comments
    assert "<script>alert" not in html and "onerror" not in html


def test_an_empty_comment_is_shown_again_with_its_message(app, db, world):
    response = signed(app, world.colleague).post(
        "/solutions/SOP-TILL/comments", data={"body": "  "}
    )
    assert response.status_code == 400
    assert "Write something first." in text_of(response)
    assert count(db, Comment) == 0


def test_authors_edit_and_delete_their_comments(app, db, world):
    colleague = signed(app, world.colleague)
    comment_id = comment_on(colleague, "SOP-TILL", "First thoughts.")
    edit = colleague.get(f"/comments/{comment_id}/edit")
    assert edit.status_code == 200
    assert form_values(edit.get_data(as_text=True))["body"] == ["First thoughts."]
    empty = colleague.post(f"/comments/{comment_id}/edit", data={"body": ""})
    assert empty.status_code == 400 and "Write something first." in text_of(empty)
    edited = colleague.post(f"/comments/{comment_id}/edit", data={"body": "Second thoughts."})
    assert edited.status_code == 302
    html = colleague.get("/solutions/SOP-TILL").get_data(as_text=True)
    entry = said(part(html, f"comment-{comment_id}"))
    assert "Second thoughts." in entry and "edited" in entry
    assert "First thoughts." not in html

    assert colleague.post(f"/comments/{comment_id}/delete").status_code == 302
    html = signed(app, world.stranger).get("/solutions/SOP-TILL").get_data(as_text=True)
    entry = said(part(html, f"comment-{comment_id}"))
    assert "Deleted by its author." in entry and "Second thoughts." not in html
    assert count(db, Comment) == 1


def test_a_comment_is_reported_once_and_never_by_its_author(app, db, world):
    colleague, stranger = signed(app, world.colleague), signed(app, world.stranger)
    comment_id = comment_on(colleague, "SOP-TILL", "Rude words.")
    first = stranger.post(
        f"/comments/{comment_id}/report", data={"reason": "Rude."}, follow_redirects=True
    )
    assert "a CX lead will look at this comment" in text_of(first)
    assert "You reported this comment." in visible_text(
        part(first.get_data(as_text=True), f"comment-{comment_id}")
    )
    again = stranger.post(f"/comments/{comment_id}/report", data={}, follow_redirects=True)
    assert "You already reported this comment" in text_of(again)
    own = colleague.post(f"/comments/{comment_id}/report", data={}, follow_redirects=True)
    assert "You cannot report your own comment" in text_of(own)
    assert count(db, CommentReport) == 1


def test_a_hidden_comment_is_hidden_from_staff_shown_to_leads_and_restored(app, db, world):
    colleague, stranger = signed(app, world.colleague), signed(app, world.stranger)
    lead = signed(app, world.lead)
    comment_id = comment_on(colleague, "SOP-TILL", "Something unkind.")
    stranger.post(f"/comments/{comment_id}/report", data={"reason": "Unkind."})

    no_reason = lead.post(
        f"/comments/{comment_id}/moderate", data={"action": "hide"}, follow_redirects=True
    )
    assert "Say why the comment is hidden" in text_of(no_reason)
    hide = lead.post(
        f"/comments/{comment_id}/moderate",
        data={"action": "hide", "reason": "Not kind.", "next": "/solutions/SOP-TILL"},
    )
    assert hide.status_code == 302 and hide.location.endswith("/solutions/SOP-TILL")

    for browser in (stranger, colleague):
        html = browser.get("/solutions/SOP-TILL").get_data(as_text=True)
        assert "Hidden by a moderator." in said(part(html, f"comment-{comment_id}"))
        assert "Something unkind." not in html
    # Its author reads why.
    own_page = colleague.get("/solutions/SOP-TILL").get_data(as_text=True)
    own = said(part(own_page, f"comment-{comment_id}"))
    assert "Reason: Not kind." in own
    as_lead = lead.get("/solutions/SOP-TILL").get_data(as_text=True)
    entry = said(part(as_lead, f"comment-{comment_id}"))
    assert "Something unkind." in entry and "Hidden from colleagues by a moderator." in entry
    # Hiding closed the report: the desk has nothing left.
    assert f'id="reported-{comment_id}"' not in lead.get("/desk").get_data(as_text=True)

    lead.post(f"/comments/{comment_id}/moderate", data={"action": "restore"})
    html = stranger.get("/solutions/SOP-TILL").get_data(as_text=True)
    assert "Something unkind." in html and "Hidden by a moderator." not in html


def test_the_desk_lists_reported_comments_oldest_first_and_keep_closes_them(app, db, world):
    colleague, stranger = signed(app, world.colleague), signed(app, world.stranger)
    later = comment_on(colleague, "SOP-TILL", "Reported later.")
    earlier = comment_on(colleague, "SOP-TILL", "Reported earlier.")
    stranger.post(f"/comments/{later}/report", data={"reason": "Off topic."})
    stranger.post(f"/comments/{earlier}/report", data={"reason": "Rude."})
    db.session.expire_all()
    for report in db.session.scalars(sa.select(CommentReport)):
        report.created_at = (
            datetime(2025, 5, 1) if report.comment_id == later else datetime(2025, 4, 1)
        )
    db.session.commit()
    lead = signed(app, world.lead)
    desk = lead.get("/desk").get_data(as_text=True)
    assert desk.index(f'id="reported-{earlier}"') < desk.index(f'id="reported-{later}"')
    assert "“Rude.”" in said(part(desk, f"reported-{earlier}"))
    assert "2 reported comments" in visible_text(desk)

    keep = lead.post(
        f"/comments/{earlier}/moderate", data={"action": "keep"}, follow_redirects=True
    )
    assert "The comment stays; its reports are closed." in text_of(keep)
    desk = lead.get("/desk").get_data(as_text=True)
    assert f'id="reported-{earlier}"' not in desk and f'id="reported-{later}"' in desk
    shown = stranger.get("/solutions/SOP-TILL").get_data(as_text=True)
    assert "Reported earlier." in shown


# --- "We tried it" ------------------------------------------------------------------------------


def tried_data(**changes) -> dict:
    data = {"outcome": "worked", "unit": "S1", "tried_on": date.today().isoformat(), "body": ""}
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"outcome": None}, "Say how it went."),
        ({"unit": "S3"}, "You can report only for the units you work at."),
        ({"tried_on": (date.today() + timedelta(days=1)).isoformat()}, "cannot be in the future"),
        ({"tried_on": (date.today() - timedelta(days=6 * 365)).isoformat()}, "five years"),
        ({"tried_on": ""}, "Give the date you tried it."),
    ],
)
def test_a_tried_report_is_checked_and_shown_again(app, db, world, changes, message):
    response = signed(app, world.colleague).post(
        "/solutions/SOP-TILL/tried", data=tried_data(body="Kept note.", **changes)
    )
    assert response.status_code == 400
    assert message in text_of(response)
    assert form_values(response.get_data(as_text=True))["body"] == ["Kept note."]
    assert count(db, Comment) == 0


def test_a_cx_lead_reports_for_any_unit_staff_for_theirs(app, db, world):
    own_store = signed(app, world.stranger).post(
        "/solutions/SOP-TILL/tried", data=tried_data(unit="S3")
    )
    assert own_store.status_code == 302
    any_store = signed(app, world.lead).post(
        "/solutions/SOP-TILL/tried", data=tried_data(unit="S2", outcome="mixed")
    )
    assert any_store.status_code == 302
    colleague_page = signed(app, world.colleague).get("/solutions/SOP-TILL").get_data(as_text=True)
    offered = re.findall(r'<option[^>]*value="([^"]+)"', part(colleague_page, "tried"))
    assert offered == ["S1"]


def test_the_tally_sits_beside_the_measured_effect(app, db, world):
    signed(app, world.colleague).post(
        "/solutions/SOP-TILL/tried", data=tried_data(body="Queues halved.")
    )
    signed(app, world.stranger).post(
        "/solutions/SOP-TILL/tried", data=tried_data(unit="S3", outcome="did_not_work")
    )
    html = signed(app, world.author).get("/solutions/SOP-TILL").get_data(as_text=True)
    evidence = part(html, "evidence")
    assert 'id="measured"' in evidence
    tally = said(part(html, "tried"))
    assert "1 worked" in tally and "0 mixed" in tally and "1 did not work" in tally
    assert "Queues halved." in visible_text(evidence)
    assert "at Store 1 since" in visible_text(evidence)


# --- Notifications ------------------------------------------------------------------------------


def unread_in_header(browser: Browser) -> str:
    html = browser.get("/proposals").get_data(as_text=True)
    return said(part(html, "notifications-link"))


def test_a_comment_notifies_the_author_and_followers_but_not_the_commenter(app, db, world):
    idea = propose(world)
    stranger = signed(app, world.stranger)
    stranger.post(f"/solutions/{idea.code}/follow")
    colleague = signed(app, world.colleague)
    comment_on(colleague, idea.code, "Love it.")
    author = signed(app, world.author)
    assert unread_in_header(author) == "Notifications 1"
    assert unread_in_header(stranger) == "Notifications 1"
    assert unread_in_header(colleague) == "Notifications"
    notes = text_of(author.get("/notifications"))
    assert f"colleague@example.com commented on {PROPOSAL['title']}." in notes
    # Unfollowed: no more news.
    stranger.post(f"/solutions/{idea.code}/follow", data={"follow": "off"})
    comment_on(colleague, idea.code, "Still love it.")
    assert unread_in_header(stranger) == "Notifications 1"
    assert unread_in_header(author) == "Notifications 2"


def test_reviews_reach_the_author_with_the_reason(app, db, world):
    good, bad = propose(world, title="Good idea"), propose(world, title="Bad idea")
    dup = propose(world, title="Till duplicate")
    lead = signed(app, world.lead)
    lead.post(f"/desk/{good.code}/approve")
    lead.post(f"/desk/{bad.code}/reject", data={"reason": "Costs too much."})
    lead.post(f"/solutions/{dup.code}/merge", data={"survivor": "SOP-TILL", "confirm": "Merge"})
    notes = text_of(signed(app, world.author).get("/notifications"))
    assert "Your proposal Good idea was approved: it is in the library and in search." in notes
    assert "Your proposal Bad idea was not accepted. Reviewer's note: Costs too much." in notes
    assert "Your proposal “Till duplicate” was merged into Open a till at three" in notes
    kinds = db.session.scalars(
        sa.select(Notification.kind).where(Notification.user_id == world.author.id)
    ).all()
    assert sorted(kinds) == sorted(
        [NotificationKind.APPROVED, NotificationKind.REJECTED, NotificationKind.MERGED]
    )


def test_notifications_are_marked_read_one_or_all_and_only_ones_own(app, db, world):
    idea = propose(world)
    colleague, stranger = signed(app, world.colleague), signed(app, world.stranger)
    comment_on(colleague, idea.code, "One.")
    comment_on(stranger, idea.code, "Two.")
    comment_on(stranger, idea.code, "Three.")
    author = signed(app, world.author)
    assert unread_in_header(author) == "Notifications 3"
    assert unread_in_header(colleague) == "Notifications 2"
    db.session.expire_all()
    mine = db.session.scalars(
        sa.select(Notification.id).where(Notification.user_id == world.author.id)
    ).all()
    theirs = db.session.scalars(
        sa.select(Notification.id).where(Notification.user_id == world.colleague.id)
    ).all()

    page = author.get("/notifications").get_data(as_text=True)
    assert f'id="notification-{mine[0]}"' in page
    response = author.post("/notifications/read", data={"id": [str(mine[0])]})
    assert response.status_code == 302
    assert unread_in_header(author) == "Notifications 2"
    unread_page = author.get("/notifications?show=unread").get_data(as_text=True)
    assert f'id="notification-{mine[0]}"' not in unread_page
    # Another person's ids are ignored.
    author.post("/notifications/read", data={"id": [str(i) for i in theirs]})
    assert unread_in_header(colleague) == "Notifications 2"
    assert unread_in_header(author) == "Notifications 2"

    author.post("/notifications/read", data={"all": "1"})
    assert unread_in_header(author) == "Notifications"
    assert unread_in_header(colleague) == "Notifications 2"
    assert count(db, Notification, Notification.read_at.is_(None)) == 2


def test_ids_out_of_range_are_no_notifications_and_no_comments(app, db, world):
    """Ids beyond the database's integer (or not numbers at all) name nothing: 404, or
    nothing marked read; never a server error."""
    propose(world)
    browser = signed(app, world.colleague)
    for junk in ("99999999999999999999", "²"):
        response = browser.post("/notifications/read", data={"id": junk})
        assert response.status_code == 302
    lead = signed(app, world.lead)
    # Beyond a 64-bit integer, and beyond the 32-bit integer the ids are on PostgreSQL.
    for huge in (99999999999999999999, 2**40):
        assert browser.get(f"/comments/{huge}/edit").status_code == 404
        for action in ("edit", "delete", "report"):
            response = browser.post(f"/comments/{huge}/{action}", data={"body": "x"})
            assert response.status_code == 404
        response = lead.post(f"/comments/{huge}/moderate", data={"action": "keep"})
        assert response.status_code == 404


def test_the_notifications_page_tells_of_a_measurement(app, db, world):
    from tests.factories import impact_run

    services.set_follow(world.till, world.colleague, True)
    services.notify_measured(db.session, run=impact_run({"SOP-TILL": (0.5, 0.1, 0.9, 1)}))
    db.session.commit()
    notes = text_of(signed(app, world.colleague).get("/notifications"))
    assert "Open a till at three was measured" in notes and "at 9 units" in notes


# --- My submissions -----------------------------------------------------------------------------


def test_my_submissions_show_where_each_proposal_stands(app, db, world):
    waiting = propose(world, title="Waiting idea")
    approved = propose(world, title="Approved idea")
    rejected = propose(world, title="Rejected idea")
    merged = propose(world, title="Merged idea")
    propose(world, world.colleague, title="Someone else's idea")
    lead = signed(app, world.lead)
    lead.post(f"/desk/{approved.code}/approve")
    lead.post(f"/desk/{rejected.code}/reject", data={"reason": "Already done elsewhere."})
    lead.post(f"/solutions/{merged.code}/merge", data={"survivor": "SOP-TILL", "confirm": "M"})

    html = signed(app, world.author).get("/proposals/mine").get_data(as_text=True)
    assert "Someone else's idea" not in html

    def status(solution):
        return said(part(html, f"submission-{solution.code}")).split(" ", 1)[1]

    assert "Pending" in status(waiting)
    assert "Approved" in status(approved)
    assert "Rejected" in status(rejected)
    assert "Reviewer's note: Already done elsewhere." in status(rejected)
    assert "Merged into Open a till at three" in status(merged)
    row = part(html, f"submission-{merged.code}")
    assert 'href="/solutions/SOP-TILL"' in row


# --- The desk -----------------------------------------------------------------------------------


def test_the_desk_shows_pending_proposals_oldest_first_with_likely_duplicates(app, db, world):
    newer = propose(world, title="Zebra quartz xylophone", summary="")
    older = propose(
        world,
        title="Open a till when three wait",
        summary="Another till for a long checkout queue.",
    )
    newer.created_at, older.created_at = datetime(2025, 6, 1), datetime(2025, 1, 1)
    db.session.commit()
    desk = signed(app, world.lead).get("/desk")
    assert desk.status_code == 200
    html = desk.get_data(as_text=True)
    assert html.index(f'id="desk-{older.code}"') < html.index(f'id="desk-{newer.code}"')
    likely = part(html, f"desk-{older.code}")
    assert 'href="/solutions/SOP-TILL"' in likely
    assert f"/solutions/{older.code}/merge?survivor=SOP-TILL" in likely
    assert "None found in the library." in said(part(html, f"desk-{newer.code}"))
    assert "2 proposals to review" in visible_text(html)
    assert f"Sent by {AUTHOR_NAME}" in visible_text(likely)


def test_approving_from_the_desk_puts_the_proposal_in_search_at_once(app, db, world):
    idea = propose(world, title="Doorway welcome ritual")
    response = signed(app, world.lead).post(f"/desk/{idea.code}/approve", follow_redirects=True)
    assert f"{idea.code} is approved" in text_of(response)
    db.session.expire_all()
    assert db.session.get(Solution, idea.id).status == SolutionStatus.APPROVED
    hits = search(db.session, "doorway welcome ritual", SearchOptions(doc_type="solution"))
    assert [hit.id for hit in hits.results] == [idea.code]
    assert f'id="desk-{idea.code}"' not in signed(app, world.lead).get("/desk").get_data(
        as_text=True
    )


def test_a_rejection_without_a_reason_is_refused(app, db, world):
    idea = propose(world)
    lead = signed(app, world.lead)
    response = lead.post(f"/desk/{idea.code}/reject", data={"reason": " "}, follow_redirects=True)
    assert "Say why the proposal is rejected" in text_of(response)
    db.session.expire_all()
    assert db.session.get(Solution, idea.id).status == SolutionStatus.PENDING
    assert count(db, Notification) == 0
    lead.post(f"/desk/{idea.code}/reject", data={"reason": "Not for us."})
    db.session.expire_all()
    rejected = db.session.get(Solution, idea.id)
    assert (rejected.status, rejected.review_note) == (SolutionStatus.REJECTED, "Not for us.")


def test_edit_then_approve_saves_the_edits_and_approves(app, db, world):
    idea = propose(world, anonymous=True)
    lead = signed(app, world.lead)
    page = lead.get(f"/desk/{idea.code}/review")
    assert page.status_code == 200
    values = form_values(page.get_data(as_text=True))
    assert values["title"] == [PROPOSAL["title"]] and values["challenges"] == ["STAFF-GREET"]
    assert values["anonymous"] == ["y"]
    edited = {
        **values,
        "title": "Door greeter at peak hours",
        "challenges": ["STAFF-GREET", "SPEED-QUEUE"],
        "send": "1",
    }
    invalid = lead.post(f"/desk/{idea.code}/review", data={**edited, "title": ""})
    assert invalid.status_code == 400 and "A solution needs a title." in text_of(invalid)
    db.session.expire_all()
    assert db.session.get(Solution, idea.id).status == SolutionStatus.PENDING
    assert lead.post(f"/desk/{idea.code}/review", data=edited).status_code == 302
    db.session.expire_all()
    done = db.session.get(Solution, idea.id)
    assert (done.title, done.status) == ("Door greeter at peak hours", SolutionStatus.APPROVED)
    assert sorted(c.code for c in done.challenges) == ["SPEED-QUEUE", "STAFF-GREET"]
    assert done.anonymous is True
    (note,) = db.session.scalars(sa.select(Notification)).all()
    assert (note.user_id, note.kind) == (world.author.id, NotificationKind.APPROVED)


def approved_with_a_plan_item(db, world, *, anonymous: bool) -> Solution:
    idea = propose(
        world,
        title="Doorway welcome ritual",
        summary="Say hello at the doorway.",
        challenges=["STAFF-GREET"],
        anonymous=anonymous,
    )
    services.review(idea, SolutionStatus.APPROVED, world.lead)
    db.session.add(Adoption(unit=world.units["S2"], solution=idea, status=AdoptionStatus.PLANNED))
    db.session.commit()
    return idea


@pytest.mark.parametrize("anonymous", [False, True])
def test_an_approved_proposal_is_credited_on_the_challenge_search_and_find_pages(
    app, db, world, anonymous
):
    idea = approved_with_a_plan_item(db, world, anonymous=anonymous)
    credit = "Proposed by a colleague" if anonymous else f"Proposed by {AUTHOR_NAME} at Store 1"
    colleague, manager = signed(app, world.colleague), signed(app, world.manager)
    pages = {
        "challenge": (colleague, "/challenges/STAFF-GREET", "challenge-solutions"),
        "search": (colleague, "/search?q=doorway+welcome", None),
        "find": (manager, "/units/S1/plan/find?q=doorway+welcome", f"candidate-{idea.code}"),
    }
    for name, (browser, path, element) in pages.items():
        response = browser.get(path)
        assert response.status_code == 200, name
        html = response.get_data(as_text=True)
        shown = said(part(html, element) if element else html)
        assert "Doorway welcome ritual" in shown, name
        assert credit in shown, name
        assert "Adopted by 1 unit." in shown, name
    solution_page = text_of(colleague.get(f"/solutions/{idea.code}"))
    assert credit in solution_page and "Adopted by 1 unit." in solution_page


def test_the_proposals_board_lists_pending_ideas_most_voted_first(app, db, world):
    quiet, popular = propose(world, title="Quiet idea"), propose(world, title="Popular idea")
    approved = propose(world, title="Approved idea")
    services.review(approved, SolutionStatus.APPROVED, world.lead)
    quiet.created_at, popular.created_at = datetime(2025, 6, 1), datetime(2025, 1, 1)
    db.session.commit()
    services.set_vote(popular, world.colleague, True)
    html = signed(app, world.stranger).get("/proposals").get_data(as_text=True)
    assert html.index("Popular idea") < html.index("Quiet idea")
    assert "Approved idea" not in html
    newest = signed(app, world.stranger).get("/proposals?sort=newest").get_data(as_text=True)
    assert newest.index("Quiet idea") < newest.index("Popular idea")


def test_the_json_search_finds_an_approved_proposal(app, db, world):
    idea = approved_with_a_plan_item(db, world, anonymous=False)
    payload = json.loads(
        signed(app, world.colleague).get("/search.json?q=doorway+welcome").get_data(as_text=True)
    )
    assert idea.code in [item["id"] for item in payload["results"]]


def test_a_long_thread_is_paged_newest_first(app, db, make_user):
    """A hundred comments a page, the newest first; the page number is bounded."""
    queue = challenge("SPEED-QUEUE", "Long checkout queues")
    till = solution("SOP-TILL", "Open a till at three", challenges=[queue])
    reader = make_user(Role.STAFF)
    db.session.add_all(
        Comment(solution_id=till.id, user_id=reader.id, body=f"Remark number {n:03d}.",
                created_at=datetime(2026, 1, 1) + timedelta(minutes=n))
        for n in range(1, 151)
    )  # fmt: skip
    db.session.commit()
    browser = signed(app, reader)
    first = browser.get("/solutions/SOP-TILL").get_data(as_text=True)
    assert "Remark number 150." in first and "Remark number 051." in first
    assert "Remark number 050." not in first
    assert "150 comments and reports, the newest first: page 1 of 2." in first
    older = browser.get("/solutions/SOP-TILL?comments=2").get_data(as_text=True)
    assert "Remark number 050." in older and "Remark number 001." in older
    assert "Remark number 051." not in older
    assert browser.get("/solutions/SOP-TILL?comments=99999999999").status_code == 200
