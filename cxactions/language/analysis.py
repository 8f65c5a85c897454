"""How text becomes search terms, in English and French (pure: no Flask, no database).

Every document is indexed with the analyser of its own language; every query is analysed with
both, so nobody chooses a language before searching. Both analysers fold case and accents,
strip French elisions ("l'accueil" -> "accueil"), drop stop words and stem (Porter for English,
Snowball for French). The same analysers tag survey comments, so "files d'attente" in a comment
and "file d'attente" in a challenge's keywords meet on the same stem.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from whoosh.analysis import (
    Filter,
    LowercaseFilter,
    RegexTokenizer,
    StemFilter,
    StopFilter,
)
from whoosh.lang import stopwords_for_language
from whoosh.lang.porter import stem as porter_stem
from whoosh.lang.snowball.french import FrenchStemmer

LANGUAGES = ("en", "fr")
# Each language has its own pair of index fields: (title, body).
TEXT_FIELDS = {language: (f"title_{language}", f"body_{language}") for language in LANGUAGES}
# Words with an inner apostrophe stay one token so that the elision filter sees them whole.
TOKEN_PATTERN = r"\w+(?:['’]\w+)*"
# French articles and pronouns that elide before a vowel: l'accueil, d'attente, qu'il...
FRENCH_ELISIONS = frozenset(
    [
        "l",
        "d",
        "j",
        "m",
        "n",
        "s",
        "t",
        "c",
        "qu",
        "jusqu",
        "lorsqu",
        "puisqu",
        "quoiqu",
        "presqu",
        "quelqu",
    ]
)

# Words too common to help, in both languages (Whoosh's lists plus a few frequent in CX text).
EXTRA_STOP_WORDS = {
    "en": {"also", "get", "got", "very", "its", "it's"},
    "fr": {"plus", "très", "tres", "cette", "cet", "aussi", "sans", "sous", "chez", "entre"},
}


def fold(text: str) -> str:
    """Lower case without accents: ``"Équipe"`` -> ``"equipe"`` (œ and æ spelt out)."""
    text = text.lower().replace("œ", "oe").replace("æ", "ae").replace("’", "'")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


@lru_cache(maxsize=2)
def stop_words(language: str) -> frozenset[str]:
    words = set(stopwords_for_language(language)) | EXTRA_STOP_WORDS[language]
    return frozenset(words | {fold(word) for word in words})


@lru_cache(maxsize=1)
def all_stop_words() -> frozenset[str]:
    """Words dropped from queries: a stop word in either language carries no meaning here."""
    return stop_words("en") | stop_words("fr")


class ElisionFilter(Filter):
    """Removes elided articles: ``l'accueil`` -> ``accueil``, ``qu’il`` -> ``il``.

    English possessives lose their ``'s`` (``customer's`` -> ``customer``); any other inner
    apostrophe splits the word, keeping its parts.
    """

    def __call__(self, tokens):
        for token in tokens:
            text = token.text
            if "'" not in text and "’" not in text:
                yield token
                continue
            parts = [part for part in re.split(r"['’]", text) if part]
            if len(parts) > 1 and parts[0] in FRENCH_ELISIONS:
                parts = parts[1:]
            if len(parts) == 2 and parts[1] == "s":
                parts = parts[:1]
            for part in parts:
                token.text = part
                yield token


class FoldFilter(Filter):
    """Case and accent folding (see :func:`fold`), cached: words repeat."""

    def __call__(self, tokens):
        for token in tokens:
            token.text = _fold_word(token.text)
            yield token


@lru_cache(maxsize=200_000)
def _fold_word(word: str) -> str:
    return fold(word)


class _FrenchStem:
    """The Snowball French stemmer as a plain function (picklable with the schema)."""

    def __init__(self) -> None:
        self._stemmer = FrenchStemmer()

    def __call__(self, word: str) -> str:
        return self._stemmer.stem(word)


def analyzer(language: str):
    """The indexing and query analyser for ``language`` ("en" or "fr")."""
    chain = (
        RegexTokenizer(TOKEN_PATTERN)
        | LowercaseFilter()
        | ElisionFilter()
        | FoldFilter()
        | StopFilter(stoplist=stop_words(language), minsize=2)
    )
    if language == "fr":
        return chain | StemFilter(stemfn=_FrenchStem(), lang=None, cachesize=50000)
    return chain | StemFilter(stemfn=porter_stem, lang=None, cachesize=50000)


def words_analyzer():
    """Unstemmed, unfolded words: the vocabulary "did you mean" picks corrections from."""
    return (
        RegexTokenizer(TOKEN_PATTERN)
        | LowercaseFilter()
        | ElisionFilter()
        | StopFilter(stoplist=all_stop_words(), minsize=3)
    )


@lru_cache(maxsize=2)
def cached_analyzer(language: str):
    return analyzer(language)


def terms(text: str, language: str) -> list[str]:
    """The index terms of ``text`` in ``language``, in order."""
    return [token.text for token in cached_analyzer(language)(text)]


def query_words(text: str) -> list[str]:
    """The words of a query as typed (lower case, elisions removed), stop words left out.

    A query made only of stop words keeps them, so that it still searches for something.
    """
    tokens = [token.text for token in words_analyzer_keeping_stops()(text)]
    kept = [word for word in tokens if fold(word) not in all_stop_words()]
    return kept or tokens


@lru_cache(maxsize=1)
def words_analyzer_keeping_stops():
    return RegexTokenizer(TOKEN_PATTERN) | LowercaseFilter() | ElisionFilter()


# --- Synonyms -------------------------------------------------------------------------------

SYNONYMS_FILE = Path(__file__).with_name("synonyms.txt")


@dataclass(frozen=True)
class SynonymGroup:
    """Words and phrases, in English and French, that mean the same to a CX programme."""

    english: tuple[str, ...]
    french: tuple[str, ...]

    def alternatives(self) -> Iterator[tuple[str, str]]:
        """(language, phrase) pairs."""
        for phrase in self.english:
            yield "en", phrase
        for phrase in self.french:
            yield "fr", phrase


@dataclass(frozen=True)
class Synonyms:
    """Synonym groups looked up by the folded words of a phrase."""

    groups: tuple[SynonymGroup, ...]
    by_phrase: dict[tuple[str, ...], tuple[int, ...]]
    longest: int

    @classmethod
    def parse(cls, lines: Iterable[str]) -> Synonyms:
        """One group per line: ``english, words | mots, français``; ``#`` starts a comment."""
        groups: list[SynonymGroup] = []
        by_phrase: dict[tuple[str, ...], list[int]] = {}
        longest = 1
        for raw in lines:
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            english, _, french = line.partition("|")
            group = SynonymGroup(_phrases(english), _phrases(french))
            index = len(groups)
            groups.append(group)
            for _, phrase in group.alternatives():
                key = phrase_key(phrase)
                if key:
                    by_phrase.setdefault(key, []).append(index)
                    longest = max(longest, len(key))
        return cls(tuple(groups), {key: tuple(value) for key, value in by_phrase.items()}, longest)

    def lookup(self, words: list[str], start: int) -> tuple[int, tuple[SynonymGroup, ...]]:
        """The longest phrase of ``words`` from ``start`` with synonyms: (length, groups)."""
        for length in range(min(self.longest, len(words) - start), 0, -1):
            key = tuple(_loose(word) for word in words[start : start + length])
            found = self.by_phrase.get(key)
            if found:
                return length, tuple(self.groups[index] for index in found)
        return 1, ()


