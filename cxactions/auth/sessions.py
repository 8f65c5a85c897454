"""Sign-in sessions kept on the server, so that they can be ended.

Flask's session is a signed cookie: on its own, a copy of it (or of the "remember me" cookie)
works until it expires, whatever the user does. Here each sign-in creates a ``UserSession`` row
with a random token; the cookies carry the token (as Flask-Login's user id, its documented
"alternative token" pattern) and the database keeps only its SHA-256. A cookie whose row is
gone or expired signs nobody in. Signing out ends every session of the user; changing the
password ends the others and gives the current browser a new token.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app, has_request_context, request
from flask_login import login_user, logout_user
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cxactions.auth.models import User, UserSession
from cxactions.foundations.db_types import utcnow


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _lifetime(remember: bool) -> timedelta:
    config = current_app.config
    return (
        config["REMEMBER_COOKIE_DURATION"] if remember else timedelta(hours=config["SESSION_HOURS"])
    )


def sign_in(session: Session, user: User, *, remember: bool) -> UserSession:
    """Start a session for ``user`` in this browser (a new token: tokens never repeat)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    row = UserSession(
        user_id=user.id,
        token_hash=_digest(token),
        remember=remember,
        created_at=now,
        expires_at=now + _lifetime(remember),
        ip=request.remote_addr if has_request_context() else None,
        user_agent=(request.user_agent.string or "")[:200] if has_request_context() else None,
    )
    session.add(row)
    session.flush()
    user.session_token = token
    login_user(user, remember=remember, duration=_lifetime(remember) if remember else None)
    return row


def user_for_token(session: Session, token: str) -> User | None:
    """The active user a session token belongs to, or None (unknown, ended or expired)."""
    if not token or len(token) > 100:
        return None
    # Every signed-in request asks: one indexed lookup, the user joined in.
    user = session.scalar(
        select(User)
        .join(UserSession, UserSession.user_id == User.id)
        .where(
            UserSession.token_hash == _digest(token),
            UserSession.expires_at > utcnow(),
            User.active.is_(True),
        )
    )
    if user is not None:
        user.session_token = token
    return user


def sign_out_everywhere(session: Session, user: User) -> int:
    """End every session of ``user`` (this browser's too); returns how many ended."""
    ended = _end_sessions(session, user.id)
    if has_request_context():
        logout_user()
    return ended


def end_sessions(session: Session, user: User) -> int:
    """End every session of ``user`` from outside a browser (password set on the command line,
    account deactivated); returns how many ended."""
    return _end_sessions(session, user.id)


def renew_after_password_change(session: Session, user: User) -> int:
    """End the user's other sessions and give this browser a fresh token; returns how many
    other sessions ended."""
    current = getattr(user, "session_token", None)
    remember = False
    if current:
        row = session.scalar(select(UserSession).where(UserSession.token_hash == _digest(current)))
        remember = bool(row and row.remember)
    ended = _end_sessions(session, user.id) - (1 if current else 0)
    sign_in(session, user, remember=remember)
    return max(ended, 0)


def _end_sessions(session: Session, user_id: int) -> int:
    # "fetch": rows this session loaded leave its identity map (SQLite may reuse their ids).
    result = session.execute(
        delete(UserSession)
        .where(UserSession.user_id == user_id)
        .execution_options(synchronize_session="fetch")
    )
    # Expired rows of anyone are of no use: tidy them while here.
    session.execute(
        delete(UserSession)
        .where(UserSession.expires_at <= utcnow())
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount or 0
