"""adoptions.csv: action-plan items, one per unit and solution."""

from __future__ import annotations

import numpy as np
import pandas as pd
import sqlalchemy as sa

from cxactions.foundations.translation import _
from cxactions.imports.bulk import python_dates, upsert
from cxactions.imports.loaders.base import (
    CHALLENGES_FIRST,
    SOLUTIONS_FIRST,
    UNITS_FIRST,
    Loader,
    plain,
    same_value,
)
from cxactions.imports.results import ErrorLog, ParseError
from cxactions.library.models import Solution
from cxactions.plans.models import Adoption
from cxactions.taxonomy.models import Challenge
from cxactions.units.models import Unit


class AdoptionsLoader(Loader):
    """Action-plan items: one per unit and solution."""

    def prepare(self, errors: ErrorLog) -> None:
        self.units = self.codes(Unit.__table__)
        self.solutions = self.codes(Solution.__table__)
        self.challenges = self.codes(Challenge.__table__)
        table = Adoption.__table__
        self.existing = {
            (row.unit_id, row.solution_id): row
            for row in self.session.execute(
                sa.select(table.c.unit_id, table.c.solution_id, table.c.status,
                          table.c.effective_on, table.c.challenge_id)
                .where(table.c.merged_into_id.is_(None))
            )
        }  # fmt: skip
        # Solutions merged into another: their plan items live on the survivor now.
        solutions = Solution.__table__
        survivor = solutions.alias("survivor")
        self.merged = dict(
            self.session.execute(
                sa.select(solutions.c.id, survivor.c.code).join(
                    survivor, survivor.c.id == solutions.c.merged_into_id
                )
            ).all()
        )

    def check(self, rows: pd.DataFrame, errors: ErrorLog) -> pd.DataFrame:
        rows, unit_ids = self.reference(rows, errors, "unit_id", self.units, UNITS_FIRST)
        rows = rows.assign(unit_pk=unit_ids)
        rows, solution_ids = self.reference(
            rows, errors, "solution_id", self.solutions, SOLUTIONS_FIRST
        )
        merged = np.isin(solution_ids, list(self.merged)) if self.merged else None
        if merged is not None and merged.any():
            for line, code, solution_pk in zip(
                rows["line"].to_numpy()[merged],
                rows["solution_id"].to_numpy()[merged],
                solution_ids[merged],
                strict=True,
            ):
                errors.add(
                    ParseError(
                        int(line),
                        "solution_id",
                        _(
                            "solution '%(code)s' was merged into '%(into)s': its plan items are "
                            "there now; use %(into)s",
                            code=code,
                            into=self.merged[int(solution_pk)],
                        ),
                    )
                )
            rows, solution_ids = rows.loc[~merged].reset_index(drop=True), solution_ids[~merged]
        rows = rows.assign(solution_pk=solution_ids)
        if self.has_column("challenge_id"):
            rows, challenge_ids = self.reference(
                rows,
                errors,
                "challenge_id",
                self.challenges,
                CHALLENGES_FIRST,
                optional=True,
            )
            rows = rows.assign(challenge_pk=challenge_ids)
        return rows

    def take(self, rows: pd.DataFrame) -> None:
        present = {
            "status": self.has_column("status"),
            "effective_on": self.has_column("adopted_on"),
            "challenge_id": self.has_column("challenge_id"),
        }
        effective = python_dates(rows["adopted_on"].to_numpy())
        challenge = (
            [None if np.isnan(value) else int(value) for value in rows["challenge_pk"]]
            if present["challenge_id"]
            else [None] * len(rows)
        )
        records = []
        for unit_pk, solution_pk, status, effective_on, challenge_pk in zip(
            rows["unit_pk"].astype(int).tolist(),
            rows["solution_pk"].astype(int).tolist(),
            rows["status"].tolist(),
            effective,
            challenge,
            strict=True,
        ):
            values = {"status": status, "effective_on": effective_on, "challenge_id": challenge_pk}
            current = self.existing.get((unit_pk, solution_pk))
            if current is None:
                self.inserted += 1
            else:
                differs = any(
                    present[name] and not same_value(plain(getattr(current, name)), value)
                    for name, value in values.items()
                )
                if not differs:
                    continue
                self.updated += 1
            records.append({"unit_id": unit_pk, "solution_id": solution_pk, **values})
        if not self.writing or not records:
            return
        table = Adoption.__table__
        for item in records:
            item["created_by_id"] = self.user_id
        update = [name for name, given in present.items() if given]
        statement = upsert(self.session, table, ["unit_id", "solution_id"], update)
        self.session.execute(statement, records)
