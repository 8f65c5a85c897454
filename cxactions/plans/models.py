"""Action plans: a unit adopts a library solution, usually against one of its challenges."""

from __future__ import annotations

import enum
from datetime import date, datetime, timedelta

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship, with_loader_criteria

from cxactions.foundations.db_types import str_enum, utcnow
from cxactions.foundations.extensions import db
from cxactions.foundations.vocabulary import AdoptionStatus


class Adoption(db.Model):
    """One action-plan item: one unit, one solution.

    ``version`` grows with every change and is checked on every write (SQLAlchemy's version
    counter): a save based on an older version is refused, never silently lost.
    """

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
    # Why the item was abandoned (required to abandon it); cleared when it is reopened.
    status_reason: Mapped[str | None] = mapped_column(Text)
    status_changed_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # Set when a solution merge folded this item into the unit's item on the surviving solution:
    # the row stays (an implemented item is never deleted) but leaves every plan (see below).
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("adoptions.id", ondelete="SET NULL")
    )
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
    steps: Mapped[list[PlanStep]] = relationship(
        back_populates="adoption",
        cascade="all, delete-orphan",
        order_by="PlanStep.position",
    )

    merged_into = relationship("Adoption", remote_side=[id], foreign_keys=[merged_into_id])

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_active(self) -> bool:
        """Still to be done: planned or in progress."""
        return self.status in ACTIVE_STATUSES

    def due_state(self, today: date) -> DueState | None:
        return due_state(self.status, self.due_on, today)

    @property
    def percent_complete(self) -> int:
        """Ticked steps over all steps, 0 to 100; without steps, 100 once implemented, else 0."""
        return percent_complete(
            sum(1 for step in self.steps if step.done_at is not None),
            len(self.steps),
            self.status,
        )


OWNER_MAX = 200  # characters of a plan item's owner
NOTES_MAX = 5_000
REASON_MAX = 1_000  # why an item was abandoned
STEP_MAX = 500  # characters of a checklist step
STEPS_MAX = 100  # steps per plan item

ACTIVE_STATUSES = (AdoptionStatus.PLANNED, AdoptionStatus.IN_PROGRESS)
# An active item due within this many days is "due soon" (flagged, and in the reminders).
DUE_SOON_DAYS = 7


class DueState(enum.StrEnum):
    OVERDUE = "overdue"  # active, and its due date has passed
    DUE_SOON = "due_soon"  # active, due today or within DUE_SOON_DAYS


def due_state(status: AdoptionStatus | str, due_on: date | None, today: date) -> DueState | None:
    """Whether an item needs attention for its due date; only active items do."""
    if due_on is None or status not in ACTIVE_STATUSES:
        return None
    if due_on < today:
        return DueState.OVERDUE
    if due_on <= today + timedelta(days=DUE_SOON_DAYS):
        return DueState.DUE_SOON
    return None


def percent_complete(done: int, total: int, status: AdoptionStatus | str) -> int:
    """A plan item's progress: its ticked steps over its steps (rounded down, so 100 means all
    of them); an item without steps is complete once implemented. Shared by the pages (per item)
    and the roll-ups (per item, from counts)."""
    if total:
        return 100 * done // total
    return 100 if status == AdoptionStatus.IMPLEMENTED else 0


# Plan items folded into another by a solution merge stay in the table, out of every plan,
# roll-up, reminder and estimate: every ORM query leaves them out unless it asks for them with
# ``execution_options(include_merged_items=True)`` (the item page, to redirect to the survivor).
INCLUDE_MERGED = "include_merged_items"


@event.listens_for(Session, "do_orm_execute")
def _leave_out_merged_items(state) -> None:
    if (
        state.is_select
        and not state.is_column_load
        and not state.is_relationship_load
        and not state.execution_options.get(INCLUDE_MERGED, False)
    ):
        state.statement = state.statement.options(
            with_loader_criteria(
                Adoption, lambda cls: cls.merged_into_id.is_(None), include_aliases=True
            )
        )


class PlanStep(db.Model):
    """One step of a plan item's checklist: copied from the solution's steps when it is adopted
    (later edits of the library do not rewrite a running plan), or added to the item."""

    __tablename__ = "plan_steps"
    __table_args__ = (Index("ix_plan_steps_adoption", "adoption_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    adoption_id: Mapped[int] = mapped_column(ForeignKey("adoptions.id", ondelete="CASCADE"))
    position: Mapped[int]
    text: Mapped[str] = mapped_column(String(500))
    done_at: Mapped[datetime | None]
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    adoption: Mapped[Adoption] = relationship(back_populates="steps")
    done_by = relationship("User")


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
