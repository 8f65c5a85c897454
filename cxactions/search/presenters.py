"""What the search pages show: the request's arguments cleaned, the categories, the facets'
words and the pagination (the search page and the plan's find step share them)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from cxactions.foundations.paging import Pages, bounded_int, page_number
from cxactions.foundations.translation import NamedInBothLanguages
from cxactions.foundations.vocabulary import (
    ChallengeStatus,
    SolutionKind,
    SolutionStatus,
    label_of,
)
from cxactions.search.engine import MAX_PER_PAGE, SearchHit
from cxactions.search.service import SearchOptions, SearchResult
from cxactions.taxonomy.models import Challenge

PER_PAGE = 10
QUERY_MAX = 200  # characters: longer queries only cost time
TYPES = {"solution": lazy_gettext("Solutions"), "challenge": lazy_gettext("Challenges")}
SORT_LABELS = {"relevance": lazy_gettext("Relevance"), "impact": lazy_gettext("Measured impact")}
# Statuses a curator may filter on: solutions' and challenges' ("retired" is both).
STATUSES = list(dict.fromkeys(str(status) for status in [*SolutionStatus, *ChallengeStatus]))
# Facet name -> the query-string argument that filters on it.
FACET_ARGS = {
    "type": "type",
    "kind": "kind",
    "category": "category",
    "language": "language",
    "status": "status",
}


@dataclass(frozen=True)
class Category(NamedInBothLanguages):
    code: str
    name: str
    active: bool
    name_fr: str | None = None


def categories(session: Session) -> dict[str, Category]:
    """Top-level challenges by code, by name: the values of the category filter."""
    rows = session.execute(
        select(Challenge.code, Challenge.name, Challenge.name_fr, Challenge.status)
        .where(Challenge.parent_id.is_(None))
        .order_by(Challenge.position, Challenge.name)
    )
    return {
        row.code: Category(
            row.code, row.name, row.status == ChallengeStatus.ACTIVE, name_fr=row.name_fr
        )
        for row in rows
    }


@dataclass(frozen=True)
class SearchRequest:
    """The page's arguments, cleaned: unknown values are dropped, never an error."""

    query: str
    options: SearchOptions

    @classmethod
    def from_args(
        cls, args: Mapping[str, str], *, curator: bool, known_categories: Mapping[str, object]
    ) -> SearchRequest:
        category = args.get("category") or None
        status = args.get("status") or None
        options = SearchOptions(
            kind=args.get("kind") or None,
            category=category if category in known_categories else None,
            doc_type=args.get("type") or None,
            language=args.get("language") or None,
            status=status if status in STATUSES else None,
            curator=curator,
            sort=args.get("sort") or "relevance",
            page=page_number(args),
            per_page=bounded_int(args.get("per_page"), PER_PAGE, 1, MAX_PER_PAGE),
        ).clean()
        return cls(query=(args.get("q") or "").strip()[:QUERY_MAX], options=options)

    def as_args(self) -> dict[str, str]:
        """The search as query-string arguments, without the page (for links)."""
        options = self.options
        args = {
            "q": self.query,
            "kind": options.kind,
            "category": options.category,
            "type": options.doc_type,
            "language": options.language,
            "status": options.status,
            "sort": options.sort if options.sort != "relevance" else None,
            "per_page": str(options.per_page) if options.per_page != PER_PAGE else None,
        }
        return {name: value for name, value in args.items() if value}

    @property
    def filtered(self) -> bool:
        return bool(self.options.filters)

    def url(self, **changes: str | None) -> str:
        """This search with some arguments changed (None removes one), from its first page."""
        args = {**self.as_args(), **changes}
        return url_for(
            "search.search_library", **{name: value for name, value in args.items() if value}
        )

    def toggle(self, facet: str, value: str) -> str:
        """The link of a facet value: adds the filter, or removes it when it is the one in use."""
        argument = FACET_ARGS[facet]
        current = self.as_args().get(argument)
        return self.url(**{argument: None if current == value else value})


@dataclass(frozen=True)
class ResultPages(Pages):
    """The pages of a search result."""

    @classmethod
    def of(cls, result: SearchResult) -> ResultPages:
        return cls(page=result.options.page, pages=result.pages)


def hit_url(hit: SearchHit) -> str:
    if hit.type == "challenge":
        return url_for("taxonomy.show_challenge", code=hit.id)
    return url_for("library.show_solution", code=hit.id)


def facet_labels(known_categories: Mapping[str, Category]) -> dict[str, dict[str, str]]:
    """Words for the values of each facet (codes stay codes when nothing better is known), in
    the reader's language; ``category_lang`` gives the language each category's name is in."""
    return {
        "type": {value: str(label) for value, label in TYPES.items()},
        "kind": {kind.value: kind.label for kind in SolutionKind} | {"challenge": _("Challenge")},
        "category": {code: category.shown_name for code, category in known_categories.items()},
        "category_lang": {
            code: category.shown_name_lang for code, category in known_categories.items()
        },
        "status": {status: label_of(status) for status in STATUSES},
    }
