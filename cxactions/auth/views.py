"""Sign in, sign out, and change one's password."""

from __future__ import annotations

import math
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext, refresh
from flask_login import current_user, login_required
from sqlalchemy import func, select

from cxactions.auth import sessions, throttle
from cxactions.auth.forms import LoginForm, PasswordChangeForm
from cxactions.auth.models import User
from cxactions.auth.services import (
    MIN_PASSWORD_LENGTH,
    UserError,
    change_password,
    set_locale,
    verify_password,
)
from cxactions.foundations.db_types import utcnow
from cxactions.foundations.extensions import db
from cxactions.foundations.i18n import LANGUAGE_COOKIE, LANGUAGE_COOKIE_AGE, supported

bp = Blueprint("auth", __name__)

# What a user whose password an admin set may still reach before choosing their own.
OPEN_UNTIL_PASSWORD_CHANGED = frozenset(
    {"auth.change_own_password", "auth.logout", "auth.set_language", "static", "web.health"}
)


@bp.before_app_request
def require_own_password():
    """Send a user still on an admin's temporary password to the password page, whatever they
    ask for (pages, forms and JSON alike), until they have chosen their own."""
    if request.endpoint is None or request.endpoint in OPEN_UNTIL_PASSWORD_CHANGED:
        return None
    if current_user.is_authenticated and current_user.must_change_password:
        return redirect(url_for("auth.change_own_password"))
    return None


def _safe_next(target: str | None) -> str:
    """Only redirect back inside this site (no open redirect through ``?next=``)."""
    if (
        target
        and not urlsplit(target).netloc
        and target.startswith("/")
        and not target.startswith("//")
    ):
        return target
    return url_for("web.home")


def _client_address() -> str:
    return request.remote_addr or "unknown"


def _too_many(form, wait: int):
    """The answer once the failures of an account or an address reach their limit (HTTP 429)."""
    minutes = max(1, math.ceil(wait / 60))
    form.password.errors.append(
        ngettext(
            "Too many failed sign-ins. Wait %(num)d minute, then try again.",
            "Too many failed sign-ins. Wait %(num)d minutes, then try again.",
            minutes,
        )
    )
    response = current_app.make_response((render_template("auth/login.html", form=form), 429))
    response.headers["Retry-After"] = str(wait)
    return response


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("web.home"))
    form = LoginForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        address = _client_address()
        limits = throttle.Limits.from_config(current_app.config)
        wait = throttle.seconds_to_wait(db.session, email, address, limits)
        if wait:
            current_app.logger.warning(
                "sign-in refused for %s from %s: too many failures", email, address
            )
            return _too_many(form, wait)
        user = db.session.scalar(select(User).where(func.lower(User.email) == email))
        # The same password hashing whether or not the account exists: no timing difference.
        if not verify_password(user, form.password.data):
            throttle.record_failure(db.session, email, address)
            db.session.commit()
            current_app.logger.warning("failed sign-in for %s from %s", email, address)
            form.password.errors.append(_("Wrong email or password."))
        else:
            throttle.forget_failures(db.session, email)
            sessions.sign_in(db.session, user, remember=form.remember.data)
            user.last_login_at = utcnow()
            db.session.commit()
            refresh()  # greet them in the language their account chose
            flash(_("Welcome, %(name)s.", name=user.display_name), "success")
            if user.must_change_password:  # the page says why (a temporary password)
                return redirect(url_for("auth.change_own_password"))
            return redirect(_safe_next(request.args.get("next")))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    sessions.sign_out_everywhere(db.session, current_user._get_current_object())
    db.session.commit()
    flash(_("You are signed out, in this browser and everywhere else."), "info")
    return redirect(url_for("web.home"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_own_password():
    form = PasswordChangeForm()
    user = current_user._get_current_object()
    if form.validate_on_submit():
        address = _client_address()
        limits = throttle.Limits.from_config(current_app.config)
        wait = throttle.seconds_to_wait(db.session, user.email, address, limits)
        if wait:
            form.current_password.errors.append(
                _("Too many wrong passwords. Wait a few minutes, then try again.")
            )
            return _password_page(form), 429
        if not verify_password(user, form.current_password.data):
            throttle.record_failure(db.session, user.email, address)
            db.session.commit()
            current_app.logger.warning("wrong current password for %s from %s", user.email, address)
            form.current_password.errors.append(_("This is not your current password."))
        else:
            try:
                ended = change_password(db.session, user, form.new_password.data)
            except UserError as error:
                db.session.rollback()
                form.new_password.errors.append(str(error))
            else:
                db.session.commit()
                flash(
                    ngettext(
                        "Your password is changed. %(num)d other session ended.",
                        "Your password is changed. %(num)d other sessions ended.",
                        ended,
                    )
                    if ended
                    else _("Your password is changed."),
                    "success",
                )
                return redirect(url_for("web.home"))
    status = 400 if request.method == "POST" else 200
    return _password_page(form), status


def _password_page(form: PasswordChangeForm) -> str:
    return render_template("auth/password.html", form=form, min_password_length=MIN_PASSWORD_LENGTH)


@bp.post("/language")
def set_language():
    """The switch in the header: serve the pages in another language from now on.

    Kept in a cookie (so it also holds before signing in) and, for a signed-in user, on the
    account, so it follows them to the shop-floor tablet and back.
    """
    language = supported(request.form.get("language"))
    response = redirect(_safe_next(request.form.get("next")))
    if language is None:
        return response
    response.set_cookie(
        LANGUAGE_COOKIE,
        language,
        max_age=LANGUAGE_COOKIE_AGE,
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )
    if current_user.is_authenticated:
        set_locale(db.session, current_user._get_current_object(), language)
        db.session.commit()
    return response
