"""The crowd in the browser, person after person, each in a browser of their own.

A member of staff searches, finds nothing for her fix, proposes it; a colleague votes and
comments; the CX lead approves it from the desk; it is then in search and on its challenge's page,
and its author reads the decision. A CX lead merges a duplicate proposal into the approved
solution it repeats: its votes, comment and a store's plan item end on the survivor, and its
author hears where it went.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from cxactions.auth.models import Role, User
from cxactions.crowd import services as crowd
from cxactions.foundations.extensions import db
from cxactions.foundations.vocabulary import AdoptionStatus, SolutionKind, SolutionStatus
from cxactions.library.models import Solution
from cxactions.plans.models import Adoption
from tests.browser.conftest import sign_in, watched_tab
from tests.factories import challenge, solution, unit_tree

pytestmark = pytest.mark.browser

PROPOSAL_TITLE = "Caisse volante avec un terminal mobile"
PROPOSAL_SUMMARY = (
    "Quand la file d'attente dépasse cinq clients, un vendeur encaisse les petits paniers "
    "avec un terminal mobile."
)


def crowd_world(make_user) -> dict[str, User]:
    """Two districts of stores, a queue challenge (named in French too) with two approved
    solutions (one in French), a greeting challenge with another, and the people of the
    journeys."""
    units = unit_tree()
    speed = challenge("SPEED", "Speed and responsiveness", name_fr="Rapidité")
    queue = challenge(
        "SPEED-QUEUE",
        "Long checkout queues",
        parent=speed,
        name_fr="Longues files d'attente en caisse",
    )
    staff = challenge("STAFF", "Staff attitude", name_fr="Attitude du personnel")
    greet = challenge(
        "STAFF-GREET", "Nobody says hello", parent=staff, name_fr="Personne ne dit bonjour"
    )
    solution(
        "SOP-TILL",
        "Open a third till at rush hour",
        challenges=[queue],
        summary="When more than three customers wait in the queue, open another till.",
        steps="Count the queue every ten minutes\nCall a colleague to the third till",
    )
    solution(
        "SOP-RENFORT",
        "Appeler un renfort en caisse",
        challenges=[queue],
        language="fr",
        summary="Dès que la file d'attente dépasse quatre clients, appeler un collègue en caisse.",
    )
    solution(
        "TRN-GREET",
        "Greeting every customer",
        challenges=[greet],
        kind=SolutionKind.TRAINING,
        summary="A warm greeting within ten seconds of the door.",
    )
    db.session.commit()
    people = {
        "ana": make_user(Role.STAFF, email="ana@example.com", units=[units["S1"]]),
        "bruno": make_user(Role.STAFF, email="bruno@example.com", units=[units["S2"]]),
        "chloe": make_user(Role.STAFF, email="chloe@example.com", units=[units["S3"]]),
        "dev": make_user(Role.STAFF, email="dev@example.com", units=[units["S4"]]),
        "maya": make_user(Role.MANAGER, email="maya@example.com", units=[units["D1"]]),
        "lea": make_user(Role.CX_LEAD, email="lea@example.com"),
    }
    names = {
        "ana": "Ana Silva",
        "bruno": "Bruno Martin",
        "chloe": "Chloé Petit",
        "dev": "Dev Patel",
        "maya": "Maya Durand",
        "lea": "Léa Moreau",
    }
    for key, person in people.items():
        person.name = names[key]
    db.session.commit()
    return people


@contextmanager
def signed_in(browser, base_url: str, email: str) -> Iterator:
    """A browser of one's own (cookies apart), signed in as ``email``. Like the ``page``
    fixture, it fails when a page breaks the Content-Security-Policy or a script throws."""
    with watched_tab(browser, base_url) as tab:
        sign_in(tab, email)
        yield tab


def search_titles(tab, query: str) -> list[str]:
    """Search from the header's "Search" page; the titles of the hits shown."""
    tab.locator("nav.mainnav").get_by_role("link", name="Search", exact=True).click()
    tab.wait_for_url("**/search*")
    tab.fill("input[name=q]", query)
    tab.press("input[name=q]", "Enter")
    tab.wait_for_url(re.compile(r"/search\?q="))
    return [title.strip() for title in tab.locator(".search-hit__title").all_inner_texts()]


