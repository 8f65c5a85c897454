"""adoptions.csv naming a solution merged into another: refused with the survivor's code, so an
old export never writes onto the plan item a merge kept as its record."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from cxactions.auth.models import Role
from cxactions.crowd import services as crowd
from cxactions.foundations.vocabulary import AdoptionStatus
from cxactions.imports.services import run_import
from cxactions.plans.models import INCLUDE_MERGED, Adoption
from tests.factories import challenge, solution, unit_tree


def test_a_merged_solution_code_is_refused_with_the_survivors(db, make_user, tmp_path):
    units = unit_tree()
    queue = challenge("SPEED-QUEUE", "Long checkout queues")
    keep = solution("SOP-KEEP", "Open a till at three", challenges=[queue])
    dup = solution("SOP-DUP", "Third customer opens a till", challenges=[queue])
    db.session.add_all(
        [
            Adoption(unit=units["S1"], solution=keep, status=AdoptionStatus.PLANNED),
            Adoption(
                unit=units["S1"], solution=dup, status=AdoptionStatus.IMPLEMENTED,
                effective_on=date(2024, 3, 4),
            ),
        ]
    )  # fmt: skip
    db.session.commit()
    crowd.merge(dup, keep, make_user(Role.CX_LEAD))
    path = tmp_path / "adoptions.csv"
    path.write_text("unit_id,solution_id,adopted_on,status\nS1,SOP-DUP,2024-01-01,implemented\n")
    result = run_import(db.session, "adoptions", path)
    assert not result.ok
    (error,) = result.errors
    assert "'SOP-DUP' was merged into 'SOP-KEEP'" in error.message
    records = db.session.scalars(
        sa.select(Adoption).execution_options(**{INCLUDE_MERGED: True}).order_by(Adoption.id)
    ).all()
    assert [(a.solution_id, a.effective_on) for a in records] == [
        (keep.id, date(2024, 3, 4)),
        (dup.id, date(2024, 3, 4)),  # the record of the merge, untouched
    ]
