"""Sign-in sessions can be ended: signing out, a new password, expiry and deactivation end every
copy of the session and "remember me" cookies; the remember token is new at every sign-in and
lasts two weeks, not a year."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from cxactions.auth.models import Role, User, UserSession
from cxactions.foundations.db_types import utcnow
from tests.conftest import TEST_PASSWORD, browser_for

PRIVATE = "/units"  # any page that needs a signed-in user


def sign_in(app, user: User, *, remember: bool = False):
    """A fresh browser, signed in as ``user``."""
    browser = browser_for(app)
    data = {"email": user.email, "password": TEST_PASSWORD}
    if remember:
        data["remember"] = "y"
    response = browser.post("/login", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return browser


def copy_of(app, browser, *names: str):
    """Another browser holding copies of ``browser``'s cookies ``names`` (a stolen cookie)."""
    thief = browser_for(app)
    for name in names:
        cookie = browser.get_cookie(name)
        assert cookie is not None, name
        thief.set_cookie(name, cookie.value)
    return thief


def signed_in(browser) -> bool:
    response = browser.get(PRIVATE)
    assert response.status_code in (200, 302)
    return response.status_code == 200


def test_after_sign_out_a_copied_session_cookie_no_longer_works(app, make_user):
    browser = sign_in(app, make_user(Role.STAFF))
    thief = copy_of(app, browser, "session")
    assert signed_in(thief)
    assert browser.post("/logout").status_code == 302
    assert not signed_in(browser)
    assert not signed_in(thief)


def test_after_sign_out_a_copied_remember_cookie_no_longer_works(app, make_user):
    browser = sign_in(app, make_user(Role.STAFF), remember=True)
    stolen = browser.get_cookie("remember_token").value
    thief = browser_for(app)
    thief.set_cookie("remember_token", stolen)
    assert signed_in(thief)  # the remember cookie alone signs in, until...
    browser.post("/logout")
    late_thief = browser_for(app)
    late_thief.set_cookie("remember_token", stolen)
    assert not signed_in(late_thief)
    assert not signed_in(thief)


def test_signing_out_ends_the_users_other_sessions(app, make_user):
    user = make_user(Role.MANAGER)
    laptop, tablet = sign_in(app, user), sign_in(app, user, remember=True)
    other_user = sign_in(app, make_user(Role.STAFF))
    laptop.post("/logout")
    assert not signed_in(tablet)
    assert signed_in(other_user)


def test_the_remember_token_is_new_at_every_sign_in_and_lasts_two_weeks(app, make_user):
    user = make_user(Role.STAFF)
    first = sign_in(app, user, remember=True).get_cookie("remember_token")
    second = sign_in(app, user, remember=True).get_cookie("remember_token")
    assert first.value != second.value
    lifetime = second.expires - datetime.now(second.expires.tzinfo)
    assert timedelta(days=13) < lifetime <= timedelta(days=14, minutes=1)
    row = max(
        app.extensions["sqlalchemy"].session.scalars(sa.select(UserSession)),
        key=lambda session: session.id,
    )
    assert row.remember
    assert timedelta(days=13) < row.expires_at - utcnow() <= timedelta(days=14)


def test_the_database_keeps_only_a_hash_of_the_token(app, db, make_user):
    browser = sign_in(app, make_user(Role.STAFF), remember=True)
    token_cookie = browser.get_cookie("remember_token").value
    token = token_cookie.split("|")[0]
    stored = db.session.scalars(sa.select(UserSession.token_hash)).all()
    assert len(stored) == 1 and token not in stored and len(stored[0]) == 64
    assert str(db.session.scalar(sa.select(User.id))) != token  # never the user's id


def test_a_new_password_ends_the_other_sessions_and_keeps_this_one(app, db, make_user):
    user = make_user(Role.STAFF)
    here, elsewhere = sign_in(app, user), sign_in(app, user, remember=True)
    stolen = copy_of(app, here, "session")
    response = here.post(
        "/account/password",
        data={
            "current_password": TEST_PASSWORD,
            "new_password": "a new long password",
            "confirm": "a new long password",
        },
    )
    assert response.status_code == 302
    assert signed_in(here)
    assert not signed_in(elsewhere)
    assert not signed_in(stolen)  # the old token of this browser too: it was renewed
    db.session.expire_all()
    assert db.session.get(User, user.id).check_password("a new long password")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UserSession)) == 1


def test_a_wrong_current_password_changes_nothing(app, db, make_user):
    user = make_user(Role.STAFF)
    here, elsewhere = sign_in(app, user), sign_in(app, user)
    response = here.post(
        "/account/password",
        data={"current_password": "not it", "new_password": "x" * 12, "confirm": "x" * 12},
    )
    assert response.status_code == 400
    assert "This is not your current password." in response.get_data(as_text=True)
    assert signed_in(elsewhere)
    db.session.expire_all()
    assert db.session.get(User, user.id).check_password(TEST_PASSWORD)


def test_a_new_password_set_on_the_command_line_ends_every_session(app, make_user, monkeypatch):
    user = make_user(Role.STAFF)
    browser = sign_in(app, user, remember=True)
    monkeypatch.setenv("CXACTIONS_PASSWORD", "set by an admin")
    result = app.test_cli_runner().invoke(args=["user", "add", user.email, "--role", "staff"])
    assert result.exit_code == 0, result.output
    assert not signed_in(browser)


def test_a_role_change_without_a_password_keeps_sessions(app, make_user, monkeypatch):
    user = make_user(Role.STAFF)
    browser = sign_in(app, user)
    monkeypatch.delenv("CXACTIONS_PASSWORD", raising=False)
    result = app.test_cli_runner().invoke(args=["user", "add", user.email, "--role", "cx_lead"])
    assert result.exit_code == 0, result.output
    assert signed_in(browser)


def test_an_expired_session_signs_nobody_in(app, db, make_user):
    browser = sign_in(app, make_user(Role.STAFF), remember=True)
    db.session.execute(sa.update(UserSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert not signed_in(browser)


def test_a_session_without_remember_me_lasts_the_working_day(app, db, make_user):
    sign_in(app, make_user(Role.STAFF))
    row = db.session.scalar(sa.select(UserSession))
    assert not row.remember
    assert timedelta(hours=11) < row.expires_at - utcnow() <= timedelta(hours=12)


def test_a_deactivated_account_is_signed_out(app, db, make_user):
    user = make_user(Role.STAFF)
    browser = sign_in(app, user)
    db.session.execute(sa.update(User).where(User.id == user.id).values(active=False))
    db.session.commit()
    assert not signed_in(browser)
