"""The crowd's rules: proposals, votes, comments, "we tried it" reports, follows, the CX leads'
reviews, and the notifications they send.

Like the library's services these know the session, not the request: each checks everything
before it writes, raises :class:`RefusedChange` with a reason, and writes its change, its audit
event and its notifications in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from cxactions.audit.services import record
from cxactions.crowd.models import Comment, CommentReport, Follow, Notification, Vote
from cxactions.foundations.changes import RefusedChange, change_transaction, session_of
from cxactions.foundations.db_types import utcnow
from cxactions.foundations.paging import Pages, id_from
from cxactions.foundations.vocabulary import (
    CommentKind,
    NotificationKind,
    SolutionStatus,
    TriedOutcome,
    is_curator,
    label_of,
)
from cxactions.impact.models import ImpactEstimate, ImpactRun
from cxactions.impact.services import run_stored
from cxactions.library import services as library
from cxactions.library.models import Solution
from cxactions.plans.models import Adoption
from cxactions.search.service import SearchOptions, SearchUnavailable, search
from cxactions.units.models import Unit
from cxactions.units.services import unit_ids_in_scope

COMMENT_MAX = 5_000  # characters of a comment or a "we tried it" note
REASON_MAX = 1_000  # characters of a report, a rejection or a hiding reason
BODY_MAX = 20_000  # characters of a proposal's "how it works"
STEPS_MAX = 50  # steps of a proposal
# How far back a "we tried it" report may date (older experience is history, not a report).
TRIED_WITHIN = timedelta(days=5 * 366)
# Statuses a solution takes votes, comments and reports in; retired, rejected and merged
# solutions are closed.
OPEN_STATUSES = (SolutionStatus.PENDING, SolutionStatus.APPROVED)


def _text(value: object) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def _actor(user: Any) -> int | None:
    return getattr(user, "id", None)


def is_open(solution: Solution) -> bool:
    """Whether people may still vote, comment and report on ``solution``."""
    return solution.merged_into_id is None and solution.status in OPEN_STATUSES


def _check_open(solution: Solution) -> None:
    if solution.merged_into_id is not None:
        raise RefusedChange(
            _("This solution was merged into another: vote and comment there."), "solution"
        )
    if solution.status not in OPEN_STATUSES:
        raise RefusedChange(
            _("This solution is %(status)s: it takes no more votes or comments.",
              status=label_of(solution.status).lower()),
            "solution",
        )  # fmt: skip


# --- Notifications ---------------------------------------------------------------------------


def notify(
    session: Session,
    user_ids: Iterable[int | None],
    kind: NotificationKind,
    *,
    solution: Solution | None = None,
    comment: Comment | None = None,
    actor: Any = None,
    details: Mapping[str, Any] | None = None,
) -> int:
    """Tell each of ``user_ids`` (never the actor themself) that ``kind`` happened; returns how
    many were told. Written in the caller's transaction."""
    actor_id = _actor(actor)
    recipients = sorted({uid for uid in user_ids if uid is not None and uid != actor_id})
    for user_id in recipients:
        session.add(
            Notification(
                user_id=user_id,
                kind=kind,
                solution_id=solution.id if solution is not None else None,
                comment_id=comment.id if comment is not None else None,
                actor_id=actor_id,
                details=dict(details) if details else None,
            )
        )
    return len(recipients)


def followers(session: Session, solution: Solution) -> list[int]:
    return list(session.scalars(select(Follow.user_id).where(Follow.solution_id == solution.id)))


def unread_count(session: Session, user: Any) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        )
        or 0
    )


def notifications_query(user: Any, *, unread_only: bool = False):
    query = (
        select(Notification)
        .where(Notification.user_id == user.id)
        .options(selectinload(Notification.solution), selectinload(Notification.actor))
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    )
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return query


