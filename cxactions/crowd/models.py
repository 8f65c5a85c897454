"""Crowdsourcing: votes and comments (including "we tried it" reports) on solutions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, SmallInteger, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cxactions.foundations.db_types import str_enum, utcnow
from cxactions.foundations.extensions import db
from cxactions.foundations.vocabulary import CommentKind


class Vote(db.Model):
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
    __tablename__ = "comments"
    __table_args__ = (Index("ix_comments_solution_created", "solution_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    solution_id: Mapped[int] = mapped_column(ForeignKey("solutions.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[CommentKind] = mapped_column(
        str_enum(CommentKind, "comment_kind"), default=CommentKind.COMMENT
    )
    body: Mapped[str] = mapped_column(Text)
    hidden: Mapped[bool] = mapped_column(default=False)  # hidden by a moderator
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user = relationship("User")
