"""The production configuration as it ships: CSRF on, cookie flags, security headers.

Every other test builds its app with CSRF switched off; these build it from
``CXACTIONS_ENV=production`` with nothing overridden but the database and the instance folder,
so a production setting weakened by mistake fails here.
"""

from __future__ import annotations

import re

import pytest
from werkzeug.security import generate_password_hash

from cxactions import create_app
from cxactions.auth.models import Role, User
from cxactions.foundations.extensions import db as _db
from tests.conftest import TEST_PASSWORD, browser_for
from tests.paths import REPO

HTTPS = "https://cx.example.com"
TEMPLATES = REPO / "templates"


@pytest.fixture
def production(app, monkeypatch, tmp_path):
    """The shipped production app on the test database (``app`` provides the schema)."""
    monkeypatch.setenv("CXACTIONS_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-production-secret-of-at-least-32-bytes")
    shipped = create_app(
        {
            "INSTANCE_PATH": str(tmp_path / "production"),
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "SEARCH_INDEX_PATH": app.config["SEARCH_INDEX_PATH"],
        }
    )
    with shipped.app_context():
        user = User(email="lead@example.com", role=Role.CX_LEAD)
        user.password_hash = generate_password_hash(TEST_PASSWORD, method="pbkdf2:sha256:1")
        _db.session.add(user)
        _db.session.commit()
        yield shipped
        _db.session.remove()
        _db.engine.dispose()  # its own pool: no connection left for the garbage collector


def csrf_token(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def sign_in(client, remember: bool = True):
    token = csrf_token(client.get("/login", base_url=HTTPS).get_data(as_text=True))
    data = {"email": "lead@example.com", "password": TEST_PASSWORD, "csrf_token": token}
    if remember:
        data["remember"] = "y"
    # Over HTTPS, Flask-WTF also checks that the Referer is this site, as browsers send it.
    return client.post("/login", data=data, base_url=HTTPS, headers={"Referer": HTTPS + "/login"})


def test_the_shipped_settings(production):
    config = production.config
    assert config["TESTING"] is False
    assert config["WTF_CSRF_ENABLED"] is True
    assert config["WTF_CSRF_CHECK_DEFAULT"] is True
    for prefix in ("SESSION", "REMEMBER"):
        assert config[f"{prefix}_COOKIE_SECURE"] is True
        assert config[f"{prefix}_COOKIE_HTTPONLY"] is True
        assert config[f"{prefix}_COOKIE_SAMESITE"] == "Lax"
    assert config["REMEMBER_COOKIE_DURATION"].days == 14


def test_forms_without_their_csrf_token_are_refused(production):
    client = browser_for(production)
    response = client.post(
        "/login",
        data={"email": "lead@example.com", "password": TEST_PASSWORD},
        base_url=HTTPS,
    )
    assert response.status_code == 400
    assert client.get("/units", base_url=HTTPS).status_code == 302  # not signed in
    assert sign_in(client).status_code == 302
    assert client.post("/logout", base_url=HTTPS).status_code == 400  # no token: still in
    assert client.get("/units", base_url=HTTPS).status_code == 200
    assert client.post("/metrics/overall", data={"target": "9"}, base_url=HTTPS).status_code == 400


def test_cookies_are_secure_http_only_and_same_site(production):
    response = sign_in(browser_for(production))
    assert response.status_code == 302
    cookies = {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}
    assert {"session", "remember_token"} <= set(cookies)
    for name in ("session", "remember_token"):
        attributes = [part.strip().lower() for part in cookies[name].split(";")]
        assert "secure" in attributes, cookies[name]
        assert "httponly" in attributes, cookies[name]
        assert "samesite=lax" in attributes, cookies[name]


@pytest.mark.parametrize("path", ["/login", "/", "/no/such/page", "/static/css/app.css"])
def test_every_response_carries_the_security_headers(production, path):
    response = browser_for(production).get(path, base_url=HTTPS)
    response.close()
    headers = response.headers
    policy = headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    max_age = int(re.match(r"max-age=(\d+)", headers["Strict-Transport-Security"]).group(1))
    assert max_age >= 365 * 24 * 3600


def test_signed_in_pages_carry_the_headers_too(production):
    client = browser_for(production)
    sign_in(client)
    for path in ("/units", "/solutions", "/impact", "/metrics", "/account/password"):
        headers = client.get(path, base_url=HTTPS).headers
        assert "script-src 'self'" in headers["Content-Security-Policy"], path
        assert headers["X-Frame-Options"] == "DENY", path


def test_development_serves_plain_http_without_hsts_but_with_the_other_headers(app, client):
    response = client.get("/login")
    assert "Strict-Transport-Security" not in response.headers
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert app.config["SESSION_COOKIE_SECURE"] is False


def test_no_template_has_inline_script_style_or_event_handler():
    """The Content-Security-Policy forbids them: they would silently not run."""
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        source = path.read_text(encoding="utf-8")
        if (
            re.search(r"<script(?![^>]*\bsrc=)[^>]*>", source)
            or re.search(r"<style\b", source)
            or re.search(r"\sstyle=", source)
            or re.search(r"\son[a-z]+=", source)
            or "javascript:" in source
        ):
            offenders.append(str(path.relative_to(TEMPLATES)))
    assert offenders == []
