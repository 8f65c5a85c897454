"""What the home page shows: the library and the organisation at a glance."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cxactions.library.models import Solution, SolutionStatus, solution_challenges
from cxactions.plans.models import Adoption, AdoptionStatus
from cxactions.surveys.models import UnitWeekScore
from cxactions.taxonomy.models import Challenge, ChallengeStatus
from cxactions.units.models import Unit
from cxactions.units.services import outcome_metric_id


@dataclass
class HomeOverview:
    challenge_count: int
    solution_count: int
    pending_count: int
    unit_count: int
    response_count: int
    implemented_count: int
    gap_count: int

    @property
    def is_empty(self) -> bool:
        """A fresh install: nothing imported yet."""
        return not (self.challenge_count or self.solution_count or self.unit_count)


def _count(session: Session, stmt) -> int:
    return int(session.scalar(stmt) or 0)


def home_overview(session: Session) -> HomeOverview:
    """The headline counts, each one aggregated query."""
    metric_id = outcome_metric_id(session)
    # Responses are counted from the weekly aggregate kept in step with every import: the
    # responses table may hold millions of rows, the aggregate a few hundred thousand.
    responses = (
        _count(
            session, select(func.sum(UnitWeekScore.n)).where(UnitWeekScore.metric_id == metric_id)
        )
        if metric_id is not None
        else 0
    )
    return HomeOverview(
        challenge_count=_count(
            session,
            select(func.count())
            .select_from(Challenge)
            .where(Challenge.status == ChallengeStatus.ACTIVE),
        ),
        solution_count=_count(
            session,
            select(func.count())
            .select_from(Solution)
            .where(Solution.status == SolutionStatus.APPROVED),
        ),
        pending_count=_count(
            session,
            select(func.count())
            .select_from(Solution)
            .where(Solution.status == SolutionStatus.PENDING),
        ),
        unit_count=_count(session, select(func.count()).select_from(Unit)),
        response_count=responses,
        implemented_count=_count(
            session,
            select(func.count())
            .select_from(Adoption)
            .where(Adoption.status == AdoptionStatus.IMPLEMENTED),
        ),
        gap_count=library_gap_count(session),
    )


def library_gap_count(session: Session) -> int:
    """Active challenges with no active sub-challenge and no approved solution."""
    parent = Challenge.__table__.alias("parent_of")
    has_active_child = (
        select(parent.c.id)
        .where(parent.c.parent_id == Challenge.id, parent.c.status == ChallengeStatus.ACTIVE)
        .exists()
    )
    has_solution = (
        select(solution_challenges.c.solution_id)
        .join(Solution, Solution.id == solution_challenges.c.solution_id)
        .where(
            solution_challenges.c.challenge_id == Challenge.id,
            Solution.status == SolutionStatus.APPROVED,
        )
        .exists()
    )
    return _count(
        session,
        select(func.count())
        .select_from(Challenge)
        .where(Challenge.status == ChallengeStatus.ACTIVE, ~has_active_child, ~has_solution),
    )
