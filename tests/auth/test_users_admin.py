"""Admins manage the people who sign in: invite them with a temporary password they must
replace, change their role and units, deactivate them (ending their sessions at once), reset
their passwords. Nobody else may, an admin cannot lock themself out, the last admin stays, and
every change is audited without a password in it."""

from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa

from cxactions.audit.models import AuditEvent
from cxactions.auth.models import Role, User, UserSession
from cxactions.foundations.changes import RefusedChange
from cxactions.library.models import Solution
from cxactions.users import services
from tests.conftest import TEST_PASSWORD, browser_for
from tests.factories import solution, unit_tree
from tests.pages import visible_text

TEMPORARY = "temporary-pass-42"


def sign_in(app, email: str, password: str = TEST_PASSWORD):
    """A fresh browser, after a sign-in attempt; returns it and the answer."""
    browser = browser_for(app)
    response = browser.post("/login", data={"email": email, "password": password})
    return browser, response


def signed_in_browser(app, user: User):
    browser, response = sign_in(app, user.email)
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return browser


def signed_in(browser) -> bool:
    response = browser.get("/units")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def events(db, action: str) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


def reload(db, user: User) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


def by_email(db, email: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(User).where(User.email == email))


def shown_password(page: str) -> str:
    match = re.search(r'<code id="temporary-password">([^<]+)</code>', page)
    assert match, page[:2000]
    return match.group(1)


@pytest.fixture
def units(db):
    tree = unit_tree()
    db.session.commit()
    return tree


@pytest.fixture
def admin(db, make_user):
    user = make_user(Role.ADMIN, email="root@example.com")
    user.name = "Root Admin"
    db.session.commit()
    return user


@pytest.fixture
def as_admin(app, admin):
    return signed_in_browser(app, admin)


# --- Inviting someone -------------------------------------------------------------------------


def test_an_admin_creates_a_manager_with_units_and_a_typed_temporary_password(
    app, db, units, admin, as_admin
):
    response = as_admin.post(
        "/users/new",
        data={
            "email": " Maya@Example.com ",
            "name": "Maya Lind",
            "role": "manager",
            "units": "D1, s3",
            "password": TEMPORARY,
        },
    )
    maya = by_email(db, "maya@example.com")
    assert maya is not None
    assert response.status_code == 302 and response.location == f"/users/{maya.id}"
    assert (maya.name, maya.role, maya.active) == ("Maya Lind", Role.MANAGER, True)
    assert sorted(unit.code for unit in maya.units) == ["D1", "S3"]
    assert maya.must_change_password and maya.check_password(TEMPORARY)
    page = as_admin.get(response.location).get_data(as_text=True)
    assert "Maya Lind can now sign in with the temporary password" in page
    assert TEMPORARY not in page  # a typed password is not shown back
    (event,) = events(db, "user.create")
    assert (event.entity_id, event.user_id) == (str(maya.id), admin.id)
    assert event.details == {
        "email": "maya@example.com",
        "name": "Maya Lind",
        "role": "manager",
        "units": ["D1", "S3"],
        "password_generated": False,
    }


def test_a_generated_password_is_shown_once_uncached_and_signs_in(app, db, units, as_admin):
    response = as_admin.post(
        "/users/new", data={"email": "sam@example.com", "role": "staff", "units": "S1"}
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    password = shown_password(response.get_data(as_text=True))
    assert len(password) >= 12
    sam = by_email(db, "sam@example.com")
    assert sam.must_change_password and sam.check_password(password)
    (event,) = events(db, "user.create")
    assert event.details["password_generated"] is True
    assert password not in json.dumps(event.details)
    # The next page shows it no more.
    assert password not in as_admin.get(f"/users/{sam.id}").get_data(as_text=True)
    browser, signed = sign_in(app, "sam@example.com", password)
    assert signed.status_code == 302 and signed.location == "/account/password"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"email": "not-an-email"}, "email", "is not an e-mail address"),
        ({"units": "D1, NOPE, ZZ"}, "units", "There are no units with the codes NOPE, ZZ."),
        ({"role": "cx_lead", "units": "D1"}, "units", "CX leads and admins see every unit"),
        ({"role": "overlord"}, "role", "Choose a role from the list."),
        ({"email": ""}, "email", "Give the person's e-mail address."),
        ({"password": "short"}, "password", "at least 8 characters"),
    ],
)
def test_invalid_input_is_shown_again_with_the_input_kept(
    app, db, units, as_admin, data, field, message
):
    form = {"email": "ana@example.com", "name": "Ana Perez", "role": "staff", "units": "D1"}
    form.update(data)
    response = as_admin.post("/users/new", data=form)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    error = re.search(rf'<ul class="field__errors" id="{field}-error">(.*?)</ul>', page, re.S)
    assert error is not None and message in error.group(1), page[:3000]
    assert 'value="Ana Perez"' in page
    assert f'value="{form["units"]}"' in page
    if form["email"]:
        assert f'value="{form["email"]}"' in page
    assert "short" not in re.findall(r'<input[^>]*id="password"[^>]*>', page)[0]
    assert by_email(db, "ana@example.com") is None
    assert not events(db, "user.create")


