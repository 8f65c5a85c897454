"""The search engine behind :mod:`cxactions.search.service` (no Flask, no database).

A query is split into concepts (a word, or a phrase with synonyms), each analysed in English and
French; documents must match every concept (AND), relaxing to any concept (OR) when that finds
nothing. Words the index has never seen get a "did you mean" from the index's own vocabulary and,
when the query finds nothing, a fuzzy second try with those corrections.

Speed (see bench/search.py): one searcher per thread, reused and refreshed only when the index
changed; only the top ``per_page`` are scored; fuzzy expansion only for unknown words, with a
one-letter prefix; hidden documents masked with a cached set.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections import Counter
from dataclasses import dataclass, field

from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh.support.levenshtein import distance

from cxactions.search import analysis
from cxactions.search.analysis import TEXT_FIELDS
from cxactions.vocabulary import SolutionKind

log = logging.getLogger(__name__)

# Bump when the schema or the analysers change: an index of another version is rebuilt.
SCHEMA_VERSION = "7"
VERSION_FILE = "cxactions-schema-version"
SYNONYM_BOOST = 0.4
SORTS = ("relevance", "impact")
MAX_PER_PAGE = 100
CORRECTIONS_PER_WORD = 3


class IndexOutdated(Exception):
    """The index on disk was built by another version of the schema or analysers."""


class SearchUnavailable(Exception):
    """The index could not be opened or rebuilt; the message says why."""


@dataclass(frozen=True)
class SearchOptions:
    """What to search and how to show it; values are checked by :meth:`clean`."""

    kind: str | None = None  # solutions of this kind only
    category: str | None = None  # code of a top-level challenge
    challenge: str | None = None  # code of a challenge the solution addresses
    doc_type: str | None = None  # "solution" or "challenge"
    language: str | None = None  # "en", "fr"...
    status: str | None = None  # honoured only with ``curator``: drafts, retired...
    curator: bool = False
    sort: str = "relevance"
    page: int = 1
    per_page: int = 10

    def clean(self) -> SearchOptions:
        kinds = {kind.value for kind in SolutionKind}
        return SearchOptions(
            kind=self.kind if self.kind in kinds else None,
            category=(self.category or "").strip() or None,
            challenge=(self.challenge or "").strip() or None,
            doc_type=self.doc_type if self.doc_type in ("solution", "challenge") else None,
            language=(self.language or "").strip().lower()[:5] or None,
            status=(self.status or "").strip() or None if self.curator else None,
            curator=self.curator,
            sort=self.sort if self.sort in SORTS else "relevance",
            page=max(_whole(self.page, 1), 1),
            per_page=min(max(_whole(self.per_page, 10), 1), MAX_PER_PAGE),
        )

    @property
    def filters(self) -> dict[str, str]:
        """Index field -> wanted value, for the filters in use."""
        wanted = {
            "kind": self.kind,
            "category": self.category,
            "challenge": self.challenge,
            "type": self.doc_type,
            "language": self.language,
            "status": self.status,
        }
        return {name: value for name, value in wanted.items() if value}


def _whole(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


@dataclass
class SearchHit:
    type: str
    id: str  # the solution's or challenge's code, as in the CSV files
    title: str
    score: float
    docnum: int
    db_id: int
    kind: str
    status: str
    language: str
    categories: list[str]
    snippet: str | None = None  # HTML with <mark>, escaped


@dataclass
class FacetValue:
    value: str
    count: int


@dataclass
class SearchResult:
    query: str
    total: int
    suggestion: str | None
    results: list[SearchHit] = field(default_factory=list)
    options: SearchOptions = field(default_factory=SearchOptions)
    corrected: bool = False  # the results are for the suggestion: the query found nothing
    relaxed: bool = False  # no document has every word; these have some of them
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)
    # What the query matched, for snippets and facets (not part of the contract's JSON).
    plan: SearchPlan | None = field(default=None, repr=False)

    @property
    def pages(self) -> int:
        return max(-(-self.total // self.options.per_page), 1)

    def as_dict(self) -> dict:
        """The contract's JSON shape."""
        return {
            "query": self.query,
            "total": self.total,
            "suggestion": self.suggestion,
            "results": [
                {"type": hit.type, "id": hit.id, "title": hit.title, "score": round(hit.score, 4)}
                for hit in self.results
            ],
        }


@dataclass
class SearchPlan:
    """The Whoosh query that produced the results, and the terms it looked for per language."""

    query: wq.Query | None
    terms: dict[str, set[str]]


# --- Per-thread searchers --------------------------------------------------------------------


