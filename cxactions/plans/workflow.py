"""A plan item's life after it is adopted: planned → in progress → implemented, or abandoned;
reopened; its owner, due date, challenge and notes edited; its checklist ticked and extended.

Every change is checked before anything is written (a refusal raises :class:`RefusedChange` and
writes nothing), is kept in the item's history (:class:`AdoptionEvent`: who, when, each field
before → after) and is committed with that history in one transaction.

Two people editing one item: every form carries the item's ``version`` as the user saw it; a save
based on an older version is refused with a message saying so (the user's input is kept by the
page), and SQLAlchemy's version counter refuses the write itself if the item changed between the
check and the UPDATE.

What the impact engine reads — which items are implemented and since when — changes when an item
is implemented, when its effective date moves, and when an implemented item is reopened or
abandoned: those changes bump the impact data version exactly as an import of adoptions does, so
the estimates and "did it work here?" are recomputed (in the background, never in the request).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from cxactions.foundations.changes import RefusedChange
from cxactions.foundations.db_types import utcnow
from cxactions.foundations.translation import _
from cxactions.foundations.versions import IMPORT_DATA, bump_data_version
from cxactions.foundations.vocabulary import AdoptionStatus, ChallengeStatus
from cxactions.plans.models import (
    ACTIVE_STATUSES,
    INCLUDE_MERGED,
    NOTES_MAX,
    OWNER_MAX,
    REASON_MAX,
    STEP_MAX,
    STEPS_MAX,
    Adoption,
    AdoptionEvent,
    PlanStep,
)
from cxactions.taxonomy.models import Challenge

# An item may be marked implemented with a date up to this long before it was added to the plan:
# a manager who starts using the app often records a fix already in place. Older dates would let a
# new item claim survey weeks the plan never saw; they belong in an import of adoptions.
BACKDATE_WINDOW = timedelta(days=180)

Status = AdoptionStatus


class StaleItem(RefusedChange):
    """The change was based on an older version of the item: someone else saved in between."""

    def __init__(self) -> None:
        super().__init__(
            _(
                "Someone else changed this plan item since you opened it: nothing was saved. "
                "Their change is shown below; your input is kept in the form, check it and save "
                "again."
            )
        )


def _check_version(adoption: Adoption, version: int | None) -> None:
    if version is not None and version != adoption.version:
        raise StaleItem()


def _actor(user: Any) -> str:
    return getattr(user, "email", None) or "system"


def event(adoption: Adoption, action: str, changes: dict, user: Any, note: str | None = None):
    return AdoptionEvent(
        adoption=adoption,
        at=utcnow(),
        user_id=getattr(user, "id", None),
        actor=_actor(user),
        action=action,
        changes=changes or None,
        note=note,
    )


def created(details: dict) -> dict:
    """A new item's history entry: each of its fields from nothing to its value."""
    return {key: [None, value] for key, value in details.items() if value is not None}


