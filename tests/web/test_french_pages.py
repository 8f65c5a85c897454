"""Every main page in French, on a living demo organisation: the page says it is French, shows
French words, and no message of the catalogue is left in English on it.

The check reads the compiled catalogue through the app: when ``make`` did not compile it, the
pages fall back to English and this fails rather than passing silently.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from babel.messages.pofile import read_po

from cxactions.auth.models import Role
from cxactions.demo.services import DemoOptions, generate_demo
from cxactions.library.models import Solution
from cxactions.plans.models import Adoption
from cxactions.taxonomy.models import Challenge
from cxactions.units.models import Unit
from tests.pages import visible_text
from tests.paths import REPO

FRENCH = {"Accept-Language": "fr-FR,fr;q=0.9"}


@pytest.fixture
def organisation(app, db):
    generate_demo(db.session, DemoOptions(seed_dir=REPO / "seed", stores=12, weeks=20, seed=5))
    db.session.commit()
    store = db.session.scalars(sa.select(Unit).where(Unit.kind == "store").order_by(Unit.code))
    store = store.first()
    region = db.session.scalars(sa.select(Unit).where(Unit.kind == "region")).first()
    adoption = db.session.scalars(sa.select(Adoption).order_by(Adoption.id)).first()
    category = db.session.scalars(sa.select(Challenge).where(Challenge.parent_id.is_(None))).first()
    leaf = db.session.scalars(sa.select(Challenge).where(Challenge.code == "SPEED-QUEUE")).one()
    french_solution = db.session.scalars(sa.select(Solution).where(Solution.language == "fr"))
    return {
        "store": store.code,
        "region": region.code,
        "adoption": (adoption.unit.code, adoption.solution.code),
        "category": category.code,
        "challenge": leaf.code,
        "solution": french_solution.first().code,
    }


@pytest.fixture(scope="module")
def english_leftovers() -> list[str]:
    """Catalogue messages whose French differs and which would be recognisable if left in
    English: whole phrases without placeholders."""
    path = REPO / "cxactions" / "translations" / "fr" / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        catalogue = read_po(handle)
    return sorted(
        message.id
        for message in catalogue
        if isinstance(message.id, str)
        and len(message.id) >= 14
        and " " in message.id
        and "%" not in message.id
        and message.string
        and message.string != message.id
    )


def _pages(world) -> list[str]:
    unit, solution = world["adoption"]
    return [
        "/",
        "/challenges",
        f"/challenges/{world['category']}",
        f"/challenges/{world['challenge']}",
        "/solutions",
        f"/solutions/{world['solution']}",
        "/search?q=attente",
        "/search?q=queue",
        "/units",
        f"/units/{world['store']}",
        f"/units/{world['region']}",
        f"/units/{unit}/adoptions/{solution}",
        f"/units/{world['store']}/plan/find?q=caisse",
        "/company",
        "/impact",
        "/impact/methods",
        "/impact/gaps",
        f"/impact/solutions/{world['solution']}",
        "/drivers",
        "/metrics",
        "/imports",
        "/account/password",
        f"/challenges/{world['challenge']}/edit",
        f"/challenges/{world['challenge']}/signals",
        "/solutions/new",
        f"/solutions/{world['solution']}/edit",
        "/no-such-page",
    ]


def test_every_main_page_is_in_french(organisation, client_as, english_leftovers):
    lead = client_as(Role.CX_LEAD)
    problems = []
    for path in _pages(organisation):
        response = lead.get(path, headers=FRENCH)
        html = response.get_data(as_text=True)
        if response.status_code not in (200, 404) or (response.status_code == 404) != (
            path == "/no-such-page"
        ):
            problems.append(f"{path}: HTTP {response.status_code}")
            continue
        if '<html lang="fr">' not in html:
            problems.append(f"{path}: not served in French")
        text = visible_text(html)
        # The header of every page, then words that only a French page has.
        if "Problématiques" not in text or "Bibliothèque" not in text:
            problems.append(f"{path}: the French navigation is missing")
        left = [
            phrase for phrase in english_leftovers if re.search(rf"\b{re.escape(phrase)}\b", text)
        ]
        if left:
            problems.append(f"{path}: left in English: {left[:5]}")
    assert not problems, "\n".join(problems)


def test_challenges_show_their_french_names_to_french_readers(organisation, client_as):
    staff = client_as(Role.STAFF)
    french = staff.get(f"/challenges/{organisation['challenge']}", headers=FRENCH)
    english = staff.get(f"/challenges/{organisation['challenge']}")
    assert re.search(
        r'<h1[^>]*lang="fr"[^>]*>\s*Longues files d’attente en caisse',
        french.get_data(as_text=True),
    )
    assert "Long checkout queues" in english.get_data(as_text=True)


def test_numbers_and_dates_are_written_the_french_way(organisation, client_as):
    lead = client_as(Role.CX_LEAD)
    html = lead.get(f"/units/{organisation['store']}", headers=FRENCH).get_data(as_text=True)
    text = visible_text(html)
    # Decimal commas in scores (7,42), never a decimal point between digits in figures...
    assert re.search(r"\b\d+,\d{2}\b", text), text[:2000]
    assert not re.search(r"(?<![\d.])\d{1,2}\.\d{2}(?![\d.])", text), re.findall(
        r"(?<![\d.])\d{1,2}\.\d{2}(?![\d.])", text
    )[:5]
    # ... and French month abbreviations in dates.
    months = r"(janv|févr|mars|avr|mai|juin|juil|août|sept|oct|nov|déc)\.?"
    assert re.search(rf"\b\d{{1,2}} {months} \d{{4}}\b", text), text[:2000]
