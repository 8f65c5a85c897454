"""The sign-in page and the error pages: each says what happened and where to go next."""

from __future__ import annotations

import re

from cxactions.auth.models import Role
from tests.conftest import TEST_PASSWORD
from tests.pages import visible_text


def test_login_page_has_labelled_fields(client):
    page = client.get("/login").get_data(as_text=True)
    assert '<label class="field__label" for="email">Email</label>' in page
    assert '<label class="field__label" for="password">Password</label>' in page
    assert 'autocomplete="current-password"' in page
    assert "Sign in" in page


def test_wrong_password_is_shown_next_to_the_field_and_the_email_kept(client, make_user):
    user = make_user(Role.STAFF, email="ana@example.com")
    response = client.post("/login", data={"email": user.email, "password": "not it"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'value="ana@example.com"' in page
    error = re.search(r'<ul class="field__errors" id="password-error">(.*?)</ul>', page, re.S)
    assert error is not None and "Wrong email or password." in error.group(1)
    assert 'aria-describedby="password-error"' in page and 'aria-invalid="true"' in page
    assert TEST_PASSWORD not in page
    # Focus goes to the field to fix, and only to it.
    assert page.count("autofocus") == 1
    assert re.search(
        r'<input[^>]*autofocus[^>]*id="password"|<input[^>]*id="password"[^>]*autofocus', page
    )


def test_malformed_email_is_reported_on_the_email_field(client):
    response = client.post("/login", data={"email": "not-an-email", "password": "x"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="email-error"' in page
    assert 'value="not-an-email"' in page


def test_signing_in_returns_to_the_page_asked_for(client, make_user):
    user = make_user(Role.STAFF)
    response = client.get("/units")
    assert response.status_code == 302
    assert "/login?next=%2Funits" in response.location
    response = client.post(
        "/login?next=/units", data={"email": user.email, "password": TEST_PASSWORD}
    )
    assert response.status_code == 302 and response.location == "/units"


def test_signed_in_pages_carry_the_navigation_and_a_skip_link(client_as):
    page = client_as(Role.STAFF).get("/").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert '<a class="skip-link" href="#main">' in page and 'id="main"' in page
    for link in ['href="/challenges"', 'href="/solutions"', 'href="/units"']:
        assert link in page
    assert 'action="/logout"' in page
    assert ">Import<" not in page  # for curators only


def test_curators_see_the_import_link_once_the_import_page_exists(app, db, make_user, login):
    # The imports feature is built elsewhere; a stand-in page shows how the menu finds it.
    app.add_url_rule("/imports", "imports.new_import", lambda: "upload here")
    page = login(make_user(Role.CX_LEAD)).get("/").get_data(as_text=True)
    assert '<a href="/imports"' in page and ">Import<" in page


def test_not_found_page_offers_a_way_on(client_as):
    response = client_as(Role.STAFF).get("/no/such/page")
    assert response.status_code == 404
    text = visible_text(response.get_data(as_text=True))
    assert "We could not find that page" in text
    assert "Go to the home page" in text and "Browse challenges" in text


def test_not_found_page_works_signed_out(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Browse challenges" not in response.get_data(as_text=True)


def test_too_large_upload_names_the_limit_and_the_command_line(app, db, client_as):
    app.config["MAX_CONTENT_LENGTH"] = 2 * 1024 * 1024

    @app.post("/upload-probe")
    def upload_probe():
        from flask import request

        return str(len(request.files))

    # A raw body: the test client spools a big multipart body to a temporary file it never
    # closes when the app refuses to read it.
    response = client_as(Role.CX_LEAD).post(
        "/upload-probe",
        data=b"x" * (3 * 1024 * 1024),
        content_type="multipart/form-data; boundary=x",
    )
    assert response.status_code == 413
    text = visible_text(response.get_data(as_text=True))
    assert "That file is too large to upload" in text
    assert "2 MB" in text
    assert "cxactions import" in text and "any size" in text


def test_server_error_page_is_calm_and_needs_no_database(app, client):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/boom")
    def boom():
        raise RuntimeError("kaboom")

    response = client.get("/boom")
    assert response.status_code == 500
    text = visible_text(response.get_data(as_text=True))
    assert "Something went wrong on our side" in text
    assert "nothing was half-saved" in text
    assert "kaboom" not in text
    assert "Sign out" not in text and "Sign in" not in text  # no user lookup while failing


def test_other_http_errors_use_the_generic_page(client_as):
    response = client_as(Role.STAFF).post("/challenges")
    assert response.status_code == 405
    text = visible_text(response.get_data(as_text=True))
    assert "Method Not Allowed" in text and "Go to the home page" in text


def test_errors_answer_json_to_the_api(client):
    response = client.get("/api/nothing")
    assert response.status_code == 404
    assert response.get_json()["error"] == "Not Found"
