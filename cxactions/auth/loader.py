"""Flask-Login wiring: how a session cookie becomes a ``User``."""

from __future__ import annotations

from flask_babel import gettext
from flask_login import LoginManager

from cxactions.auth.models import User
from cxactions.auth.sessions import user_for_token
from cxactions.foundations.extensions import db
from cxactions.foundations.translation import N_


def configure_login(login_manager: LoginManager) -> None:
    login_manager.login_view = "auth.login"
    # Marked here, translated per request into the reader's language by Flask-Login's callback.
    login_manager.login_message = N_("Please sign in to see this page.")
    login_manager.localize_callback = gettext
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(token: str) -> User | None:
        # The "user id" in the cookies is a sign-in session's token (auth/sessions.py).
        return user_for_token(db.session, token)