def test_a_second_account_for_an_email_is_refused_whatever_its_case(app, db, make_user, as_admin):
    make_user(Role.STAFF, email="ana@example.com")
    response = as_admin.post("/users/new", data={"email": "ANA@example.com", "role": "manager"})
    assert response.status_code == 400
    assert "There is already a user with the e-mail ana@example.com." in visible_text(
        response.get_data(as_text=True)
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 2


# --- Editing: role, units, deactivation -------------------------------------------------------


def edit(browser, user: User, **fields):
    data = {"name": user.name or "", "role": user.role.value, "units": "", "active": "y"}
    data.update({key: value for key, value in fields.items() if value is not None})
    if fields.get("active") is False:
        del data["active"]
    return browser.post(f"/users/{user.id}", data=data)


def test_an_admin_changes_a_role_and_units_audited(app, db, units, make_user, admin, as_admin):
    worker = make_user(Role.STAFF, units=[units["S1"]])
    page = as_admin.get(f"/users/{worker.id}").get_data(as_text=True)
    assert 'value="S1"' in page
    response = edit(as_admin, worker, role="manager", units="D1")
    assert response.status_code == 302
    worker = reload(db, worker)
    assert worker.role == Role.MANAGER and [unit.code for unit in worker.units] == ["D1"]
    (event,) = events(db, "user.update")
    assert event.user_id == admin.id
    assert event.details["role"] == {"from": "staff", "to": "manager"}
    assert event.details["units"] == {"from": ["S1"], "to": ["D1"]}
    # Promoted to CX lead: every unit, so the units go.
    assert edit(as_admin, worker, role="cx_lead", units="D1").status_code == 400
    assert edit(as_admin, worker, role="cx_lead", units="").status_code == 302
    worker = reload(db, worker)
    assert worker.role == Role.CX_LEAD and worker.units == []
    # Saving what is there writes nothing.
    assert edit(as_admin, worker).status_code == 302
    assert len(events(db, "user.update")) == 2


def test_deactivating_ends_their_sessions_and_stops_sign_in_but_keeps_their_content(
    app, db, units, make_user, admin, as_admin
):
    worker = make_user(Role.MANAGER, units=[units["D1"]], email="worker@example.com")
    authored = solution("SOP-MINE", "My idea")
    authored.author_id = worker.id
    db.session.commit()
    laptop, tablet = signed_in_browser(app, worker), signed_in_browser(app, worker)
    assert signed_in(laptop) and signed_in(tablet)

    response = edit(as_admin, worker, units="D1", active=False)
    assert response.status_code == 302
    assert "can no longer sign in; 2 sessions were ended" in as_admin.get(
        response.location
    ).get_data(as_text=True)
    assert not signed_in(laptop) and not signed_in(tablet)
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(UserSession)
            .where(UserSession.user_id == worker.id)
        )
        == 0
    )
    _, refused = sign_in(app, worker.email)
    assert refused.status_code == 400 and "Wrong email or password." in refused.get_data(
        as_text=True
    )
    worker = reload(db, worker)
    assert not worker.active and [unit.code for unit in worker.units] == ["D1"]
    assert db.session.scalar(sa.select(Solution).where(Solution.code == "SOP-MINE")).author_id == (
        worker.id
    )
    (event,) = events(db, "user.update")
    assert event.details["active"] is False and event.details["sessions_ended"] == 2

    # Reactivated, they sign in again with their own password.
    assert edit(as_admin, worker, units="D1").status_code == 302
    assert sign_in(app, worker.email)[1].status_code == 302


def test_an_admin_cannot_deactivate_or_demote_themself(app, db, make_user, admin, as_admin):
    make_user(Role.ADMIN)  # another admin: the refusal is about oneself, not about the last one
    response = edit(as_admin, admin, active=False)
    assert response.status_code == 400
    assert "You cannot deactivate your own account." in response.get_data(as_text=True)
    response = edit(as_admin, admin, role="cx_lead")
    assert response.status_code == 400
    assert "You cannot change your own role: ask another admin." in response.get_data(as_text=True)
    admin = reload(db, admin)
    assert admin.active and admin.role == Role.ADMIN
    assert signed_in(as_admin)
    assert not events(db, "user.update")