def mark_read(session: Session, user: Any, ids: Iterable[int] | None = None) -> int:
    """Mark the user's notifications ``ids`` (all of them when None) as read; returns how many
    changed. Another person's notifications are never touched."""
    statement = update(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)
    )
    if ids is not None:
        wanted = [number for number in map(id_from, ids) if number is not None]
        if not wanted:
            return 0
        statement = statement.where(Notification.id.in_(wanted))
    changed = session.execute(statement.values(read_at=utcnow())).rowcount or 0
    session.commit()
    return changed


# --- Proposals -------------------------------------------------------------------------------

PROPOSAL_FIELDS = ("title", "kind", "language", "summary", "body", "steps", "challenges")


def _check_proposal_content(data: Mapping[str, Any], *, improves: Solution | None) -> None:
    """What a proposal needs beyond a library solution: a challenge, bounded text."""
    if improves is None and not [code for code in data.get("challenges") or () if code]:
        raise RefusedChange(
            _("Choose at least one challenge the solution addresses."), "challenges"
        )
    body = data.get("body") or ""
    if len(body) > BODY_MAX:
        raise RefusedChange(
            _("The text is %(length)d characters long; keep it to %(max)d.",
              length=len(body), max=BODY_MAX),
            "body",
        )  # fmt: skip
    steps = [line for line in str(data.get("steps") or "").splitlines() if line.strip()]
    if len(steps) > STEPS_MAX:
        raise RefusedChange(
            _("%(count)d steps is too many; keep it to %(max)d.", count=len(steps), max=STEPS_MAX),
            "steps",
        )


def submit_proposal(
    session: Session,
    data: Mapping[str, Any],
    user: Any,
    *,
    anonymous: bool = False,
    improves: Solution | None = None,
    commit: bool = True,
) -> Solution:
    """A member of staff proposes a solution (or an improvement to ``improves``): it waits,
    pending, for a CX lead's review. Its author follows it from the start."""
    content = {name: data.get(name) for name in PROPOSAL_FIELDS}
    if improves is not None:
        if improves.status != SolutionStatus.APPROVED or improves.merged_into_id is not None:
            raise RefusedChange(
                _("Only a solution in the library can be improved; this one is not."), "improves"
            )
        if not [code for code in content.get("challenges") or () if code]:
            content["challenges"] = [challenge.code for challenge in improves.challenges]
    _check_proposal_content(content, improves=improves)
    with change_transaction(session, commit):
        solution = library.create_solution(
            session, {**content, "status": SolutionStatus.PENDING.value}, user, commit=False
        )
        solution.anonymous = bool(anonymous)
        solution.improves = improves
        units = list(getattr(user, "units", []) or [])
        solution.origin_unit_id = units[0].id if units else None
        session.add(Follow(user_id=user.id, solution_id=solution.id))
        session.flush()
    return solution


def edit_proposal(solution: Solution, data: Mapping[str, Any], user: Any, *, anonymous: bool):
    """The author changes their pending proposal; returns the changed fields."""
    if solution.status != SolutionStatus.PENDING or solution.author_id != _actor(user):
        raise RefusedChange(_("Only the author can edit a proposal, and only while it is pending."))
    content = {name: data.get(name) for name in PROPOSAL_FIELDS}
    _check_proposal_content(content, improves=solution.improves)
    session = session_of(solution)
    with change_transaction(session, True):
        changed = library.update_solution(solution, content, user, commit=False)
        if solution.anonymous != bool(anonymous):
            solution.anonymous = bool(anonymous)
            changed.append("anonymous")
    return changed


def similar_solutions(
    session: Session, words: str, *, exclude: Iterable[int] = (), limit: int = 5
) -> list[Solution]:
    """Approved solutions most like ``words`` (a draft's title and summary), found by the
    search service in both languages: duplicates caught before they are sent."""
    words = " ".join((words or "").split())[:300]
    if not words:
        return []
    excluded = set(exclude)
    try:
        result = search(
            session, words, SearchOptions(doc_type="solution", per_page=limit + len(excluded))
        )
    except SearchUnavailable:
        return []
    ids = [hit.db_id for hit in result.results if hit.db_id not in excluded][:limit]
    if not ids:
        return []
    found = {
        solution.id: solution
        for solution in session.scalars(
            select(Solution).where(Solution.id.in_(ids), Solution.status == SolutionStatus.APPROVED)
        )
    }
    return [found[solution_id] for solution_id in ids if solution_id in found]