class _OpenIndex:
    """An index opened by one thread, with facts cached until the index changes."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.identity = _identity(path)
        with open(os.path.join(path, VERSION_FILE), encoding="ascii") as marker:
            version = marker.read().strip()
        if version != SCHEMA_VERSION:
            raise IndexOutdated(f"index of schema version {version}, expected {SCHEMA_VERSION}")
        self.ix = whoosh_index.open_dir(path)
        self.searcher = self.ix.searcher()
        self.cache: dict = {}

    def fresh(self):
        """The searcher, refreshed if a writer committed since it opened."""
        if not self.searcher.up_to_date():
            # Reopened, not ``refresh()``ed: a refreshed reader reuses segment readers whose
            # deletions are stale (an edited document then shows twice, old and new).
            self.searcher.close()
            self.searcher = self.ix.searcher()
            self.cache.clear()
        return self.searcher

    def close(self) -> None:
        try:
            self.searcher.close()
            self.ix.close()
        except Exception:  # an index swapped away under us: nothing left to release
            pass


def _identity(path: str) -> tuple[int, int]:
    stat = os.stat(path)
    return stat.st_ino, stat.st_dev


_local = threading.local()


def _open(path: str) -> _OpenIndex:
    current: _OpenIndex | None = getattr(_local, "index", None)
    if current is not None and current.path == path:
        try:
            if current.identity == _identity(path):
                return current
        except FileNotFoundError:
            pass
    if current is not None:
        current.close()
        _local.index = None
    opened = _OpenIndex(path)
    _local.index = opened
    return opened


def forget_open_indexes() -> None:
    """Close this thread's searcher (tests that swap indexes under a thread call this)."""
    current: _OpenIndex | None = getattr(_local, "index", None)
    if current is not None:
        current.close()
    _local.index = None


# --- Searching -------------------------------------------------------------------------------


def run_search(
    path: str,
    text: str,
    options: SearchOptions,
    *,
    impact_order=None,
    with_facets: bool = False,
) -> SearchResult:
    """Search the index at ``path`` (which must exist: see :func:`cxactions.search.search`).

    ``impact_order`` maps a solution's database id to a sort key (smaller first), for the
    "measured impact" order.
    """
    options = options.clean()
    opened = _open(path)
    searcher = opened.fresh()
    reader = searcher.reader()
    concepts = analysis.plan_query(text)
    result = SearchResult(query=text, total=0, suggestion=None, options=options)
    allow = _filter_set(opened, searcher, options)
    mask = _hidden_set(opened, searcher) if not options.status else None

    corrections = _corrections(reader, concepts)
    if corrections:
        result.suggestion = _suggestion(text, corrections)

    # (query, relaxed, corrected), tried in order until one finds something: every word as
    # typed; every word with typos corrected; some of the words; some, corrected.
    attempts: list[tuple[wq.Query, bool, bool]] = []
    if concepts:
        exact = [_concept_query(reader, concept) for concept in concepts]
        known = [query for query in exact if query is not None]
        fuzzy: list[wq.Query] = []
        if corrections:
            fuzzy = [
                _concept_query(reader, concept, corrections.get(concept.text))
                for concept in concepts
            ]
            fuzzy = [query for query in fuzzy if query is not None]
        if known and len(known) == len(exact):
            attempts.append((_all_of(known), False, False))
        if fuzzy and len(fuzzy) == len(exact):
            attempts.append((_all_of(fuzzy), False, True))
        if known and (len(known) > 1 or len(known) < len(exact)):
            attempts.append((_any_of(known), True, False))
        if fuzzy and (len(fuzzy) > 1 or len(fuzzy) < len(exact)):
            attempts.append((_any_of(fuzzy), True, True))
    else:
        # An empty query lists everything (the page's "browse" mode).
        attempts.append((wq.Every(), False, False))

    chosen = None
    hits = None
    for query, relaxed, corrected in attempts:
        hits = _collect(searcher, query, options, allow, mask, impact_order, opened)
        if hits[0]:
            chosen = (query, relaxed, corrected)
            break
    if chosen is None:
        result.plan = SearchPlan(None, {language: set() for language in analysis.LANGUAGES})
        if with_facets:
            result.facets = {}
        return result
    query, result.relaxed, result.corrected = chosen
    total, scored = hits
    result.total = total
    result.results = [_hit(searcher, docnum, score) for docnum, score in scored]
    result.plan = SearchPlan(query, _query_terms(query))
    if with_facets:
        result.facets = _facets(opened, searcher, query, options, mask)
    return result


def _all_of(queries: list[wq.Query]) -> wq.Query:
    return queries[0] if len(queries) == 1 else wq.And(queries)


