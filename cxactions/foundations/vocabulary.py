"""The product's fixed vocabularies (statuses, kinds, roles), free of Flask and SQLAlchemy.

Models store these; pure modules (parsing, analytics, seed reading) use them without pulling in
the web stack.
"""

from __future__ import annotations

import enum

from cxactions.foundations.scales import format_short
from cxactions.foundations.translation import N_, _


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
        return label_of(self)


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
        return label_of(self)


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


class TriedOutcome(enum.StrEnum):
    """How a "we tried it" report says the solution went."""

    WORKED = "worked"
    MIXED = "mixed"
    DID_NOT_WORK = "did_not_work"

    @property
    def label(self) -> str:
        return label_of(self)


class NotificationKind(enum.StrEnum):
    APPROVED = "approved"  # your submission was approved
    REJECTED = "rejected"  # your submission was rejected (with the reviewer's reason)
    MERGED = "merged"  # your submission was merged into another solution
    COMMENT = "comment"  # someone commented on what you wrote or follow
    TRIED = "tried"  # someone reported trying what you wrote or follow
    MEASURED = "measured"  # a solution you follow was measured (or measured again)


# What people read for each value of the vocabularies (and the unit kinds the demo uses), in
# English; ``label_of`` translates them for the page.
LABELS = {
    "staff": N_("Staff"),
    "manager": N_("Manager"),
    "cx_lead": N_("CX lead"),
    "admin": N_("Admin"),
    "active": N_("Active"),
    "training": N_("Training"),
    "sop": N_("SOP"),
    "asset": N_("Asset"),
    "other": N_("Other"),
    "draft": N_("Draft"),
    "pending": N_("Pending"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
    "retired": N_("Retired"),
    "low": N_("Low"),
    "medium": N_("Medium"),
    "high": N_("High"),
    "planned": N_("Planned"),
    "in_progress": N_("In progress"),
    "implemented": N_("Implemented"),
    "abandoned": N_("Abandoned"),
    "outcome": N_("Outcome"),
    "driver": N_("Driver"),
    "operational": N_("Operational"),
    "below": N_("Below"),
    "above": N_("Above"),
    "absolute": N_("Absolute"),
    "peer_sd": N_("Peer standard deviations"),
    "peer_percentile": N_("Peer percentile"),
    "comment": N_("Comment"),
    "tried_it": N_("Tried it"),
    "worked": N_("Worked"),
    "mixed": N_("Mixed"),
    "did_not_work": N_("Did not work"),
    "merged": N_("Merged"),
    "company": N_("Company"),
    "region": N_("Region"),
    "district": N_("District"),
    "store": N_("Store"),
    "branch": N_("Branch"),
}


def label_of(value: object) -> str:
    """A vocabulary value (or a free code such as a unit kind) as words in the reader's language:
    ``in_progress`` → "In progress" / "En cours". Unknown codes are humanised, untranslated."""
    code = str(getattr(value, "value", value) or "")
    if code in LABELS:
        return _(LABELS[code])
    return code.replace("_", " ").capitalize()


def threshold_problem(kind: str, threshold: float) -> str | None:
    """Why ``threshold`` makes no sense for a signal of threshold ``kind``, or None."""
    if kind == ThresholdKind.PEER_SD.value and not threshold > 0:
        return _(
            "a peer_sd threshold is a number of standard deviations and must be greater than 0 "
            "(e.g. 1 or 1.5), not %(threshold)s",
            threshold=format_short(threshold),
        )
    if kind == ThresholdKind.PEER_PERCENTILE.value and not 0 < threshold < 100:
        return _(
            "a peer_percentile threshold must be between 0 and 100, both excluded (e.g. 10 for "
            "the worst 10%% of peer units), not %(threshold)s",
            threshold=format_short(threshold),
        )
    return None
