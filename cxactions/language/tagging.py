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

Languages. A comment is analysed in its own language when its words say which (more stop words
of one language than of the other, French elisions counting for French), in both otherwise: so
"staff were polite" is not stemmed as French into the "polit" of "politique". A keyword is
compiled in both languages unless it starts with a language tag, ``fr: sale`` or ``en: line``:
then it matches only comments read in that language ("sale" is dirty in French, a bargain in
English).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from whoosh.analysis import LowercaseFilter, RegexTokenizer, StemFilter
from whoosh.lang.porter import stem as porter_stem
from whoosh.lang.snowball.french import FrenchStemmer

from cxactions.language.analysis import (
    LANGUAGES,
    TOKEN_PATTERN,
    ElisionFilter,
    FoldFilter,
    all_stop_words,
    fold,
    stop_words,
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
        """``keywords``: challenge code -> its keywords (one phrase each, in either language,
        optionally tagged ``fr:`` or ``en:``)."""
        index: dict[str, dict[str, list[KeywordMatch]]] = {language: {} for language in LANGUAGES}
        codes = set()
        for code, lines in keywords.items():
            for line in lines:
                only, phrase = split_keyword(line)
                if not _meaningful(phrase):
                    continue
                for language in (only,) if only else LANGUAGES:
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
        guessed = guess_language(comment)
        for language in (guessed,) if guessed else LANGUAGES:
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


_TAG = re.compile(r"^\s*(en|fr)\s*:\s*(.*)$", re.IGNORECASE | re.DOTALL)


def split_keyword(line: str) -> tuple[str | None, str]:
    """``"fr: sale"`` -> ``("fr", "sale")``; ``"queue"`` -> ``(None, "queue")``."""
    match = _TAG.match(line)
    if match:
        return match.group(1).lower(), match.group(2).strip()
    return None, line.strip()


@lru_cache(maxsize=1)
def _marker_words() -> dict[str, frozenset[str]]:
    """Stop words of one language that are not stop words of the other ("the", "les")."""
    english, french = stop_words("en"), stop_words("fr")
    return {"en": english - french, "fr": french - english}


_ELISION = re.compile(r"\b(?:[cdjlmnst]|qu)['’]\w", re.IGNORECASE)


def guess_language(text: str) -> str | None:
    """ "en" or "fr" when the text's stop words (and French elisions) say so, else ``None``."""
    markers = _marker_words()
    counts = {"en": 0, "fr": len(_ELISION.findall(text))}
    for token in words_analyzer_keeping_stops()(text):
        word = fold(token.text)
        for language, words in markers.items():
            if word in words:
                counts[language] += 1
    if counts["en"] == counts["fr"]:
        return None
    return "en" if counts["en"] > counts["fr"] else "fr"


def _meaningful(phrase: str) -> bool:
    """Whether the phrase holds a word that is a stop word in neither language: "de la" is
    not a keyword, and would match nearly every French comment through the English analyser."""
    words = (token.text for token in words_analyzer_keeping_stops()(phrase))
    return any(fold(word) not in all_stop_words() for word in words)


def keyword_lines(text: str | None) -> list[str]:
    """The keywords stored on a challenge (one per line), trimmed, blanks dropped."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def keyword_phrases(text: str | None) -> list[str]:
    """The keywords stored on a challenge without their language tags (for search and display)."""
    return [split_keyword(line)[1] for line in keyword_lines(text)]
