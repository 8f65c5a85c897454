"""Loading the starter library in ``seed/`` into the database.

``load_seed`` upserts the taxonomy (``seed/challenges.csv``) and every seed solution by code, in
the caller's transaction: it checks everything before it writes anything, so a bad seed changes
nothing, and running it twice changes nothing the second time (no write, no audit event).

The seed owns the fields it states. Curation state stays the curators': an existing challenge's
status, position and merges, and an existing solution's status and review, are never touched.
A solution's challenge mapping is made to match its file.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from cxactions.audit.services import record
from cxactions.foundations.trees import find_cycles
from cxactions.foundations.vocabulary import SolutionStatus
from cxactions.library.models import Solution
from cxactions.library.seed_files import SeedError, SeedSolution, read_seed_solutions
from cxactions.taxonomy.models import Challenge

CHALLENGE_COLUMNS = {
    "challenge_id",
    "parent_id",
    "name",
    "description",
    "name_fr",
    "description_fr",
    "keywords",
}
REQUIRED_CHALLENGE_COLUMNS = {"challenge_id", "name"}


@dataclass(frozen=True)
class SeedChallenge:
    """One row of ``seed/challenges.csv``; ``keywords`` one per line, as the model stores them."""

    code: str
    name: str
    parent_code: str | None
    description: str | None
    keywords: str | None
    line: int
    position: int
    name_fr: str | None = None
    description_fr: str | None = None


@dataclass
class SeedSummary:
    """What ``load_seed`` did, by code."""

    challenges_created: list[str] = field(default_factory=list)
    challenges_updated: list[str] = field(default_factory=list)
    challenges_unchanged: int = 0
    solutions_created: list[str] = field(default_factory=list)
    solutions_updated: list[str] = field(default_factory=list)
    solutions_unchanged: int = 0

    @property
    def changed(self) -> bool:
        return bool(
            self.challenges_created
            or self.challenges_updated
            or self.solutions_created
            or self.solutions_updated
        )

    def describe(self) -> str:
        return (
            f"challenges: {len(self.challenges_created)} created, "
            f"{len(self.challenges_updated)} updated, {self.challenges_unchanged} unchanged; "
            f"solutions: {len(self.solutions_created)} created, "
            f"{len(self.solutions_updated)} updated, {self.solutions_unchanged} unchanged"
        )


def read_seed_challenges(path: Path) -> list[SeedChallenge]:
    """Parse ``challenges.csv``; raises ``SeedError`` naming the file, line and column."""
    if not path.is_file():
        raise SeedError(f"{path}: file not found")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        columns = set(reader.fieldnames or [])
        missing = REQUIRED_CHALLENGE_COLUMNS - columns
        unknown = columns - CHALLENGE_COLUMNS
        if missing or unknown:
            raise SeedError(
                f"{path}:1: missing columns {sorted(missing)}, unknown columns {sorted(unknown)}"
            )
        rows: list[SeedChallenge] = []
        seen: dict[str, int] = {}
        siblings: dict[str | None, int] = {}
        for row in reader:
            line = reader.line_num
            code = (row.get("challenge_id") or "").strip()
            name = (row.get("name") or "").strip()
            if not code:
                raise SeedError(f"{path}:{line}: challenge_id: empty")
            if not name:
                raise SeedError(f"{path}:{line}: name: empty")
            if code in seen:
                raise SeedError(
                    f"{path}:{line}: challenge_id: {code!r} already on line {seen[code]}"
                )
            seen[code] = line
            parent = (row.get("parent_id") or "").strip() or None
            keywords = [word.strip() for word in (row.get("keywords") or "").split(";")]
            position = siblings.get(parent, 0)
            siblings[parent] = position + 1
            rows.append(
                SeedChallenge(
                    code=code,
                    name=name,
                    parent_code=parent,
                    description=(row.get("description") or "").strip() or None,
                    keywords="\n".join(word for word in keywords if word) or None,
                    line=line,
                    position=position,
                    name_fr=(row.get("name_fr") or "").strip() or None,
                    description_fr=(row.get("description_fr") or "").strip() or None,
                )
            )
    return rows


def load_seed(session: Session, seed_dir: Path, actor: str = "demo") -> SeedSummary:
    """Upsert ``seed_dir``'s challenges and solutions; the caller commits (or rolls back).

    Raises ``SeedError`` before writing anything when a file is malformed, an id repeats, a
    parent or a mapped challenge does not exist, or the tree has a cycle.
    """
    seed_dir = Path(seed_dir)
    challenges_file = seed_dir / "challenges.csv"
    seed_challenges = read_seed_challenges(challenges_file)
    seed_solutions = read_seed_solutions(seed_dir)

    existing_challenges = {
        challenge.code: challenge for challenge in session.scalars(select(Challenge))
    }
    known_codes = set(existing_challenges) | {row.code for row in seed_challenges}
    _check_tree(challenges_file, seed_challenges, existing_challenges)
    _check_solutions(seed_solutions, known_codes)

    summary = SeedSummary()
    by_code = dict(existing_challenges)
    # Parents first, so every parent has an id when its children point at it.
    for row in _parents_first(seed_challenges):
        _upsert_challenge(session, row, by_code, summary, actor)

    existing_solutions = {
        solution.code: solution
        for solution in session.scalars(select(Solution).options(selectinload(Solution.challenges)))
    }
    for item in seed_solutions:
        _upsert_solution(session, item, existing_solutions.get(item.code), by_code, summary, actor)
    session.flush()
    return summary


def _check_tree(path: Path, rows: list[SeedChallenge], existing: dict[str, Challenge]) -> None:
    """Every parent exists (in the file or the database) and no challenge is its own ancestor."""
    parents = {row.code: row.parent_code for row in rows}
    code_of = {challenge.id: challenge.code for challenge in existing.values()}
    existing_parent_codes = {
        challenge.code: code_of.get(challenge.parent_id) for challenge in existing.values()
    }
    for row in rows:
        if (
            row.parent_code is not None
            and row.parent_code not in parents
            and (row.parent_code not in existing)
        ):
            raise SeedError(f"{path}:{row.line}: parent_id: unknown challenge {row.parent_code!r}")
    every_parent = {**existing_parent_codes, **parents}  # the file's parents win
    on_cycles = find_cycles(every_parent, list(every_parent))
    for row in rows:
        # The first row whose chain of parents runs into a cycle names it.
        node: str | None = row.code
        while node is not None and node not in on_cycles:
            node = every_parent.get(node)
        if node is not None:
            raise SeedError(f"{path}:{row.line}: parent_id: {row.code!r} is in a cycle")


def _check_solutions(solutions: list[SeedSolution], known_codes: set[str]) -> None:
    files: dict[str, Path] = {}
    for item in solutions:
        if item.code in files:
            raise SeedError(f"{item.path}: id {item.code!r} is also used by {files[item.code]}")
        files[item.code] = item.path
        unknown = [code for code in item.challenge_codes if code not in known_codes]
        if unknown:
            raise SeedError(
                f"{item.path}: solution {item.code!r} maps unknown challenge "
                f"{', '.join(repr(code) for code in unknown)} (not in challenges.csv)"
            )


def _parents_first(rows: list[SeedChallenge]) -> list[SeedChallenge]:
    by_code = {row.code: row for row in rows}
    ordered: list[SeedChallenge] = []
    placed: set[str] = set()

    def place(row: SeedChallenge) -> None:
        if row.code in placed:
            return
        if row.parent_code in by_code:
            place(by_code[row.parent_code])
        placed.add(row.code)
        ordered.append(row)

    for row in rows:
        place(row)
    return ordered


def _upsert_challenge(
    session: Session,
    row: SeedChallenge,
    by_code: dict[str, Challenge],
    summary: SeedSummary,
    actor: str,
) -> None:
    parent = by_code[row.parent_code] if row.parent_code else None
    wanted = {
        "name": row.name,
        "description": row.description,
        "name_fr": row.name_fr,
        "description_fr": row.description_fr,
        "keywords": row.keywords,
    }
    challenge = by_code.get(row.code)
    if challenge is None:
        challenge = Challenge(code=row.code, parent=parent, position=row.position, **wanted)
        session.add(challenge)
        session.flush()
        by_code[row.code] = challenge
        summary.challenges_created.append(row.code)
        record(session, "challenge.create", "challenge", challenge.id, actor=actor,
               details={"code": row.code, "source": "seed"})  # fmt: skip
        return
    changed = [name for name, value in wanted.items() if getattr(challenge, name) != value]
    if challenge.parent is not parent:
        changed.append("parent")
    if not changed:
        summary.challenges_unchanged += 1
        return
    for name, value in wanted.items():
        setattr(challenge, name, value)
    challenge.parent = parent
    summary.challenges_updated.append(row.code)
    record(session, "challenge.update", "challenge", challenge.id, actor=actor,
           details={"code": row.code, "source": "seed", "fields": changed})  # fmt: skip


def _upsert_solution(
    session: Session,
    item: SeedSolution,
    solution: Solution | None,
    challenges: dict[str, Challenge],
    summary: SeedSummary,
    actor: str,
) -> None:
    wanted = {
        "title": item.title,
        "kind": item.kind,
        "language": item.language,
        "summary": item.summary,
        "body": item.body,
        "steps": "\n".join(item.steps),
        "effort": item.effort,
        "cost": item.cost,
        "owner": item.owner,
    }
    mapped = [challenges[code] for code in dict.fromkeys(item.challenge_codes)]
    if solution is None:
        solution = Solution(code=item.code, status=SolutionStatus.APPROVED, **wanted)
        solution.challenges = mapped
        session.add(solution)
        session.flush()
        summary.solutions_created.append(item.code)
        record(session, "solution.create", "solution", solution.id, actor=actor,
               details={"code": item.code, "source": "seed",
                        "challenges": list(item.challenge_codes)})  # fmt: skip
        return
    changed = [name for name, value in wanted.items() if getattr(solution, name) != value]
    if {c.code for c in solution.challenges} != {c.code for c in mapped}:
        changed.append("challenges")
    if not changed:
        summary.solutions_unchanged += 1
        return
    for name, value in wanted.items():
        setattr(solution, name, value)
    solution.challenges = mapped
    summary.solutions_updated.append(item.code)
    record(session, "solution.update", "solution", solution.id, actor=actor,
           details={"code": item.code, "source": "seed", "fields": changed})  # fmt: skip
