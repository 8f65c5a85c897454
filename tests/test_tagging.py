"""Tagging survey comments with challenges: both analysers, stems in sequence, no substrings."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from cxactions.search.tagging import Tagger

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


def test_thousands_of_comments_are_tagged_quickly(tagger):
    comments = [
        f"Comment {index}: the queue at the checkout was long, l'accueil sympa"
        for index in range(3000)
    ]
    start = time.perf_counter()
    tagged = [tagger.tag(comment) for comment in comments]
    elapsed = time.perf_counter() - start
    assert all(codes == {"SPEED-QUEUE", "ST-GREET"} for codes in tagged)
    assert elapsed < 2.0, elapsed


def test_tagging_and_priorities_import_neither_flask_nor_sqlalchemy():
    code = (
        "import sys, cxactions.search.tagging, cxactions.analytics.priorities; "
        "print(sorted(name for name in sys.modules if name.split('.')[0] in "
        "('flask', 'sqlalchemy', 'flask_sqlalchemy')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
