"""A small organisation with planted solution effects, written straight into the database.

Two regions, four districts, 32 stores and 40 weeks of weekly ``overall`` sums (no response
rows: the impact panel reads ``unit_week_scores``), with solutions whose true effects are known:

- ``SOL-GOOD`` raises satisfaction by a full point at 8 stores (two of them S01 and S02, in the
  district D1 a test manager looks after);
- ``SOL-OK`` by 0.4 at 8 stores;
- ``SOL-NULL`` does nothing useful (-0.1) at 8 stores;
- ``SOL-FEW`` was tried at 3 stores only (not enough evidence to rank);
- ``SOL-NEVER`` was never adopted.

Challenges: SPEED (category) → SPEED-QUEUE (good, null, few, never) and SPEED-HOLD (no solution);
CARE (category) → CARE-GREET (null only: nothing shown to work) and CARE-CLEAN (ok).
Building it and estimating takes a fraction of a second on either database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import sqlalchemy as sa

from cxactions.foundations.extensions import db
from cxactions.foundations.versions import bump_data_version
from cxactions.foundations.vocabulary import AdoptionStatus, MetricKind, SolutionKind
from cxactions.library.models import Solution
from cxactions.plans.models import Adoption
from cxactions.surveys.aggregates import OVERALL, ensure_metrics
from cxactions.surveys.models import UnitWeekScore
from cxactions.taxonomy.models import Challenge
from cxactions.units.models import Unit
from tests.factories import challenge, solution

START = date(2024, 1, 1)  # a Monday
WEEKS = 40
STORES_PER_DISTRICT = 8
# Solution code: (kind, true effect, stores adopting it, first adoption week).
PLANTED = {
    "SOL-GOOD": (SolutionKind.TRAINING, 1.0, [1, 2, 9, 12, 17, 20, 25, 28], 14),
    "SOL-OK": (SolutionKind.SOP, 0.4, [3, 10, 13, 18, 21, 26, 29, 31], 15),
    "SOL-NULL": (SolutionKind.ASSET, -0.1, [4, 11, 14, 19, 22, 27, 30, 32], 16),
    "SOL-FEW": (SolutionKind.SOP, 0.5, [5, 15, 23], 18),
}
TITLES = {
    "SOL-GOOD": "Greeting training",
    "SOL-OK": "Queue triage SOP",
    "SOL-NULL": "Numbered tickets machine",
    "SOL-FEW": "Floor walker at peaks",
    "SOL-NEVER": "Mystery shopper debrief",
}


@dataclass
class ImpactWorld:
    units: dict[str, Unit]
    solutions: dict[str, Solution]
    challenges: dict[str, Challenge]


def store_code(number: int) -> str:
    return f"S{number:02d}"


def build_world(seed: int = 3) -> ImpactWorld:
    """Write the organisation, its weekly scores and its action plans; commits."""
    rng = np.random.default_rng(seed)
    units: dict[str, Unit] = {}
    for region_number in (1, 2):
        region = Unit(code=f"R{region_number}", name=f"Region {region_number}", kind="region")
        units[region.code] = region
        for district_number in (2 * region_number - 1, 2 * region_number):
            district = Unit(
                code=f"D{district_number}",
                name=f"District {district_number}",
                kind="district",
                parent=region,
            )
            units[district.code] = district
            for index in range(STORES_PER_DISTRICT):
                number = (district_number - 1) * STORES_PER_DISTRICT + index + 1
                code = store_code(number)
                units[code] = Unit(code=code, name=f"Store {number}", kind="store", parent=district)
    db.session.add_all(units.values())
    db.session.flush()

    speed = challenge("SPEED", "Speed and responsiveness")
    queue = challenge("SPEED-QUEUE", "Long checkout queues", parent=speed)
    challenge("SPEED-HOLD", "Long phone hold times", parent=speed)
    care = challenge("CARE", "Care and attention")
    greet = challenge("CARE-GREET", "Customers not greeted", parent=care)
    clean = challenge("CARE-CLEAN", "Untidy shop floor", parent=care)
    mapped = {
        "SOL-GOOD": [queue],
        "SOL-OK": [clean],
        "SOL-NULL": [queue, greet],
        "SOL-FEW": [queue],
        "SOL-NEVER": [queue],
    }
    kinds = {code: planted[0] for code, planted in PLANTED.items()}
    solutions = {
        code: solution(
            code, TITLES[code], challenges=mapped[code], kind=kinds.get(code, SolutionKind.OTHER)
        )
        for code in TITLES
    }

    stores = [unit for unit in units.values() if unit.kind == "store"]
    level = {unit.code: rng.normal(0, 0.3) for unit in stores}
    region_weeks = {code: rng.normal(0, 0.15, WEEKS) for code in ("R1", "R2")}
    season = 0.3 * np.sin(np.arange(WEEKS) / 52 * 2 * np.pi)
    effect = {unit.code: np.zeros(WEEKS) for unit in stores}
    adoptions = []
    for code, (_, size, numbers, first_week) in PLANTED.items():
        for position, number in enumerate(numbers):
            week = first_week + 2 * position
            effect[store_code(number)][week:] += size
            adoptions.append(
                Adoption(
                    unit=units[store_code(number)],
                    solution=solutions[code],
                    status=AdoptionStatus.IMPLEMENTED,
                    owner="Store manager",
                    effective_on=START + timedelta(weeks=week, days=2),
                )
            )
    adoptions.append(
        Adoption(unit=units["S01"], solution=solutions["SOL-OK"], status=AdoptionStatus.PLANNED)
    )
    db.session.add_all(adoptions)

    metric_id = ensure_metrics(db.session, [OVERALL], MetricKind.OUTCOME)[OVERALL]
    rows = []
    for unit in stores:
        region = unit.parent.parent.code
        responses = rng.integers(6, 20, WEEKS)
        for week in range(WEEKS):
            n = int(responses[week])
            latent = 7.2 + level[unit.code] + region_weeks[region][week] + season[week]
            scores = np.clip(rng.normal(latent + effect[unit.code][week], 1.5, n), 0, 10)
            rows.append(
                {
                    "metric_id": metric_id,
                    "unit_id": unit.id,
                    "week_start": START + timedelta(weeks=week),
                    "n": n,
                    "total": float(scores.sum()),
                    "total_sq": float((scores**2).sum()),
                }
            )
    db.session.execute(sa.insert(UnitWeekScore), rows)
    bump_data_version(db.session)
    db.session.commit()
    return ImpactWorld(units=units, solutions=solutions, challenges=_by_code(Challenge))


def _by_code(model) -> dict:
    return {item.code: item for item in db.session.scalars(sa.select(model))}