def _phrases(text: str) -> tuple[str, ...]:
    return tuple(phrase.strip() for phrase in text.split(",") if phrase.strip())


def phrase_key(phrase: str) -> tuple[str, ...]:
    """A phrase's lookup key: its loose words without elisions (stop words kept)."""
    return tuple(_loose(token.text) for token in words_analyzer_keeping_stops()(phrase))


def _loose(word: str) -> str:
    """Folded, without a plural ending: "Files" and "file" look up the same synonyms."""
    word = fold(word)
    return word[:-1] if len(word) > 3 and word[-1] in "sx" else word


@lru_cache(maxsize=1)
def default_synonyms() -> Synonyms:
    return Synonyms.parse(SYNONYMS_FILE.read_text(encoding="utf-8").splitlines())


# --- Query planning -------------------------------------------------------------------------


@dataclass(frozen=True)
class Concept:
    """One thing the user asked for: a word (or synonym phrase) and its index terms.

    ``terms`` maps a language to the term sequences that express the concept in it: each
    sequence must match together (a phrase), any sequence may match. ``primary`` are the
    sequences of the words as typed; synonyms come after, with less weight.
    """

    text: str
    primary: dict[str, tuple[tuple[str, ...], ...]]
    synonyms: dict[str, tuple[tuple[str, ...], ...]]


def plan_query(text: str, synonyms: Synonyms | None = None) -> list[Concept]:
    """Split a query into concepts, each analysed in both languages, with its synonyms."""
    synonyms = synonyms if synonyms is not None else default_synonyms()
    words = query_words(text)
    concepts: list[Concept] = []
    position = 0
    while position < len(words):
        length, groups = synonyms.lookup(words, position)
        phrase = " ".join(words[position : position + length])
        primary = {language: sequences([phrase], language) for language in LANGUAGES}
        extra: dict[str, list[str]] = {language: [] for language in LANGUAGES}
        for group in groups:
            for language, alternative in group.alternatives():
                extra[language].append(alternative)
        synonym_terms = {
            language: tuple(
                sequence
                for sequence in sequences(extra[language], language)
                if sequence not in primary[language]
            )
            for language in LANGUAGES
        }
        if any(primary.values()) or any(synonym_terms.values()):
            concepts.append(Concept(phrase, primary, synonym_terms))
        position += length
    return concepts


def sequences(phrases: Iterable[str], language: str) -> tuple[tuple[str, ...], ...]:
    found: list[tuple[str, ...]] = []
    for phrase in phrases:
        sequence = tuple(terms(phrase, language))
        if sequence and sequence not in found:
            found.append(sequence)
    return tuple(found)


def edit_limit(word: str) -> int:
    """How many typing mistakes a word may hold and still be recognised."""
    return 1 if len(word) <= 5 else 2
