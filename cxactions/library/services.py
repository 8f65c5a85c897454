"""Reading the library for the pages: the filtered solution list and one solution."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from cxactions.extensions import db
from cxactions.library.models import Solution
from cxactions.vocabulary import SolutionKind, SolutionStatus

PER_PAGE = 20
LANGUAGE_NAMES = {"en": "English", "fr": "Français", "de": "Deutsch", "es": "Español"}


def language_name(code: str | None) -> str:
    return LANGUAGE_NAMES.get((code or "").lower(), (code or "").upper())


@dataclass(frozen=True)
class SolutionFilters:
    """What the list shows; unknown values in the query string are ignored, never an error."""

    kind: SolutionKind | None = None
    language: str | None = None
    status: SolutionStatus = SolutionStatus.APPROVED

    @classmethod
    def from_args(cls, args: Mapping[str, str], *, may_see_unapproved: bool) -> SolutionFilters:
        kind = args.get("kind") or None
        status = args.get("status") or None
        language = (args.get("language") or "").strip().lower()[:5] or None
        return cls(
            kind=SolutionKind(kind) if kind in SolutionKind._value2member_map_ else None,
            language=language,
            status=(
                SolutionStatus(status)
                if may_see_unapproved and status in SolutionStatus._value2member_map_
                else SolutionStatus.APPROVED
            ),
        )

    def as_args(self) -> dict[str, str]:
        """The filters as query-string arguments (for pagination links)."""
        args = {"kind": self.kind.value if self.kind else None, "language": self.language}
        if self.status != SolutionStatus.APPROVED:
            args["status"] = self.status.value
        return {key: value for key, value in args.items() if value}

    @property
    def active(self) -> bool:
        return bool(self.as_args())


def list_solutions(filters: SolutionFilters, page: int = 1, per_page: int = PER_PAGE) -> Pagination:
    """One page of solutions matching ``filters``, by title, with the challenges they address."""
    query = (
        select(Solution)
        .where(Solution.status == filters.status)
        .options(selectinload(Solution.challenges))
        .order_by(Solution.title, Solution.id)
    )
    if filters.kind is not None:
        query = query.where(Solution.kind == filters.kind)
    if filters.language is not None:
        query = query.where(Solution.language == filters.language)
    return db.paginate(query, page=max(page, 1), per_page=per_page, error_out=False)


def available_languages() -> list[str]:
    """Languages the library holds solutions in, for the filter."""
    return list(
        db.session.scalars(select(Solution.language).distinct().order_by(Solution.language))
    )


def get_solution(code: str) -> Solution | None:
    return db.session.scalar(
        select(Solution)
        .where(Solution.code == code)
        .options(
            selectinload(Solution.challenges),
            selectinload(Solution.author),
            selectinload(Solution.reviewed_by),
        )
    )
