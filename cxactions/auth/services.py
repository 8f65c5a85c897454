"""Creating and updating users, shared by the CLI and the admin pages."""

from __future__ import annotations

import functools
import secrets
from collections.abc import Sequence

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from cxactions.audit.services import record
from cxactions.auth.models import Role, User
from cxactions.auth.sessions import end_sessions, renew_after_password_change
from cxactions.foundations.i18n import supported
from cxactions.units.models import Unit

MIN_PASSWORD_LENGTH = 8
# Hashing is slow on purpose; a megabyte of "password" must not cost a megabyte of it.
MAX_PASSWORD_LENGTH = 200


class UserError(ValueError):
    """A user could not be created or updated; the message says why."""


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    local, _at, domain = email.partition("@")
    if not local or "." not in domain or " " in email:
        raise UserError(f"{email!r} is not an email address")
    return email


def upsert_user(
    session: Session,
    email: str,
    role: Role,
    *,
    password: str | None,
    unit_codes: Sequence[str] | None = None,
    name: str | None = None,
    actor: str = "cli",
) -> tuple[User, bool]:
    """Create the user or update their role (and units, and password when given).

    Returns the user and whether it was created. ``unit_codes`` replaces the user's units when
    given. Raises ``UserError`` before changing anything when the input is invalid.
    """
    email = normalise_email(email)
    user = session.scalar(select(User).where(func.lower(User.email) == email))
    created = user is None
    if password is not None:
        check_password_length(password)
    if created and password is None:
        raise UserError("a new user needs a password: set CXACTIONS_PASSWORD or run in a terminal")
    units: list[Unit] | None = None
    if unit_codes is not None:
        units = list(session.scalars(select(Unit).where(Unit.code.in_(unit_codes))))
        missing = sorted(set(unit_codes) - {unit.code for unit in units})
        if missing:
            raise UserError(f"unknown unit_id: {', '.join(missing)}")
    if role not in (Role.STAFF, Role.MANAGER) and units:
        raise UserError("--unit scopes staff and managers; CX leads and admins see every unit")
    if created:
        user = User(email=email)
        session.add(user)
    user.role = role
    if name:
        user.name = name
    if password is not None:
        user.set_password(password)
        if not created:  # a new password ends every session signed in with the old one
            end_sessions(session, user)
    if units is not None:
        user.units = units
    session.flush()
    record(
        session,
        "user.create" if created else "user.update",
        "user",
        user.id,
        actor=actor,
        details={
            "email": email,
            "role": role.value,
            "units": [unit.code for unit in user.units],
            "password_changed": password is not None,
        },
    )
    return user, created


def check_password_length(password: str) -> None:
    """Refuse a password too short or too long (in the page's language; English on the CLI)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(
            _("the password must have at least %(num)d characters", num=MIN_PASSWORD_LENGTH)
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise UserError(
            _("the password must have at most %(num)d characters", num=MAX_PASSWORD_LENGTH)
        )


@functools.cache
def _dummy_hash() -> str:
    """A hash of a random password, made like real ones, for accounts that do not exist."""
    return generate_password_hash(secrets.token_hex(16))


def verify_password(user: User | None, password: str) -> bool:
    """Whether ``password`` is ``user``'s and the account is active. An unknown or inactive
    account costs the same hashing as a real one, so timing does not reveal which exist."""
    if len(password) > MAX_PASSWORD_LENGTH:
        return False
    if user is None or not user.active:
        check_password_hash(_dummy_hash(), password)
        return False
    return user.check_password(password)


def change_password(session: Session, user: User, new_password: str) -> int:
    """Set the signed-in ``user``'s new password, end their other sessions and renew this one;
    returns how many other sessions ended. A temporary password set by an admin is then
    replaced: the user is no longer sent to the password page. Audited."""
    check_password_length(new_password)
    if user.must_change_password and user.check_password(new_password):
        # The admin who set the temporary password knows it.
        raise UserError(_("Choose a password other than the temporary one."))
    user.set_password(new_password)
    user.must_change_password = False
    ended = renew_after_password_change(session, user)
    record(
        session,
        "user.password_change",
        "user",
        user.id,
        user=user,
        details={"email": user.email, "sessions_ended": ended},
    )
    return ended


def set_locale(session: Session, user: User, language: str) -> None:
    """Remember ``user``'s interface language (one of ``i18n.LANGUAGES``) for every device."""
    if supported(language) is None:
        raise UserError(_("Unknown interface language: %(language)r.", language=language))
    user.locale = language
    session.flush()
