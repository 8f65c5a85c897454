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
from dataclasses import dataclass, field

import numpy as np
from markupsafe import escape
from whoosh import index as whoosh_index
from whoosh.highlight import ContextFragmenter, HtmlFormatter, highlight
from whoosh.support.levenshtein import distance

from cxactions.foundations.vocabulary import SolutionKind
from cxactions.language import analysis
from cxactions.language.analysis import TEXT_FIELDS
from cxactions.search import scoring

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
    # For the page (set by the service, not in the JSON): a challenge's name in the reader's
    # language, and the languages that name and the snippet are written in.
    shown_title: str | None = None
    shown_title_lang: str | None = None
    snippet_lang: str | None = None


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
    """The index terms that matched, per language (for highlighting)."""

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
        self.segment_caches: dict = {}  # survive index changes: segments are immutable
        self.cache: dict = {}  # cleared when the index changes
        self._columns: scoring.ColumnarReader | None = None

    def fresh(self):
        """The searcher, reopened if a writer committed since it opened."""
        if not self.searcher.up_to_date():
            # Reopened, not ``refresh()``ed: a refreshed reader reuses segment readers whose
            # deletions are stale (an edited document then shows twice, old and new).
            self.searcher.close()
            self.searcher = self.ix.searcher()
            self.cache.clear()
            self._columns = None
            live = {scoring.segment_key(leaf) for leaf, _ in self.searcher.reader().leaf_readers()}
            for key in list(self.segment_caches):
                if key not in live:
                    del self.segment_caches[key]
        return self.searcher

    @property
    def columns(self) -> scoring.ColumnarReader:
        if self._columns is None:
            self._columns = scoring.ColumnarReader(self.searcher.reader(), self.segment_caches)
        return self._columns

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
    columns = opened.columns
    concepts = analysis.plan_query(text)
    result = SearchResult(query=text, total=0, suggestion=None, options=options)
    corrections = _corrections(reader, concepts)
    if corrections:
        result.suggestion = _suggestion(text, corrections)

    # Tried in order until one finds something: every word as typed; every word with typos
    # corrected; some of the words; some, corrected.
    attempts: list[tuple[_Match, bool, bool]] = []
    if concepts:
        exact = [_evaluate_concept(columns, concept) for concept in concepts]
        known = [match for match in exact if match is not None]
        fuzzy: list[_Match] = []
        if corrections:
            fuzzy = [
                _evaluate_concept(columns, concept, corrections.get(concept.text))
                for concept in concepts
            ]
            fuzzy = [match for match in fuzzy if match is not None]
        if known and len(known) == len(exact):
            attempts.append((_Match.all_of(known), False, False))
        if fuzzy and len(fuzzy) == len(exact):
            attempts.append((_Match.all_of(fuzzy), False, True))
        if known and (len(known) > 1 or len(known) < len(exact)):
            attempts.append((_Match.any_of(known), True, False))
        if fuzzy and (len(fuzzy) > 1 or len(fuzzy) < len(exact)):
            attempts.append((_Match.any_of(fuzzy), True, True))
    else:
        # An empty query lists everything (the page's "browse" mode), in index order.
        everything = np.ones(columns.size, dtype=bool)
        attempts.append((_Match(everything, np.zeros(columns.size), {}), False, False))

    visible = columns.live if options.status else columns.live & _visible(opened, columns)
    allowed = visible & _filter_mask(opened, columns, options.filters)
    chosen = None
    for attempt in attempts:
        candidates = np.flatnonzero(attempt[0].matched & allowed)
        if len(candidates):
            chosen = attempt
            break
    if chosen is None:
        result.plan = SearchPlan({language: set() for language in analysis.LANGUAGES})
        return result
    match, result.relaxed, result.corrected = chosen
    result.total = len(candidates)
    first = (options.page - 1) * options.per_page
    last = first + options.per_page
    if options.sort == "impact" and impact_order is not None:
        page = _by_impact(opened, searcher, match.scores, candidates, impact_order)[first:last]
    else:
        page = scoring.top(match.scores, candidates, first, last)
    result.results = [_hit(searcher, docnum, score) for docnum, score in page]
    result.plan = SearchPlan(match.terms)
    if with_facets:
        result.facets = _facets(opened, columns, match.matched & visible, options)
    return result


@dataclass
class _Match:
    """Documents matched by a query or a part of it, their scores and the terms that hit."""

    matched: np.ndarray
    scores: np.ndarray
    terms: dict[str, set[str]]

    @classmethod
    def all_of(cls, parts: list[_Match]) -> _Match:
        matched = np.logical_and.reduce([part.matched for part in parts])
        return cls(matched, sum(part.scores for part in parts), _union_terms(parts))

    @classmethod
    def any_of(cls, parts: list[_Match]) -> _Match:
        matched = np.logical_or.reduce([part.matched for part in parts])
        return cls(matched, sum(part.scores for part in parts), _union_terms(parts))


