"""solutions.csv: solutions and the challenges each addresses (the file's list replaces the
mapping).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from cxactions.foundations.translation import _
from cxactions.imports.bulk import upsert
from cxactions.imports.loaders.base import (
    CHALLENGES_FIRST,
    Loader,
    NewCodes,
    by_lower_case,
    case_hint,
    plain,
    same_value,
)
from cxactions.imports.results import ErrorLog, ParseError
from cxactions.library.models import Solution, solution_challenges
from cxactions.taxonomy.models import Challenge


class SolutionsLoader(Loader):
    """Solutions, and the challenges each addresses (the file's list replaces the mapping)."""

    model = Solution
    search_type = "solution"

    def prepare(self, errors: ErrorLog) -> None:
        self.challenges = self.codes(Challenge.__table__)
        table = Solution.__table__
        self.existing = {
            row.code: row
            for row in self.session.execute(
                sa.select(table.c.id, table.c.code, table.c.title, table.c.kind,
                          table.c.summary, table.c.status)
            )
        }  # fmt: skip
        self.mapping: dict[int, set[int]] = {}
        for solution_id, challenge_id in self.session.execute(sa.select(solution_challenges)):
            self.mapping.setdefault(solution_id, set()).add(challenge_id)
        self.new_codes = NewCodes(self.existing)
        self.challenges_lower = by_lower_case(self.challenges)

    def check(self, rows: pd.DataFrame, errors: ErrorLog) -> pd.DataFrame:
        rows = self.new_codes.check(rows, errors, "solution_id")
        if not self.has_column("challenge_ids"):
            return rows
        bad = np.zeros(len(rows), dtype=bool)
        for position, (line, items) in enumerate(
            zip(rows["line"].tolist(), rows["challenge_ids"].tolist(), strict=True)
        ):
            unknown = [code for code in items or () if code not in self.challenges]
            if unknown:
                bad[position] = True
                hints = {code: case_hint(code, self.challenges_lower) for code in unknown}
                shown = ", ".join(
                    f"'{code}'"
                    if hints[code] is None
                    else _("'%(code)s' (did you mean '%(known)s'?)", code=code, known=hints[code])
                    for code in unknown
                )
                if all(hints.values()):
                    message = _(
                        "unknown challenge_id %(codes)s: codes are unique ignoring case",
                        codes=shown,
                    )
                else:
                    message = _(
                        "unknown challenge_id %(codes)s (not in the database: %(hint)s)",
                        codes=shown,
                        hint=_(CHALLENGES_FIRST),
                    )
                errors.add(ParseError(line, "challenge_ids", message))
        return rows.loc[~bad].reset_index(drop=True)

    def take(self, rows: pd.DataFrame) -> None:
        fields = {"title": "title", "kind": "kind", "status": "status"}
        if self.has_column("description"):
            fields["description"] = "summary"
        records, mapped = [], []
        for row in rows.to_dict("records"):
            code = row["solution_id"]
            values = {target: _none_if_missing(row[source]) for source, target in fields.items()}
            current = self.existing.get(code)
            wanted = (
                {self.challenges[item] for item in row["challenge_ids"] or ()}
                if self.has_column("challenge_ids")
                else None
            )
            if current is None:
                self.inserted += 1
                records.append({"code": code, **values})
                mapped.append((code, wanted))
                continue
            differs = any(
                not same_value(plain(getattr(current, target)), value)
                for target, value in values.items()
                if not (target == "status" and not self.has_column("status"))
            )
            mapping_differs = wanted is not None and wanted != self.mapping.get(current.id, set())
            if differs or mapping_differs:
                self.updated += 1
            if differs:
                records.append({"code": code, **values})
            if mapping_differs:
                mapped.append((code, wanted))
        if not self.writing:
            return
        table = Solution.__table__
        self.touched.update(record["code"] for record in records)
        self.touched.update(code for code, wanted in mapped if wanted is not None)
        if records:
            update = ["title", "kind"]
            update += [name for name in ("summary",) if self.has_column("description")]
            update += [name for name in ("status",) if self.has_column("status")]
            statement = upsert(self.session, table, ["code"], update)
            self.session.execute(statement, records)
        mapped = [(code, wanted) for code, wanted in mapped if wanted is not None]
        if mapped:
            ids = self.codes(table)
            solution_ids = [ids[code] for code, _ in mapped]
            self.session.execute(
                sa.delete(solution_challenges).where(
                    solution_challenges.c.solution_id.in_(solution_ids)
                )
            )
            pairs = [
                {"solution_id": ids[code], "challenge_id": challenge_id}
                for code, wanted in mapped
                for challenge_id in sorted(wanted)
            ]
            if pairs:
                self.session.execute(sa.insert(solution_challenges), pairs)
            for code, wanted in mapped:
                self.mapping[ids[code]] = wanted


def _none_if_missing(value: Any) -> Any:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return value
