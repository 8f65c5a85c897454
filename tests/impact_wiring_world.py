"""Small organisations with planted effects for the estimator-wiring tests (issue 11, item 13).

Written straight into the database like ``tests/impact_world.py`` (weekly sums of ``overall``
per store, implemented plan items), but shaped to exercise one setting each:

- :func:`build_spread_world`: ten solutions with true effects from -0.3 to +0.9, eight of them
  at 6 stores and two at 3: enough ranked solutions for empirical-Bayes shrinkage to apply,
  noisy enough that it visibly moves the estimates;
- :func:`build_dip_world`: one solution worth +0.3 adopted at 20 stores, each after a 4-week
  dip (an Ashenfelter dip: 0.6 to 1.4 points down, gone the week the solution takes effect).
  Surveys started 10 to 14 weeks before the adoptions, so the stores' untreated history is short
  and the weeks just before adoption would serve as their baseline unless the dip window leaves
  them out: then the recovery from the dip is credited to the solution.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import sqlalchemy as sa

from cxactions.foundations.extensions import db
from cxactions.foundations.versions import bump_data_version
from cxactions.foundations.vocabulary import AdoptionStatus, MetricKind
from cxactions.plans.models import Adoption
from cxactions.surveys.aggregates import OVERALL, ensure_metrics
from cxactions.surveys.models import UnitWeekScore
from cxactions.units.models import Unit
from tests.factories import solution

START = date(2024, 1, 1)  # a Monday
RESPONSE_SD = 1.5


@dataclass(frozen=True)
class Plan:
    """One store's implemented solution: when (week index) and what it truly does."""

    solution: str
    week: int
    effect: float
    dip: float = 0.0  # points lost in the DIP_WEEKS before ``week``


DIP_WEEKS = 4
SPREAD_EFFECTS = {
    "SOL-A": -0.3, "SOL-B": 0.0, "SOL-C": 0.1, "SOL-D": 0.2, "SOL-E": 0.3,
    "SOL-F": 0.4, "SOL-G": 0.6, "SOL-H": 0.9, "SOL-I": 0.5, "SOL-J": -0.1,
}  # fmt: skip
FEW = ("SOL-I", "SOL-J")  # 3 stores each: shrunk, not ranked, not in the prior
DIP_TRUTH = 0.3


def _write(
    weeks: int,
    stores_per_region: int,
    plans: dict[int, Plan],
    seed: int,
    responses: tuple[int, int] = (8, 16),
) -> None:
    """Two regions of stores, their weekly ``overall`` sums and plan items; commits.

    Store ``i`` (0-based across regions) follows ``plans[i]`` when present, else never adopts.
    """
    rng = np.random.default_rng(seed)
    stores: list[Unit] = []
    for region_number in (1, 2):
        region = Unit(code=f"R{region_number}", name=f"Region {region_number}", kind="region")
        db.session.add(region)
        for _ in range(stores_per_region):
            number = len(stores) + 1
            stores.append(
                Unit(code=f"S{number:02d}", name=f"Store {number}", kind="store", parent=region)
            )
    db.session.add_all(stores)
    solutions = {
        code: solution(code, f"Solution {code}")
        for code in sorted({p.solution for p in plans.values()})
    }
    db.session.flush()
    metric_id = ensure_metrics(db.session, [OVERALL], MetricKind.OUTCOME)[OVERALL]
    region_weeks = {code: rng.normal(0, 0.15, weeks) for code in ("R1", "R2")}
    rows = []
    for index, store in enumerate(stores):
        level = 7.2 + rng.normal(0, 0.3)
        shift = np.zeros(weeks)
        plan = plans.get(index)
        if plan is not None:
            shift[plan.week :] += plan.effect
            shift[max(plan.week - DIP_WEEKS, 0) : plan.week] += plan.dip
            db.session.add(
                Adoption(
                    unit=store,
                    solution=solutions[plan.solution],
                    status=AdoptionStatus.IMPLEMENTED,
                    owner="Store manager",
                    effective_on=START + timedelta(weeks=plan.week, days=2),
                )
            )
        counts = rng.integers(*responses, weeks)
        region = "R1" if index < stores_per_region else "R2"
        for week in range(weeks):
            n = int(counts[week])
            mean = level + region_weeks[region][week] + shift[week]
            mean += rng.normal(0, RESPONSE_SD / np.sqrt(n))
            rows.append(
                {
                    "metric_id": metric_id,
                    "unit_id": store.id,
                    "week_start": START + timedelta(weeks=week),
                    "n": n,
                    "total": n * mean,
                    "total_sq": n * (mean**2 + RESPONSE_SD**2),
                }
            )
    db.session.execute(sa.insert(UnitWeekScore), rows)
    bump_data_version(db.session)
    db.session.commit()


def build_spread_world(seed: int = 7) -> dict[str, float]:
    """72 stores × 40 weeks, ten solutions (see the module doc); returns the true effects."""
    plans: dict[int, Plan] = {}
    adopters = (index for index in range(72) if index % 4 != 3)  # a quarter never adopt
    for number, (code, effect) in enumerate(SPREAD_EFFECTS.items()):
        for position in range(3 if code in FEW else 6):
            plans[next(adopters)] = Plan(code, 14 + (number + 3 * position) % 18, effect)
    _write(weeks=40, stores_per_region=36, plans=plans, seed=seed)
    return dict(SPREAD_EFFECTS)


def build_dip_world(seed: int = 5) -> float:
    """40 stores × 30 weeks, SOL-DIP after a dip at 20 of them (see the module doc); returns
    the true effect."""
    rng = np.random.default_rng(seed + 1000)
    plans = {
        index: Plan("SOL-DIP", 12 + index % 4, DIP_TRUTH, dip=-float(rng.uniform(0.4, 1.6)))
        for index in range(40)
        if index % 2 == 0
    }
    _write(weeks=30, stores_per_region=20, plans=plans, seed=seed, responses=(25, 40))
    return DIP_TRUTH