def header_count(tab, link) -> str | None:
    """The number a header link carries (unread notifications, proposals waiting), or None."""
    count = link.locator(".count")
    return count.inner_text().strip() if count.count() else None


@pytest.mark.one_backend  # its rules run on both databases in tests/crowd; the page flow once
def test_a_staff_proposal_is_voted_approved_and_found(app, live_server, browser, make_user):
    people = crowd_world(make_user)

    # Ana looks for a fix for the queues at her till: nothing like hers is in the library.
    with signed_in(browser, live_server, people["ana"].email) as ana:
        found = search_titles(ana, "file d'attente caisse")
        assert "Appeler un renfort en caisse" in found and PROPOSAL_TITLE not in found, found

        # From the Ideas board, she proposes her own.
        ana.locator("nav.mainnav").get_by_role("link", name="Ideas").click()
        ana.wait_for_url("**/proposals")
        ana.get_by_role("link", name="Propose a solution").first.click()
        ana.wait_for_url("**/proposals/new")
        ana.get_by_label("Title", exact=True).fill(PROPOSAL_TITLE)
        ana.get_by_label("Kind", exact=True).select_option("sop")
        ana.get_by_label("Summary", exact=True).fill(PROPOSAL_SUMMARY)
        ana.get_by_label("How it works", exact=True).fill(
            "Un vendeur équipé d'un **terminal mobile** remonte la file et encaisse "
            "les clients qui paient par carte."
        )
        ana.get_by_label("Steps", exact=True).fill(
            "Compter la file toutes les dix minutes\n"
            "Prendre le terminal mobile au bureau\n"
            "Encaisser les petits paniers dans la file"
        )
        # The language is left to be guessed from her words.
        assert ana.get_by_label("Language", exact=True).input_value() == ""
        ana.locator("#challenges input[value=SPEED-QUEUE]").check()
        ana.get_by_role("button", name="Send the proposal").click()
        # Similar solutions come first, nothing is sent yet; none is hers, so she sends again.
        similar = ana.locator("section#similar")
        assert "Appeler un renfort en caisse" in similar.inner_text()
        assert "Look at these similar solutions first" in ana.locator(".flashes").inner_text()
        assert ana.get_by_label("Title", exact=True).input_value() == PROPOSAL_TITLE
        with app.app_context():
            assert db.session.scalar(sa.select(sa.func.count()).select_from(Solution)) == 3
        ana.get_by_role("button", name="Send the proposal").click()
        ana.wait_for_url(re.compile(r"/solutions/[A-Z0-9-]+$"))
        code = ana.url.rsplit("/", 1)[1]
        assert "waits for a CX lead's review" in ana.locator(".flash--success").inner_text()
        assert ana.locator("h1").inner_text() == PROPOSAL_TITLE
        assert "Pending" in ana.locator("main [role=note]").inner_text()
        with app.app_context():
            proposal = db.session.scalar(sa.select(Solution).where(Solution.code == code))
            assert (proposal.status, proposal.author_id, proposal.language) == (
                SolutionStatus.PENDING,
                people["ana"].id,
                "fr",
            )
            assert [challenge.code for challenge in proposal.challenges] == ["SPEED-QUEUE"]

    # Bruno, at another store, finds it on the Ideas board, votes for it and comments.
    comment = "On l'a essayé le samedi : la file a fondu de moitié."
    with signed_in(browser, live_server, people["bruno"].email) as bruno:
        bruno.locator("nav.mainnav").get_by_role("link", name="Ideas").click()
        bruno.wait_for_url("**/proposals")
        bruno.locator("li.proposal").get_by_role("link", name=PROPOSAL_TITLE).click()
        bruno.wait_for_url(f"**/solutions/{code}")
        assert bruno.locator("#crowd .votes__count").inner_text() == "0 votes"
        bruno.get_by_role("button", name="Vote for it").click()
        bruno.wait_for_url(f"**/solutions/{code}#crowd")
        assert "Your vote is counted." in bruno.locator(".flash--success").inner_text()
        assert bruno.locator("#crowd .votes__count").inner_text() == "1 vote"
        assert bruno.get_by_role("button", name="Withdraw my vote").is_visible()
        discussion = bruno.locator("#comments form")
        discussion.get_by_role("textbox").fill(comment)
        discussion.get_by_role("button", name="Post the comment").click()
        bruno.wait_for_url(re.compile(rf"/solutions/{code}#comment-\d+$"))
        assert "Your comment is posted." in bruno.locator(".flash--success").inner_text()
        assert comment in bruno.locator("#comments .comment__body").inner_text()

    # Léa, the CX lead, sees it waiting on her desk and approves it.
    with signed_in(browser, live_server, people["lea"].email) as lea:
        desk = lea.locator("nav.mainnav").get_by_role("link", name=re.compile(r"^Desk"))
        assert header_count(lea, desk) == "1"
        desk.click()
        lea.wait_for_url("**/desk")
        item = lea.locator(f"li#desk-{code}")
        assert PROPOSAL_TITLE in item.locator("h3").inner_text()
        assert "1 vote" in item.locator(".eyebrow").inner_text()
        assert "Sent by Ana Silva (ana@example.com)" in item.inner_text()
        item.get_by_role("button", name="Approve", exact=True).click()
        lea.wait_for_url("**/desk")
        assert f"{code} is approved" in lea.locator(".flash--success").inner_text()
        assert lea.locator(f"li#desk-{code}").count() == 0
        desk = lea.locator("nav.mainnav").get_by_role("link", name=re.compile(r"^Desk"))
        assert header_count(lea, desk) is None

        # It is in search, by a word of its title and by the search that found nothing before,
        # and on its challenge's page.
        assert PROPOSAL_TITLE in search_titles(lea, "caisse volante")
        assert PROPOSAL_TITLE in search_titles(lea, "file d'attente caisse")
        lea.goto("/challenges/SPEED-QUEUE")
        assert PROPOSAL_TITLE in lea.locator("#challenge-solutions").inner_text()

    # Ana reads the decision: her submissions say "Approved", and a notification tells her.
    with signed_in(browser, live_server, people["ana"].email) as ana:
        notifications = ana.locator("#notifications-link")
        # Bruno's comment on what she follows, then the approval.
        assert header_count(ana, notifications) == "2"
        ana.goto("/proposals/mine")
        row = ana.locator(f"tr#submission-{code}")
        assert row.locator(".submission-status").inner_text().strip() == "Approved"
        assert row.locator("td").nth(2).inner_text().strip() == "1"  # Bruno's vote
        notifications.click()
        ana.wait_for_url("**/notifications")
        listed = ana.locator("ol.notifications").inner_text()
        assert f"Your proposal {PROPOSAL_TITLE} was approved" in listed
        assert f"Bruno Martin commented on {PROPOSAL_TITLE}" in listed
        ana.get_by_role("button", name="Mark all as read").click()
        ana.wait_for_url("**/notifications")
        assert header_count(ana, ana.locator("#notifications-link")) is None
        ana.goto("/search?q=caisse+volante")
        assert PROPOSAL_TITLE in ana.locator(".search-hit__title").all_inner_texts()


