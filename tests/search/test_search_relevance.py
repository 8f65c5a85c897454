"""Relevance on the starter library: the words staff actually type, in English and French.

One SQLite app with the seed library serves the whole module (searching does not depend on
the database engine; the sync tests run on both).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from cxactions import create_app
from cxactions.config import PROJECT_ROOT
from cxactions.foundations.extensions import db as _db
from cxactions.library.seed import load_seed
from cxactions.search.service import SearchOptions, search


@pytest.fixture(scope="module")
def library(tmp_path_factory) -> Iterator[Flask]:
    instance = tmp_path_factory.mktemp("relevance")
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "INSTANCE_PATH": str(instance),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'db.sqlite3'}",
            "SEARCH_INDEX_PATH": str(instance / "search-index"),
            "IMPACT_BACKGROUND_REFRESH": False,
        }
    )
    with app.app_context():
        _db.create_all()
        load_seed(_db.session, PROJECT_ROOT / "seed")
        _db.session.commit()
        yield app
        _db.session.remove()
        _db.engine.dispose()


def ids(query: str, top: int = 10, **options) -> list[str]:
    return [
        hit.id for hit in search(_db.session, query, SearchOptions(per_page=top, **options)).results
    ]


def languages(query: str, top: int = 10) -> set[str]:
    return {hit.language for hit in search(_db.session, query, SearchOptions(per_page=top)).results}


def test_queues_finds_the_queue_challenge_and_its_solutions(library):
    found = ids("queues", 5)
    assert found[0] == "SPEED-QUEUE"
    assert "SPD-THIRD-IN-LINE" in found


def test_files_d_attente_finds_the_french_file_d_attente(library):
    assert "SPD-FILE-VISIBLE" in ids("files d'attente", 3)


def test_accueil_client_finds_french_greeting_solutions(library):
    results = search(_db.session, "accueil client", SearchOptions(per_page=5)).results
    french = [hit for hit in results if hit.language == "fr"]
    assert len(french) >= 3
    assert all("ACCUEIL" in hit.id for hit in french[:3])


def test_elided_article_does_not_matter(library):
    assert ids("l'accueil") == ids("accueil")


def test_accents_and_case_do_not_matter(library):
    assert ids("PROPRETE") == ids("propreté")
    assert ids("Équipe") == ids("equipe")


def test_stop_words_do_not_change_the_results(library):
    assert ids("the queue") == ids("queue")
    assert ids("la caisse") == ids("caisse")


def test_english_query_reaches_french_documents_through_synonyms(library):
    assert "fr" in languages("greeting", 20)
    assert "SPD-FILE-VISIBLE" in ids("queue", 20)


def test_french_query_reaches_english_documents_through_synonyms(library):
    assert "en" in languages("file d'attente", 20)
    assert "STF-TEN-FOOT-RULE" in ids("accueil", 20)


def test_the_word_as_typed_outranks_its_synonyms(library):
    results = search(_db.session, "greeting", SearchOptions(per_page=3)).results
    assert [hit.language for hit in results if hit.type == "solution"][0] == "en"


def test_a_typo_gets_a_suggestion_and_fuzzy_results(library):
    result = search(_db.session, "grteeting", SearchOptions(per_page=5))
    assert result.suggestion == "greeting"
    assert result.corrected
    assert "STF-TEN-FOOT-RULE" in [hit.id for hit in result.results]


def test_a_french_typo_is_corrected_too(library):
    result = search(_db.session, "acceuil", SearchOptions(per_page=5))
    assert result.suggestion == "accueil"
    assert any("ACCUEIL" in hit.id for hit in result.results)


def test_a_known_word_gets_no_suggestion(library):
    result = search(_db.session, "queue", SearchOptions())
    assert result.suggestion is None and not result.corrected


def test_the_suggestion_keeps_the_rest_of_the_query(library):
    result = search(_db.session, "long queue grteeting", SearchOptions())
    assert result.suggestion == "long queue greeting"


def test_every_word_must_match_before_some_may(library):
    strict = search(_db.session, "queue till", SearchOptions(per_page=50))
    assert not strict.relaxed and strict.total > 0
    loose = search(_db.session, "queue zzyzx", SearchOptions(per_page=50))
    assert loose.relaxed
    assert loose.total == search(_db.session, "queue", SearchOptions(per_page=50)).total


def test_title_matches_rank_above_body_matches(library):
    results = search(
        _db.session, "greeting", SearchOptions(per_page=10, doc_type="solution")
    ).results
    first_in_body = next(i for i, hit in enumerate(results) if "greet" not in hit.title.lower())
    assert all("greet" in hit.title.lower() for hit in results[:first_in_body])
    assert first_in_body >= 1


def test_kind_filter_keeps_only_solutions_of_that_kind(library):
    results = search(_db.session, "queue", SearchOptions(kind="training", per_page=50)).results
    assert results and {hit.kind for hit in results} == {"training"}


def test_category_filter_uses_the_top_level_challenge(library):
    results = search(_db.session, "queue", SearchOptions(category="SPEED", per_page=50)).results
    assert results and all("SPEED" in hit.categories for hit in results)


def test_facets_count_each_value_with_the_other_filters(library):
    result = search(_db.session, "queue", SearchOptions(kind="sop", per_page=5), facets=True)
    kinds = {value.value: value.count for value in result.facets["kind"]}
    # The kind facet ignores the kind filter, so the other kinds stay one click away...
    assert set(kinds) >= {"sop", "training"}
    assert kinds["sop"] == result.total
    # ...while the type facet counts within it.
    assert sum(value.count for value in result.facets["type"]) == result.total
    assert "status" not in result.facets  # for CX leads only


def test_pages_do_not_overlap_and_share_the_total(library):
    first = search(_db.session, "customer", SearchOptions(per_page=5, page=1))
    second = search(_db.session, "customer", SearchOptions(per_page=5, page=2))
    assert first.total == second.total > 10
    assert not {hit.id for hit in first.results} & {hit.id for hit in second.results}
    assert first.pages == -(-first.total // 5)


def test_snippets_highlight_the_matched_words(library):
    result = search(_db.session, "queue", SearchOptions(per_page=3), snippets=True)
    assert any("<mark" in (hit.snippet or "") for hit in result.results)


def test_empty_query_lists_the_visible_library(library):
    result = search(_db.session, "", SearchOptions(per_page=10))
    assert result.total > 150 and not result.suggestion


def test_json_shape_is_the_contract(library):
    payload = search(_db.session, "queue", SearchOptions(per_page=3)).as_dict()
    assert set(payload) == {"query", "total", "suggestion", "results"}
    assert set(payload["results"][0]) == {"type", "id", "title", "score"}
    scores = [item["score"] for item in payload["results"]]
    assert scores == sorted(scores, reverse=True)


def test_a_typo_among_known_words_is_corrected_before_words_are_dropped(library):
    result = search(_db.session, "till grteeting", SearchOptions(per_page=5))
    assert result.corrected and not result.relaxed
    assert result.suggestion == "till greeting"


def test_language_filter_keeps_one_language(library):
    results = search(_db.session, "queue", SearchOptions(language="fr", per_page=50)).results
    assert results and {hit.language for hit in results} == {"fr"}


def test_challenge_filter_includes_the_challenges_below(library):
    below = set(ids("queue", 50, challenge="SPEED-QUEUE"))
    assert "SPD-THIRD-IN-LINE" in below
    assert below <= set(ids("queue", 50, challenge="SPEED"))
