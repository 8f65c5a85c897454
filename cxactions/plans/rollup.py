"""Roll-ups of action plans: a region, a district, a manager's units or the whole company.

What the units below are doing about their challenges, from a few grouped queries whatever the
size of the scope: plan items by status, overdue and due soon, the mean progress of the active
items (``percent_complete`` per item, its steps counted by one GROUP BY over ``plan_steps``), one
row per unit directly below, the coverage gaps (units at the bottom of the tree with no active
item; those with an active challenge that no item addresses) and what is being tried where
(solution × units). The CSV export of every item in scope streams from the same tables.

The tree (a few thousand units) is read once and walked in memory; plan items are read as plain
tuples, never as ORM objects with their steps.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from cxactions.foundations.csv_export import EXPORT_BATCH, safe_text
from cxactions.foundations.paging import Pages
from cxactions.foundations.vocabulary import AdoptionStatus
from cxactions.library.models import Solution, SolutionStatus, solution_challenges
from cxactions.plans.models import (
    ACTIVE_STATUSES,
    Adoption,
    DueState,
    PlanStep,
    due_state,
    percent_complete,
)
from cxactions.taxonomy.models import Challenge
from cxactions.units.models import Unit
from cxactions.units.services import subtree_select

# --- The organisation, in memory --------------------------------------------------------------


class UnitNode(NamedTuple):
    id: int
    code: str
    name: str
    kind: str | None
    parent_id: int | None


@dataclass
class Organisation:
    """Every unit as a plain tuple (ordered by name), with the walks the roll-ups need.

    Imported trees may loop (A under B under A): every walk stops at a unit it has seen.
    """

    units: dict[int, UnitNode]
    children: dict[int, list[int]]

    @classmethod
    def load(cls, session: Session) -> Organisation:
        rows = session.execute(
            sa.select(Unit.id, Unit.code, Unit.name, Unit.kind, Unit.parent_id).order_by(
                Unit.name, Unit.code
            )
        )
        units = {row.id: UnitNode(*row) for row in rows}
        children: dict[int, list[int]] = {}
        for unit in units.values():
            if unit.parent_id is not None and unit.parent_id in units:
                children.setdefault(unit.parent_id, []).append(unit.id)
        return cls(units, children)

    @property
    def roots(self) -> list[int]:
        return [
            unit.id
            for unit in self.units.values()
            if unit.parent_id is None or unit.parent_id not in self.units
        ]

    def is_leaf(self, unit_id: int) -> bool:
        return not self.children.get(unit_id)

    def subtree(self, root_ids: Iterable[int]) -> list[int]:
        """The given units and every unit below them, depth first, each once."""
        seen: set[int] = set()
        found: list[int] = []
        stack = [unit_id for unit_id in reversed(list(root_ids)) if unit_id in self.units]
        while stack:
            unit_id = stack.pop()
            if unit_id in seen:
                continue
            seen.add(unit_id)
            found.append(unit_id)
            stack.extend(reversed(self.children.get(unit_id, [])))
        return found

    def ancestors(self, unit_id: int) -> list[UnitNode]:
        """From the top of the unit's tree down to its parent (``units.services.ancestors``)."""
        chain: list[UnitNode] = []
        seen: set[int] = set()
        node = self.units.get(self.units[unit_id].parent_id or -1)
        while node is not None and node.id not in seen:
            seen.add(node.id)
            chain.append(node)
            node = self.units.get(node.parent_id or -1)
        chain.reverse()
        return chain

    def region_of(self, unit_id: int) -> UnitNode | None:
        """As ``units.services.region_of``: the nearest ancestor of kind region, else the top."""
        chain = self.ancestors(unit_id)
        for ancestor in reversed(chain):
            if (ancestor.kind or "").lower() == "region":
                return ancestor
        return chain[0] if chain else None

    def fingerprint(self) -> int:
        """Changes whenever a unit moves, appears, goes or changes kind."""
        return hash(tuple((unit.id, unit.parent_id, unit.kind) for unit in self.units.values()))


# What gives each unit's active challenges (codes) for the coverage of challenges: the caller's
# (the priorities feature decides them, ``priorities.services.active_challenges_by_unit``).
ChallengeSource = Callable[[Session, "Organisation", Sequence[int]], dict[int, set[str]] | None]


