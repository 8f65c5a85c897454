"""The product's fixed vocabularies (statuses, kinds, roles), free of Flask and SQLAlchemy.

Models store these; pure modules (parsing, analytics, seed reading) use them without pulling in
the web stack.
"""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    """Roles in increasing power; each role can do what the ones before it can."""

    STAFF = "staff"
    MANAGER = "manager"
    CX_LEAD = "cx_lead"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    @property
    def label(self) -> str:
        return {"staff": "Staff", "manager": "Manager", "cx_lead": "CX lead", "admin": "Admin"}[
            self.value
        ]


def is_curator(user: object) -> bool:
    """CX leads and admins curate the taxonomy and the library (anyone not signed in does not)."""
    return bool(getattr(user, "is_authenticated", False)) and user.has_role(Role.CX_LEAD)


class ChallengeStatus(enum.StrEnum):
    ACTIVE = "active"
    RETIRED = "retired"


class SolutionKind(enum.StrEnum):
    TRAINING = "training"
    SOP = "sop"
    ASSET = "asset"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {"training": "Training", "sop": "SOP", "asset": "Asset", "other": "Other"}[
            self.value
        ]


class SolutionStatus(enum.StrEnum):
    DRAFT = "draft"
    PENDING = "pending"  # submitted by staff, waiting in the moderation queue
    APPROVED = "approved"
    REJECTED = "rejected"
    RETIRED = "retired"


class Level(enum.StrEnum):
    """Effort and cost, on the scale a manager plans with."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class AdoptionStatus(enum.StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    IMPLEMENTED = "implemented"  # the only status that enters impact estimates
    ABANDONED = "abandoned"


class MetricKind(enum.StrEnum):
    OUTCOME = "outcome"  # the satisfaction outcome itself: ``overall``
    DRIVER = "driver"  # a survey question scored by customers (an output)
    OPERATIONAL = "operational"  # a measure of the operation (an input)


class SignalDirection(enum.StrEnum):
    BELOW = "below"  # the challenge shows when the metric is low (e.g. staff_rating)
    ABOVE = "above"  # the challenge shows when the metric is high (e.g. wait_minutes)


class ThresholdKind(enum.StrEnum):
    ABSOLUTE = "absolute"  # compare with a fixed value
    PEER_SD = "peer_sd"  # compare with peers, in peer standard deviations
    PEER_PERCENTILE = "peer_percentile"  # bottom/top X% of peer units


class CommentKind(enum.StrEnum):
    COMMENT = "comment"
    TRIED_IT = "tried_it"  # "we tried it at our store, here is what happened"


def threshold_problem(kind: str, threshold: float) -> str | None:
    """Why ``threshold`` makes no sense for a signal of threshold ``kind``, or None."""
    if kind == ThresholdKind.PEER_SD.value and not threshold > 0:
        return (
            "a peer_sd threshold is a number of standard deviations and must be greater than 0 "
            f"(e.g. 1 or 1.5), not {threshold:g}"
        )
    if kind == ThresholdKind.PEER_PERCENTILE.value and not 0 < threshold < 100:
        return (
            "a peer_percentile threshold must be between 0 and 100, both excluded (e.g. 10 for "
            f"the worst 10% of peer units), not {threshold:g}"
        )
    return None
