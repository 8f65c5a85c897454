"""Imports every feature's models so that SQLAlchemy and Alembic see the whole schema.

Models live in their feature folders; this module only gathers them.
"""

from cxactions.audit.models import AuditEvent
from cxactions.auth.models import Role, SignInAttempt, User, UserSession, user_units
from cxactions.crowd.models import Comment, CommentKind
from cxactions.drivers.models import DriverWeights
from cxactions.foundations.versions import DataVersion
from cxactions.impact.models import (
    ImpactEstimate,
    ImpactEventEstimate,
    ImpactRegionEstimate,
    ImpactRun,
)
from cxactions.imports.models import ImportRun
from cxactions.library.models import (
    Level,
    Solution,
    SolutionKind,
    SolutionStatus,
    solution_challenges,
)
from cxactions.plans.models import Adoption, AdoptionEvent, AdoptionStatus, PlanStep
from cxactions.search.models import SearchOutbox
from cxactions.surveys.models import Metric, MetricKind, OperationValue, Response
from cxactions.taxonomy.models import (
    Challenge,
    ChallengeSignal,
    ChallengeStatus,
    SignalDirection,
    ThresholdKind,
)
from cxactions.units.models import Unit

__all__ = [
    "Adoption",
    "AdoptionEvent",
    "AdoptionStatus",
    "AuditEvent",
    "Challenge",
    "ChallengeSignal",
    "ChallengeStatus",
    "Comment",
    "CommentKind",
    "DataVersion",
    "DriverWeights",
    "ImpactEstimate",
    "ImpactEventEstimate",
    "ImpactRegionEstimate",
    "ImpactRun",
    "ImportRun",
    "Level",
    "Metric",
    "PlanStep",
    "MetricKind",
    "OperationValue",
    "Response",
    "Role",
    "SearchOutbox",
    "SignInAttempt",
    "SignalDirection",
    "Solution",
    "SolutionKind",
    "SolutionStatus",
    "ThresholdKind",
    "Unit",
    "User",
    "UserSession",
    "solution_challenges",
    "user_units",
]
