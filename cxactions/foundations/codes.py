"""Codes of solutions and challenges: their shape, unique ignoring case, and made from a title
or name when a curator leaves the code empty."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection

from sqlalchemy import func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from cxactions.foundations.changes import RefusedChange
from cxactions.foundations.translation import N_, _

# As in the CSV files: letters, digits, '-', '_' and '.'; safe in a URL path segment.
CODE_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
SLUG_MAX = 48  # a made code stays short enough for a "-2" suffix and a URL

# The refusals that name the kind of item (the same sentence reads differently in French).
ALREADY_USED = {
    "solution": N_("The code “%(code)s” is already used by another solution; choose another one."),
    "challenge": N_(
        "The code “%(code)s” is already used by another challenge; choose another one."
    ),
}
DIFFERS_BY_CASE = {
    "solution": N_(
        "The code “%(code)s” differs only by case from the existing solution “%(existing)s”: "
        "codes are unique ignoring case; choose another one."
    ),
    "challenge": N_(
        "The code “%(code)s” differs only by case from the existing challenge “%(existing)s”: "
        "codes are unique ignoring case; choose another one."
    ),
}


def code_from_name(
    session: Session,
    column: InstrumentedAttribute,
    name: str,
    *,
    fallback: str,
    reserved: Collection[str] = (),
) -> str:
    """An unused code (in ``column``) made of the name's words: “Open a till at 3” →
    OPEN-A-TILL-AT-3, then OPEN-A-TILL-AT-3-2... ``reserved`` holds lower-case codes never made."""
    # Accents go (é → e); other non-ASCII letters too; typographic punctuation (’ « –)
    # separates words like its ASCII forms do.
    plain = "".join(
        char if char.isascii() else "" if unicodedata.category(char)[0] in "LM" else " "
        for char in unicodedata.normalize("NFKD", name)
    )
    words = re.findall(r"[A-Za-z0-9]+", plain.upper())
    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > SLUG_MAX:
            break
        slug = candidate
    slug = slug or (words[0][:SLUG_MAX] if words else fallback)
    lower = func.lower(column)
    taken = {
        taken_code.lower()
        for taken_code in session.scalars(
            select(column).where(or_(lower == slug.lower(), lower.like(f"{slug.lower()}-%")))
        )
    }
    code, number = slug, 2
    while code.lower() in taken or code.lower() in reserved:
        code, number = f"{slug}-{number}", number + 1
    return code


def check_new_code(
    session: Session,
    column: InstrumentedAttribute,
    code: str,
    *,
    noun: str,
    reserved: Collection[str] = (),
) -> str:
    """``code`` when it has the right shape, is not reserved and no row of ``column`` has it
    (ignoring case, like the database's unique index); else a :class:`RefusedChange` on
    ``code``. ``noun`` is "solution" or "challenge"."""
    if not CODE_PATTERN.fullmatch(code):
        raise RefusedChange(
            _(
                "The code “%(code)s” may only hold letters, digits, '-', '_' and '.', start with "
                "a letter or digit, and be at most 64 characters long.",
                code=code,
            ),
            "code",
        )
    if code.lower() in reserved:
        raise RefusedChange(_("“%(code)s” is reserved; choose another code.", code=code), "code")
    existing = session.scalar(select(column).where(func.lower(column) == code.lower()))
    if existing == code:
        raise RefusedChange(_(ALREADY_USED[noun], code=code), "code")
    if existing is not None:
        raise RefusedChange(_(DIFFERS_BY_CASE[noun], code=code, existing=existing), "code")
    return code
