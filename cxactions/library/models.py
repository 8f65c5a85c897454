"""The solution library: trainings, SOPs, assets and other fixes, mapped onto challenges."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, String, Table, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cxactions.foundations.db_types import str_enum, unique_ignoring_case, utcnow
from cxactions.foundations.extensions import db
from cxactions.foundations.vocabulary import Level, SolutionKind, SolutionStatus

solution_challenges = Table(
    "solution_challenges",
    db.metadata,
    Column("solution_id", ForeignKey("solutions.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "challenge_id",
        ForeignKey("challenges.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)


class Solution(db.Model):
    """A fix the company owns or a member of staff proposed."""

    __tablename__ = "solutions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[SolutionKind] = mapped_column(str_enum(SolutionKind, "solution_kind"))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str | None] = mapped_column(Text)  # Markdown, sanitised when rendered
    steps: Mapped[str | None] = mapped_column(Text)  # one step per line
    effort: Mapped[Level | None] = mapped_column(str_enum(Level, "solution_effort"))
    cost: Mapped[Level | None] = mapped_column(str_enum(Level, "solution_cost"))
    owner: Mapped[str | None] = mapped_column(String(200))  # the team that maintains it
    language: Mapped[str] = mapped_column(String(5), default="en")
    status: Mapped[SolutionStatus] = mapped_column(
        str_enum(SolutionStatus, "solution_status"), default=SolutionStatus.APPROVED, index=True
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # A proposal may hide its author from peers; CX leads (and the author) still see who it is.
    anonymous: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The unit the author worked at when they proposed it ("proposed by ... at ...").
    origin_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"))
    # A proposal that improves an existing solution rather than adding a new one.
    improves_id: Mapped[int | None] = mapped_column(ForeignKey("solutions.id", ondelete="SET NULL"))
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None]
    review_note: Mapped[str | None] = mapped_column(Text)
    # When a duplicate is merged into another solution, the retired one points at the survivor.
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("solutions.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    challenges = relationship(
        "Challenge",
        secondary=solution_challenges,
        back_populates="solutions",
        order_by="Challenge.name",
    )
    author = relationship("User", foreign_keys=[author_id])
    reviewed_by = relationship("User", foreign_keys=[reviewed_by_id])
    merged_into = relationship("Solution", remote_side=[id], foreign_keys=[merged_into_id])
    improves = relationship("Solution", remote_side=[id], foreign_keys=[improves_id])
    origin_unit = relationship("Unit")

    @property
    def step_list(self) -> list[str]:
        return [line.strip() for line in (self.steps or "").splitlines() if line.strip()]

    def __repr__(self) -> str:
        return f"<Solution {self.code}>"


unique_ignoring_case(Solution.code)