def _any_of(queries: list[wq.Query]) -> wq.Query:
    return queries[0] if len(queries) == 1 else wq.Or(queries)


def _concept_query(reader, concept: analysis.Concept, corrections: list[str] | None = None):
    """Any expression of the concept in any field, or None when the index has none of them."""
    alternatives: list[wq.Query] = []
    primary = concept.primary
    if corrections:
        primary = {
            language: tuple(
                sequence
                for word in corrections
                for sequence in analysis._sequences([word], language)
            )
            for language in analysis.LANGUAGES
        }
    for language in analysis.LANGUAGES:
        title_field, body_field = TEXT_FIELDS[language]
        for sequences, boost in (
            (primary[language], 1.0),
            (concept.synonyms[language], SYNONYM_BOOST),
        ):
            for sequence in sequences:
                query = _sequence_query(reader, sequence, title_field, body_field, boost)
                if query is not None:
                    alternatives.append(query)
    if not alternatives:
        return None
    return alternatives[0] if len(alternatives) == 1 else wq.Or(alternatives)


def _sequence_query(reader, sequence, title_field: str, body_field: str, boost: float):
    parts = []
    for term in sequence:
        fields = [name for name in (title_field, body_field) if (name, term) in reader]
        if not fields:
            return None  # a phrase matches only when all its words are there
        terms = [wq.Term(name, term, boost=boost) for name in fields]
        parts.append(terms[0] if len(terms) == 1 else wq.Or(terms))
    return parts[0] if len(parts) == 1 else wq.And(parts)


def _collect(searcher, query, options: SearchOptions, allow, mask, impact_order, opened):
    """(total, [(docnum, score)...]) for the requested page."""
    first = (options.page - 1) * options.per_page
    last = first + options.per_page
    if options.sort == "impact" and impact_order is not None:
        results = searcher.search(query, limit=None, filter=allow, mask=mask)
        ranked = list(results.items())
        db_ids = _column(opened, searcher, "db_id")
        types = _column(opened, searcher, "type")
        ranked.sort(
            key=lambda item: (
                types[item[0]] != "solution",
                impact_order(db_ids[item[0]]) if types[item[0]] == "solution" else (),
                -item[1],
            )
        )
        return len(ranked), ranked[first:last]
    results = searcher.search(query, limit=last, filter=allow, mask=mask)
    return len(results), list(results.items())[first:last]


def _hit(searcher, docnum: int, score: float) -> SearchHit:
    stored = searcher.stored_fields(docnum)
    return SearchHit(
        type=stored["type"],
        id=stored["code"],
        title=stored["title"],
        score=float(score),
        docnum=docnum,
        db_id=int(stored["key"].split(":", 1)[1]),
        kind=stored["kind"],
        status=stored["status"],
        language=stored.get("language") or "",
        categories=[code for code in (stored.get("category") or "").split(",") if code],
    )


def _query_terms(query: wq.Query) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {language: set() for language in analysis.LANGUAGES}
    for fieldname, text in query.iter_all_terms():
        language = fieldname.rsplit("_", 1)[-1]
        if language in found:
            found[language].add(text if isinstance(text, str) else text.decode("utf-8"))
    return found


# --- Filters, cached per index generation ------------------------------------------------------


def _hidden_set(opened: _OpenIndex, searcher) -> set[int]:
    key = ("hidden",)
    if key not in opened.cache:
        hidden = searcher.docs_for_query(wq.Not(wq.Term("visible", "yes")))
        opened.cache[key] = set(hidden)  # Whoosh accepts set, not frozenset
    return opened.cache[key]


def _filter_set(opened: _OpenIndex, searcher, options: SearchOptions):
    filters = options.filters
    if not filters:
        return None
    key = ("filter", tuple(sorted(filters.items())))
    if key not in opened.cache:
        terms = [wq.Term(name, value) for name, value in sorted(filters.items())]
        opened.cache[key] = set(searcher.docs_for_query(_all_of(terms)))
    return opened.cache[key]


def _column(opened: _OpenIndex, searcher, name: str) -> list:
    """A stored value for every document number (built once per index generation)."""
    key = ("column", name)
    if key not in opened.cache:
        reader = searcher.reader()
        values: list = [None] * reader.doc_count_all()
        for docnum, stored in reader.iter_docs():
            if name == "db_id":
                values[docnum] = int(stored["key"].split(":", 1)[1])
            elif name == "category":
                values[docnum] = tuple(
                    code for code in (stored.get("category") or "").split(",") if code
                )
            else:
                values[docnum] = stored.get(name) or ""
        opened.cache[key] = values
    return opened.cache[key]


