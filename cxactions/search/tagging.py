"""Tagging survey comments with the challenges they mention (pure: no Flask, no database).

A challenge's keywords (single words or phrases, English or French, one per line) are analysed
with both search analysers' steps (``search.analysis``): tokens folded (case, accents), French
elisions removed, then stemmed with Porter (English) and Snowball (French). A comment is analysed
the same way with each, and a keyword matches when its stems appear consecutively among the
comment's stems of the same analyser. So "files d'attente interminables" matches "file
d'attente", "QUEUES" matches "queue", "l'accueil" matches "accueil", and "online" never matches
"line": matching is by whole stems, never by substring.

Unlike the search analysers, tagging keeps stop words: they carry the meaning of phrases such as
"no staff" or "pas de personnel", which without them would match every comment about staff.
A keyword made only of stop words is ignored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from whoosh.analysis import LowercaseFilter, RegexTokenizer, StemFilter
from whoosh.lang.porter import stem as porter_stem
from whoosh.lang.snowball.french import FrenchStemmer

from cxactions.search.analysis import (
    LANGUAGES,
    TOKEN_PATTERN,
    ElisionFilter,
    FoldFilter,
    all_stop_words,
    fold,
    words_analyzer_keeping_stops,
)


@lru_cache(maxsize=2)
def _analyzer(language: str):
    """The search analyser of ``language`` without its stop-word filter."""
    chain = RegexTokenizer(TOKEN_PATTERN) | LowercaseFilter() | ElisionFilter() | FoldFilter()
    stem = FrenchStemmer().stem if language == "fr" else porter_stem
    return chain | StemFilter(stemfn=stem, lang=None, cachesize=50000)


def terms(text: str, language: str) -> list[str]:
    """The stems of ``text`` in ``language``, in order, stop words kept."""
    return [token.text for token in _analyzer(language)(text)]


# A keyword as stems: its first stem leads to the rest, so a comment is scanned once per analyser.
Phrase = tuple[str, ...]


@dataclass(frozen=True)
class KeywordMatch:
    """One keyword of a challenge as written, and the stem sequences that express it."""

    code: str
    keyword: str
    stems: Phrase


@dataclass
class Tagger:
    """Compiled keywords of many challenges; ``tag`` and ``matches`` run per comment."""

    # language -> first stem -> keywords starting with it (longest first)
    index: dict[str, dict[str, list[KeywordMatch]]] = field(default_factory=dict)
    codes: frozenset[str] = frozenset()

    @classmethod
    def compile(cls, keywords: Mapping[str, Iterable[str]]) -> Tagger:
        """``keywords``: challenge code -> its keywords (one phrase each, in either language)."""
        index: dict[str, dict[str, list[KeywordMatch]]] = {language: {} for language in LANGUAGES}
        codes = set()
        for code, phrases in keywords.items():
            for phrase in phrases:
                phrase = phrase.strip()
                if not _meaningful(phrase):
                    continue
                for language in LANGUAGES:
                    stems = tuple(terms(phrase, language))
                    if not stems:  # only stop words: it would match everything or nothing
                        continue
                    bucket = index[language].setdefault(stems[0], [])
                    item = KeywordMatch(code, phrase, stems)
                    if item not in bucket:
                        bucket.append(item)
                        codes.add(code)
        for by_stem in index.values():
            for bucket in by_stem.values():
                bucket.sort(key=lambda item: -len(item.stems))
        return cls(index=index, codes=frozenset(codes))

    def matches(self, comment: str | None) -> dict[str, set[str]]:
        """Challenge code -> the keywords (as written) that ``comment`` mentions."""
        found: dict[str, set[str]] = {}
        if not comment:
            return found
        for language in LANGUAGES:
            by_stem = self.index.get(language)
            if not by_stem:
                continue
            stems = terms(comment, language)
            size = len(stems)
            for position, stem in enumerate(stems):
                bucket = by_stem.get(stem)
                if not bucket:
                    continue
                for item in bucket:
                    length = len(item.stems)
                    if length == 1 or (
                        position + length <= size
                        and tuple(stems[position : position + length]) == item.stems
                    ):
                        found.setdefault(item.code, set()).add(item.keyword)
        return found

    def tag(self, comment: str | None) -> set[str]:
        """The codes of the challenges ``comment`` mentions."""
        return set(self.matches(comment))


def _meaningful(phrase: str) -> bool:
    """Whether the phrase holds a word that is a stop word in neither language: "de la" is
    not a keyword, and would match nearly every French comment through the English analyser."""
    words = (token.text for token in words_analyzer_keeping_stops()(phrase))
    return any(fold(word) not in all_stop_words() for word in words)


def compile_keywords(keywords: Mapping[str, Iterable[str]]) -> Tagger:
    """Shorthand for :meth:`Tagger.compile`."""
    return Tagger.compile(keywords)


def keyword_lines(text: str | None) -> list[str]:
    """The keywords stored on a challenge (one per line), trimmed, blanks dropped."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]
