"""Password guessing is slowed down per account and per address, failures are logged, and the
answers (and the hashing work) are the same whether or not an account exists."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from cxactions.auth import services as auth_services
from cxactions.auth import throttle
from cxactions.auth.models import Role, SignInAttempt
from cxactions.foundations.extensions import db as _db
from tests.conftest import TEST_PASSWORD

ATTACKER = {"REMOTE_ADDR": "203.0.113.7"}
ELSEWHERE = {"REMOTE_ADDR": "198.51.100.20"}


@pytest.fixture(autouse=True)
def cheap_dummy_hash(monkeypatch):
    """Unknown accounts are checked against a dummy hash; the tests' users have cheap hashes,
    so the dummy is made as cheap (the timing test below checks the work, not the cost)."""
    cheap = generate_password_hash("dummy", method="pbkdf2:sha256:1")
    monkeypatch.setattr(auth_services, "_dummy_hash", lambda: cheap)


def attempt(client, email: str, password: str, environ=ATTACKER):
    return client.post("/login", data={"email": email, "password": password}, environ_base=environ)


def test_after_five_failures_even_the_right_password_is_refused(app, client, make_user):
    user = make_user(Role.STAFF)
    for _ in range(5):
        assert attempt(client, user.email, "guess").status_code == 400
    response = attempt(client, user.email, TEST_PASSWORD)
    assert response.status_code == 429
    assert "Too many failed sign-ins. Wait 15 minutes" in response.get_data(as_text=True)
    assert 850 <= int(response.headers["Retry-After"]) <= 900
    assert client.get("/units").status_code == 302  # not signed in
    # The account is throttled from any address, not only the attacker's.
    assert attempt(app.test_client(), user.email, TEST_PASSWORD, ELSEWHERE).status_code == 429


def test_unknown_and_known_accounts_get_the_same_answers(client, make_user):
    user = make_user(Role.STAFF)
    known = attempt(client, user.email, "guess")
    unknown = attempt(client, "nobody@example.com", "guess")
    assert known.status_code == unknown.status_code == 400
    assert "Wrong email or password." in unknown.get_data(as_text=True)
    for _ in range(4):
        attempt(client, "nobody@example.com", "guess")
    assert attempt(client, "nobody@example.com", "guess").status_code == 429


def test_an_address_is_throttled_across_accounts(client, make_user):
    user = make_user(Role.STAFF)
    for number in range(20):
        assert attempt(client, f"spray{number}@example.com", "guess").status_code == 400
    assert attempt(client, user.email, TEST_PASSWORD).status_code == 429
    # The account itself had no failure: from another address it signs in.
    assert attempt(client, user.email, TEST_PASSWORD, ELSEWHERE).status_code == 302


def test_failures_age_out_and_success_clears_the_accounts_count(db, client, make_user):
    user = make_user(Role.STAFF)
    for _ in range(5):
        attempt(client, user.email, "guess")
    db.session.execute(sa.update(SignInAttempt).values(at=SignInAttempt.at - timedelta(minutes=16)))
    db.session.commit()
    for _ in range(4):
        attempt(client, user.email, "guess")
    assert attempt(client, user.email, TEST_PASSWORD).status_code == 302
    failures = db.session.scalar(
        sa.select(sa.func.count()).where(SignInAttempt.email == user.email)
    )
    assert failures == 0


def test_failures_are_logged_with_the_address(db, client, caplog):
    with caplog.at_level(logging.WARNING):
        attempt(client, "Someone@Example.com", "guess")
    assert "failed sign-in for someone@example.com from 203.0.113.7" in caplog.text
    row = db.session.scalar(sa.select(SignInAttempt))
    assert (row.email, row.ip) == ("someone@example.com", "203.0.113.7")


def test_failures_count_across_processes(app, make_user):
    """Failures recorded through another connection (another worker process) count here."""
    user = make_user(Role.STAFF)
    elsewhere = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    with Session(elsewhere) as session:
        for _ in range(3):
            throttle.record_failure(session, user.email, "192.0.2.1")
        session.commit()
    elsewhere.dispose()
    client = app.test_client()
    for _ in range(2):
        assert attempt(client, user.email, "guess").status_code == 400
    assert attempt(client, user.email, TEST_PASSWORD).status_code == 429


def test_unknown_accounts_cost_the_same_password_hashing(client, make_user, monkeypatch):
    calls = []
    real = auth_services.check_password_hash

    def counting(stored, password):
        calls.append(stored)
        return real(stored, password)

    monkeypatch.setattr(auth_services, "check_password_hash", counting)
    monkeypatch.setattr("cxactions.auth.models.check_password_hash", counting)
    user = make_user(Role.STAFF)
    attempt(client, user.email, "guess")
    attempt(client, "nobody@example.com", "guess")
    inactive = make_user(Role.STAFF)
    _db.session.execute(
        sa.text("UPDATE users SET active = false WHERE id = :id"), {"id": inactive.id}
    )
    _db.session.commit()
    attempt(client, inactive.email, TEST_PASSWORD)
    assert len(calls) == 3  # one hash check each: known, unknown, inactive


def test_a_huge_password_is_refused_without_hashing(client, make_user, monkeypatch):
    monkeypatch.setattr(auth_services, "check_password_hash", pytest.fail)
    monkeypatch.setattr("cxactions.auth.models.check_password_hash", pytest.fail)
    user = make_user(Role.STAFF)
    assert attempt(client, user.email, "x" * 100_000).status_code == 400
