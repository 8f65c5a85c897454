"""Challenges' French names: curators write them on the edit form (saved and audited like the
other fields), and each reader sees the name in their language, marked with it, else the other.

These tests depend on the French names only, not on the interface being translated.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from cxactions.audit.models import AuditEvent
from cxactions.auth.models import Role
from cxactions.foundations.changes import RefusedChange
from cxactions.taxonomy import services
from cxactions.taxonomy.models import Challenge
from tests.factories import challenge

FRENCH = {"Accept-Language": "fr-FR,fr;q=0.9"}
ENGLISH = {"Accept-Language": "en-GB,en;q=0.9"}


@pytest.fixture
def taxonomy(db):
    """SPEED (QUEUE with French names, HOLD without): QUEUE falls back on nothing, HOLD on its
    English name."""
    speed = challenge("SPEED", "Speed and responsiveness", name_fr="Rapidité et réactivité")
    queue = challenge(
        "SPEED-QUEUE",
        "Long checkout queues",
        parent=speed,
        description="Customers queue too long to pay.",
        name_fr="Files d’attente trop longues en caisse",
        description_fr="Les clients attendent trop longtemps pour payer.",
    )
    hold = challenge("SPEED-HOLD", "Long phone hold times", parent=speed, position=1)
    db.session.commit()
    return {"speed": speed, "queue": queue, "hold": hold}


def get(db, code: str) -> Challenge:
    db.session.expire_all()
    return db.session.scalar(sa.select(Challenge).where(Challenge.code == code))


def updates(db) -> list[AuditEvent]:
    query = sa.select(AuditEvent).where(AuditEvent.action == "challenge.update")
    return list(db.session.scalars(query))


# --- Editing -------------------------------------------------------------------------------


def test_the_edit_form_saves_the_french_name_and_description(db, taxonomy, client_as):
    client = client_as(Role.CX_LEAD)
    form = client.get("/challenges/SPEED-HOLD/edit").get_data(as_text=True)
    assert 'name="name_fr"' in form and 'name="description_fr"' in form
    response = client.post(
        "/challenges/SPEED-HOLD/edit",
        data={
            "name": "Long phone hold times",
            "name_fr": "  Attente trop longue au téléphone ",
            "description_fr": "Les clients patientent en ligne.",
            "parent": "SPEED",
            "status": "active",
        },
    )
    assert response.status_code == 302 and response.location.endswith("/challenges/SPEED-HOLD")
    hold = get(db, "SPEED-HOLD")
    assert hold.name == "Long phone hold times"
    assert hold.name_fr == "Attente trop longue au téléphone"
    assert hold.description_fr == "Les clients patientent en ligne."
    (event,) = updates(db)
    assert set(event.details["fields"]) == {"name_fr", "description_fr"}
    assert event.details["name_fr"] == {"from": None, "to": "Attente trop longue au téléphone"}
    # The form shows them again, and emptying them removes them.
    form = client.get("/challenges/SPEED-HOLD/edit").get_data(as_text=True)
    assert 'value="Attente trop longue au téléphone"' in form
    assert "Les clients patientent en ligne.</textarea>" in form
    client.post(
        "/challenges/SPEED-HOLD/edit",
        data={
            "name": "Long phone hold times",
            "name_fr": "",
            "description_fr": " ",
            "parent": "SPEED",
            "status": "active",
        },
    )
    hold = get(db, "SPEED-HOLD")
    assert hold.name_fr is None and hold.description_fr is None


def test_saving_the_same_french_name_writes_nothing(db, taxonomy, curator_user):
    data = {"name_fr": "Files d’attente trop longues en caisse"}
    assert services.update_challenge(taxonomy["queue"], data, curator_user) == []
    assert not updates(db)


def test_a_french_name_too_long_is_refused_and_writes_nothing(db, taxonomy, client_as):
    with pytest.raises(RefusedChange, match="keep it to 200") as error:
        services.update_challenge(taxonomy["hold"], {"name_fr": "x" * 201})
    assert error.value.field == "name_fr"
    response = client_as(Role.CX_LEAD).post(
        "/challenges/SPEED-HOLD/edit",
        data={"name": "Long phone hold times", "name_fr": "x" * 201, "status": "active"},
    )
    assert response.status_code == 400
    assert get(db, "SPEED-HOLD").name_fr is None
    assert not updates(db)


@pytest.fixture
def curator_user(make_user):
    return make_user(Role.CX_LEAD)


# --- Reading -------------------------------------------------------------------------------


def test_a_french_reader_sees_the_french_names_on_the_challenge_list(db, taxonomy, client_as):
    page = client_as(Role.STAFF).get("/challenges", headers=FRENCH).get_data(as_text=True)
    assert '<html lang="fr">' in page
    assert 'lang="fr">Rapidité et réactivité</a>' in page
    assert 'lang="fr">Files d’attente trop longues en caisse</a>' in page
    assert "Long checkout queues" not in page
    # No French name: the English one, marked as English.
    assert 'lang="en">Long phone hold times</a>' in page


def test_a_french_reader_sees_the_french_name_on_the_challenge_page(db, taxonomy, client_as):
    client = client_as(Role.STAFF)
    page = client.get("/challenges/SPEED-QUEUE", headers=FRENCH).get_data(as_text=True)
    assert '<h1 lang="fr">Files d’attente trop longues en caisse</h1>' in page
    assert 'lang="fr">Les clients attendent trop longtemps pour payer.</p>' in page
    assert "Long checkout queues" not in page
    assert "Customers queue too long to pay." not in page
    # The parent category in the breadcrumb is in French too.
    assert "Rapidité et réactivité" in page
    # The category page lists the sub-challenges in the reader's language, else in English.
    page = client.get("/challenges/SPEED", headers=FRENCH).get_data(as_text=True)
    assert '<h1 lang="fr">Rapidité et réactivité</h1>' in page
    assert 'lang="fr">Files d’attente trop longues en caisse</a>' in page
    assert 'lang="en">Long phone hold times</a>' in page


def test_a_french_reader_falls_back_on_the_english_name(db, taxonomy, client_as):
    page = client_as(Role.STAFF).get("/challenges/SPEED-HOLD", headers=FRENCH)
    page = page.get_data(as_text=True)
    assert '<h1 lang="en">Long phone hold times</h1>' in page


def test_an_english_reader_sees_the_english_names(db, taxonomy, client_as):
    client = client_as(Role.STAFF)
    page = client.get("/challenges", headers=ENGLISH).get_data(as_text=True)
    assert '<html lang="en">' in page
    assert 'lang="en">Long checkout queues</a>' in page
    assert 'lang="en">Speed and responsiveness</a>' in page
    assert "Files d’attente" not in page and "Rapidité" not in page
    page = client.get("/challenges/SPEED-QUEUE", headers=ENGLISH).get_data(as_text=True)
    assert '<h1 lang="en">Long checkout queues</h1>' in page
    assert 'lang="en">Customers queue too long to pay.</p>' in page
    assert "Files d’attente" not in page


def test_curators_see_the_name_in_the_other_language(db, taxonomy, client_as):
    client = client_as(Role.CX_LEAD)
    page = client.get("/challenges/SPEED-QUEUE", headers=ENGLISH).get_data(as_text=True)
    assert '<span lang="fr">Files d’attente trop longues en caisse</span>' in page
    page = client.get("/challenges/SPEED-QUEUE", headers=FRENCH).get_data(as_text=True)
    assert '<span lang="en">Long checkout queues</span>' in page