# --- Reviews: approve, reject, merge ---------------------------------------------------------


def review(
    solution: Solution,
    status: SolutionStatus | str,
    user: Any,
    note: str | None = None,
    *,
    edits: Mapping[str, Any] | None = None,
) -> Solution:
    """A curator changes a solution's status (approve, reject, retire...), after ``edits`` to
    its content when given; the author hears of an approval or a rejection.

    Approving an improvement applies it to the solution it improves and merges the proposal
    into it (its votes, comments and follows move there).
    """
    session = session_of(solution)
    target = str(getattr(status, "value", status) or "")
    with change_transaction(session, True):
        if edits:
            library.update_solution(solution, edits, user, commit=False)
        original = solution.improves
        if (
            target == SolutionStatus.APPROVED.value
            and solution.status == SolutionStatus.PENDING
            and original is not None
            and original.status == SolutionStatus.APPROVED
            and original.merged_into_id is None
        ):
            _apply_improvement(solution, original, user, note)
            return original
        library.change_status(solution, status, user, note, commit=False)
        if solution.status in (SolutionStatus.APPROVED, SolutionStatus.REJECTED):
            kind = (
                NotificationKind.APPROVED
                if solution.status == SolutionStatus.APPROVED
                else NotificationKind.REJECTED
            )
            notify(
                session,
                [solution.author_id],
                kind,
                solution=solution,
                actor=user,
                details={"note": _text(note)} if _text(note) else None,
            )
    return solution


def _apply_improvement(proposal: Solution, original: Solution, user: Any, note: str | None):
    """Write the proposal's content over the original's, then merge the proposal into it."""
    session = session_of(proposal)
    content = {
        name: getattr(proposal, name)
        for name in ("title", "summary", "body", "steps")
        if getattr(proposal, name)
    }
    content["challenges"] = [
        *[challenge.code for challenge in original.challenges],
        *[challenge.code for challenge in proposal.challenges],
    ]
    library.update_solution(original, content, user, commit=False)
    library.merge_solutions(
        proposal, original, user, _text(note) or f"Improvement applied to {original.code}.",
        commit=False,
    )  # fmt: skip
    notify(
        session,
        [proposal.author_id],
        NotificationKind.APPROVED,
        solution=original,
        actor=user,
        details={"improvement": proposal.code, **({"note": _text(note)} if _text(note) else {})},
    )


def merge(duplicate: Solution, survivor: Solution, user: Any, note: str | None = None):
    """Merge ``duplicate`` into ``survivor`` (nothing lost, see ``library.merge_solutions``)
    and tell the duplicate's author where their proposal went."""
    session = session_of(duplicate)
    with change_transaction(session, True):
        plan = library.merge_solutions(duplicate, survivor, user, note, commit=False)
        notify(
            session,
            [duplicate.author_id],
            NotificationKind.MERGED,
            solution=survivor,
            actor=user,
            details={"merged": duplicate.code, "title": duplicate.title},
        )
    return plan


# --- Votes and follows -----------------------------------------------------------------------


def vote_count(session: Session, solution: Solution) -> int:
    return vote_counts(session, [solution.id]).get(solution.id, 0)


def _set_mark(model: type[Vote] | type[Follow], solution: Solution, user: Any, on: bool) -> None:
    """Add (``on``) or remove the person's one vote or follow on ``solution``; committed."""
    session = session_of(solution)
    if not on:
        session.execute(
            delete(model).where(model.user_id == user.id, model.solution_id == solution.id)
        )
        session.commit()
        return
    if session.get(model, (user.id, solution.id)) is None:
        session.add(model(user_id=user.id, solution_id=solution.id))
        try:
            session.commit()
        except IntegrityError:  # the same person's other tab did it a moment ago
            session.rollback()


