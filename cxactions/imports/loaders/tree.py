"""The tree loader shared by units and challenges: parents may come later in the same file;
unknown parents and cycles (``find_cycles``) are found once the whole file is known.
"""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from cxactions.foundations.translation import _
from cxactions.foundations.trees import find_cycles
from cxactions.imports.bulk import upsert
from cxactions.imports.loaders.base import (
    Loader,
    NewCodes,
    by_lower_case,
    case_hint,
    same_value,
    unknown_by_case,
)
from cxactions.imports.results import ErrorLog, ParseError


class TreeLoader(Loader):
    """Units and challenges: a tree whose parents may come later in the same file.

    The rows are small and few, so the whole file is kept; parents are checked and cycles
    found once every row is known, then rows are upserted and parents set in a second step.
    """

    model: type
    key_column: str
    what: str
    # file column -> database column, for the plain (non-parent) values
    columns: dict[str, str]

    def prepare(self, errors: ErrorLog) -> None:
        table = self.model.__table__
        parent = table.alias("parent")
        selected = [table.c.id, table.c.code, parent.c.code.label("parent")]
        selected += [table.c[name] for name in self.columns.values()]
        query = sa.select(*selected).outerjoin(parent, parent.c.id == table.c.parent_id)
        self.existing = {row.code: row for row in self.session.execute(query)}
        self.new_codes = NewCodes(self.existing)
        self.frames: list[pd.DataFrame] = []

    def check(self, rows: pd.DataFrame, errors: ErrorLog) -> pd.DataFrame:
        return self.new_codes.check(rows, errors, self.key_column)

    def take(self, rows: pd.DataFrame) -> None:
        self.frames.append(rows)

    def values(self, rows: pd.DataFrame) -> dict[str, list]:
        return {
            target: rows[source].astype(object).where(rows[source].notna(), None).tolist()
            for source, target in self.columns.items()
            if self.has_column(source)
        }

    def finish(self, errors: ErrorLog, skip_invalid: bool) -> int:
        if not self.frames:
            return 0
        rows = pd.concat(self.frames, ignore_index=True)
        codes = rows[self.key_column].tolist()
        lines = dict(zip(codes, rows["line"].tolist(), strict=True))
        has_parent = self.has_column("parent_id")
        if has_parent:
            file_parents = dict(
                zip(
                    codes,
                    rows["parent_id"].astype(object).where(rows["parent_id"].notna(), None),
                    strict=True,
                )
            )
        else:
            file_parents = {
                code: self.existing[code].parent if code in self.existing else None
                for code in codes
            }
        parents = {code: row.parent for code, row in self.existing.items()}
        parents.update(file_parents)
        bad: set[str] = set()
        parents_lower = by_lower_case(parents)
        for code in codes:
            parent = file_parents[code]
            if parent is not None and parent not in parents:
                bad.add(code)
                right = case_hint(parent, parents_lower)
                errors.add(
                    ParseError(
                        lines[code],
                        "parent_id",
                        unknown_by_case(self.what, parent, right)
                        if right is not None
                        else _(
                            "unknown %(column)s '%(code)s' (not in the database nor in this file)",
                            column=self.what,
                            code=parent,
                        ),
                    )
                )
        for code, cycle in find_cycles(parents, codes).items():
            bad.add(code)
            path = " → ".join([*cycle, cycle[0]])
            errors.add(
                ParseError(
                    lines[code], "parent_id", _("the parents form a cycle: %(path)s", path=path)
                )
            )
        if skip_invalid:
            # A row whose parent was skipped cannot be written either.
            changed = True
            while changed:
                changed = False
                for code in codes:
                    parent = file_parents[code]
                    if code not in bad and parent in bad and parent not in self.existing:
                        bad.add(code)
                        changed = True
                        errors.add(
                            ParseError(
                                lines[code],
                                "parent_id",
                                _(
                                    "skipped because its parent '%(parent)s' is invalid",
                                    parent=parent,
                                ),
                            )
                        )
        if bad and not skip_invalid:
            self.writing = False
        keep = ~rows[self.key_column].isin(bad).to_numpy()
        rows = rows.loc[keep].reset_index(drop=True)
        self.save(rows, file_parents)
        return int((~keep).sum())

    def save(self, rows: pd.DataFrame, file_parents: dict[str, str | None]) -> None:
        """Count and write the new and changed rows, then their parents."""
        values = self.values(rows)
        codes = rows[self.key_column].tolist()
        changed_rows = []
        parent_changes = []
        for position, code in enumerate(codes):
            current = self.existing.get(code)
            row_values = {name: column[position] for name, column in values.items()}
            parent = file_parents[code]
            if current is None:
                self.inserted += 1
                changed_rows.append({"code": code, **row_values})
                if parent is not None:
                    parent_changes.append((code, parent))
                continue
            differs = any(
                not same_value(getattr(current, name), value) for name, value in row_values.items()
            )
            parent_differs = self.has_column("parent_id") and current.parent != parent
            if differs or parent_differs:
                self.updated += 1
            if differs:
                changed_rows.append({"code": code, **row_values})
            if parent_differs:
                parent_changes.append((code, parent))
        if not self.writing:
            return
        table = self.model.__table__
        self.touched.update(row["code"] for row in changed_rows)
        self.touched.update(code for code, _ in parent_changes)
        if changed_rows:
            update = [name for name in values]
            statement = upsert(self.session, table, ["code"], update)
            self.session.execute(statement, changed_rows)
        if parent_changes:
            ids = self.codes(table)
            self.write(
                table,
                [],
                [
                    {"row_id": ids[code], "new_parent_id": ids[parent] if parent else None}
                    for code, parent in parent_changes
                ],
            )