# --- Plan items as tuples ------------------------------------------------------------------------


class PlanItemRow(NamedTuple):
    id: int
    unit_id: int
    solution_id: int
    challenge_id: int | None
    status: AdoptionStatus
    due_on: date | None
    steps_total: int
    steps_done: int

    @property
    def percent(self) -> int:
        return percent_complete(self.steps_done, self.steps_total, self.status)


def _scope(root_ids: Sequence[int] | None) -> sa.Select | None:
    """The ids of the units in the subtrees of ``root_ids`` (a SELECT); ``None`` for all."""
    return None if root_ids is None else subtree_select(root_ids)


def _step_counts(scope: sa.Select | None) -> sa.Subquery:
    """Steps and ticked steps per plan item (of the scope): one GROUP BY over ``plan_steps``."""
    query = sa.select(
        PlanStep.adoption_id.label("adoption_id"),
        sa.func.count(PlanStep.id).label("total"),
        sa.func.count(PlanStep.done_at).label("done"),
    ).group_by(PlanStep.adoption_id)
    if scope is not None:
        query = query.where(
            PlanStep.adoption_id.in_(sa.select(Adoption.id).where(Adoption.unit_id.in_(scope)))
        )
    return query.subquery("step_counts")


def plan_items(session: Session, root_ids: Sequence[int] | None) -> list[PlanItemRow]:
    """Every plan item of the subtrees of ``root_ids`` (of every unit when ``None``), with its
    step counts; two grouped queries' worth of plain tuples."""
    scope = _scope(root_ids)
    steps = _step_counts(scope)
    query = sa.select(
        Adoption.id,
        Adoption.unit_id,
        Adoption.solution_id,
        Adoption.challenge_id,
        Adoption.status,
        Adoption.due_on,
        sa.func.coalesce(steps.c.total, 0),
        sa.func.coalesce(steps.c.done, 0),
    ).outerjoin(steps, steps.c.adoption_id == Adoption.id)
    if scope is not None:
        query = query.where(Adoption.unit_id.in_(scope))
    # Thousands of plain tuples: on the connection, without the ORM's per-row work.
    return [PlanItemRow(*row) for row in session.connection().execute(query).all()]


# --- The roll-up ---------------------------------------------------------------------------------


@dataclass
class PlanFigures:
    """Plan items of a scope and the coverage of its units (those at the bottom of the tree)."""

    statuses: Counter = field(default_factory=Counter)  # AdoptionStatus -> items
    overdue: int = 0
    due_soon: int = 0
    progress_total: int = 0  # percent complete of the active items, summed
    units: int = 0  # units at the bottom of the tree (stores)
    idle_units: int = 0  # ... with no active item
    unaddressed_units: int = 0  # ... with an active challenge no item addresses

    def count(self, item: PlanItemRow, today: date) -> None:
        self.statuses[item.status] += 1
        state = due_state(item.status, item.due_on, today)
        if state == DueState.OVERDUE:
            self.overdue += 1
        elif state == DueState.DUE_SOON:
            self.due_soon += 1
        if item.status in ACTIVE_STATUSES:
            self.progress_total += item.percent

    def add(self, other: PlanFigures) -> None:
        """Count ``other``'s items and units too (a unit's figures into its row's)."""
        self.statuses.update(other.statuses)
        self.overdue += other.overdue
        self.due_soon += other.due_soon
        self.progress_total += other.progress_total
        self.units += other.units
        self.idle_units += other.idle_units
        self.unaddressed_units += other.unaddressed_units

    def of(self, status: AdoptionStatus | str) -> int:
        return self.statuses[AdoptionStatus(status)]

    @property
    def items(self) -> int:
        return sum(self.statuses.values())

    @property
    def active(self) -> int:
        return sum(self.statuses[status] for status in ACTIVE_STATUSES)

    @property
    def mean_progress(self) -> float | None:
        """The active items' mean percent complete, as a share (0.0 to 1.0); None without any."""
        return self.progress_total / self.active / 100 if self.active else None

    @property
    def covered_units(self) -> int:
        return self.units - self.idle_units


