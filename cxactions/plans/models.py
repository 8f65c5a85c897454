"""Action plans: a unit adopts a library solution, usually against one of its challenges."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cxactions.foundations.db_types import str_enum, utcnow
from cxactions.foundations.extensions import db
from cxactions.foundations.vocabulary import AdoptionStatus


class Adoption(db.Model):
    """One action-plan item: one unit, one solution."""

    __tablename__ = "adoptions"
    __table_args__ = (
        UniqueConstraint("unit_id", "solution_id"),
        Index("ix_adoptions_solution_status", "solution_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    solution_id: Mapped[int] = mapped_column(ForeignKey("solutions.id", ondelete="CASCADE"))
    challenge_id: Mapped[int | None] = mapped_column(
        ForeignKey("challenges.id", ondelete="SET NULL")
    )
    status: Mapped[AdoptionStatus] = mapped_column(
        str_enum(AdoptionStatus, "adoption_status"), default=AdoptionStatus.PLANNED
    )
    owner: Mapped[str | None] = mapped_column(String(200))
    due_on: Mapped[date | None]
    # The date the solution took effect (implemented) or its planned start.
    effective_on: Mapped[date | None]
    notes: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    unit = relationship("Unit")
    solution = relationship("Solution")
    challenge = relationship("Challenge")
    created_by = relationship("User")
    events: Mapped[list[AdoptionEvent]] = relationship(
        back_populates="adoption",
        cascade="all, delete-orphan",
        order_by="(AdoptionEvent.at, AdoptionEvent.id)",
    )


class AdoptionEvent(db.Model):
    """One change in a plan item's history: who, when, what (``changes``: field -> [before, after])."""

    __tablename__ = "adoption_events"
    __table_args__ = (Index("ix_adoption_events_adoption_at", "adoption_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    adoption_id: Mapped[int] = mapped_column(ForeignKey("adoptions.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # None for command-line and system changes, which name themselves in ``actor``.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(40))
    changes: Mapped[dict | None] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text)

    adoption: Mapped[Adoption] = relationship(back_populates="events")
    user = relationship("User")
