"""BM25 over a Whoosh index with numpy: whole posting lists at once instead of Whoosh's
per-document matchers (pure: no Flask, no database).

Whoosh stores, analyses and looks terms up; this module reads the posting lists it needs into
numpy arrays (cached per segment: segments never change, only their deletions do) and does the
matching, scoring, counting and faceting as array operations. At 20,000 documents a query
touching 17,000 of them costs a few milliseconds here, against hundreds in Whoosh's collectors
(see bench/search.py), and the exact total and facet counts come for free.

Scoring is BM25 (Robertson & Zaragoza 2009, k1 = 1.2, b = 0.75) per field; a title's weight is
already multiplied by its field boost in the postings (Whoosh applies ``field_boost`` when it
indexes).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

K1 = 1.2
B = 0.75
POSTINGS_CACHE_TERMS = 4096  # per segment


@dataclass(frozen=True)
class Postings:
    ids: np.ndarray  # global document numbers, int64
    weights: np.ndarray  # term frequency x field boost, float64
    lengths: np.ndarray  # the documents' field lengths, float64


class _SegmentCache:
    """Posting lists and field lengths of one segment (immutable but for deletions)."""

    def __init__(self, leaf) -> None:
        self.leaf = leaf
        self.postings: OrderedDict[tuple[str, str], tuple[np.ndarray, np.ndarray] | None] = (
            OrderedDict()
        )
        self.lengths: dict[str, np.ndarray] = {}

    def field_lengths(self, field: str) -> np.ndarray:
        found = self.lengths.get(field)
        if found is None:
            found = _bulk_lengths(self.leaf, field)
        if found is None:
            leaf = self.leaf
            found = np.fromiter(
                (
                    leaf.doc_field_length(docnum, field, 0) or 0
                    for docnum in range(leaf.doc_count_all())
                ),
                dtype=np.float64,
                count=leaf.doc_count_all(),
            )
            self.lengths[field] = found
        return found

    def term(self, field: str, text: str) -> tuple[np.ndarray, np.ndarray] | None:
        key = (field, text)
        if key in self.postings:
            self.postings.move_to_end(key)
            return self.postings[key]
        found = _read_postings(self.leaf, field, text)
        self.postings[key] = found
        if len(self.postings) > POSTINGS_CACHE_TERMS:
            self.postings.popitem(last=False)
        return found


def _bulk_lengths(leaf, field: str) -> np.ndarray | None:
    """A segment's field lengths in one read of Whoosh's W3 length column, or None."""
    try:
        # Private Whoosh API, imported here so that a Whoosh change falls back to the slow path.
        from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
        from whoosh.util.numeric import byte_to_length

        column = leaf._perdoc._cached_reader(_lenfield(field), LENGTHS_COLUMN)
        count = leaf.doc_count_all()
        lengths = np.zeros(count, dtype=np.float64)
        if column is None:
            return lengths
        if column._fixedlen != 1:
            return None
        raw = np.frombuffer(column._dbfile.get(column._basepos, column._count), dtype=np.uint8)
        table = np.array([byte_to_length(byte) for byte in range(256)], dtype=np.float64)
        lengths[: len(raw)] = table[raw[:count]]
        return lengths
    except (AttributeError, ImportError):  # another codec: the caller reads one by one
        return None


def _read_postings(leaf, field: str, text: str):
    """(local ids, weights) of a term in one segment, deleted documents included."""
    if (field, text) not in leaf:
        return None
    btext = leaf.schema[field].to_bytes(text)
    matcher = leaf._terms.matcher(field, btext, leaf.schema[field].format)
    ids: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    try:
        # Block by block (Whoosh's W3 codec): about 100 times faster than posting by posting.
        while matcher.is_active():
            matcher._read_ids()
            matcher._read_weights()
            ids.append(np.asarray(matcher._ids, dtype=np.int64))
            weights.append(np.asarray(matcher._weights, dtype=np.float64))
            matcher._next_block()
    except AttributeError:  # another codec: the public, slower way
        items = list(leaf._terms.matcher(field, btext, leaf.schema[field].format).all_items())
        ids = [np.array([docnum for docnum, _ in items], dtype=np.int64)]
        weights = [np.array([1.0] * len(items), dtype=np.float64)]
    if not ids:
        return None
    return np.concatenate(ids), np.concatenate(weights)


class ColumnarReader:
    """A searcher's documents as arrays: live documents, posting lists, field statistics."""

    def __init__(self, reader, segment_caches: dict) -> None:
        self.reader = reader
        self.size = reader.doc_count_all()
        self.live = np.ones(self.size, dtype=bool)
        self.segments: list[tuple[_SegmentCache, int]] = []
        for leaf, offset in reader.leaf_readers():
            key = segment_key(leaf)
            cache = segment_caches.get(key)
            if cache is None:
                cache = segment_caches[key] = _SegmentCache(leaf)
            else:
                cache.leaf = leaf  # same files; this reader's deletions
            self.segments.append((cache, offset))
            if leaf.has_deletions():
                alive = np.zeros(leaf.doc_count_all(), dtype=bool)
                alive[np.fromiter(leaf.all_doc_ids(), dtype=np.int64)] = True
                self.live[offset : offset + leaf.doc_count_all()] = alive
        self.live_count = int(self.live.sum())
        self._average: dict[str, float] = {}
        self._terms: OrderedDict[tuple[str, str], Postings | None] = OrderedDict()

    def postings(self, field: str, text: str) -> Postings | None:
        key = (field, text)
        if key in self._terms:
            return self._terms[key]
        ids, weights, lengths = [], [], []
        for cache, offset in self.segments:
            found = cache.term(field, text)
            if found is None:
                continue
            local_ids, local_weights = found
            ids.append(local_ids + offset)
            weights.append(local_weights)
            lengths.append(cache.field_lengths(field)[local_ids])
        result = None
        if ids:
            all_ids = np.concatenate(ids)
            keep = self.live[all_ids]
            result = Postings(
                all_ids[keep], np.concatenate(weights)[keep], np.concatenate(lengths)[keep]
            )
            if not len(result.ids):
                result = None
        self._terms[key] = result
        if len(self._terms) > POSTINGS_CACHE_TERMS:
            self._terms.popitem(last=False)
        return result

    def average_length(self, field: str) -> float:
        if field not in self._average:
            total = 0.0
            for cache, offset in self.segments:
                lengths = cache.field_lengths(field)
                total += float(lengths[self.live[offset : offset + len(lengths)]].sum())
            self._average[field] = total / self.live_count if self.live_count else 1.0
        return self._average[field] or 1.0

    def bm25(self, field: str, postings: Postings, boost: float = 1.0) -> np.ndarray:
        """Each posting's BM25 score."""
        frequency = len(postings.ids)
        idf = math.log(1.0 + (self.live_count - frequency + 0.5) / (frequency + 0.5))
        norm = K1 * (1.0 - B + B * postings.lengths / self.average_length(field))
        return boost * idf * postings.weights * (K1 + 1.0) / (postings.weights + norm)

    def mask(self, docnums) -> np.ndarray:
        found = np.zeros(self.size, dtype=bool)
        if len(docnums):
            found[np.fromiter(docnums, dtype=np.int64, count=len(docnums))] = True
        return found


