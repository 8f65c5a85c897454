"""Reading the starter library in ``seed/``: pure parsing, no database.

``seed/challenges.csv`` is the taxonomy (the contract's challenges format plus ``keywords``).
``seed/solutions/<category>/<solution_id>.md`` holds one solution each: a TOML front matter
between ``+++`` lines, then the Markdown body.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from cxactions.foundations.vocabulary import Level, SolutionKind

FRONT_MATTER_FENCE = "+++"
REQUIRED_KEYS = {"id", "title", "kind", "language", "summary", "challenges", "steps"}
OPTIONAL_KEYS = {"effort", "cost", "owner"}


class SeedError(ValueError):
    """A seed file is malformed; the message names the file and the problem."""


@dataclass(frozen=True)
class SeedSolution:
    code: str
    title: str
    kind: SolutionKind
    language: str
    summary: str
    body: str
    steps: tuple[str, ...]
    challenge_codes: tuple[str, ...]
    effort: Level | None = None
    cost: Level | None = None
    owner: str | None = None
    path: Path = field(default=Path(), compare=False)

    @property
    def word_count(self) -> int:
        return len(self.body.split())


def parse_solution_file(path: Path) -> SeedSolution:
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    if not lines or lines[0].strip() != FRONT_MATTER_FENCE:
        raise SeedError(f"{path}: must start with a '+++' line (TOML front matter)")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == FRONT_MATTER_FENCE)
    except StopIteration as error:
        raise SeedError(f"{path}: the front matter has no closing '+++' line") from error
    try:
        meta = tomllib.loads("\n".join(lines[1:end]))
    except tomllib.TOMLDecodeError as error:
        raise SeedError(f"{path}: front matter is not valid TOML: {error}") from error
    missing = REQUIRED_KEYS - meta.keys()
    unknown = meta.keys() - REQUIRED_KEYS - OPTIONAL_KEYS
    if missing or unknown:
        raise SeedError(f"{path}: missing keys {sorted(missing)}, unknown keys {sorted(unknown)}")
    try:
        return SeedSolution(
            code=meta["id"],
            title=meta["title"].strip(),
            kind=SolutionKind(meta["kind"]),
            language=meta["language"],
            summary=meta["summary"].strip(),
            body="\n".join(lines[end + 1 :]).strip(),
            steps=tuple(step.strip() for step in meta["steps"]),
            challenge_codes=tuple(meta["challenges"]),
            effort=Level(meta["effort"]) if meta.get("effort") else None,
            cost=Level(meta["cost"]) if meta.get("cost") else None,
            owner=meta.get("owner"),
            path=path,
        )
    except ValueError as error:
        raise SeedError(f"{path}: {error}") from error


def read_seed_solutions(seed_dir: Path) -> list[SeedSolution]:
    """Every solution under ``seed_dir/solutions``, sorted by id."""
    files = sorted((seed_dir / "solutions").rglob("*.md"))
    solutions = [parse_solution_file(path) for path in files]
    return sorted(solutions, key=lambda solution: solution.code)