def test_an_admin_can_deactivate_or_demote_another_admin(app, db, make_user, as_admin):
    other = make_user(Role.ADMIN)
    assert edit(as_admin, other, role="cx_lead").status_code == 302
    assert reload(db, other).role == Role.CX_LEAD


def test_the_last_active_admin_cannot_be_demoted_or_deactivated(app, db, make_user, admin):
    lead = make_user(Role.CX_LEAD)
    make_user(Role.ADMIN, email="gone@example.com").active = False  # an inactive admin counts not
    db.session.commit()
    for change in ({"active": False}, {"role": "cx_lead"}):
        with pytest.raises(RefusedChange, match="Root Admin is the last active admin"):
            services.update_user(db.session, admin, change, actor=lead)
        admin = reload(db, admin)
        assert admin.active and admin.role == Role.ADMIN
    second = make_user(Role.ADMIN)
    services.update_user(db.session, admin, {"role": "cx_lead"}, actor=second)
    assert reload(db, admin).role == Role.CX_LEAD


def test_refused_edits_show_the_input_again(app, db, units, make_user, as_admin):
    worker = make_user(Role.STAFF, units=[units["S1"]])
    response = edit(as_admin, worker, name="Newname", units="S1, NOWHERE")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'value="Newname"' in page and 'value="S1, NOWHERE"' in page
    assert "There is no unit with the code NOWHERE." in page
    assert reload(db, worker).name is None


# --- Resetting a password ---------------------------------------------------------------------


def test_a_reset_ends_their_sessions_and_forces_a_new_password_at_sign_in(
    app, db, make_user, admin, as_admin
):
    worker = make_user(Role.CX_LEAD, email="lead@example.com")
    old_browser = signed_in_browser(app, worker)
    response = as_admin.post(f"/users/{worker.id}/password", data={"reset-password": TEMPORARY})
    assert response.status_code == 302 and response.location == f"/users/{worker.id}"
    assert "1 session was ended" in as_admin.get(response.location).get_data(as_text=True)
    assert not signed_in(old_browser)
    assert sign_in(app, worker.email, TEST_PASSWORD)[1].status_code == 400

    browser, response = sign_in(app, worker.email, TEMPORARY)
    assert response.status_code == 302 and response.location == "/account/password"
    page = browser.get("/account/password").get_data(as_text=True)
    assert "Your current password is a temporary one an admin set." in page
    # Every other page, read or write, leads to the password page until it is changed.
    for method, path in [("GET", "/"), ("GET", "/units"), ("GET", "/search.json?q=a"),
                         ("POST", "/solutions/new")]:  # fmt: skip
        answer = browser.open(path, method=method)
        assert answer.status_code == 302 and answer.location == "/account/password", path
    # Keeping the temporary password is no change.
    same = {"current_password": TEMPORARY, "new_password": TEMPORARY, "confirm": TEMPORARY}
    response = browser.post("/account/password", data=same)
    assert response.status_code == 400
    assert "Choose a password other than the temporary one." in response.get_data(as_text=True)
    mine = {
        "current_password": TEMPORARY,
        "new_password": "my own secret",
        "confirm": "my own secret",
    }
    assert browser.post("/account/password", data=mine).status_code == 302
    assert browser.get("/units").status_code == 200
    assert not reload(db, worker).must_change_password

    (event,) = events(db, "user.password_reset")
    assert (event.entity_id, event.user_id) == (str(worker.id), admin.id)
    assert event.details == {
        "email": "lead@example.com",
        "password_generated": False,
        "sessions_ended": 1,
    }


def test_a_generated_reset_password_is_shown_once(app, db, make_user, as_admin):
    worker = make_user(Role.STAFF)
    response = as_admin.post(f"/users/{worker.id}/password", data={})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    password = shown_password(response.get_data(as_text=True))
    assert reload(db, worker).check_password(password)
    assert sign_in(app, worker.email, password)[1].location == "/account/password"
    (event,) = events(db, "user.password_reset")
    assert password not in json.dumps(event.details)


def test_a_too_short_reset_password_is_refused_on_the_user_page(app, db, make_user, as_admin):
    worker = make_user(Role.STAFF)
    response = as_admin.post(f"/users/{worker.id}/password", data={"reset-password": "short"})
    assert response.status_code == 400
    assert 'id="reset-password-error"' in response.get_data(as_text=True)
    assert reload(db, worker).check_password(TEST_PASSWORD)
    assert not events(db, "user.password_reset")


def test_an_admin_resets_their_own_password_only_on_the_password_page(app, db, admin, as_admin):
    response = as_admin.post(f"/users/{admin.id}/password", data={"reset-password": TEMPORARY})
    assert response.status_code == 400
    assert "Change your own password on the Password page." in response.get_data(as_text=True)
    assert signed_in(as_admin) and not reload(db, admin).must_change_password