def set_vote(solution: Solution, user: Any, on: bool) -> int:
    """Vote for ``solution`` (``on``) or take the vote back; one vote per person. Returns the
    solution's vote count after the change."""
    if on:
        _check_open(solution)
    _set_mark(Vote, solution, user, on)
    return vote_count(session_of(solution), solution)


def set_follow(solution: Solution, user: Any, on: bool) -> None:
    _set_mark(Follow, solution, user, on)


# --- Comments and "we tried it" reports ------------------------------------------------------


def _clean_body(body: object, *, required: bool = True) -> str | None:
    text = _text(body)
    if text is None:
        if required:
            raise RefusedChange(_("Write something first."), "body")
        return None
    if len(text) > COMMENT_MAX:
        raise RefusedChange(
            _("The comment is %(length)d characters long; keep it to %(max)d.",
              length=len(text), max=COMMENT_MAX),
            "body",
        )  # fmt: skip
    return text


def add_comment(solution: Solution, user: Any, body: object) -> Comment:
    """Comment on ``solution``; its author and followers hear of it, and the commenter follows
    it from now on."""
    session = session_of(solution)
    _check_open(solution)
    text = _clean_body(body)
    comment = Comment(solution_id=solution.id, user_id=user.id, body=text)
    return _post(session, solution, user, comment, NotificationKind.COMMENT)


def _post(
    session: Session,
    solution: Solution,
    user: Any,
    comment: Comment,
    kind: NotificationKind,
    details: Mapping[str, Any] | None = None,
) -> Comment:
    """Write a comment or a report: its solution's author and followers hear of it, and its
    writer follows the solution from now on; one transaction."""
    with change_transaction(session, True):
        session.add(comment)
        session.flush()
        notify(
            session,
            [solution.author_id, *followers(session, solution)],
            kind,
            solution=solution,
            comment=comment,
            actor=user,
            details=details,
        )
        if session.get(Follow, (user.id, solution.id)) is None:
            session.add(Follow(user_id=user.id, solution_id=solution.id))
    return comment


def _check_unit(session: Session, user: Any, unit_code: object) -> Unit:
    code = _text(unit_code)
    if code is None:
        raise RefusedChange(_("Say at which unit you tried it."), "unit")
    unit = session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        raise RefusedChange(_("There is no unit with the code “%(code)s”.", code=code), "unit")
    if not is_curator(user) and unit.id not in unit_ids_in_scope(session, user):
        raise RefusedChange(_("You can report only for the units you work at."), "unit")
    return unit


UNITS_OFFERED = 5_000  # units in the "we tried it" form's list


def report_units(session: Session, user: Any) -> list[Unit]:
    """Units a person may report trying a solution at: their units and those below them (CX
    leads and admins: every unit)."""
    query = select(Unit).order_by(Unit.name, Unit.code).limit(UNITS_OFFERED)
    if not is_curator(user):
        query = query.where(Unit.id.in_(unit_ids_in_scope(session, user) or {-1}))
    return list(session.scalars(query))


def check_tried_on(value: object, today: date | None = None) -> date:
    today = today or date.today()
    if not isinstance(value, date):
        raise RefusedChange(_("Give the date you tried it."), "tried_on")
    if value > today:
        raise RefusedChange(_("The date you tried it cannot be in the future."), "tried_on")
    if value < today - TRIED_WITHIN:
        raise RefusedChange(_("Report what you tried within the last five years."), "tried_on")
    return value


def add_tried_report(
    solution: Solution,
    user: Any,
    *,
    outcome: object,
    unit_code: object,
    tried_on: object,
    body: object = None,
    today: date | None = None,
) -> Comment:
    """ "We tried it": how it went (worked, mixed, did not work), at which unit, from when.
    Shown beside the measured effect; its author and followers hear of it."""
    session = session_of(solution)
    _check_open(solution)
    try:
        result = TriedOutcome(getattr(outcome, "value", outcome))
    except ValueError:
        raise RefusedChange(
            _("Say how it went: worked, mixed or did not work."), "outcome"
        ) from None
    unit = _check_unit(session, user, unit_code)
    day = check_tried_on(tried_on, today)
    text = _clean_body(body, required=False)
    report = Comment(
        solution_id=solution.id,
        user_id=user.id,
        kind=CommentKind.TRIED_IT,
        body=text or "",
        outcome=result,
        unit_id=unit.id,
        tried_on=day,
    )
    return _post(session, solution, user, report, NotificationKind.TRIED, {"outcome": result.value})