def _union_terms(parts: list[_Match]) -> dict[str, set[str]]:
    terms: dict[str, set[str]] = {language: set() for language in analysis.LANGUAGES}
    for part in parts:
        for language, found in part.terms.items():
            terms[language] |= found
    return terms


def _evaluate_concept(
    columns: scoring.ColumnarReader,
    concept: analysis.Concept,
    corrections: list[str] | None = None,
) -> _Match | None:
    """Any expression of the concept in any field, or None when the index has none of them."""
    primary = concept.primary
    if corrections:
        primary = {
            language: tuple(
                sequence
                for word in corrections
                for sequence in analysis.sequences([word], language)
            )
            for language in analysis.LANGUAGES
        }
    matched = None
    scores = np.zeros(columns.size)
    terms: dict[str, set[str]] = {language: set() for language in analysis.LANGUAGES}
    for language in analysis.LANGUAGES:
        fields = TEXT_FIELDS[language]
        for sequences, boost in (
            (primary[language], 1.0),
            (concept.synonyms[language], SYNONYM_BOOST),
        ):
            for sequence in sequences:
                found = _evaluate_sequence(columns, fields, sequence, boost)
                if found is None:
                    continue
                sequence_matched, sequence_scores = found
                matched = sequence_matched if matched is None else matched | sequence_matched
                scores += sequence_scores * sequence_matched
                terms[language].update(sequence)
    return None if matched is None else _Match(matched, scores, terms)


def _evaluate_sequence(columns, fields, sequence, boost: float):
    """A phrase's terms must all be there (in any of the fields): (matched, scores) or None."""
    matched = None
    scores = None
    for term in sequence:
        found = scoring.evaluate_term(columns, fields, term, boost)
        if found is None:
            return None
        matched = found.matched if matched is None else matched & found.matched
        scores = found.scores if scores is None else scores + found.scores
    return (matched, scores) if matched is not None else None


def _by_impact(opened: _OpenIndex, searcher, scores, candidates, impact_order):
    db_ids = _column(opened, searcher, "db_id")
    types = _column(opened, searcher, "type")
    ranked = sorted(
        candidates.tolist(),
        key=lambda docnum: (
            types[docnum] != "solution",
            impact_order(db_ids[docnum]) if types[docnum] == "solution" else (),
            -scores[docnum],
            docnum,
        ),
    )
    return [(docnum, float(scores[docnum])) for docnum in ranked]


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


# --- Filters and facets, from the index's own terms (cached per index generation) -----------

FACETS = ("type", "kind", "category", "language", "status")


def _values(
    opened: _OpenIndex, columns: scoring.ColumnarReader, field: str
) -> dict[str, np.ndarray]:
    """Every value of a filter field with the documents that have it."""
    key = ("values", field)
    if key not in opened.cache:
        masks = {}
        for value in columns.reader.lexicon(field):
            value = value.decode("utf-8") if isinstance(value, bytes) else value
            postings = columns.postings(field, value)
            if postings is not None:
                mask = np.zeros(columns.size, dtype=bool)
                mask[postings.ids] = True
                masks[value] = mask
        opened.cache[key] = masks
    return opened.cache[key]


def _visible(opened: _OpenIndex, columns: scoring.ColumnarReader) -> np.ndarray:
    found = _values(opened, columns, "visible").get("yes")
    return found if found is not None else np.zeros(columns.size, dtype=bool)


def _filter_mask(opened: _OpenIndex, columns, filters: dict[str, str]) -> np.ndarray:
    mask = np.ones(columns.size, dtype=bool)
    for name, value in filters.items():
        found = _values(opened, columns, name).get(value)
        if found is None:
            return np.zeros(columns.size, dtype=bool)
        mask &= found
    return mask


def _facets(opened: _OpenIndex, columns, matched: np.ndarray, options: SearchOptions):
    """Counts per value of each facet, each counted with the *other* filters applied."""
    filters = options.filters
    facets: dict[str, list[FacetValue]] = {}
    for facet in FACETS:
        if facet == "status" and not options.curator:
            continue
        others = {name: value for name, value in filters.items() if name != facet}
        base = matched & _filter_mask(opened, columns, others)
        counts = [
            FacetValue(value, int(np.count_nonzero(base & mask)))
            for value, mask in _values(opened, columns, facet).items()
        ]
        facets[facet] = sorted(
            (item for item in counts if item.count), key=lambda item: (-item.count, item.value)
        )
    return facets


def _column(opened: _OpenIndex, searcher, name: str) -> list:
    """A stored value for every document number (built once per index generation)."""
    key = ("column", name)
    if key not in opened.cache:
        reader = searcher.reader()
        values: list = [None] * reader.doc_count_all()
        for docnum, stored in reader.iter_docs():
            if name == "db_id":
                values[docnum] = int(stored["key"].split(":", 1)[1])
            else:
                values[docnum] = stored.get(name) or ""
        opened.cache[key] = values
    return opened.cache[key]


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