def _shown(value: Any) -> Any:
    """A field's value as the history keeps it (JSON): dates as ISO text, enums as values."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, AdoptionStatus):
        return value.value
    return value


def _challenge_code(session: Session, challenge_id: int | None) -> str | None:
    challenge = session.get(Challenge, challenge_id) if challenge_id is not None else None
    return challenge.code if challenge is not None else None


def _commit(session: Session, adoption: Adoption, *, measured: bool) -> None:
    """Commit the change (and the data-version bump the impact engine keys on), or nothing."""
    try:
        if measured:
            bump_data_version(session)  # the cached estimates are stale now
            bump_data_version(session, IMPORT_DATA)  # figures cached in memory key on it
        session.commit()
    except StaleDataError as error:
        session.rollback()
        raise StaleItem() from error
    except BaseException:
        session.rollback()
        raise


def _apply(
    session: Session,
    adoption: Adoption,
    values: dict[str, Any],
    *,
    action: str,
    user: Any,
    note: str | None = None,
) -> bool:
    """Set ``values`` on the item, keep what changed in its history, commit; returns whether
    anything changed. Whether the impact engine must recompute follows from the change."""
    # Nothing is flushed before the commit: a row changed by someone else meanwhile is refused
    # there, as a whole (and reading the user or a challenge must not flush it earlier).
    with session.no_autoflush:
        was_counted = adoption.status == Status.IMPLEMENTED
        was_effective = adoption.effective_on
        changes = {}
        for field, value in values.items():
            before = getattr(adoption, field)
            if before != value:
                if field == "challenge_id":  # the history names challenges by their codes
                    changes["challenge"] = [
                        _challenge_code(session, before),
                        _challenge_code(session, value),
                    ]
                else:
                    changes[field] = [_shown(before), _shown(value)]
                setattr(adoption, field, value)
        if not changes and note is None:
            return False
        if "status" in changes:
            adoption.status_changed_at = utcnow()
        session.add(event(adoption, action, changes, user, note))
        is_counted = adoption.status == Status.IMPLEMENTED
        measured = was_counted != is_counted or (
            is_counted and was_effective != adoption.effective_on
        )
    _commit(session, adoption, measured=measured)
    return True


# -- status ----------------------------------------------------------------------------------


def start(session: Session, adoption: Adoption, *, user: Any, version: int | None = None) -> None:
    """Planned → in progress."""
    _check_version(adoption, version)
    if adoption.status != Status.PLANNED:
        raise RefusedChange(_("Only a planned item can be started."))
    _apply(session, adoption, {"status": Status.IN_PROGRESS}, action="start", user=user)


def effective_date_problem(
    adoption: Adoption, effective_on: date | None, today: date | None = None
) -> str | None:
    """Why ``effective_on`` cannot be the date the solution took effect, or None."""
    today = today or date.today()
    if effective_on is None:
        return _("Give the date the solution took effect.")
    if effective_on > today:
        return _("The date it took effect is in the future: mark the item implemented once it is.")
    earliest = adoption.created_at.date() - BACKDATE_WINDOW
    if effective_on < earliest:
        return _(
            "The date it took effect is more than %(days)d days before the item was added to "
            "the plan (%(earliest)s at the earliest); older adoptions are recorded by an import "
            "of adoptions.",
            days=BACKDATE_WINDOW.days,
            earliest=earliest.isoformat(),
        )
    return None


def implement(
    session: Session,
    adoption: Adoption,
    *,
    effective_on: date | None,
    user: Any,
    version: int | None = None,
    today: date | None = None,
) -> None:
    """Planned or in progress → implemented, from ``effective_on``; on an implemented item,
    moves the date it took effect. Either way the impact estimates are recomputed."""
    _check_version(adoption, version)
    if adoption.status == Status.ABANDONED:
        raise RefusedChange(_("An abandoned item must be reopened before it is implemented."))
    problem = effective_date_problem(adoption, effective_on, today)
    if problem:
        raise RefusedChange(problem, "effective_on")
    _apply(
        session,
        adoption,
        {"status": Status.IMPLEMENTED, "effective_on": effective_on, "status_reason": None},
        action="implement",
        user=user,
    )


def abandon(
    session: Session,
    adoption: Adoption,
    *,
    reason: str | None,
    user: Any,
    version: int | None = None,
) -> None:
    """Any status but abandoned → abandoned, with the reason why (required)."""
    _check_version(adoption, version)
    if adoption.status == Status.ABANDONED:
        raise RefusedChange(_("This item is already abandoned."))
    reason = (reason or "").strip()
    if not reason:
        raise RefusedChange(_("Say why the item is abandoned."), "reason")
    if len(reason) > REASON_MAX:
        raise RefusedChange(
            _("The reason is at most %(max)d characters.", max=REASON_MAX), "reason"
        )
    _apply(
        session,
        adoption,
        {"status": Status.ABANDONED, "status_reason": reason},
        action="abandon",
        user=user,
    )


def reopen(
    session: Session,
    adoption: Adoption,
    *,
    user: Any,
    version: int | None = None,
    note: str | None = None,
) -> None:
    """Implemented or abandoned → in progress (its checklist and history kept). A reopened
    implemented item leaves the impact estimates until it is implemented again."""
    _check_version(adoption, version)
    if adoption.status in ACTIVE_STATUSES:
        raise RefusedChange(_("Only an implemented or abandoned item can be reopened."))
    values: dict[str, Any] = {"status": Status.IN_PROGRESS, "status_reason": None}
    if adoption.status == Status.IMPLEMENTED:
        values["effective_on"] = None
    _apply(session, adoption, values, action="reopen", user=user, note=note)


def readopt(
    session: Session,
    adoption: Adoption,
    *,
    challenge: Challenge | None,
    owner: str,
    due_on: date,
    user: Any,
) -> Adoption:
    """Adopting a solution the unit abandoned earlier brings its item back, planned, with the new
    owner, due date and challenge (one item per unit and solution); its checklist and history are
    kept. The caller has checked the values."""
    if adoption.status != Status.ABANDONED:
        raise RefusedChange(_("Only an abandoned item is adopted again."))
    values = {
        "status": Status.PLANNED,
        "status_reason": None,
        "owner": owner,
        "due_on": due_on,
        "challenge_id": challenge.id if challenge is not None else adoption.challenge_id,
    }
    _apply(session, adoption, values, action="readopt", user=user)
    return adoption


def checked_owner_and_due(
    owner: str | None,
    due_on: date | None,
    *,
    kept_due: date | None = None,
    today: date | None = None,
) -> str:
    """The owner, trimmed, once the owner and the due date are acceptable: someone owns the item
    and it is due today or later (``kept_due``, the date an item already has, may stay past)."""
    owner = (owner or "").strip()
    if not owner:
        raise RefusedChange(_("Say who owns this action."), "owner")
    if len(owner) > OWNER_MAX:
        raise RefusedChange(_("The owner is at most %(max)d characters.", max=OWNER_MAX), "owner")
    if due_on is None:
        raise RefusedChange(_("Choose the date it is due."), "due_on")
    if due_on != kept_due and due_on < (today or date.today()):
        raise RefusedChange(
            _("The due date is in the past: choose today or a later date."), "due_on"
        )
    return owner


# -- details ---------------------------------------------------------------------------------


def update_details(
    session: Session,
    adoption: Adoption,
    *,
    owner: str | None,
    due_on: date | None,
    challenge: Challenge | None,
    notes: str | None,
    user: Any,
    version: int | None = None,
) -> bool:
    """Edit the owner, due date, challenge and notes; returns whether anything changed.

    A due date may stay in the past (an overdue item keeps its date until someone moves it), but
    a changed one must not be in the past.
    """
    _check_version(adoption, version)
    owner = checked_owner_and_due(owner, due_on, kept_due=adoption.due_on)
    changed_challenge = challenge is not None and challenge.id != adoption.challenge_id
    if changed_challenge and challenge.status != ChallengeStatus.ACTIVE:
        raise RefusedChange(
            _("The challenge “%(challenge)s” is retired.", challenge=challenge.shown_name),
            "challenge",
        )
    notes = (notes or "").strip() or None
    if notes and len(notes) > NOTES_MAX:
        raise RefusedChange(_("The notes are at most %(max)d characters.", max=NOTES_MAX), "notes")
    values = {
        "owner": owner,
        "due_on": due_on,
        "challenge_id": challenge.id if challenge is not None else None,
        "notes": notes,
    }
    return _apply(session, adoption, values, action="edit", user=user)


# -- checklist -------------------------------------------------------------------------------


def copy_steps(adoption: Adoption, steps: list[str]) -> None:
    """The solution's steps, as they are today, become the item's checklist (in the caller's
    transaction): later edits of the library do not rewrite a running plan."""
    for position, text in enumerate(steps[:STEPS_MAX], start=1):
        adoption.steps.append(PlanStep(position=position, text=text[:STEP_MAX]))


def _step(adoption: Adoption, step_id: int) -> PlanStep:
    for step in adoption.steps:
        if step.id == step_id:
            return step
    raise RefusedChange(_("That step is not part of this plan item."))


def tick_step(session: Session, adoption: Adoption, step_id: int, *, done: bool, user: Any) -> bool:
    """Tick (``done``) or untick one step; returns whether it changed. Steps are independent of
    the item's version: two people ticking different steps never conflict."""
    step = _step(adoption, step_id)
    if (step.done_at is not None) == done:
        return False
    step.done_at = utcnow() if done else None
    step.done_by_id = getattr(user, "id", None) if done else None
    action = "tick" if done else "untick"
    session.add(event(adoption, action, {"step": [None, step.text]}, user))
    _commit(session, adoption, measured=False)
    return True


