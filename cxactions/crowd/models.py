"""Crowdsourcing: votes, comments and "we tried it" reports on solutions, reports of comments,
follows, and the notifications people receive about what they wrote or follow."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    SmallInteger,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cxactions.foundations.db_types import str_enum, utcnow
from cxactions.foundations.extensions import db
from cxactions.foundations.vocabulary import CommentKind, NotificationKind, TriedOutcome


class Vote(db.Model):
    """One person's support for a solution: one per person, undone by deleting the row."""

    __tablename__ = "votes"
    __table_args__ = (CheckConstraint("value IN (-1, 1)", name="value_is_one"),)

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    solution_id: Mapped[int] = mapped_column(
        ForeignKey("solutions.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    value: Mapped[int] = mapped_column(SmallInteger, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Comment(db.Model):
    """A comment on a solution, or a "we tried it" report (``kind``) with its outcome, the unit
    and the date it was tried. Authors edit and delete their own; CX leads hide and restore."""

    __tablename__ = "comments"
    __table_args__ = (
        Index("ix_comments_solution_created", "solution_id", "created_at"),
        CheckConstraint("kind <> 'tried_it' OR outcome IS NOT NULL", name="tried_it_has_outcome"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    solution_id: Mapped[int] = mapped_column(ForeignKey("solutions.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[CommentKind] = mapped_column(
        str_enum(CommentKind, "comment_kind"), default=CommentKind.COMMENT
    )
    body: Mapped[str] = mapped_column(Text)  # Markdown, sanitised when rendered
    # "We tried it": how it went, where and when.
    outcome: Mapped[TriedOutcome | None] = mapped_column(str_enum(TriedOutcome, "tried_outcome"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"))
    tried_on: Mapped[date | None]
    hidden: Mapped[bool] = mapped_column(default=False)  # hidden by a moderator
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    hidden_at: Mapped[datetime | None]
    hidden_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    edited_at: Mapped[datetime | None]
    # Deleted by its author: the row stays (the thread keeps its shape), its text goes.
    deleted_at: Mapped[datetime | None]

    user = relationship("User", foreign_keys=[user_id])
    unit = relationship("Unit")
    solution = relationship("Solution")
    reports: Mapped[list[CommentReport]] = relationship(
        back_populates="comment", cascade="all, delete-orphan", order_by="CommentReport.id"
    )


class CommentReport(db.Model):
    """Someone flagged a comment for the moderators; one report per person and comment."""

    __tablename__ = "comment_reports"
    __table_args__ = (
        UniqueConstraint("comment_id", "user_id"),
        Index("ix_comment_reports_open", "resolved_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when a moderator hid the comment or kept it: the report leaves the desk.
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    comment: Mapped[Comment] = relationship(back_populates="reports")
    user = relationship("User", foreign_keys=[user_id])


class Follow(db.Model):
    """A person follows a solution: comments on it and its measurements reach them."""

    __tablename__ = "follows"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    solution_id: Mapped[int] = mapped_column(
        ForeignKey("solutions.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Notification(db.Model):
    """Something that happened to what a person wrote or follows, shown in the app (and in the
    optional e-mail digest)."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_read", "user_id", "read_at", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[NotificationKind] = mapped_column(str_enum(NotificationKind, "notification_kind"))
    solution_id: Mapped[int | None] = mapped_column(
        ForeignKey("solutions.id", ondelete="CASCADE"), index=True
    )
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="SET NULL"))
    # Who caused it (a commenter, a reviewer); None for the system (a measurement).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # What the message needs besides the rows: the reviewer's reason, the survivor's code...
    details: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
    emailed_at: Mapped[datetime | None]

    solution = relationship("Solution")
    comment = relationship("Comment")
    actor = relationship("User", foreign_keys=[actor_id])


__all__ = ["Comment", "CommentReport", "Follow", "Notification", "Vote"]