DUPLICATE_TITLE = "Open an extra till when the queue grows"
DUPLICATE_COMMENT = "Store 2 did this on Saturdays and the queue halved."


def duplicate_world(make_user) -> tuple[dict[str, User], str, int]:
    """The crowd world plus Dev's proposal that repeats SOP-TILL, through the app's services:
    Bruno and Chloé voted for it (Chloé for SOP-TILL too), Bruno commented, and Store 1 put it
    in its action plan. Returns the people, the duplicate's code and the plan item's id."""
    people = crowd_world(make_user)
    survivor = db.session.scalar(sa.select(Solution).where(Solution.code == "SOP-TILL"))
    duplicate = crowd.submit_proposal(
        db.session,
        {
            "title": DUPLICATE_TITLE,
            "kind": "sop",
            "language": "en",
            "summary": "When more than three customers wait, open another till at once.",
            "steps": "Watch the queue\nOpen a till",
            "challenges": ["SPEED-QUEUE", "STAFF-GREET"],
        },
        people["dev"],
    )
    crowd.set_vote(survivor, people["chloe"], True)
    crowd.set_vote(duplicate, people["bruno"], True)
    crowd.set_vote(duplicate, people["chloe"], True)
    crowd.add_comment(duplicate, people["bruno"], DUPLICATE_COMMENT)
    store = people["ana"].units[0]
    item = Adoption(
        unit_id=store.id,
        solution_id=duplicate.id,
        status=AdoptionStatus.PLANNED,
        owner="Marie Dupont",
        created_by_id=people["maya"].id,
    )
    db.session.add(item)
    db.session.commit()
    return people, duplicate.code, item.id


