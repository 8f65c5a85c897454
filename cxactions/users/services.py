"""The admins' rules for the people who sign in: the filtered list, inviting someone with a
temporary password, changing a role, units or whether the account is active, and resetting a
password. Every change is validated whole first, then written and audited in one transaction.

The password itself never reaches the audit trail: events say whether it was generated or typed.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from cxactions.audit.services import record
from cxactions.auth.models import Role, User
from cxactions.auth.services import UserError, check_password_length, normalise_email
from cxactions.auth.sessions import end_sessions
from cxactions.foundations.changes import RefusedChange, change_transaction
from cxactions.foundations.extensions import paginate
from cxactions.units.models import Unit

PER_PAGE = 25
# A search box, not an essay: longer queries are cut here.
MAX_QUERY_LENGTH = 100
# Staff and managers see the units they are attached to; CX leads and admins see every unit.
SCOPED_ROLES = frozenset({Role.STAFF, Role.MANAGER})
# Generous (a manager of a whole region) yet bounded: one query parameter per code.
MAX_UNITS = 500
# Generated temporary passwords: no 0/O or 1/l/I, since an admin may read one out or copy it.
PASSWORD_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
GENERATED_PASSWORD_LENGTH = 14
STATUSES = ("active", "inactive")


@dataclass(frozen=True)
class UserFilters:
    """What the list shows; unknown values in the query string are ignored, never an error."""

    query: str = ""
    role: Role | None = None
    status: str = ""  # "active", "inactive", or "" for both

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> UserFilters:
        role = args.get("role") or None
        status = args.get("status") or ""
        return cls(
            query=" ".join((args.get("q") or "").split())[:MAX_QUERY_LENGTH],
            role=Role(role) if role in Role._value2member_map_ else None,
            status=status if status in STATUSES else "",
        )

    def as_args(self) -> dict[str, str]:
        """The filters as query-string arguments (for the pagination links)."""
        args = {
            "q": self.query,
            "role": self.role.value if self.role else "",
            "status": self.status,
        }
        return {key: value for key, value in args.items() if value}

    @property
    def filtering(self) -> bool:
        return bool(self.as_args())


def list_users(
    session: Session, filters: UserFilters, page: int = 1, per_page: int = PER_PAGE
) -> Pagination:
    """One page of users matching ``filters``, by name (or e-mail when unnamed), with units."""
    query = select(User).options(selectinload(User.units))
    if filters.query:
        words = filters.query.lower()
        query = query.where(
            or_(
                func.lower(User.name).contains(words, autoescape=True),
                func.lower(User.email).contains(words, autoescape=True),
            )
        )
    if filters.role is not None:
        query = query.where(User.role == filters.role)
    if filters.status:
        query = query.where(User.active.is_(filters.status == "active"))
    query = query.order_by(func.lower(func.coalesce(User.name, User.email)), User.id)
    return paginate(session, query, page, per_page)


def get_user(session: Session, user_id: int) -> User | None:
    return session.scalar(select(User).where(User.id == user_id).options(selectinload(User.units)))


@dataclass(frozen=True)
class TemporaryPassword:
    """The password an admin set for someone: shown to the admin once when ``generated``."""

    password: str = field(repr=False)
    generated: bool


def generate_password() -> str:
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(GENERATED_PASSWORD_LENGTH))


def split_unit_codes(text: str | None) -> list[str]:
    """Unit codes typed as a list: separated by commas, semicolons or lines; each once."""
    codes: dict[str, str] = {}
    for code in re.split(r"[,;\n]+", text or ""):
        code = code.strip()
        if code:
            codes.setdefault(code.lower(), code)
    return list(codes.values())


def unit_codes_text(user: User) -> str:
    """A user's units as the units field shows them."""
    return ", ".join(unit.code for unit in user.units)


def _temporary_password(typed: str | None) -> TemporaryPassword:
    if not typed:
        return TemporaryPassword(generate_password(), generated=True)
    try:
        check_password_length(typed)
    except UserError as error:
        raise RefusedChange(str(error), "password") from error
    return TemporaryPassword(typed, generated=False)


def _role(value: object) -> Role:
    text = str(getattr(value, "value", value) or "")
    if text not in Role._value2member_map_:
        raise RefusedChange(_("Choose a role from the list."), "role")
    return Role(text)


def _name(value: object) -> str | None:
    name = " ".join(str(value or "").split())
    if len(name) > 200:
        raise RefusedChange(_("Keep the name to 200 characters."), "name")
    return name or None


def _email(session: Session, value: object) -> str:
    typed = str(value or "").strip()
    try:
        email = normalise_email(typed)
    except UserError as error:
        raise RefusedChange(
            _("“%(email)s” is not an e-mail address.", email=typed[:254]), "email"
        ) from error
    if len(email) > 254:
        raise RefusedChange(_("An e-mail address has at most 254 characters."), "email")
    if session.scalar(select(User.id).where(func.lower(User.email) == email)) is not None:
        raise RefusedChange(
            _("There is already a user with the e-mail %(email)s.", email=email), "email"
        )
    return email


def _units(session: Session, value: object, role: Role) -> list[Unit]:
    """The units named by ``value`` (codes as text, or a list of codes), checked for ``role``."""
    codes = split_unit_codes(value) if isinstance(value, str | None) else list(value)
    if not codes:
        return []
    if role not in SCOPED_ROLES:
        raise RefusedChange(
            _("CX leads and admins see every unit: leave the units empty for them."), "units"
        )
    if len(codes) > MAX_UNITS:
        raise RefusedChange(
            _(
                "Attach at most %(num)d units; attach a district or a region instead.",
                num=MAX_UNITS,
            ),
            "units",
        )
    lowered = {code.lower() for code in codes}
    units = list(
        session.scalars(select(Unit).where(func.lower(Unit.code).in_(lowered)).order_by(Unit.name))
    )
    missing = [code for code in codes if code.lower() not in {unit.code.lower() for unit in units}]
    if missing:
        raise RefusedChange(
            ngettext(
                "There is no unit with the code %(codes)s.",
                "There are no units with the codes %(codes)s.",
                len(missing),
                codes=", ".join(missing[:10]) + (", …" if len(missing) > 10 else ""),
            ),
            "units",
        )
    return units