def test_the_password_page_does_not_block_signing_out_or_switching_language(
    app, db, make_user, as_admin
):
    worker = make_user(Role.STAFF)
    as_admin.post(f"/users/{worker.id}/password", data={"reset-password": TEMPORARY})
    browser, _ = sign_in(app, worker.email, TEMPORARY)
    response = browser.post("/language", data={"language": "fr", "next": "/account/password"})
    assert response.status_code == 302 and response.location == "/account/password"
    stylesheet = browser.get("/static/css/app.css")
    stylesheet.close()
    assert stylesheet.status_code == 200
    response = browser.post("/logout")
    assert response.status_code == 302 and response.location == "/"
    assert browser.get("/").status_code == 200  # signed out: the home page again
    assert not signed_in(browser)


# --- The list ---------------------------------------------------------------------------------


def test_the_list_searches_filters_and_pages(app, db, units, make_user, admin, as_admin):
    ana = make_user(Role.MANAGER, units=[units["D1"]], email="ana@example.com")
    ana.name = "Ana Perez"
    gone = make_user(Role.STAFF, email="gone@example.com")
    gone.active = False
    db.session.commit()
    page = visible_text(as_admin.get("/users").get_data(as_text=True))
    assert "Ana Perez" in page and "ana@example.com" in page and "D1" in page
    assert "Every unit" in page and "Never" in page and "Deactivated" in page
    assert "3 users" in page

    def names(query: str) -> str:
        response = as_admin.get(f"/users?{query}")
        assert response.status_code == 200
        return visible_text(response.get_data(as_text=True))

    assert "ana@example.com" in names("q=perez") and "gone@" not in names("q=perez")
    assert "ana@example.com" in names("q=ANA%40EX") and "root@" not in names("q=ana%40ex")
    assert "No user matches" in names("q=%25")  # a literal %, not a wildcard
    assert "gone@example.com" in names("status=inactive")
    assert "ana@example.com" not in names("status=inactive")
    assert "root@example.com" in names("role=admin") and "ana@" not in names("role=admin")
    for silly in ("page=9223372036854775807", "page=-3", "role=nope&status=maybe"):
        assert as_admin.get(f"/users?{silly}").status_code == 200

    for number in range(30):
        make_user(Role.STAFF, email=f"many{number:02d}@example.com")
    first = names("")
    assert "page 1 of 2" in first
    assert "33 users" in first


def test_the_users_link_is_in_the_header_for_admins_only(app, client_as, as_admin):
    assert 'href="/users"' in as_admin.get("/").get_data(as_text=True)
    assert 'href="/users"' not in client_as(Role.CX_LEAD).get("/").get_data(as_text=True)


# --- Who may ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.STAFF, Role.MANAGER, Role.CX_LEAD])
def test_only_admins_manage_users(app, db, units, make_user, role):
    target = make_user(Role.STAFF, units=[units["S1"]], email="target@example.com")
    browser = signed_in_browser(app, make_user(role, email="asker@example.com"))
    for path in ("/users", "/users/new", f"/users/{target.id}"):
        assert browser.get(path).status_code == 403, path
    answers = [
        browser.post(
            "/users/new", data={"email": "new@example.com", "role": "admin", "password": TEMPORARY}
        ),
        browser.post(f"/users/{target.id}", data={"role": "admin", "units": "", "name": "Hacked"}),
        browser.post(f"/users/{target.id}/password", data={"reset-password": TEMPORARY}),
    ]
    assert [answer.status_code for answer in answers] == [403, 403, 403]
    target = reload(db, target)
    assert (target.role, target.active, target.name) == (Role.STAFF, True, None)
    assert target.check_password(TEST_PASSWORD) and not target.must_change_password
    assert by_email(db, "new@example.com") is None
    assert not db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action.like("user.%")))


def test_no_audit_event_of_the_pages_holds_a_password(app, db, units, make_user, as_admin):
    worker = make_user(Role.STAFF)
    as_admin.post(
        "/users/new", data={"email": "x@example.com", "role": "staff", "password": TEMPORARY}
    )
    as_admin.post(f"/users/{worker.id}/password", data={"reset-password": "another-temporary"})
    recorded = json.dumps([event.details for event in db.session.scalars(sa.select(AuditEvent))])
    assert "user.create" in {event.action for event in db.session.scalars(sa.select(AuditEvent))}
    assert TEMPORARY not in recorded and "another-temporary" not in recorded
    assert "pbkdf2" not in recorded and "scrypt" not in recorded
