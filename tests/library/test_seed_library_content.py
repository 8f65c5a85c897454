"""The starter library in seed/ meets the bar the product promises newcomers."""

from __future__ import annotations

import csv
import itertools
import re
from collections import Counter

import pytest

from cxactions.foundations.vocabulary import SolutionKind
from cxactions.library.seed_files import read_seed_solutions
from tests.paths import REPO

SEED = REPO / "seed"


@pytest.fixture(scope="module")
def challenges() -> list[dict[str, str]]:
    with open(SEED / "challenges.csv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def solutions():
    return read_seed_solutions(SEED)


def test_taxonomy_has_forty_challenges_in_six_categories(challenges):
    codes = [row["challenge_id"] for row in challenges]
    assert len(codes) == len(set(codes))
    categories = {row["challenge_id"] for row in challenges if not row["parent_id"]}
    leaves = [row for row in challenges if row["parent_id"]]
    assert len(categories) >= 6
    assert len(leaves) >= 40
    assert {row["parent_id"] for row in leaves} <= set(codes)


def test_library_has_120_solutions_of_every_kind_with_real_bodies(solutions):
    assert len(solutions) >= 120
    assert len({s.code for s in solutions}) == len(solutions)
    kinds = Counter(s.kind for s in solutions)
    assert all(kinds[kind] >= 15 for kind in SolutionKind), kinds
    short = [(s.code, s.word_count) for s in solutions if s.word_count < 120]
    assert short == []
    assert all(s.summary and len(s.steps) >= 3 for s in solutions)


def test_at_least_thirty_solutions_are_written_in_french(solutions):
    french = [s for s in solutions if s.language == "fr"]
    assert len(french) >= 30
    # Written in French, not just labelled so: common French function words dominate the body.
    for solution in french:
        words = re.findall(r"[a-zà-ÿ']+", solution.body.lower())
        french_markers = sum(
            w in {"le", "la", "les", "des", "du", "et", "une", "pour", "est"} for w in words
        )
        english_markers = sum(w in {"the", "and", "of", "to", "is", "for", "with"} for w in words)
        assert french_markers > 5 * max(english_markers, 1), solution.code


def test_every_solution_addresses_known_challenges_and_every_leaf_has_one(solutions, challenges):
    known = {row["challenge_id"] for row in challenges}
    leaves = {row["challenge_id"] for row in challenges if row["parent_id"]}
    mapped = Counter(code for s in solutions for code in s.challenge_codes)
    assert set(mapped) <= known
    assert all(s.challenge_codes for s in solutions)
    assert leaves - set(mapped) == set()


def _shingles(text: str, size: int = 4) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i : i + size]) for i in range(len(words) - size + 1)}


def test_no_solution_is_a_template_variant_of_another(solutions):
    shingles = {s.code: _shingles(s.body) for s in solutions}
    worst = max(
        (
            len(shingles[a.code] & shingles[b.code])
            / min(len(shingles[a.code]), len(shingles[b.code])),
            a.code,
            b.code,
        )
        for a, b in itertools.combinations(solutions, 2)
    )
    assert worst[0] < 0.15, worst
    titles = [s.title.lower() for s in solutions]
    assert len(titles) == len(set(titles))
