"""One search service for the page, the JSON endpoint and ``cxactions search``."""

from __future__ import annotations

from dataclasses import dataclass, field

from whoosh import index as whoosh_index
from whoosh.qparser import MultifieldParser, OrGroup
from whoosh.query import Term

from cxactions.search.index import ensure_index, index_path


@dataclass
class SearchHit:
    type: str
    id: int
    title: str
    score: float
    kind: str | None = None


@dataclass
class SearchResult:
    query: str
    total: int
    suggestion: str | None
    results: list[SearchHit] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "query": self.query,
            "total": self.total,
            "suggestion": self.suggestion,
            "results": [
                {"type": hit.type, "id": hit.id, "title": hit.title, "score": round(hit.score, 4)}
                for hit in self.results
            ],
        }


def search(query: str, *, kind: str | None = None, limit: int = 10) -> SearchResult:
    """Approved solutions and active challenges matching ``query``, best first."""
    ensure_index()
    ix = whoosh_index.open_dir(index_path())
    with ix.searcher() as searcher:
        parser = MultifieldParser(
            ["title", "title_fr", "body", "body_fr", "categories"],
            ix.schema,
            group=OrGroup.factory(0.9),
        )
        parsed = parser.parse(query)
        kind_filter = Term("kind", kind) if kind else None
        hits = searcher.search(parsed, limit=limit, filter=kind_filter)
        suggestion = None
        corrected = searcher.correct_query(parsed, query)
        if corrected.query != parsed:
            suggestion = corrected.string
        return SearchResult(
            query=query,
            total=len(hits),
            suggestion=suggestion,
            results=[
                SearchHit(
                    type=hit["type"],
                    id=hit["db_id"],
                    title=hit["title"],
                    score=hit.score,
                    kind=hit["kind"],
                )
                for hit in hits
            ],
        )
