"""People who sign in, their role and, for managers, the units they look after."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Column, ForeignKey, Index, String, Table, false
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from cxactions.foundations.db_types import str_enum, utcnow
from cxactions.foundations.extensions import db
from cxactions.foundations.vocabulary import Role

user_units = Table(
    "user_units",
    db.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("unit_id", ForeignKey("units.id", ondelete="CASCADE"), primary_key=True),
)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[Role] = mapped_column(str_enum(Role, "user_role"), default=Role.STAFF)
    active: Mapped[bool] = mapped_column(default=True)
    # Set when an admin created the account or reset its password: the temporary password works
    # for signing in, then every page leads to the password change until it is changed.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The interface language the user chose with the switch in the header (None: not chosen).
    locale: Mapped[str | None] = mapped_column(String(5))
    # When ``cxactions reminders`` last sent this user a digest (what was measured since goes in).
    last_digest_at: Mapped[datetime | None]
    # Whether the user also wants their unread notifications by e-mail (with the reminders run).
    email_notifications: Mapped[bool] = mapped_column(default=False, server_default=false())
    last_login_at: Mapped[datetime | None]

    units = relationship("Unit", secondary=user_units, order_by="Unit.name")

    # The token of the sign-in session this object was loaded for (auth/sessions.py). Not a
    # column: the database keeps only its hash, in ``user_sessions``.
    session_token = None

    def get_id(self) -> str:
        """What Flask-Login keeps in the session and "remember me" cookies: the session token,
        never the user's id, so that ending the session ends every copy of the cookies."""
        if not self.session_token:
            raise RuntimeError("sign users in through cxactions.auth.sessions.sign_in")
        return self.session_token

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active

    @property
    def display_name(self) -> str:
        return self.name or self.email

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def has_role(self, role: Role) -> bool:
        """True when the user's role is ``role`` or a more powerful one."""
        return self.role.rank >= role.rank


class UserSession(db.Model):
    """One signed-in browser. The cookie carries a random token; only its SHA-256 is stored.

    Signing out deletes the row and a password change deletes the user's other rows, so a
    copied session or "remember me" cookie stops working at once; rows also expire.
    """

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    remember: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(200))

    user = relationship("User")


class SignInAttempt(db.Model):
    """A failed sign-in: the log of failures and the counter that throttles guessing."""

    __tablename__ = "sign_in_attempts"
    __table_args__ = (
        Index("ix_sign_in_attempts_email_at", "email", "at"),
        Index("ix_sign_in_attempts_ip_at", "ip", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # As typed (normalised), whether or not such an account exists.
    email: Mapped[str] = mapped_column(String(254))
    ip: Mapped[str] = mapped_column(String(45))
