"""The numpy scorer over Whoosh's posting lists (pure: a Whoosh index in a temporary folder)."""

from __future__ import annotations

import numpy as np
import pytest
from whoosh import index as whoosh_index
from whoosh.fields import ID, TEXT, Schema

from cxactions.search import scoring


@pytest.fixture
def reader(tmp_path):
    schema = Schema(key=ID(stored=True), title=TEXT(field_boost=3.0), body=TEXT)
    ix = whoosh_index.create_in(str(tmp_path), schema)
    documents = [
        ("a", "queue", "open a till when the queue grows"),
        ("b", "greeting", "greet every customer at the door"),
        ("c", "tills", "queue queue queue at the till"),
        ("d", "doors", "hold the door"),
    ]
    for start in (0, 2):  # two segments
        writer = ix.writer()
        for key, title, body in documents[start : start + 2]:
            writer.add_document(key=key, title=title, body=body)
        writer.commit(merge=False)
    writer = ix.writer()
    writer.delete_by_term("key", "d")
    writer.add_document(key="d", title="doors", body="hold the door for the queue")
    writer.commit(merge=False)
    with ix.searcher() as searcher:
        yield searcher.reader()
    ix.close()


def test_postings_span_segments_and_skip_deleted_documents(reader):
    columns = scoring.ColumnarReader(reader, {})
    assert columns.size == 5 and columns.live_count == 4
    postings = columns.postings("body", "queue")
    keys = sorted(reader.stored_fields(int(docnum))["key"] for docnum in postings.ids)
    assert keys == ["a", "c", "d"]  # the deleted first version of "d" is gone
    assert sorted(postings.weights.tolist()) == [1.0, 1.0, 3.0]


def test_bulk_lengths_equal_whoosh_lengths(reader):
    for leaf, _ in reader.leaf_readers():
        for field in ("title", "body"):
            slow = [
                leaf.doc_field_length(docnum, field, 0) or 0
                for docnum in range(leaf.doc_count_all())
            ]
            assert scoring._bulk_lengths(leaf, field).tolist() == slow


def test_bm25_prefers_more_occurrences_and_titles(reader):
    columns = scoring.ColumnarReader(reader, {})
    body = scoring.evaluate_term(columns, ("body",), "queue", 1.0)
    both = scoring.evaluate_term(columns, ("title", "body"), "queue", 1.0)
    key = {reader.stored_fields(int(d))["key"]: int(d) for d in np.flatnonzero(both.matched)}
    assert body.scores[key["c"]] > body.scores[key["a"]]  # three times in the body
    assert both.scores[key["a"]] > body.scores[key["a"]]  # and in the title, boosted


def test_top_orders_by_score_then_document_and_pages():
    scores = np.array([0.5, 2.0, 2.0, 1.0, 0.0])
    candidates = np.array([0, 1, 2, 3])
    assert scoring.top(scores, candidates, 0, 3) == [(1, 2.0), (2, 2.0), (3, 1.0)]
    assert scoring.top(scores, candidates, 3, 6) == [(0, 0.5)]
    assert scoring.top(scores, candidates, 4, 6) == []
