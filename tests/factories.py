"""Small builders for test data; each commits nothing unless asked, so tests stay explicit."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from cxactions.analytics.estimators import DEFAULT_ESTIMATOR
from cxactions.foundations.extensions import db
from cxactions.foundations.vocabulary import ChallengeStatus
from cxactions.impact.models import ImpactEstimate, ImpactRegionEstimate, ImpactRun
from cxactions.library.models import Solution, SolutionKind, SolutionStatus
from cxactions.taxonomy.models import Challenge
from cxactions.units.models import Unit


def unit_tree() -> dict[str, Unit]:
    """A region with two districts and four stores; returns them by code."""
    region = Unit(code="R1", name="North region", kind="region")
    d1 = Unit(code="D1", name="Lakeside district", kind="district", parent=region)
    d2 = Unit(code="D2", name="Hillside district", kind="district", parent=region)
    stores = [
        Unit(code=f"S{i}", name=f"Store {i}", kind="store", parent=d1 if i <= 2 else d2)
        for i in range(1, 5)
    ]
    db.session.add_all([region, d1, d2, *stores])
    db.session.flush()
    return {unit.code: unit for unit in [region, d1, d2, *stores]}


def challenge(code: str, name: str, parent: Challenge | None = None, **fields) -> Challenge:
    item = Challenge(code=code, name=name, parent=parent, **fields)
    db.session.add(item)
    db.session.flush()
    return item


def solution(code: str, title: str, *, challenges=(), status=SolutionStatus.APPROVED,
             kind=SolutionKind.SOP, **fields) -> Solution:  # fmt: skip
    item = Solution(code=code, title=title, kind=kind, status=status, **fields)
    item.challenges = list(challenges)
    db.session.add(item)
    db.session.flush()
    return item


@dataclass
class SmallLibrary:
    """The rows :func:`small_library` created, by code: ``lib["SPEED-QUEUE"]``, ``lib["SOP-TILL"]``."""

    challenges: dict[str, Challenge] = field(default_factory=dict)
    solutions: dict[str, Solution] = field(default_factory=dict)

    def __getitem__(self, code: str) -> Challenge | Solution:
        return self.challenges[code] if code in self.challenges else self.solutions[code]


def small_library(
    *,
    categories: bool = True,
    staff: bool = True,
    training: bool = True,
    retired: bool = True,
    pending: bool = True,
    challenges: Mapping[str, Mapping[str, Any]] | None = None,
    solutions: Mapping[str, Mapping[str, Any]] | None = None,
    commit: bool = True,
) -> SmallLibrary:
    """The small library most page and curation tests start from.

    Challenges, in this order:

    - ``SPEED`` "Speed and responsiveness" > ``SPEED-QUEUE`` "Long checkout queues";
    - ``STAFF`` "Staff interaction" > ``STAFF-GREET`` "Customers not greeted" (``staff=False``
      leaves both out);
    - ``OLD`` "Fax replies", a retired top-level challenge (``retired=False`` leaves it out).

    ``categories=False`` leaves out ``SPEED`` and ``STAFF``: ``SPEED-QUEUE`` and ``STAFF-GREET``
    are then top-level challenges.

    Solutions, in this order, all on ``SPEED-QUEUE``:

    - ``SOP-TILL`` "Open a till at three", an approved SOP with the summary "A trigger.";
    - ``TRN-LINE`` "Line-busting training", an approved training (``training=False`` leaves it
      out);
    - ``PEND-1`` "A pending proposal", a pending SOP (``pending=False`` leaves it out).

    ``challenges`` and ``solutions`` map codes to fields: for a code of the core they change its
    fields (``{"STAFF": {"name": "Staff attitude"}}``); any other code adds a row after the core
    ones, in the order given. ``parent`` and ``challenges`` may name challenges by code. Everything
    is committed unless ``commit=False`` (then only flushed).
    """
    challenge_specs: dict[str, dict[str, Any]] = {}
    if categories:
        challenge_specs["SPEED"] = {"name": "Speed and responsiveness"}
    challenge_specs["SPEED-QUEUE"] = {
        "name": "Long checkout queues",
        "parent": "SPEED" if categories else None,
    }
    if staff:
        if categories:
            challenge_specs["STAFF"] = {"name": "Staff interaction"}
        challenge_specs["STAFF-GREET"] = {
            "name": "Customers not greeted",
            "parent": "STAFF" if categories else None,
        }
    if retired:
        challenge_specs["OLD"] = {"name": "Fax replies", "status": ChallengeStatus.RETIRED}
    _merge(challenge_specs, challenges)

    solution_specs: dict[str, dict[str, Any]] = {
        "SOP-TILL": {
            "title": "Open a till at three",
            "challenges": ["SPEED-QUEUE"],
            "summary": "A trigger.",
        }
    }
    if training:
        solution_specs["TRN-LINE"] = {
            "title": "Line-busting training",
            "challenges": ["SPEED-QUEUE"],
            "kind": SolutionKind.TRAINING,
        }
    if pending:
        solution_specs["PEND-1"] = {
            "title": "A pending proposal",
            "challenges": ["SPEED-QUEUE"],
            "status": SolutionStatus.PENDING,
        }
    _merge(solution_specs, solutions)

    built = SmallLibrary()
    for code, spec in challenge_specs.items():
        row = dict(spec)
        parent = row.pop("parent", None)
        if isinstance(parent, str):
            parent = built.challenges[parent]
        built.challenges[code] = challenge(code, row.pop("name"), parent=parent, **row)
    for code, spec in solution_specs.items():
        row = dict(spec)
        linked = [
            built.challenges[item] if isinstance(item, str) else item
            for item in row.pop("challenges", ())
        ]
        built.solutions[code] = solution(code, row.pop("title"), challenges=linked, **row)
    if commit:
        db.session.commit()
    return built


def _merge(specs: dict[str, dict[str, Any]], changes: Mapping[str, Mapping[str, Any]] | None):
    for code, row in (changes or {}).items():
        specs.setdefault(code, {}).update(row)


def impact_run(
    estimates: Mapping[str, tuple[float, float, float, int | None]],
    *,
    n_units: int = 9,
    regions: Mapping[tuple[str, str], tuple[float | None, float | None, float | None, int]] = {},
) -> ImpactRun:
    """A finished run of the default estimator, as a refresh would leave it: ``estimates`` maps
    solution codes to (effect, ci_low, ci_high, rank); ``regions`` maps (region code, solution
    code) to (effect, ci_low, ci_high, n_units) for "what worked at similar units". Commits."""
    ids = dict(db.session.execute(sa.select(Solution.code, Solution.id)).all())
    units = dict(db.session.execute(sa.select(Unit.code, Unit.id)).all())
    run = ImpactRun(
        estimator=DEFAULT_ESTIMATOR, period="week", window=12, control="notyet", min_units=5,
        status="done", finished_at=datetime(2026, 1, 5),
    )  # fmt: skip
    db.session.add(run)
    db.session.flush()
    for code, (effect, low, high, rank) in estimates.items():
        db.session.add(
            ImpactEstimate(
                run_id=run.id,
                solution_id=ids[code],
                effect=effect,
                ci_low=low,
                ci_high=high,
                n_units=n_units,
                rank=rank,
                enough_evidence=rank is not None,
            )  # fmt: skip
        )
    for (region, code), (effect, low, high, count) in regions.items():
        db.session.add(
            ImpactRegionEstimate(
                run_id=run.id,
                region_id=units[region],
                solution_id=ids[code],
                effect=effect,
                ci_low=low,
                ci_high=high,
                n_units=count,
                enough_evidence=effect is not None,
            )  # fmt: skip
        )
    db.session.commit()
    return run