@dataclass
class ScopeRow:
    """A unit directly below the scope (or one of a manager's units), with its subtree's figures."""

    unit: UnitNode
    leaf: bool
    figures: PlanFigures = field(default_factory=PlanFigures)


@dataclass
class Gap:
    """A unit the coverage lists name: where it sits, and the challenges left unaddressed."""

    unit: UnitNode
    parent: UnitNode | None
    challenges: list[Challenge] = field(default_factory=list)


class SolutionRef(NamedTuple):
    id: int
    code: str
    title: str
    language: str
    status: SolutionStatus


@dataclass
class SolutionSpread:
    """One solution in the scope's plans: its units by status, and for a district their codes."""

    solution: SolutionRef
    statuses: Counter = field(default_factory=Counter)
    unit_codes: list[str] = field(default_factory=list)

    def of(self, status: AdoptionStatus | str) -> int:
        return self.statuses[AdoptionStatus(status)]

    @property
    def units(self) -> int:
        return sum(self.statuses.values())

    @property
    def trying(self) -> int:
        """Units where it is planned, in progress or implemented (not abandoned)."""
        return self.units - self.statuses[AdoptionStatus.ABANDONED]


@dataclass
class PlanRollup:
    """What the roll-up page shows for one scope."""

    roots: list[UnitNode]  # the scope: one unit, a manager's units; empty for the company
    company: bool
    today: date
    totals: PlanFigures
    rows: list[ScopeRow]  # the units below a single root, else the roots themselves
    idle: list[Gap]  # units at the bottom of the tree with no active item
    unaddressed: list[Gap]  # ... with an active challenge that no item addresses
    challenges_checked: bool  # False when no signal is configured: no challenge to check
    solutions: list[SolutionSpread]  # most units first
    codes_listed: bool  # a district (its units are the bottom of the tree): unit codes shown

    @property
    def unit(self) -> UnitNode | None:
        return self.roots[0] if len(self.roots) == 1 else None