def add_step(session: Session, adoption: Adoption, text: str | None, *, user: Any) -> PlanStep:
    """Add a step at the end of the item's checklist."""
    text = (text or "").strip()
    if not text:
        raise RefusedChange(_("Write the step to add."), "text")
    if len(text) > STEP_MAX:
        raise RefusedChange(_("A step is at most %(max)d characters.", max=STEP_MAX), "text")
    if len(adoption.steps) >= STEPS_MAX:
        raise RefusedChange(_("A plan item has at most %(max)d steps.", max=STEPS_MAX), "text")
    position = max((step.position for step in adoption.steps), default=0) + 1
    step = PlanStep(position=position, text=text)
    adoption.steps.append(step)
    session.add(event(adoption, "add_step", {"step": [None, text]}, user))
    _commit(session, adoption, measured=False)
    return step


def get_item(session: Session, unit_id: int, item_id: int) -> Adoption | None:
    """The unit's plan item ``item_id``; None when it does not exist or is another unit's."""
    return session.scalar(
        select(Adoption).where(Adoption.id == item_id, Adoption.unit_id == unit_id)
    )


def folded_into(session: Session, unit_id: int, item_id: int) -> Adoption | None:
    """The live item a merge folded the unit's item ``item_id`` into (following chains), or
    None when ``item_id`` was never folded."""
    seen: set[int] = set()
    current = item_id
    while current is not None and current not in seen:
        seen.add(current)
        row = session.execute(
            select(Adoption.merged_into_id)
            .where(Adoption.id == current, Adoption.unit_id == unit_id)
            .execution_options(**{INCLUDE_MERGED: True})
        ).first()
        if row is None:
            return None
        if row.merged_into_id is None:
            return get_item(session, unit_id, current) if current != item_id else None
        current = row.merged_into_id
    return None
