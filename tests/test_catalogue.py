"""The French catalogue covers every message of the interface, and is well formed.

The messages are re-extracted from the code and the templates exactly as ``make messages`` does
(same mapping file, same keywords, read from the Makefile), so a string marked for translation
without its French, a French translation left fuzzy, or a translation whose placeholders differ
from the English fails here, naming the message.
"""

from __future__ import annotations

import re
import shlex

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

from tests.paths import REPO

CATALOGUE = REPO / "cxactions" / "translations" / "fr" / "LC_MESSAGES" / "messages.po"


def _keywords() -> list[str]:
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    return shlex.split(re.search(r"^KEYWORDS := (.*)$", makefile, re.M).group(1))


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    template = tmp_path_factory.mktemp("messages") / "messages.pot"
    CommandLineInterface().run(
        ["pybabel", "-q", "extract", "-F", str(REPO / "babel.cfg"), *_keywords()]
        + ["--no-location", "-o", str(template), str(REPO)]
    )
    with template.open("rb") as handle:
        return read_po(handle)


@pytest.fixture(scope="module")
def french():
    with CATALOGUE.open("rb") as handle:
        return read_po(handle, locale="fr")


def _key(message) -> str:
    return message.id[0] if isinstance(message.id, tuple) else message.id


def test_the_extraction_finds_the_interface(extracted):
    # A broken mapping (babel.cfg) or keyword list would extract nothing and pass vacuously.
    ids = {_key(message) for message in extracted if message.id}
    assert {"Skip to content", "Challenges", "In progress", "%(num)d day ago"} <= ids
    assert len(ids) > 300


def test_every_message_has_its_french(extracted, french):
    problems = []
    for message in extracted:
        if not message.id:
            continue
        translated = french.get(message.id)
        if translated is None:
            problems.append(f"missing: {_key(message)!r}")
        elif translated.fuzzy:
            problems.append(f"fuzzy: {_key(message)!r}")
        elif isinstance(translated.id, tuple) != isinstance(message.id, tuple):
            problems.append(f"singular/plural mismatch: {_key(message)!r}")
        elif not all(translated.string if isinstance(message.id, tuple) else [translated.string]):
            problems.append(f"untranslated: {_key(message)!r}")
    assert not problems, (
        f"{len(problems)} messages lack a French translation (run `make messages`, then "
        f"translate them in {CATALOGUE.relative_to(REPO)}):\n" + "\n".join(problems)
    )


def test_the_catalogue_has_no_format_errors(french):
    """Babel's checkers: the placeholders of each translation match the English (python-format),
    and plural messages have as many forms as French needs."""
    problems = [
        f"{_key(message)!r}: {error}"
        for message, errors in french.check()
        for error in errors
        if message.string
    ]
    assert not problems, "\n".join(problems)


def test_the_catalogue_keeps_no_obsolete_or_duplicate_entries(french):
    assert not french.obsolete, sorted(french.obsolete)[:20]
    keys = [(message.context, message.id) for message in french if message.id]
    assert len(keys) == len(set(keys))