def can_change_comment(user: Any, comment: Comment) -> bool:
    """Authors edit and delete their own comments (not once a moderator hid them)."""
    return (
        bool(getattr(user, "is_authenticated", False))
        and comment.user_id == user.id
        and not comment.hidden
        and comment.deleted_at is None
    )


def edit_comment(comment: Comment, user: Any, body: object) -> bool:
    """The author rewrites their comment; returns whether it changed."""
    if not can_change_comment(user, comment):
        raise RefusedChange(_("Only its author can edit a comment."))
    session = session_of(comment)
    text = _clean_body(body, required=comment.kind != CommentKind.TRIED_IT)
    if (text or "") == comment.body:
        return False
    with change_transaction(session, True):
        comment.body = text or ""
        comment.edited_at = utcnow()
        record(
            session, "comment.edit", "comment", comment.id, user=user,
            details={"solution": comment.solution.code},
        )  # fmt: skip
    return True


def delete_comment(comment: Comment, user: Any) -> None:
    """The author takes their comment back: its text goes, its place in the thread stays
    ("deleted by its author"), and open reports on it close."""
    if not can_change_comment(user, comment):
        raise RefusedChange(_("Only its author can delete a comment."))
    session = session_of(comment)
    with change_transaction(session, True):
        comment.body = ""
        comment.deleted_at = utcnow()
        _close_reports(session, comment, user)
        record(
            session, "comment.delete", "comment", comment.id, user=user,
            details={"solution": comment.solution.code, "kind": comment.kind.value},
        )  # fmt: skip


def report_comment(comment: Comment, user: Any, reason: object) -> CommentReport:
    """Flag a comment for the moderators; once per person."""
    session = session_of(comment)
    if comment.user_id == user.id:
        raise RefusedChange(_("You cannot report your own comment; edit or delete it instead."))
    text = _text(reason)
    if text is not None and len(text) > REASON_MAX:
        raise RefusedChange(_("Keep the reason to %(max)d characters.", max=REASON_MAX), "reason")
    if session.scalar(
        select(CommentReport.id).where(
            CommentReport.comment_id == comment.id, CommentReport.user_id == user.id
        )
    ):
        raise RefusedChange(_("You already reported this comment; a CX lead will look at it."))
    with change_transaction(session, True):
        report = CommentReport(comment_id=comment.id, user_id=user.id, reason=text)
        session.add(report)
        session.flush()
    return report


def moderate_comment(comment: Comment, user: Any, *, hide: bool, reason: object = None) -> None:
    """A CX lead hides a comment (with a reason) or restores it; its open reports close."""
    session = session_of(comment)
    text = _text(reason)
    if hide and text is None:
        raise RefusedChange(_("Say why the comment is hidden: its author reads it."), "reason")
    if text is not None and len(text) > REASON_MAX:
        raise RefusedChange(_("Keep the reason to %(max)d characters.", max=REASON_MAX), "reason")
    with change_transaction(session, True):
        before = comment.hidden
        comment.hidden = hide
        comment.hidden_by_id = _actor(user) if hide else None
        comment.hidden_at = utcnow() if hide else None
        comment.hidden_reason = text if hide else None
        _close_reports(session, comment, user)
        record(
            session,
            "comment.hide" if hide else "comment.restore",
            "comment",
            comment.id,
            user=user,
            details={"solution": comment.solution.code, "hidden": [before, hide], "reason": text},
        )


def keep_comment(comment: Comment, user: Any) -> int:
    """A CX lead read the reports and keeps the comment as it is; returns the reports closed."""
    session = session_of(comment)
    with change_transaction(session, True):
        closed = _close_reports(session, comment, user)
        record(
            session, "comment.keep", "comment", comment.id, user=user,
            details={"solution": comment.solution.code, "reports_closed": closed},
        )  # fmt: skip
    return closed


