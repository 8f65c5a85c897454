"""What customers say (survey responses) and how the operation performs (operational values)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cxactions.foundations.db_types import str_enum, unique_ignoring_case
from cxactions.foundations.extensions import db
from cxactions.foundations.vocabulary import MetricKind


class Metric(db.Model):
    """A named measure: a survey driver score or an operational input."""

    __tablename__ = "metrics"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[MetricKind] = mapped_column(str_enum(MetricKind, "metric_kind"))
    higher_is_better: Mapped[bool] = mapped_column(default=True)
    target: Mapped[float | None] = mapped_column(Float)
    # The scale a value must lie on (inclusive); None = unbounded on that side. Survey scores
    # are created on 0-10; CX leads change it on /metrics or in targets.csv.
    scale_min: Mapped[float | None] = mapped_column(Float)
    scale_max: Mapped[float | None] = mapped_column(Float)


unique_ignoring_case(Metric.code)


class Response(db.Model):
    """One survey response; ``scores`` holds its driver scores keyed by metric code."""

    __tablename__ = "responses"
    __table_args__ = (
        # Covering index for the unit x period panels (see shared/notes/impact-calibration.md).
        Index("ix_responses_unit_date", "unit_id", "responded_on", "overall"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    response_key: Mapped[str] = mapped_column(String(100), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    # The date written in the file: a date-time counts on its own date, with no time-zone shift.
    responded_on: Mapped[date]
    responded_at: Mapped[datetime | None]
    overall: Mapped[float] = mapped_column(Float)
    scores: Mapped[dict | None] = mapped_column(JSON)
    comment: Mapped[str | None] = mapped_column(Text)

    unit = relationship("Unit")


class OperationValue(db.Model):
    """An operational input at one unit on one date (e.g. wait_minutes)."""

    __tablename__ = "operation_values"

    unit_id: Mapped[int] = mapped_column(
        ForeignKey("units.id", ondelete="CASCADE"), primary_key=True
    )
    on_date: Mapped[date] = mapped_column(primary_key=True)
    metric_id: Mapped[int] = mapped_column(
        ForeignKey("metrics.id", ondelete="CASCADE"), primary_key=True
    )
    value: Mapped[float] = mapped_column(Float)

    metric = relationship("Metric")


class UnitWeekScore(db.Model):
    """Sums of one metric's survey scores per unit and week (weeks start on Monday).

    Kept up to date by every import of responses, so that scorecards, driver analysis and the
    weekly impact panel read a few hundred thousand rows instead of millions of responses
    (see shared/notes/impact-calibration.md). ``overall`` is the metric of kind ``outcome``.
    """

    __tablename__ = "unit_week_scores"

    metric_id: Mapped[int] = mapped_column(
        ForeignKey("metrics.id", ondelete="CASCADE"), primary_key=True
    )
    unit_id: Mapped[int] = mapped_column(
        ForeignKey("units.id", ondelete="CASCADE"), primary_key=True
    )
    week_start: Mapped[date] = mapped_column(primary_key=True)
    n: Mapped[int]
    total: Mapped[float] = mapped_column(Float)
    total_sq: Mapped[float] = mapped_column(Float)