def _check_admins_remain(session: Session, user: User, role: Role, active: bool) -> None:
    """Refuse to leave the application without an active admin."""
    if not (user.active and user.role == Role.ADMIN) or (active and role == Role.ADMIN):
        return
    # Every active admin's row locked, in one order (PostgreSQL): of two admins demoting each
    # other at once, the second waits, then sees the first's change and is refused.
    admins = session.scalars(
        select(User.id)
        .where(User.role == Role.ADMIN, User.active.is_(True))
        .order_by(User.id)
        .with_for_update()
    ).all()
    if not [admin_id for admin_id in admins if admin_id != user.id]:
        raise RefusedChange(
            _(
                "%(name)s is the last active admin: make someone else an admin first.",
                name=user.display_name,
            ),
            "active" if not active else "role",
        )


def create_user(
    session: Session, data: Mapping[str, Any], actor: User, *, commit: bool = True
) -> tuple[User, TemporaryPassword]:
    """Invite someone: an account with a temporary password they must change at their first
    sign-in. ``data`` holds ``email``, ``role`` (required), ``name``, ``units`` (codes, for staff
    and managers only) and ``password`` (generated when empty). Returns the user and the
    temporary password, to show the admin once."""
    email = _email(session, data.get("email"))
    name = _name(data.get("name"))
    role = _role(data.get("role"))
    units = _units(session, data.get("units"), role)
    temporary = _temporary_password(data.get("password"))
    with change_transaction(session, commit):
        user = User(email=email, name=name, role=role, active=True, must_change_password=True)
        user.set_password(temporary.password)
        user.units = units
        session.add(user)
        try:
            session.flush()
        except IntegrityError as error:  # another admin invited the same address a moment ago
            raise RefusedChange(
                _("There is already a user with the e-mail %(email)s.", email=email), "email"
            ) from error
        record(
            session,
            "user.create",
            "user",
            user.id,
            user=actor,
            details={
                "email": email,
                "name": name,
                "role": role.value,
                "units": [unit.code for unit in units],
                "password_generated": temporary.generated,
            },
        )
    return user, temporary


@dataclass(frozen=True)
class UserUpdate:
    """What :func:`update_user` changed: field names, and the sessions a deactivation ended."""

    fields: list[str]
    deactivated: bool = False
    sessions_ended: int = 0


def update_user(
    session: Session, user: User, data: Mapping[str, Any], actor: User, *, commit: bool = True
) -> UserUpdate:
    """Change a user's ``name``, ``role``, ``units`` and ``active`` (keys absent from ``data``
    stay as they are). Deactivating ends every session of theirs at once; what they wrote stays.
    An admin cannot demote or deactivate themself, and the last active admin stays one."""
    name = _name(data["name"]) if "name" in data else user.name
    role = _role(data["role"]) if "role" in data else user.role
    active = bool(data["active"]) if "active" in data else user.active
    units = _units(session, data["units"], role) if "units" in data else list(user.units)
    if "units" not in data and role not in SCOPED_ROLES:
        units = []  # a CX lead or admin has no units
    if user.id == actor.id:
        if role != user.role:
            raise RefusedChange(_("You cannot change your own role: ask another admin."), "role")
        if not active:
            raise RefusedChange(_("You cannot deactivate your own account."), "active")
    _check_admins_remain(session, user, role, active)

    before_units = [unit.code for unit in user.units]
    changed = [
        field_name
        for field_name, differs in (
            ("name", name != user.name),
            ("role", role != user.role),
            ("units", {unit.id for unit in units} != {unit.id for unit in user.units}),
            ("active", active != user.active),
        )
        if differs
    ]
    if not changed:
        return UserUpdate([])
    details: dict[str, Any] = {"email": user.email, "fields": changed}
    ended = 0
    with change_transaction(session, commit):
        if "name" in changed:
            details["name"] = {"from": user.name, "to": name}
            user.name = name
        if "role" in changed:
            details["role"] = {"from": user.role.value, "to": role.value}
            user.role = role
        if "units" in changed:
            details["units"] = {"from": before_units, "to": [unit.code for unit in units]}
            user.units = units
        if "active" in changed:
            details["active"] = active
            user.active = active
            if not active:
                ended = end_sessions(session, user)
                details["sessions_ended"] = ended
        session.flush()
        record(session, "user.update", "user", user.id, user=actor, details=details)
    return UserUpdate(changed, deactivated="active" in changed and not active, sessions_ended=ended)


def reset_password(
    session: Session, user: User, actor: User, password: str | None = None, *, commit: bool = True
) -> tuple[TemporaryPassword, int]:
    """Give ``user`` a new temporary password (``password``, or a generated one), end every
    session of theirs, and make them choose their own at the next sign-in. Returns the
    temporary password (to show the admin once) and how many sessions ended."""
    if user.id == actor.id:
        raise RefusedChange(_("Change your own password on the Password page."))
    temporary = _temporary_password(password)
    with change_transaction(session, commit):
        user.set_password(temporary.password)
        user.must_change_password = True
        ended = end_sessions(session, user)
        record(
            session,
            "user.password_reset",
            "user",
            user.id,
            user=actor,
            details={
                "email": user.email,
                "password_generated": temporary.generated,
                "sessions_ended": ended,
            },
        )
    return temporary, ended