def plan_rollup(
    session: Session,
    root_ids: Sequence[int] | None,
    *,
    today: date | None = None,
    challenges: ChallengeSource | None = None,
) -> PlanRollup:
    """The roll-up of the subtrees of ``root_ids``, or of the company when ``None``.

    ``challenges`` gives each unit's active challenges (codes) for the coverage of challenges;
    ``None`` leaves that check out. An item addresses a challenge when it names it or when its
    solution is mapped to it in the library, unless the item was abandoned.
    """
    today = today or date.today()
    organisation = Organisation.load(session)
    company = root_ids is None
    if company:
        roots: list[int] = []
        scope = list(organisation.units)
        tops = organisation.roots
        # One unit at the top (the company itself): its children are the rows.
        row_ids = organisation.children.get(tops[0], []) if len(tops) == 1 else tops
    else:
        wanted = set(root_ids)
        roots = [unit_id for unit_id in organisation.units if unit_id in wanted]  # by name
        scope = organisation.subtree(roots)
        row_ids = organisation.children.get(roots[0], []) if len(roots) == 1 else roots
    row_of: dict[int, int] = {}
    for row_id in row_ids:
        for unit_id in organisation.subtree([row_id]):
            row_of.setdefault(unit_id, row_id)
    rows = {
        row_id: ScopeRow(organisation.units[row_id], organisation.is_leaf(row_id))
        for row_id in row_ids
    }
    codes_listed = not company and (
        len(roots) == 1 and all(organisation.is_leaf(row_id) for row_id in row_ids)
    )
    items = plan_items(session, None if company else roots) if company or roots else []

    # Each unit's own figures first (one pass over the items), then summed into rows and totals.
    per_unit: dict[int, PlanFigures] = {}
    addressed: dict[int, set[int]] = {}
    mapped = _solution_challenges(session, {item.solution_id for item in items})
    by_solution: dict[int, Counter] = {}
    codes_of: dict[int, list[str]] = {}
    for item in items:
        figures = per_unit.get(item.unit_id)
        if figures is None:
            figures = per_unit[item.unit_id] = PlanFigures()
        figures.count(item, today)
        if item.status != AdoptionStatus.ABANDONED:
            found = addressed.setdefault(item.unit_id, set())
            found.update(mapped.get(item.solution_id, ()))
            if item.challenge_id is not None:
                found.add(item.challenge_id)
        spread = by_solution.get(item.solution_id)
        if spread is None:
            spread = by_solution[item.solution_id] = Counter()
        spread[item.status] += 1
        if codes_listed:
            codes_of.setdefault(item.solution_id, []).append(organisation.units[item.unit_id].code)

    leaves = [unit_id for unit_id in scope if organisation.is_leaf(unit_id)]
    active = challenges(session, organisation, leaves) if challenges is not None else None
    challenge_rows = _challenges(session, set().union(*active.values()) if active else set())
    idle, unaddressed = [], []
    for unit_id in leaves:
        unit = organisation.units[unit_id]
        parent = organisation.units.get(unit.parent_id or -1)
        figures = per_unit.get(unit_id)
        if figures is None:
            figures = per_unit[unit_id] = PlanFigures()
        figures.units = 1
        if not figures.active:
            idle.append(Gap(unit, parent))
            figures.idle_units = 1
        missing = [
            challenge_rows[code]
            for code in (active or {}).get(unit_id, ())
            if code in challenge_rows and challenge_rows[code].id not in addressed.get(unit_id, ())
        ]
        if missing:
            missing.sort(key=lambda challenge: (challenge.shown_name.lower(), challenge.code))
            unaddressed.append(Gap(unit, parent, missing))
            figures.unaddressed_units = 1
    totals = PlanFigures()
    for unit_id, figures in per_unit.items():
        totals.add(figures)
        row = rows.get(row_of.get(unit_id, -1))
        if row is not None:
            row.figures.add(figures)

    def place(gap: Gap) -> tuple:
        parent = gap.parent
        return (parent.name.lower() if parent else "", gap.unit.name.lower(), gap.unit.code)

    return PlanRollup(
        roots=[organisation.units[unit_id] for unit_id in roots],
        company=company,
        today=today,
        totals=totals,
        rows=list(rows.values()),
        idle=sorted(idle, key=place),
        unaddressed=sorted(unaddressed, key=place),
        challenges_checked=active is not None,
        solutions=_spreads(session, by_solution, codes_of if codes_listed else {}),
        codes_listed=codes_listed,
    )


def _solution_challenges(session: Session, solution_ids: Collection[int]) -> dict[int, set[int]]:
    """The challenges each solution is mapped to in the library."""
    if not solution_ids:
        return {}
    mapped: dict[int, set[int]] = {}
    query = sa.select(solution_challenges.c.solution_id, solution_challenges.c.challenge_id)
    if len(solution_ids) <= 5_000:  # beyond, the whole table costs less than a huge IN list
        query = query.where(solution_challenges.c.solution_id.in_(list(solution_ids)))
    for solution_id, challenge_id in session.execute(query):
        if solution_id in solution_ids:
            mapped.setdefault(solution_id, set()).add(challenge_id)
    return mapped


def _challenges(session: Session, codes: Collection[str]) -> dict[str, Challenge]:
    if not codes:
        return {}
    return {
        challenge.code: challenge
        for challenge in session.scalars(sa.select(Challenge).where(Challenge.code.in_(codes)))
    }


def _spreads(
    session: Session, by_solution: dict[int, Counter], codes_of: Mapping[int, list[str]]
) -> list[SolutionSpread]:
    """Each solution of the scope's plans with its units by status (and their codes, if given)."""
    if not by_solution:
        return []
    rows = session.execute(
        sa.select(
            Solution.id, Solution.code, Solution.title, Solution.language, Solution.status
        ).where(Solution.id.in_(list(by_solution)))
    )
    found = [
        SolutionSpread(SolutionRef(*row), by_solution[row.id], sorted(codes_of.get(row.id, [])))
        for row in rows
    ]
    found.sort(key=lambda item: (-item.trying, -item.units, item.solution.title.lower()))
    return found


# --- Pages of long lists -------------------------------------------------------------------------


