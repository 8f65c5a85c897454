"""The analysers: how English and French text becomes search terms (pure, no app)."""

from __future__ import annotations

import pytest

from cxactions.language import analysis
from cxactions.search.engine import make_snippet, plain_text


def test_french_elision_is_stripped_with_either_apostrophe():
    assert analysis.terms("l'accueil", "fr") == analysis.terms("accueil", "fr")
    assert analysis.terms("d’attente", "fr") == analysis.terms("attente", "fr")
    assert analysis.terms("qu'il", "fr") == []  # "il" is a stop word once "qu'" is gone


def test_plural_and_singular_meet_in_both_languages():
    assert analysis.terms("queues", "en") == analysis.terms("queue", "en")
    assert analysis.terms("files d'attente", "fr") == analysis.terms("file d'attente", "fr")
    assert analysis.terms("caisses", "fr") == analysis.terms("caisse", "fr")


def test_case_and_accents_are_folded():
    assert analysis.terms("PROPRETÉ", "fr") == analysis.terms("proprete", "fr")
    assert analysis.terms("Équipe", "fr") == analysis.terms("equipe", "fr")
    assert analysis.terms("Café", "en") == analysis.terms("cafe", "en")
    assert analysis.fold("Cœur") == "coeur"


def test_stop_words_are_dropped_per_language():
    assert analysis.terms("the queue at the till", "en") == ["queue", "till"]
    assert analysis.terms("la file de la caisse", "fr") == analysis.terms("file caisse", "fr")


def test_english_possessive_loses_its_s():
    assert analysis.terms("customer's", "en") == analysis.terms("customer", "en")


def test_a_query_of_stop_words_only_still_searches_something():
    assert analysis.query_words("the") == ["the"]
    assert analysis.query_words("the long queue") == ["long", "queue"]


def test_synonyms_bridge_english_and_french():
    concepts = analysis.plan_query("queue")
    assert len(concepts) == 1
    french = concepts[0].synonyms["fr"]
    assert tuple(analysis.terms("file d'attente", "fr")) in french


def test_a_multi_word_synonym_is_one_concept_even_in_the_plural():
    concepts = analysis.plan_query("files d'attente caisse")
    assert [concept.text for concept in concepts] == ["files attente", "caisse"]
    assert tuple(analysis.terms("queue", "en")) in concepts[0].synonyms["en"]


def test_synonym_file_parses_groups_and_comments():
    synonyms = analysis.Synonyms.parse(
        ["# comment", "", "queue, line | file d'attente  # trailing"]
    )
    assert len(synonyms.groups) == 1
    assert synonyms.groups[0].french == ("file d'attente",)
    length, groups = synonyms.lookup(analysis.query_words("files d’attente"), 0)
    assert length == 2 and groups == synonyms.groups


@pytest.mark.parametrize(("word", "limit"), [("queue", 1), ("greeting", 2)])
def test_longer_words_allow_more_typing_mistakes(word, limit):
    assert analysis.edit_limit(word) == limit


def test_snippets_mark_matches_and_escape_html():
    text = "Open a <b>second</b> till when the queue grows; queues shrink."
    snippet = make_snippet(text, set(analysis.terms("queue", "en")), "en")
    assert "<mark" in snippet and "queue</mark>" in snippet
    assert "<b>" not in snippet and "&lt;b&gt;" in snippet


def test_snippet_without_a_match_is_the_start_of_the_text_escaped():
    assert make_snippet("Fish & chips", set(), "en") == "Fish &amp; chips"


def test_markdown_is_reduced_to_words_for_snippets():
    assert (
        plain_text("## Why\n- **Greet** every [customer](http://x)") == "Why Greet every customer"
    )