FACETS = ("type", "kind", "category", "language", "status")


def _facets(
    opened: _OpenIndex, searcher, query, options: SearchOptions, mask
) -> dict[str, list[FacetValue]]:
    """Counts per value of each facet, each counted with the *other* filters applied."""
    matched = set(searcher.docs_for_query(query))
    if mask:
        matched -= mask
    columns = {name: _column(opened, searcher, name) for name in FACETS}
    filters = options.filters
    facets: dict[str, list[FacetValue]] = {}
    for facet in FACETS:
        if facet == "status" and not options.curator:
            continue
        others = {
            name: value for name, value in filters.items() if name != facet and name in columns
        }
        counts: Counter[str] = Counter()
        for docnum in matched:
            if any(not _has(columns[name][docnum], value) for name, value in others.items()):
                continue
            value = columns[facet][docnum]
            if isinstance(value, tuple):
                counts.update(value)
            elif value:
                counts[value] += 1
        facets[facet] = [FacetValue(value, count) for value, count in counts.most_common()]
    return facets


def _has(value, wanted: str) -> bool:
    return wanted in value if isinstance(value, tuple) else value == wanted


# --- Typos -----------------------------------------------------------------------------------


def _known(reader, concept: analysis.Concept) -> bool:
    for language in analysis.LANGUAGES:
        for sequence in concept.primary[language]:
            if all(
                any((name, term) in reader for name in TEXT_FIELDS[language]) for term in sequence
            ):
                return True
    return False


def _corrections(reader, concepts: list[analysis.Concept]) -> dict[str, list[str]]:
    """For each word the index does not know, its likeliest corrections, best first."""
    found: dict[str, list[str]] = {}
    for concept in concepts:
        if " " in concept.text or _known(reader, concept) or len(concept.text) < 3:
            continue
        word = concept.text
        limit = analysis.edit_limit(word)
        candidates = _terms_within(reader, word, limit)
        folded = analysis.fold(word)
        if folded != word:
            candidates |= _terms_within(reader, folded, limit)
        candidates.discard(word)
        if not candidates:
            continue
        ranked = sorted(
            candidates,
            key=lambda candidate: (
                distance(analysis.fold(candidate), folded),
                -reader.doc_frequency("spell", candidate),
                candidate,
            ),
        )
        found[word] = ranked[:CORRECTIONS_PER_WORD]
    return found


def _terms_within(reader, word: str, limit: int) -> set[str]:
    """Words of the vocabulary within ``limit`` edits, sharing the first letter.

    Asked of each segment: a segment reader walks its term list with a Levenshtein automaton,
    where the multi-segment reader would compare every word.
    """
    found: set[str] = set()
    for leaf, _ in reader.leaf_readers():
        found.update(leaf.terms_within("spell", word, limit, prefix=1))
    return found


def _suggestion(text: str, corrections: dict[str, list[str]]) -> str:
    """The query as typed, with each unknown word replaced by its best correction."""

    def replace(match: re.Match) -> str:
        word = match.group(0)
        best = corrections.get(word.lower())
        if not best:
            return word
        return best[0].capitalize() if word[:1].isupper() else best[0]

    return re.sub(r"\w+", replace, text)


# --- Snippets --------------------------------------------------------------------------------

SNIPPET_CHARS = 220


def plain_text(markdown: str) -> str:
    """Markdown reduced to its words, for snippets: links keep their text, marks go."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", markdown)
    text = re.sub(r"^\s{0,3}(?:#{1,6}|[-*+>]|\d+[.)])\s+", "", text, flags=re.MULTILINE)
    text = re.sub(r"[*_`~]{1,3}", "", text)
    return re.sub(r"\s+", " ", text).strip()


def make_snippet(text: str, terms: set[str], language: str) -> str:
    """An HTML snippet of ``text`` with the query's terms in <mark> (text escaped)."""
    from markupsafe import escape
    from whoosh.highlight import ContextFragmenter, HtmlFormatter, highlight

    text = plain_text(text or "")
    if not text:
        return ""
    if terms:
        formatter = HtmlFormatter(tagname="mark", between=" … ")
        fragment = highlight(
            text,
            frozenset(terms),
            analysis.cached_analyzer(language),
            ContextFragmenter(maxchars=SNIPPET_CHARS, surround=60),
            formatter,
            top=2,
        )
        if fragment:
            return fragment
    shortened = (
        text if len(text) <= SNIPPET_CHARS else text[:SNIPPET_CHARS].rsplit(" ", 1)[0] + " …"
    )
    return str(escape(shortened))