def _close_reports(session: Session, comment: Comment, user: Any) -> int:
    return (
        session.execute(
            update(CommentReport)
            .where(CommentReport.comment_id == comment.id, CommentReport.resolved_at.is_(None))
            .values(resolved_at=utcnow(), resolved_by_id=_actor(user))
        ).rowcount
        or 0
    )


# --- What the pages show ---------------------------------------------------------------------


def may_see_author(user: Any, solution: Solution) -> bool:
    """Anonymous proposals hide their author from peers; CX leads and the author see it."""
    if not solution.anonymous:
        return True
    return is_curator(user) or (
        getattr(user, "is_authenticated", False) and solution.author_id == user.id
    )


@dataclass(frozen=True)
class Attribution:
    """Who proposed a solution, as the reader may see it."""

    name: str | None  # None: "a colleague" (anonymous to this reader)
    unit: str | None
    on: date | None
    anonymous: bool  # proposed anonymously (the reader may still see the name: a CX lead)


def attribution(user: Any, solution: Solution) -> Attribution | None:
    """ "Proposed by … at …" for a solution someone proposed; None for the library's own."""
    if solution.author_id is None or solution.author is None:
        return None
    visible = may_see_author(user, solution)
    return Attribution(
        name=solution.author.display_name if visible else None,
        unit=solution.origin_unit.name if visible and solution.origin_unit else None,
        on=solution.created_at.date() if solution.created_at else None,
        anonymous=solution.anonymous,
    )


