"""The company-wide driver weights, kept with the survey data version they were computed for."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON
from sqlalchemy.orm import Mapped, mapped_column

from cxactions.foundations.db_types import utcnow
from cxactions.foundations.extensions import db


class DriverWeights(db.Model):
    """The company-wide driver importance for one version of the survey data.

    Written by the transaction that changed the data (an import of responses or operations, the
    demo), so that no page waits for the driver analysis; only the newest version is kept.
    """

    __tablename__ = "driver_weights"

    survey_version: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    weights: Mapped[dict] = mapped_column(JSON)  # metric code -> share of explained variation
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)
