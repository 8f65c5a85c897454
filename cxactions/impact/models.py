"""Cached impact estimates: the runs and what each found.

Estimates are computed by ``impact.services.refresh_impact`` (CLI, demo, or a background
thread started by a page that found them stale), never during a request.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cxactions.foundations.db_types import utcnow
from cxactions.foundations.extensions import db


class ImpactRun(db.Model):
    """One computation of every solution's impact, with the settings and data it used."""

    __tablename__ = "impact_runs"
    __table_args__ = (
        Index("ix_impact_runs_status_started", "status", "started_at"),
        # At most one run under way, whatever the number of worker processes.
        Index(
            "ux_impact_runs_one_running",
            "status",
            unique=True,
            sqlite_where=text("status = 'running'"),
            postgresql_where=text("status = 'running'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    estimator: Mapped[str] = mapped_column(String(20))
    period: Mapped[str] = mapped_column(String(10))
    window: Mapped[int]
    anticipation: Mapped[int | None]
    control: Mapped[str] = mapped_column(String(10))
    min_units: Mapped[int]
    status: Mapped[str] = mapped_column(String(10), default="running")  # running/done/failed
    trigger: Mapped[str] = mapped_column(String(20), default="cli")
    data_version: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    seconds: Mapped[float | None] = mapped_column(Float)
    units: Mapped[int | None]
    periods: Mapped[int | None]
    prior_mean: Mapped[float | None] = mapped_column(Float)
    prior_sd: Mapped[float | None] = mapped_column(Float)
    notes: Mapped[list | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)

    estimates: Mapped[list[ImpactEstimate]] = relationship(
        back_populates="run", cascade="all, delete-orphan", passive_deletes=True
    )


class ImpactEstimate(db.Model):
    """A solution's estimated effect in one run (``effect`` is the shrunk, ranked one)."""

    __tablename__ = "impact_estimates"
    __table_args__ = (Index("ix_impact_estimates_solution", "solution_id"),)

    run_id: Mapped[int] = mapped_column(
        ForeignKey("impact_runs.id", ondelete="CASCADE"), primary_key=True
    )
    solution_id: Mapped[int] = mapped_column(
        ForeignKey("solutions.id", ondelete="CASCADE"), primary_key=True
    )
    effect: Mapped[float | None] = mapped_column(Float)
    se: Mapped[float | None] = mapped_column(Float)
    ci_low: Mapped[float | None] = mapped_column(Float)
    ci_high: Mapped[float | None] = mapped_column(Float)
    raw_effect: Mapped[float | None] = mapped_column(Float)
    raw_se: Mapped[float | None] = mapped_column(Float)
    n_units: Mapped[int] = mapped_column(default=0)
    n_cells: Mapped[int] = mapped_column(default=0)
    rank: Mapped[int | None]
    placebo: Mapped[float | None] = mapped_column(Float)
    placebo_se: Mapped[float | None] = mapped_column(Float)
    placebo_warning: Mapped[bool] = mapped_column(default=False)
    enough_evidence: Mapped[bool] = mapped_column(default=False)

    run: Mapped[ImpactRun] = relationship(back_populates="estimates")
    solution = relationship("Solution")


class ImpactEventEstimate(db.Model):
    """A solution's effect by event time (placebo, dip and effect periods) in one run."""

    __tablename__ = "impact_event_estimates"

    run_id: Mapped[int] = mapped_column(
        ForeignKey("impact_runs.id", ondelete="CASCADE"), primary_key=True
    )
    solution_id: Mapped[int] = mapped_column(
        ForeignKey("solutions.id", ondelete="CASCADE"), primary_key=True
    )
    event_time: Mapped[int] = mapped_column(primary_key=True)
    phase: Mapped[str] = mapped_column(String(10))
    effect: Mapped[float | None] = mapped_column(Float)
    se: Mapped[float | None] = mapped_column(Float)
    ci_low: Mapped[float | None] = mapped_column(Float)
    ci_high: Mapped[float | None] = mapped_column(Float)
    n_units: Mapped[int | None]


class ImpactRegionEstimate(db.Model):
    """A solution's effect among the adopting units of one region in one run: what worked at
    similar units. A region is a top-level unit (a unit's top-level ancestor). ``effect`` and
    its interval are empty where fewer than the run's ``min_units`` of the region's units
    adopted; ``rank`` ranks the solutions within the region."""

    __tablename__ = "impact_region_estimates"
    __table_args__ = (
        Index("ix_impact_region_estimates_region", "region_id"),
        Index("ix_impact_region_estimates_solution", "solution_id"),
    )

    run_id: Mapped[int] = mapped_column(
        ForeignKey("impact_runs.id", ondelete="CASCADE"), primary_key=True
    )
    region_id: Mapped[int] = mapped_column(
        ForeignKey("units.id", ondelete="CASCADE"), primary_key=True
    )
    solution_id: Mapped[int] = mapped_column(
        ForeignKey("solutions.id", ondelete="CASCADE"), primary_key=True
    )
    effect: Mapped[float | None] = mapped_column(Float)
    se: Mapped[float | None] = mapped_column(Float)
    ci_low: Mapped[float | None] = mapped_column(Float)
    ci_high: Mapped[float | None] = mapped_column(Float)
    raw_effect: Mapped[float | None] = mapped_column(Float)
    raw_se: Mapped[float | None] = mapped_column(Float)
    n_units: Mapped[int] = mapped_column(default=0)
    n_cells: Mapped[int] = mapped_column(default=0)
    rank: Mapped[int | None]
    enough_evidence: Mapped[bool] = mapped_column(default=False)
