"""A newcomer who reads only French does what the product offers, in French: switch the language
on the sign-in page, sign in, read a store's scorecard and priorities, search, find and adopt a
solution, and curate a challenge. The French words are read from the compiled catalogue, so the
test fails if it is missing (the pages would fall back to English)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from babel.support import Translations

from cxactions.auth.models import Role
from cxactions.foundations.extensions import db
from cxactions.foundations.vocabulary import SignalDirection, ThresholdKind
from cxactions.surveys.models import Metric
from cxactions.taxonomy.models import ChallengeSignal
from tests.browser.conftest import sign_in, store_scores
from tests.factories import challenge, solution
from tests.paths import REPO

pytestmark = pytest.mark.browser

CATALOGUE = Translations.load(str(REPO / "cxactions" / "translations"), ["fr"])


def fr(english: str) -> str:
    """The French of an interface message; fails when the catalogue has none."""
    french = CATALOGUE.gettext(english)
    assert french != english or english in ("Impact", "Menu"), f"no French for {english!r}"
    return french


def store_world():
    """District D1's four stores with eight weeks of scores; S1 trails on staff friendliness,
    which signals the challenge "Nobody says hello" (named in French too)."""
    units = store_scores()
    rating = db.session.scalar(sa.select(Metric).where(Metric.code == "staff_rating"))
    staff = challenge("STAFF", "Staff attitude", name_fr="Attitude du personnel")
    greet = challenge(
        "STAFF-GREET", "Nobody says hello", parent=staff, name_fr="Personne ne dit bonjour"
    )
    db.session.add(
        ChallengeSignal(
            challenge=greet,
            metric_id=rating.id,
            direction=SignalDirection.BELOW,
            threshold_kind=ThresholdKind.PEER_SD,
            threshold=1.0,
        )
    )
    solution(
        "TRN-ACCUEIL",
        "Dire bonjour à chaque client",
        challenges=[greet],
        language="fr",
        summary="Un accueil dans les trois secondes.",
    )
    db.session.commit()
    return units


def test_a_french_manager_reads_priorities_searches_and_adopts(page, make_user):
    units = store_world()
    make_user(Role.MANAGER, email="maya@example.com", units=[units["D1"]])

    # The sign-in page of a shared tablet, switched to French before signing in.
    page.goto("/login")
    page.locator("header").get_by_role("button", name="Français").click()
    page.wait_for_url("**/login")
    assert page.locator("html").get_attribute("lang") == "fr"
    assert fr("Sign in") in page.locator("main").inner_text()
    sign_in(page, "maya@example.com")
    assert page.locator("html").get_attribute("lang") == "fr"

    # The scorecard and priorities: French words, the challenge's French name, decimal commas.
    page.goto("/units/S1")
    main = page.locator("main").inner_text()
    assert "Personne ne dit bonjour" in main
    assert page.locator("[lang=fr]", has_text="Personne ne dit bonjour").first.is_visible()
    assert re.search(r"\b\d,\d{2}\b", main) and not re.search(r"\b\d\.\d{2}\b", main)

    # Search the library in French.
    page.goto("/search")
    page.get_by_role("searchbox").first.fill("bonjour")
    page.get_by_role("searchbox").first.press("Enter")
    page.wait_for_url("**/search?**")
    assert page.locator("a[href='/solutions/TRN-ACCUEIL']").first.is_visible()

    # Find and adopt the solution for the store's plan.
    page.goto("/units/S1/plan/find?q=bonjour")
    candidate = page.locator("#candidate-TRN-ACCUEIL")
    candidate.locator("summary").click()
    candidate.get_by_label(fr("Owner")).fill("Maya")
    candidate.get_by_label(fr("Due date")).fill((date.today() + timedelta(days=14)).isoformat())
    candidate.get_by_role("button", name=fr("Add to plan")).click()
    page.wait_for_url("**/units/S1#plan-heading")
    flash = page.locator(".flash--success").inner_text()
    assert "Dire bonjour à chaque client" in flash and flash != "", flash
    assert page.locator("html").get_attribute("lang") == "fr"


def test_a_french_lead_curates_a_challenge(page, make_user):
    store_world()
    make_user(Role.CX_LEAD, email="lea@example.com")
    sign_in(page, "lea@example.com")
    page.locator("header").get_by_role("button", name="Français").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "fr"

    page.goto("/challenges/STAFF-GREET/edit")
    page.get_by_label(fr("French name")).fill("Aucun bonjour à l’accueil")
    page.get_by_role("button", name=fr("Save changes")).click()
    page.wait_for_url("**/challenges/STAFF-GREET")
    assert page.locator("h1").inner_text().strip() == "Aucun bonjour à l’accueil"
    assert page.locator("h1").get_attribute("lang") == "fr"
    assert fr("Saved.") in page.locator(".flashes").inner_text()

    # The choice is the account's: the English browser of another device still gets French.
    page.context.clear_cookies()
    sign_in(page, "lea@example.com")
    assert page.locator("html").get_attribute("lang") == "fr"


# Is the keyboard's focus on the element the selector names?
FOCUSED = "selector => document.activeElement === document.querySelector(selector)"


def tab_to(page, selector: str, limit: int = 120) -> None:
    """Press Tab until the focus reaches ``selector``, as a keyboard user would."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(FOCUSED, selector):
            return
    raise AssertionError(f"{selector} is never reached with the Tab key")


def test_a_manager_adopts_a_solution_with_the_keyboard_alone(page, make_user):
    units = store_world()
    make_user(Role.MANAGER, email="maya@example.com", units=[units["D1"]])
    page.goto("/login")
    page.locator("header").get_by_role("button", name="Français").click()
    page.wait_for_url("**/login")
    sign_in(page, "maya@example.com")

    # From the unit page, the challenge's "find a solution" link, then the candidate's form.
    page.goto("/units/S1")
    tab_to(page, "a[href='/units/S1/plan/find?challenge=STAFF-GREET']")
    page.keyboard.press("Enter")
    page.wait_for_url("**/plan/find?challenge=STAFF-GREET")
    tab_to(page, "#candidate-TRN-ACCUEIL summary")
    page.keyboard.press("Enter")  # opens the form
    tab_to(page, "#owner-TRN-ACCUEIL")
    page.keyboard.press("Control+A")
    page.keyboard.type("Maya Keyboard")
    # The due date is filled in (the focus window); the challenge is the one being worked on.
    assert page.locator("#due_on-TRN-ACCUEIL").input_value()
    tab_to(page, "#candidate-TRN-ACCUEIL [type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url("**/units/S1#plan-heading")
    assert "Dire bonjour à chaque client" in page.locator(".flash--success").inner_text()
    assert "Maya Keyboard" in page.locator("main").inner_text()
