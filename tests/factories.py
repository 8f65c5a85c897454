"""Small builders for test data; each commits nothing unless asked, so tests stay explicit."""

from __future__ import annotations

from cxactions.foundations.extensions import db
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
