"""The taxonomy of CX challenges: a tree curated by CX leads, with the signals that reveal each."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cxactions.foundations.db_types import str_enum, unique_ignoring_case, utcnow
from cxactions.foundations.extensions import db
from cxactions.foundations.translation import NamedInBothLanguages, in_reader_language
from cxactions.foundations.vocabulary import ChallengeStatus, SignalDirection, ThresholdKind
from cxactions.language.tagging import keyword_lines


class Challenge(NamedInBothLanguages, db.Model):
    """A CX problem (or a category of problems when it has children)."""

    __tablename__ = "challenges"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    # The French name and description; pages show the reader's language, else the other one.
    name_fr: Mapped[str | None] = mapped_column(String(200))
    description_fr: Mapped[str | None] = mapped_column(Text)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("challenges.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[ChallengeStatus] = mapped_column(
        str_enum(ChallengeStatus, "challenge_status"), default=ChallengeStatus.ACTIVE
    )
    # Comment keywords (English and French, one per line) that tag survey comments to this challenge.
    keywords: Mapped[str | None] = mapped_column(Text)
    # When two challenges are merged, the retired one points at the survivor.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("challenges.id"))
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    parent: Mapped[Challenge | None] = relationship(
        remote_side=[id], back_populates="children", foreign_keys=[parent_id]
    )
    children: Mapped[list[Challenge]] = relationship(
        back_populates="parent",
        foreign_keys=[parent_id],
        order_by="(Challenge.position, Challenge.name)",
    )
    signals: Mapped[list[ChallengeSignal]] = relationship(
        back_populates="challenge", cascade="all, delete-orphan"
    )
    solutions = relationship(
        "Solution",
        secondary="solution_challenges",
        back_populates="challenges",
        order_by="Solution.title",
    )

    @property
    def shown_description(self) -> str | None:
        return in_reader_language(self.description, self.description_fr)[0]

    @property
    def shown_description_lang(self) -> str:
        return in_reader_language(self.description, self.description_fr)[1]

    @property
    def keyword_list(self) -> list[str]:
        return keyword_lines(self.keywords)

    def __repr__(self) -> str:
        return f"<Challenge {self.code}>"


unique_ignoring_case(Challenge.code)


class ChallengeSignal(db.Model):
    """A metric whose value at a unit suggests the challenge is present there."""

    __tablename__ = "challenge_signals"
    __table_args__ = (CheckConstraint("threshold IS NOT NULL", name="threshold_set"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(
        ForeignKey("challenges.id", ondelete="CASCADE"), index=True
    )
    metric_id: Mapped[int] = mapped_column(ForeignKey("metrics.id", ondelete="CASCADE"))
    direction: Mapped[SignalDirection] = mapped_column(
        str_enum(SignalDirection, "signal_direction")
    )
    threshold_kind: Mapped[ThresholdKind] = mapped_column(
        str_enum(ThresholdKind, "signal_threshold_kind"), default=ThresholdKind.PEER_SD
    )
    threshold: Mapped[float] = mapped_column(Float)

    challenge: Mapped[Challenge] = relationship(back_populates="signals")
    metric = relationship("Metric")
