"""Changes people ask for: written whole in one transaction, or refused with a reason.

Every feature raises :class:`RefusedChange` for a change it will not make (curating the
library or the taxonomy, editing metrics, acting on a plan); views show its message beside the
field it names.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session, object_session

from cxactions.foundations.translation import N_, _

# "A solution cannot be merged into itself." for each kind of item that can be merged.
MERGED_INTO_ITSELF = {
    "solution": N_("A solution cannot be merged into itself."),
    "challenge": N_("A challenge cannot be merged into itself."),
}


class RefusedChange(ValueError):
    """A change was refused and nothing was written; the message says why.

    ``field`` names the input at fault (a form field name), or is None for the change as a whole.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    @classmethod
    def from_phrase(cls, phrase: str, field: str | None = None) -> RefusedChange:
        """The error for a rule's lower-case phrase (``"the scale's min must ..."``), as a
        sentence."""
        return cls(phrase[0].upper() + phrase[1:] + ".", field)


def session_of(item: object) -> Session:
    """The session that holds ``item``; changes work on persistent rows only."""
    session = object_session(item)
    if session is None:
        raise RefusedChange(f"{item!r} is not in a database session")
    return session


@contextmanager
def change_transaction(session: Session, commit: bool) -> Iterator[None]:
    """Commit what the block wrote, or roll it all back when it raises."""
    try:
        yield
        if commit:
            session.commit()
        else:
            session.flush()
    except BaseException:
        if commit:
            session.rollback()
        raise


def check_merge_pair(item, into, *, noun: str, field: str) -> None:
    """Refuse to merge a solution or challenge into itself, or to merge it a second time."""
    if item.id == into.id:
        message = MERGED_INTO_ITSELF.get(noun)
        raise RefusedChange(
            _(message) if message else f"A {noun} cannot be merged into itself.", field
        )
    if item.merged_into_id is not None:
        earlier = session_of(item).get(type(item), item.merged_into_id)
        raise RefusedChange(
            _("%(code)s was already merged into %(into)s.", code=item.code, into=earlier.code)
            if earlier
            else _("%(code)s was already merged into another.", code=item.code),
            field,
        )
