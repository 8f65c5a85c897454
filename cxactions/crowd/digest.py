"""The optional e-mail digest of notifications: people who asked for it receive their unread,
not yet e-mailed notifications, sent by ``cxactions reminders`` through the same SMTP settings
and session as the plan reminders."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from flask import current_app, render_template
from flask_babel import force_locale, ngettext
from flask_mail import Message
from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from cxactions.auth.models import User
from cxactions.crowd.models import Notification
from cxactions.foundations.db_types import utcnow
from cxactions.foundations.i18n import supported
from cxactions.plans.reminders import Outcome, send_all

MAX_NOTIFICATIONS = 50  # per e-mail; the rest wait on the notifications page


@dataclass
class NotificationDigest:
    user_id: int
    email: str
    name: str
    language: str
    base_url: str
    notifications: list[Notification] = field(default_factory=list)
    total: int = 0

    @property
    def hidden(self) -> int:
        return self.total - len(self.notifications)


def build_notification_digests(session: Session, base_url: str) -> list[NotificationDigest]:
    """One digest per active person who asked for e-mails and has unread notifications not
    e-mailed yet, newest first, capped at ``MAX_NOTIFICATIONS``."""
    people = session.scalars(
        select(User)
        .where(User.email_notifications.is_(True), User.active.is_(True))
        .order_by(User.id)
    )
    digests = []
    for person in people:
        waiting = list(
            session.scalars(
                select(Notification)
                .where(
                    Notification.user_id == person.id,
                    Notification.read_at.is_(None),
                    Notification.emailed_at.is_(None),
                )
                .options(selectinload(Notification.solution), selectinload(Notification.actor))
                .order_by(Notification.created_at.desc(), Notification.id.desc())
            )
        )
        if waiting:
            digests.append(
                NotificationDigest(
                    user_id=person.id,
                    email=person.email,
                    name=person.display_name,
                    language=supported(person.locale) or "en",
                    base_url=base_url.rstrip("/"),
                    notifications=waiting[:MAX_NOTIFICATIONS],
                    total=len(waiting),
                )
            )
    return digests


def render_notifications(digest: NotificationDigest) -> Message:
    """The digest as an e-mail in its recipient's language: plain text, and HTML beside it."""
    with (
        current_app.test_request_context("/", base_url=digest.base_url),
        force_locale(digest.language),
    ):
        subject = ngettext(
            "cxactions: %(num)d new notification",
            "cxactions: %(num)d new notifications",
            digest.total,
        )
        context = {"digest": digest, "subject": subject}
        return Message(
            subject=subject,
            recipients=[digest.email],
            body=render_template("email/notifications.txt", **context),
            html=render_template("email/notifications.html", **context),
        )


def send_notification_digests(
    session: Session,
    digests: Iterable[NotificationDigest],
    *,
    report: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Send each digest; the notifications it carried are marked e-mailed once the server
    accepted it (one transaction per recipient), so a run never sends one twice and a failed
    one loses none."""
    return send_all(
        session, digests, render=render_notifications, record=_mark_emailed, report=report
    )


def _mark_emailed(session: Session, digest: NotificationDigest) -> None:
    ids = [note.id for note in digest.notifications]
    session.execute(
        update(Notification).where(Notification.id.in_(ids)).values(emailed_at=utcnow())
    )


def set_email_notifications(session: Session, user: User, on: bool) -> None:
    """Ask for (or stop) the e-mail digest of one's notifications. Turning it on does not
    e-mail what was already waiting: the digest carries what arrives from now on."""
    if on and not user.email_notifications:
        session.execute(
            update(Notification)
            .where(Notification.user_id == user.id, Notification.emailed_at.is_(None))
            .values(emailed_at=utcnow())
        )
    user.email_notifications = on
    session.commit()