@dataclass(frozen=True)
class ListPage(Pages):
    """One page of a list, with the interface of the ``page_nav`` macro."""

    items: list = field(default_factory=list)
    total: int = 0

    @classmethod
    def of(cls, rows: Sequence, page: int, per_page: int) -> ListPage:
        pages = max(1, math.ceil(len(rows) / per_page))
        page = min(max(page, 1), pages)
        start = (page - 1) * per_page
        return cls(page, pages, list(rows[start : start + per_page]), len(rows))


# --- The CSV export ------------------------------------------------------------------------------

# The contract's columns first (codes, as in the import formats), then the useful extras.
EXPORT_COLUMNS = (
    "unit_id",
    "solution_id",
    "challenge_id",
    "status",
    "owner",
    "due_on",
    "adopted_on",
    "percent_complete",
    "unit_name",
    "parent_unit_id",
    "solution_title",
    "challenge_name",
    "due_state",
    "steps_done",
    "steps_total",
    "created_at",
    "status_changed_at",
    "status_reason",
    "notes",
)


def export_rows(
    session: Session, root_ids: Sequence[int] | None, *, today: date | None = None
) -> Iterator[list[Any]]:
    """Every plan item of the subtrees of ``root_ids`` (every unit when ``None``) as a row of
    ``EXPORT_COLUMNS``, by unit and solution code, read ``EXPORT_BATCH`` rows at a time.

    ``adopted_on`` is what the adoptions import reads into the item's effective date: the date
    it took effect for an implemented item, else its planned start (empty when none).
    """
    today = today or date.today()
    scope = _scope(root_ids)
    steps = _step_counts(scope)
    parent = aliased(Unit)
    query = (
        sa.select(
            Unit.code,
            Solution.code,
            Challenge.code,
            Adoption.status,
            Adoption.owner,
            Adoption.due_on,
            Adoption.effective_on,
            sa.func.coalesce(steps.c.total, 0),
            sa.func.coalesce(steps.c.done, 0),
            Unit.name,
            parent.code,
            Solution.title,
            Challenge.name,
            Adoption.created_at,
            Adoption.status_changed_at,
            Adoption.status_reason,
            Adoption.notes,
        )
        .join(Unit, Unit.id == Adoption.unit_id)
        .join(Solution, Solution.id == Adoption.solution_id)
        .outerjoin(parent, parent.id == Unit.parent_id)
        .outerjoin(Challenge, Challenge.id == Adoption.challenge_id)
        .outerjoin(steps, steps.c.adoption_id == Adoption.id)
        .order_by(Unit.code, Solution.code, Adoption.id)
    )
    if scope is not None:
        query = query.where(Adoption.unit_id.in_(scope))
    result = session.execute(query, execution_options={"yield_per": EXPORT_BATCH})
    for (
        unit_code, solution_code, challenge_code, status, owner, due_on, effective_on, total,
        done, unit_name, parent_code, title, challenge_name, created_at, changed_at, reason,
        notes,
    ) in result:  # fmt: skip
        status = AdoptionStatus(status)
        state = due_state(status, due_on, today)
        yield [
            unit_code,
            solution_code,
            challenge_code,
            status.value,
            safe_text(owner),
            _day(due_on),
            _day(effective_on),
            percent_complete(done, total, status),
            safe_text(unit_name),
            parent_code,
            safe_text(title),
            safe_text(challenge_name),
            state.value if state else "",
            done,
            total,
            _instant(created_at),
            _instant(changed_at),
            safe_text(reason),
            safe_text(notes),
        ]


def _day(value: date | None) -> str:
    return value.isoformat() if value else ""


def _instant(value: datetime | None) -> str:
    """A stored instant (naive UTC) as ISO 8601 with its zone: ``2026-05-04T09:30:00Z``."""
    return value.replace(microsecond=0).isoformat() + "Z" if value else ""


def unaddressed_counts(rollup: PlanRollup) -> list[tuple[Challenge, int]]:
    """The challenges left unaddressed, with how many units of the scope face them, most first."""
    counts: Counter = Counter()
    by_code: dict[str, Challenge] = {}
    for gap in rollup.unaddressed:
        for challenge in gap.challenges:
            counts[challenge.code] += 1
            by_code[challenge.code] = challenge
    return [
        (by_code[code], count)
        for code, count in sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))
    ]
