"""Tagging survey comments with challenges: both analysers, stems in sequence, no substrings."""

from __future__ import annotations

import pytest

from cxactions.language.tagging import Tagger, guess_language, keyword_phrases, split_keyword

KEYWORDS = {
    "SPEED-QUEUE": ["queue", "file d'attente", "caisse", "line", "waiting time"],
    "ST-GREET": ["accueil", "greeting"],
    "ST-TEAM": ["équipe"],
    "ST-FIND": ["no staff", "pas de personnel"],
}


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    return Tagger.compile(KEYWORDS)


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        ("Des files d'attente interminables", {"SPEED-QUEUE"}),
        ("QUEUES everywhere", {"SPEED-QUEUE"}),
        ("l'accueil était froid", {"ST-GREET"}),
        ("L’ACCUEIL était froid", {"ST-GREET"}),
        ("Une EQUIPE formidable", {"ST-TEAM"}),
        ("Nobody was greeting customers", {"ST-GREET"}),
        ("The waiting times were awful", {"SPEED-QUEUE"}),
        ("Personne à la caisse, et l'accueil bof", {"SPEED-QUEUE", "ST-GREET"}),
        ("There was no staff anywhere", {"ST-FIND"}),
        ("Il n'y avait pas de personnel au rayon", {"ST-FIND"}),
    ],
)
def test_comment_is_tagged_through_stems_in_both_languages(tagger, comment, expected):
    assert tagger.tag(comment) == expected


@pytest.mark.parametrize(
    "comment",
    [
        "I ordered online and it went fine",  # "line" is not a word of "online"
        "Great baguettes",
        "A long time waiting",  # the phrase's stems must follow each other in order
        "Fichier illisible",  # "file" in "fichier" is a substring, not a stem
        "Staff did their best",  # stop words are kept: "no staff" needs its "no"
        "Le personnel était aimable",
        "",
        None,
    ],
)
def test_no_match_on_substrings_or_scattered_words(tagger, comment):
    assert tagger.tag(comment) == set()


def test_matches_report_the_keywords_as_written(tagger):
    found = tagger.matches("Files d'attente à la caisse, queue énorme")
    assert found == {"SPEED-QUEUE": {"file d'attente", "caisse", "queue"}}


def test_keywords_of_stop_words_only_are_ignored():
    tagger = Tagger.compile({"X": ["the", "  ", "de la"]})
    assert tagger.codes == frozenset()
    assert tagger.tag("the queue de la caisse") == set()


def test_a_mixed_comment_is_read_in_its_main_language(tagger):
    # Four English stop words against one French elision: read as English, where "accueil"
    # (a keyword in both analysers) still matches.
    comment = "Comment 7: the queue at the checkout was long, l'accueil sympa"
    assert tagger.tag(comment) == {"SPEED-QUEUE", "ST-GREET"}


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Staff were polite, but nobody greeted me at the door.", "en"),
        ("Personnel poli, mais accueil un peu froid à l'entrée.", "fr"),
        ("Toilettes sales, pas de savon", "fr"),
        ("L'accueil", "fr"),  # the elision says French
        ("Spotless store", None),  # nothing says: both analysers read it
        ("Magasin sale", None),
    ],
)
def test_the_language_of_a_comment_is_guessed_from_its_stop_words(text, language):
    assert guess_language(text) == language


def test_an_english_comment_is_not_stemmed_as_french():
    tagger = Tagger.compile({"PR-POLICY": ["politique"]})
    # French Snowball stems both "polite" and "politique" to "polit".
    assert tagger.tag("Staff were polite, but nobody greeted me at the door.") == set()
    assert tagger.tag("Une politique différente dans chaque magasin") == {"PR-POLICY"}


def test_a_language_tag_keeps_a_keyword_to_its_language():
    tagger = Tagger.compile({"EN-CLEAN": ["fr: sale", "dirty"], "SPEED-QUEUE": ["EN : line"]})
    assert tagger.matches("Toilettes sales, pas de savon") == {"EN-CLEAN": {"sale"}}
    assert tagger.tag("A great sale, and the store was busy") == set()
    assert tagger.tag("The line was long") == {"SPEED-QUEUE"}
    assert tagger.tag("Il y avait une line de code") == set()  # French: "line" is English only
    assert split_keyword("fr: file d'attente") == ("fr", "file d'attente")
    assert split_keyword("ratio 3:1") == (None, "ratio 3:1")
    assert keyword_phrases("fr: sale\n dirty \n\nen:line") == ["sale", "dirty", "line"]