def test_a_cx_lead_merges_a_duplicate_proposal_from_the_desk(app, live_server, browser, make_user):
    people, code, item_id = duplicate_world(make_user)

    with signed_in(browser, live_server, people["lea"].email) as lea:
        lea.locator("nav.mainnav").get_by_role("link", name=re.compile(r"^Desk")).click()
        lea.wait_for_url("**/desk")
        item = lea.locator(f"li#desk-{code}")
        assert "2 votes" in item.locator(".eyebrow").inner_text()
        duplicates = item.locator(".desk-item__duplicates li")
        survivor_line = duplicates.filter(has_text="SOP-TILL")
        assert survivor_line.count() == 1, duplicates.all_inner_texts()
        survivor_line.get_by_role("link", name="Merge into this one").click()
        lea.wait_for_url(f"**/solutions/{code}/merge?survivor=SOP-TILL")
        assert lea.get_by_label("Code of the solution to keep").input_value() == "SOP-TILL"

        # The preview says what moves before anything does.
        lea.get_by_label("Note", exact=True).fill("The same trigger, proposed twice.")
        lea.get_by_role("button", name="Preview the merge").click()
        preview = lea.locator("#merge-preview").inner_text()
        assert "Open a third till at rush hour (SOP-TILL) stays in the library" in preview
        assert "the challenge “Nobody says hello”" in preview
        assert "1 action-plan item (Store 1)" in preview
        # Chloé voted for both: one of hers is enough.
        assert "1 vote, 1 comment and" in preview
        assert "1 vote from people who also voted for SOP-TILL" in preview
        lea.get_by_role("button", name=f"Merge {code} into SOP-TILL").click()
        lea.wait_for_url("**/solutions/SOP-TILL")
        assert f"{code} was merged into SOP-TILL" in lea.locator(".flash--success").inner_text()

        # The survivor carries the votes, the comment and the challenge.
        assert lea.locator("#crowd .votes__count").inner_text() == "2 votes"
        assert DUPLICATE_COMMENT in lea.locator("#comments").inner_text()
        addresses = lea.get_by_role("complementary").inner_text()
        assert "Nobody says hello" in addresses and "Long checkout queues" in addresses

        # The duplicate's page leads there, and the desk no longer lists it.
        lea.goto(f"/solutions/{code}")
        assert "Open a third till at rush hour" in lea.locator("#merged-notice").inner_text()
        lea.goto("/desk")
        assert lea.locator(f"li#desk-{code}").count() == 0

    # Store 1's plan lists the survivor, on the same plan item.
    with signed_in(browser, live_server, people["maya"].email) as maya:
        maya.goto("/units/S1")
        link = maya.locator(f"a[href='/units/S1/plan/{item_id}']")
        assert link.inner_text().strip() == "Open a third till at rush hour"
        link.click()
        maya.wait_for_url(f"**/units/S1/plan/{item_id}")
        assert maya.locator("h1").inner_text() == "Open a third till at rush hour"
        assert "Marie Dupont" in maya.locator("main").inner_text()

    # Dev hears where his proposal went.
    with signed_in(browser, live_server, people["dev"].email) as dev:
        notifications = dev.locator("#notifications-link")
        assert header_count(dev, notifications) is not None
        notifications.click()
        dev.wait_for_url("**/notifications")
        assert (
            f"Your proposal “{DUPLICATE_TITLE}” was merged into Open a third till at rush hour"
            in dev.locator("ol.notifications").inner_text()
        )
        dev.goto("/proposals/mine")
        status = dev.locator(f"tr#submission-{code} .submission-status").inner_text()
        assert "Merged" in status and "Open a third till at rush hour" in status

    with app.app_context():
        survivor = db.session.scalar(sa.select(Solution).where(Solution.code == "SOP-TILL"))
        moved = db.session.get(Adoption, item_id)
        assert moved.solution_id == survivor.id and moved.merged_into_id is None