def segment_key(leaf) -> str:
    segment = leaf.segment() if hasattr(leaf, "segment") else None
    if segment is not None and hasattr(segment, "segment_id"):
        return segment.segment_id()
    return f"reader-{id(leaf)}"


@dataclass
class Evaluation:
    """Which documents a query matches and how well."""

    matched: np.ndarray  # bool per document
    scores: np.ndarray  # float per document


def evaluate_term(columns: ColumnarReader, fields: tuple[str, ...], term: str, boost: float):
    """(matched, scores) of one term in any of ``fields``, or None when no field has it."""
    matched = None
    scores = None
    for field in fields:
        postings = columns.postings(field, term)
        if postings is None:
            continue
        if matched is None:
            matched = np.zeros(columns.size, dtype=bool)
            scores = np.zeros(columns.size, dtype=np.float64)
        matched[postings.ids] = True
        scores[postings.ids] += columns.bm25(field, postings, boost)
    return None if matched is None else Evaluation(matched, scores)


def top(
    scores: np.ndarray, candidates: np.ndarray, first: int, last: int
) -> list[tuple[int, float]]:
    """Documents ``first``..``last`` of ``candidates`` by descending score (ties: index order)."""
    if not len(candidates) or first >= len(candidates):
        return []
    wanted = min(last, len(candidates))
    candidate_scores = scores[candidates]
    if wanted < len(candidates):
        part = np.argpartition(-candidate_scores, wanted - 1)[:wanted]
    else:
        part = np.arange(len(candidates))
    order = part[np.lexsort((candidates[part], -candidate_scores[part]))]
    return [(int(candidates[i]), float(candidate_scores[i])) for i in order[first:wanted]]
