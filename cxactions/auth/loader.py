"""Flask-Login wiring: how a session cookie becomes a ``User``."""

from __future__ import annotations

from flask_login import LoginManager

from cxactions.auth.models import User
from cxactions.extensions import db


def configure_login(login_manager: LoginManager) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to see this page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
        return user if user is not None and user.active else None
