"""The interface's language: chosen by the user, else a cookie, else the browser, else English;
the switch in the header sets it and is remembered on the account."""

from __future__ import annotations

import re

import pytest

from cxactions.auth.models import Role, User
from cxactions.foundations.i18n import LANGUAGE_COOKIE
from tests.conftest import TEST_PASSWORD, browser_for


def _lang(response) -> str:
    match = re.search(r'<html lang="([^"]+)"', response.get_data(as_text=True))
    assert match, response.get_data(as_text=True)[:300]
    return match.group(1)


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "en"),
        ("fr-FR,fr;q=0.9,en;q=0.8", "fr"),
        ("fr-CA", "fr"),
        ("en-GB,en;q=0.9,fr;q=0.5", "en"),
        ("de-DE,de;q=0.9", "en"),  # a language the interface does not speak: English
        ("de-DE,fr;q=0.5", "fr"),  # ... unless the browser also accepts one it speaks
    ],
)
def test_the_browser_language_is_used_when_nothing_was_chosen(client, accept, expected):
    headers = {"Accept-Language": accept} if accept else {}
    assert _lang(client.get("/login", headers=headers)) == expected


def test_the_cookie_wins_over_the_browser(client):
    client.set_cookie(LANGUAGE_COOKIE, "fr")
    assert _lang(client.get("/login", headers={"Accept-Language": "en"})) == "fr"
    client.set_cookie(LANGUAGE_COOKIE, "xx")  # a forged value is ignored
    assert _lang(client.get("/login", headers={"Accept-Language": "en"})) == "en"


def test_the_switch_sets_the_cookie_and_goes_back_where_it_was(client):
    response = client.post("/language", data={"language": "fr", "next": "/login?next=/units"})
    assert response.status_code == 302
    assert response.location == "/login?next=/units"
    cookie = client.get_cookie(LANGUAGE_COOKIE)
    assert cookie is not None and cookie.value == "fr" and cookie.http_only
    page = client.get("/login")
    assert _lang(page) == "fr"
    assert "Aller au contenu" in page.get_data(as_text=True)


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "javascript:1"])
def test_the_switch_never_sends_people_off_site(client, target):
    response = client.post("/language", data={"language": "fr", "next": target})
    assert response.location == "/"


def test_an_unknown_language_changes_nothing(client):
    response = client.post("/language", data={"language": "klingon", "next": "/login"})
    assert response.status_code == 302
    assert client.get_cookie(LANGUAGE_COOKIE) is None


def test_the_users_choice_is_remembered_on_every_device(app, db, make_user):
    user = make_user(Role.STAFF)
    tablet, phone = browser_for(app), browser_for(app)
    for device in (tablet, phone):
        device.post("/login", data={"email": user.email, "password": TEST_PASSWORD})
    assert _lang(tablet.get("/")) == "en"

    tablet.post("/language", data={"language": "fr", "next": "/"})
    db.session.expire_all()
    assert db.session.get(User, user.id).locale == "fr"
    # The phone never used the switch and its browser asks for English: the account wins.
    assert _lang(phone.get("/", headers={"Accept-Language": "en"})) == "fr"
    # Even over a cookie left by someone else on a shared tablet.
    phone.set_cookie(LANGUAGE_COOKIE, "en")
    assert _lang(phone.get("/")) == "fr"

    phone.post("/language", data={"language": "en", "next": "/"})
    assert _lang(tablet.get("/")) == "en"


def test_the_switch_needs_a_csrf_token(app, client):
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post("/language", data={"language": "fr", "next": "/"})
    assert response.status_code == 400
    assert client.get_cookie(LANGUAGE_COOKIE) is None


def test_the_switch_offers_the_other_language_in_its_own_words(client):
    english = client.get("/login").get_data(as_text=True)
    assert re.search(r'<button[^>]*value="fr"[^>]*lang="fr"[^>]*>Français</button>', english)
    french = client.get("/login", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert re.search(r'<button[^>]*value="en"[^>]*lang="en"[^>]*>English</button>', french)
    assert 'value="fr"' not in french


def test_the_sign_in_prompt_of_a_protected_page_speaks_the_readers_language(client):
    client.set_cookie(LANGUAGE_COOKIE, "fr")
    response = client.get("/units", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert _lang(response) == "fr"
    assert "Veuillez vous connecter pour voir cette page." in page
    assert "Please sign in" not in page


def test_wtforms_own_messages_are_translated(client):
    """The validators' built-in messages (required, e-mail) come from WTForms' catalogue."""
    client.set_cookie(LANGUAGE_COOKIE, "fr")
    page = client.post("/login", data={"email": "not-an-email", "password": ""})
    text = page.get_data(as_text=True)
    assert "Adresse électronique non valide." in text
    assert "Ce champ est requis." in text
    assert "This field is required." not in text
