"""Action plans: what a unit may adopt, and adopting a library solution into its plan."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from cxactions.audit.services import record
from cxactions.foundations.changes import (
    RefusedChange,
)
from cxactions.foundations.vocabulary import (
    AdoptionStatus,
    ChallengeStatus,
    SolutionStatus,
    label_of,
)
from cxactions.library.models import Solution
from cxactions.plans import workflow
from cxactions.plans.models import ACTIVE_STATUSES, DUE_SOON_DAYS, Adoption
from cxactions.taxonomy.models import Challenge
from cxactions.units.models import Unit

# An adopted solution is due, unless the manager says otherwise, at the end of a 90-day focus
# window: long enough to put a training or a procedure in place, short enough to stay in view.
FOCUS_WINDOW = timedelta(days=90)


@dataclass
class Candidate:
    """A solution found for a unit's plan: the search hit, the row, and where it stands."""

    hit: Any  # a ``cxactions.search.engine.SearchHit``
    solution: Solution
    adoption: Adoption | None  # the unit's plan item for it, when it already has one
    challenges: list[Challenge] = field(default_factory=list)  # what it may be adopted for


def plan_candidates(
    session: Session, unit: Unit, hits: Iterable[Any], challenge: Challenge | None = None
) -> list[Candidate]:
    """The solution hits with their rows, the challenges they can be adopted against (the
    solution's active ones, plus ``challenge`` when given) and the unit's existing plan items.

    Hits whose solution vanished since the index was written are left out.
    """
    hits = [hit for hit in hits if hit.type == "solution"]
    ids = [hit.db_id for hit in hits]
    if not ids:
        return []
    solutions = {
        solution.id: solution
        for solution in session.scalars(
            select(Solution).where(Solution.id.in_(ids)).options(selectinload(Solution.challenges))
        )
    }
    adoptions = {
        adoption.solution_id: adoption
        for adoption in session.scalars(
            select(Adoption).where(Adoption.unit_id == unit.id, Adoption.solution_id.in_(ids))
        )
    }
    found = []
    for hit in hits:
        solution = solutions.get(hit.db_id)
        if solution is None:
            continue
        found.append(
            Candidate(
                hit, solution, adoptions.get(solution.id), adoptable_challenges(solution, challenge)
            )
        )
    return found


def adoptable_challenges(solution: Solution, challenge: Challenge | None = None) -> list[Challenge]:
    """The challenges a plan item for ``solution`` may address: the active ones it is mapped
    to, with ``challenge`` (the one the user is working on) first when it is not among them."""
    options = [item for item in solution.challenges if item.status == ChallengeStatus.ACTIVE]
    if challenge is not None and challenge.id not in {item.id for item in options}:
        options.insert(0, challenge)
    return options


def adopt_solution(
    session: Session,
    unit: Unit,
    solution: Solution,
    *,
    challenge: Challenge | None,
    owner: str | None,
    due_on: date | None,
    user: Any,
    today: date | None = None,
) -> Adoption:
    """Add ``solution`` to ``unit``'s action plan as a planned item; returns the new item.

    Checks everything before writing: a refusal raises :class:`RefusedChange` and writes nothing.
    The plan item and its audit event are committed together.
    """
    owner = workflow.checked_owner_and_due(owner, due_on, today=today)
    if solution.status != SolutionStatus.APPROVED:
        raise RefusedChange(
            _(
                "“%(solution)s” is not an approved solution of the library (%(status)s): "
                "only approved solutions can join an action plan.",
                solution=solution.title,
                status=label_of(solution.status).lower(),
            )
        )
    if challenge is not None and challenge.status != ChallengeStatus.ACTIVE:
        raise RefusedChange(
            _("The challenge “%(challenge)s” is retired.", challenge=challenge.shown_name),
            "challenge",
        )
    duplicate = _(
        "“%(solution)s” is already in the action plan of %(unit)s: "
        "change that plan item instead of adding it twice.",
        solution=solution.title,
        unit=unit.name,
    )
    unit_id, solution_id = unit.id, solution.id
    existing = session.scalar(
        select(Adoption).where(Adoption.unit_id == unit_id, Adoption.solution_id == solution_id)
    )
    if existing is not None and existing.status == AdoptionStatus.ABANDONED:
        # One item per unit and solution: adopting it again brings the abandoned item back.
        return workflow.readopt(
            session, existing, challenge=challenge, owner=owner, due_on=due_on, user=user
        )
    if existing is not None:
        raise RefusedChange(duplicate)
    details = {
        "unit": unit.code,
        "solution": solution.code,
        "challenge": challenge.code if challenge is not None else None,
        "owner": owner,
        "due_on": due_on.isoformat(),
        "status": AdoptionStatus.PLANNED.value,
    }
    adoption = Adoption(
        unit_id=unit_id,
        solution_id=solution_id,
        challenge_id=challenge.id if challenge is not None else None,
        status=AdoptionStatus.PLANNED,
        owner=owner,
        due_on=due_on,
        created_by_id=getattr(user, "id", None),
    )
    workflow.copy_steps(adoption, solution.step_list)
    adoption.events.append(workflow.event(adoption, "create", workflow.created(details), user))
    try:
        session.add(adoption)
        session.flush()
        record(session, "adoption.create", "adoption", adoption.id, user=user, details=details)
        session.commit()
    except IntegrityError as error:
        # Another request added the same solution, or removed a row, since the checks above.
        session.rollback()
        if session.scalar(
            select(Adoption.id).where(
                Adoption.unit_id == unit_id, Adoption.solution_id == solution_id
            )
        ):
            raise RefusedChange(duplicate) from error
        raise RefusedChange(
            _("The plan changed while saving: nothing was added, try again.")
        ) from error
    except BaseException:
        session.rollback()
        raise
    return adoption


@dataclass
class Attention:
    """What needs a manager's attention in the plans they look after (their home page)."""

    overdue: int
    due_soon: int
    items: list[Adoption]  # the most pressing, overdue first (at most ``ATTENTION_SHOWN``)


ATTENTION_SHOWN = 10


def attention(session: Session, unit_ids: Iterable[int], today: date) -> Attention:
    """The active items of ``unit_ids`` that are overdue or due within DUE_SOON_DAYS, counted
    with one query each and the first few loaded."""
    ids = list(unit_ids)
    if not ids:
        return Attention(0, 0, [])
    soon = today + timedelta(days=DUE_SOON_DAYS)
    pressing = (
        select(Adoption)
        .where(
            Adoption.unit_id.in_(ids),
            Adoption.status.in_(ACTIVE_STATUSES),
            Adoption.due_on <= soon,
        )
        .order_by(Adoption.due_on, Adoption.id)
    )
    due = pressing.with_only_columns(Adoption.due_on).order_by(None).subquery()
    counts = session.execute(
        select(
            func.count().filter(due.c.due_on < today), func.count().filter(due.c.due_on >= today)
        )
    ).one()
    items = session.scalars(
        pressing.options(selectinload(Adoption.solution), selectinload(Adoption.unit)).limit(
            ATTENTION_SHOWN
        )
    ).all()
    return Attention(counts[0], counts[1], list(items))