def reuse_counts(session: Session, solution_ids: Iterable[int]) -> dict[int, int]:
    """How many units adopted each solution (plan items of any status)."""
    ids = list(set(solution_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(Adoption.solution_id, func.count(func.distinct(Adoption.unit_id)))
        .where(Adoption.solution_id.in_(ids))
        .group_by(Adoption.solution_id)
    ).all()
    return {solution_id: int(count) for solution_id, count in rows}


def vote_counts(session: Session, solution_ids: Iterable[int]) -> dict[int, int]:
    ids = list(set(solution_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(Vote.solution_id, func.count())
        .where(Vote.solution_id.in_(ids))
        .group_by(Vote.solution_id)
    ).all()
    return {solution_id: int(count) for solution_id, count in rows}


@dataclass(frozen=True)
class Credit:
    """What a list shows under a solution: who proposed it, and how many units adopted it."""

    attribution: Attribution | None
    reuse: int


def credits(session: Session, user: Any, solution_ids: Iterable[int]) -> dict[int, Credit]:
    """The credit line of each solution in a list, in two queries."""
    ids = [int(solution_id) for solution_id in set(solution_ids) if solution_id is not None]
    if not ids:
        return {}
    solutions = session.scalars(
        select(Solution)
        .where(Solution.id.in_(ids))
        .options(selectinload(Solution.author), selectinload(Solution.origin_unit))
    )
    reuse = reuse_counts(session, ids)
    return {
        solution.id: Credit(attribution(user, solution), reuse.get(solution.id, 0))
        for solution in solutions
    }


@dataclass
class TriedTally:
    worked: int = 0
    mixed: int = 0
    did_not_work: int = 0

    @property
    def total(self) -> int:
        return self.worked + self.mixed + self.did_not_work


@dataclass
class CrowdView:
    """The crowd's side of one solution page, for one reader."""

    votes: int
    voted: bool
    following: bool
    is_open: bool
    comments: list[Comment]
    tried: list[Comment]
    tally: TriedTally
    reuse: int
    attribution: Attribution | None
    reported: set[int] = field(default_factory=set)  # comment ids this reader reported
    total: int = 0  # comments and reports on the solution (the page shows the newest ones)
    page: int = 1  # which hundred, the newest first

    @property
    def comment_pages(self) -> Pages:
        return Pages(page=self.page, pages=max(1, -(-self.total // COMMENTS_SHOWN)))

    # The anonymous author, whose own comments this reader sees signed "the author": their name
    # there would undo the anonymity. None when the reader may see who wrote the proposal.
    masked_author_id: int | None = None


COMMENTS_SHOWN = 100  # comments and reports a page shows, the newest first (older: next pages)


def crowd_view(session: Session, solution: Solution, user: Any, page: int = 1) -> CrowdView:
    """The crowd's side of ``solution`` for ``user``; ``page`` 2 and on hold older comments."""
    voted = session.get(Vote, (user.id, solution.id)) is not None
    following = session.get(Follow, (user.id, solution.id)) is not None
    rows = list(
        session.scalars(
            select(Comment)
            .where(Comment.solution_id == solution.id)
            .options(selectinload(Comment.user), selectinload(Comment.unit))
            .order_by(Comment.created_at.desc(), Comment.id.desc())
            .offset((page - 1) * COMMENTS_SHOWN)
            .limit(COMMENTS_SHOWN)
        )
    )
    rows.reverse()
    total = len(rows)
    if page > 1 or total == COMMENTS_SHOWN:
        total = int(
            session.scalar(
                select(func.count()).select_from(Comment).where(Comment.solution_id == solution.id)
            )
            or 0
        )
    tally = TriedTally(
        **{
            outcome.value: int(count)
            for outcome, count in session.execute(
                select(Comment.outcome, func.count())
                .where(
                    Comment.solution_id == solution.id,
                    Comment.kind == CommentKind.TRIED_IT,
                    Comment.hidden.is_(False),
                    Comment.deleted_at.is_(None),
                )
                .group_by(Comment.outcome)
            ).all()
        }
    )
    reported = set(
        session.scalars(
            select(CommentReport.comment_id)
            .join(Comment, Comment.id == CommentReport.comment_id)
            .where(Comment.solution_id == solution.id, CommentReport.user_id == user.id)
        )
    )
    return CrowdView(
        votes=vote_count(session, solution),
        voted=voted,
        following=following,
        is_open=is_open(solution),
        comments=[row for row in rows if row.kind == CommentKind.COMMENT],
        tried=[row for row in rows if row.kind == CommentKind.TRIED_IT],
        tally=tally,
        reuse=reuse_counts(session, [solution.id]).get(solution.id, 0),
        attribution=attribution(user, solution),
        reported=reported,
        total=total,
        page=page,
        masked_author_id=None if may_see_author(user, solution) else solution.author_id,
    )


def submission_label(solution: Solution) -> str:
    """A proposal's state for its author: pending, approved, rejected, merged."""
    if solution.merged_into_id is not None:
        return "merged"
    return solution.status.value


def my_submissions_query(user: Any):
    return (
        select(Solution)
        .where(Solution.author_id == user.id)
        .options(selectinload(Solution.merged_into), selectinload(Solution.reviewed_by))
        .order_by(Solution.created_at.desc(), Solution.id.desc())
    )


def proposals_query(sort: str = "votes"):
    """Pending proposals for the board: most voted first, or newest first."""
    votes = (
        select(func.count())
        .select_from(Vote)
        .where(Vote.solution_id == Solution.id)
        .correlate(Solution)
        .scalar_subquery()
    )
    query = (
        select(Solution)
        .where(Solution.status == SolutionStatus.PENDING, Solution.merged_into_id.is_(None))
        .options(selectinload(Solution.author), selectinload(Solution.origin_unit))
    )
    if sort == "newest":
        return query.order_by(Solution.created_at.desc(), Solution.id.desc())
    return query.order_by(votes.desc(), Solution.created_at.desc(), Solution.id.desc())


def desk_submissions_query():
    """Pending proposals, oldest first: the moderation queue."""
    return (
        select(Solution)
        .where(Solution.status == SolutionStatus.PENDING, Solution.merged_into_id.is_(None))
        .options(
            selectinload(Solution.author),
            selectinload(Solution.challenges),
            selectinload(Solution.improves),
            selectinload(Solution.origin_unit),
        )
        .order_by(Solution.created_at, Solution.id)
    )


def desk_reports_query():
    """Comments with open reports, the oldest report first."""
    open_reports = (
        select(
            CommentReport.comment_id.label("comment_id"),
            func.min(CommentReport.created_at).label("first"),
        )
        .where(CommentReport.resolved_at.is_(None))
        .group_by(CommentReport.comment_id)
        .subquery()
    )
    return (
        select(Comment)
        .join(open_reports, open_reports.c.comment_id == Comment.id)
        .options(selectinload(Comment.user), selectinload(Comment.solution))
        .order_by(open_reports.c.first, Comment.id)
    )


def open_reports(session: Session, comment_ids: Iterable[int]) -> dict[int, list[CommentReport]]:
    """The open reports of each comment, oldest first."""
    ids = list(comment_ids)
    found: dict[int, list[CommentReport]] = {comment_id: [] for comment_id in ids}
    if ids:
        for report in session.scalars(
            select(CommentReport)
            .where(CommentReport.comment_id.in_(ids), CommentReport.resolved_at.is_(None))
            .options(selectinload(CommentReport.user))
            .order_by(CommentReport.created_at, CommentReport.id)
        ):
            found[report.comment_id].append(report)
    return found


def desk_counts(session: Session) -> tuple[int, int]:
    """(pending proposals, comments with open reports): what awaits a decision."""
    pending = session.scalar(
        select(func.count())
        .select_from(Solution)
        .where(Solution.status == SolutionStatus.PENDING, Solution.merged_into_id.is_(None))
    )
    reported = session.scalar(
        select(func.count(func.distinct(CommentReport.comment_id))).where(
            CommentReport.resolved_at.is_(None)
        )
    )
    return int(pending or 0), int(reported or 0)


# --- Measurements ----------------------------------------------------------------------------


@run_stored.connect
def notify_measured(session: Session, run: Any = None, **_ignored: Any) -> int:
    """Followers hear when a solution they follow is measured for the first time, or measured
    again on a different number of units; returns how many notifications were written."""
    previous_run = session.scalar(
        select(ImpactRun.id)
        .where(ImpactRun.status == "done", ImpactRun.id != run.id)
        .order_by(ImpactRun.finished_at.desc(), ImpactRun.id.desc())
        .limit(1)
    )
    # What each solution's reading was: its adopting units, and whether it had an effect.
    before = (
        {
            solution_id: (n_units, effect is not None)
            for solution_id, n_units, effect in session.execute(
                select(
                    ImpactEstimate.solution_id, ImpactEstimate.n_units, ImpactEstimate.effect
                ).where(ImpactEstimate.run_id == previous_run)
            )
        }
        if previous_run is not None
        else {}
    )
    now = {
        row.solution_id: row
        for row in session.execute(
            select(
                ImpactEstimate.solution_id,
                ImpactEstimate.n_units,
                ImpactEstimate.effect,
                ImpactEstimate.ci_low,
                ImpactEstimate.ci_high,
            ).where(ImpactEstimate.run_id == run.id, ImpactEstimate.effect.is_not(None))
        )
    }
    changed = [
        solution_id
        for solution_id, row in now.items()
        if before.get(solution_id) != (row.n_units, True)
    ]
    if not changed:
        return 0
    rows = []
    for start in range(0, len(changed), 500):
        chunk = changed[start : start + 500]
        for user_id, solution_id in session.execute(
            select(Follow.user_id, Follow.solution_id).where(Follow.solution_id.in_(chunk))
        ):
            figures = now[solution_id]
            rows.append(
                {
                    "user_id": user_id,
                    "kind": NotificationKind.MEASURED,
                    "solution_id": solution_id,
                    "details": {
                        "effect": figures.effect,
                        "ci_low": figures.ci_low,
                        "ci_high": figures.ci_high,
                        "n_units": figures.n_units,
                    },
                    "created_at": utcnow(),
                }
            )
    if rows:
        session.execute(insert(Notification), rows)
    return len(rows)
