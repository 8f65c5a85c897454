"""The library's rules: the filtered solution list and one solution for the pages, and the
curators' changes (create, edit, review, retire, merge), each audited and transactional."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from cxactions.audit.services import record
from cxactions.crowd.models import Comment, Follow, Vote
from cxactions.foundations.changes import (
    RefusedChange,
    change_transaction,
    check_merge_pair,
    session_of,
)
from cxactions.foundations.codes import check_new_code, code_from_name
from cxactions.foundations.db_types import utcnow
from cxactions.foundations.extensions import paginate
from cxactions.foundations.translation import N_
from cxactions.foundations.versions import bump_data_version
from cxactions.foundations.vocabulary import (
    AdoptionStatus,
    ChallengeStatus,
    Level,
    SolutionKind,
    SolutionStatus,
    is_curator,
    label_of,
)
from cxactions.library.models import Solution
from cxactions.plans.models import Adoption, AdoptionEvent
from cxactions.taxonomy.models import Challenge

PER_PAGE = 20
LANGUAGE_NAMES = {"en": "English", "fr": "Français", "de": "Deutsch", "es": "Español"}


def language_name(code: str | None) -> str:
    """The name of a content language for the reader: each language named in itself on an
    English page ("Français"), in French on a French one ("Anglais"); unknown codes upper-cased."""
    names = {"en": _("English"), "fr": _("Français"), "de": _("Deutsch"), "es": _("Español")}
    key = (code or "").lower()
    return names[key] if key in names else LANGUAGE_NAMES.get(key, key.upper())


@dataclass(frozen=True)
class SolutionFilters:
    """What the list shows; unknown values in the query string are ignored, never an error."""

    kind: SolutionKind | None = None
    language: str | None = None
    status: SolutionStatus = SolutionStatus.APPROVED

    @classmethod
    def from_args(cls, args: Mapping[str, str], *, may_see_unapproved: bool) -> SolutionFilters:
        kind = args.get("kind") or None
        status = args.get("status") or None
        language = (args.get("language") or "").strip().lower()[:5] or None
        return cls(
            kind=SolutionKind(kind) if kind in SolutionKind._value2member_map_ else None,
            language=language,
            status=(
                SolutionStatus(status)
                if may_see_unapproved and status in SolutionStatus._value2member_map_
                else SolutionStatus.APPROVED
            ),
        )

    def as_args(self) -> dict[str, str]:
        """The filters as query-string arguments (for pagination links)."""
        args = {"kind": self.kind.value if self.kind else None, "language": self.language}
        if self.status != SolutionStatus.APPROVED:
            args["status"] = self.status.value
        return {key: value for key, value in args.items() if value}

    @property
    def active(self) -> bool:
        return bool(self.as_args())


def list_solutions(
    session: Session, filters: SolutionFilters, page: int = 1, per_page: int = PER_PAGE
) -> Pagination:
    """One page of solutions matching ``filters``, by title, with the challenges they address."""
    query = (
        select(Solution)
        .where(Solution.status == filters.status)
        .options(selectinload(Solution.challenges))
        .order_by(Solution.title, Solution.id)
    )
    if filters.kind is not None:
        query = query.where(Solution.kind == filters.kind)
    if filters.language is not None:
        query = query.where(Solution.language == filters.language)
    return paginate(session, query, page, per_page)


def available_languages(session: Session) -> list[str]:
    """Languages the library holds solutions in, for the filter."""
    return list(session.scalars(select(Solution.language).distinct().order_by(Solution.language)))


def get_solution(session: Session, code: str) -> Solution | None:
    return session.scalar(
        select(Solution)
        .where(Solution.code == code)
        .options(
            selectinload(Solution.challenges),
            selectinload(Solution.author),
            selectinload(Solution.reviewed_by),
        )
    )


# --- Curation: create, edit, review, retire and merge solutions ------------------------------
#
# These functions know the session, not the request. Each checks everything before it writes
# anything: a refused change raises ``RefusedChange`` and leaves the database (and so the search
# index, which follows commits) untouched. On success it records an audit event in the same
# transaction and commits, unless ``commit=False`` lets the caller compose a larger transaction.

LANGUAGE_PATTERN = re.compile(r"[a-z]{2}(?:-[a-z]{2})?")
RESERVED_CODES = {"new"}  # /solutions/new is the creation page
TITLE_MAX = 200
OWNER_MAX = 200
# What a solution's author writes (the edit form's fields), and everything the services take.
CONTENT_FIELDS = (
    "title",
    "kind",
    "language",
    "summary",
    "body",
    "steps",
    "effort",
    "cost",
    "owner",
    "challenges",
)
SOLUTION_FIELDS = {"code", "status", *CONTENT_FIELDS}
# Statuses a curator may move a solution to from each status.
TRANSITIONS: dict[SolutionStatus, tuple[SolutionStatus, ...]] = {
    SolutionStatus.DRAFT: (SolutionStatus.PENDING, SolutionStatus.APPROVED),
    SolutionStatus.PENDING: (SolutionStatus.APPROVED, SolutionStatus.REJECTED),
    SolutionStatus.APPROVED: (SolutionStatus.RETIRED,),
    SolutionStatus.RETIRED: (SolutionStatus.APPROVED,),
    SolutionStatus.REJECTED: (SolutionStatus.PENDING,),
}
CREATE_STATUSES = (SolutionStatus.APPROVED, SolutionStatus.DRAFT, SolutionStatus.PENDING)


def _text(value: object) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def _lines(value: object) -> str | None:
    """One item per line: a string (any line ends) or a list; blank lines dropped."""
    if value is None:
        return None
    items = value.splitlines() if isinstance(value, str) else [str(item) for item in value]
    kept = [item.strip() for item in items if item and item.strip()]
    return "\n".join(kept) or None


# "The kind “x” is not one of: ..." for each field whose value comes from a vocabulary.
NOT_ONE_OF = {
    "kind": N_("The kind “%(value)s” is not one of: %(choices)s."),
    "effort": N_("The effort “%(value)s” is not one of: %(choices)s."),
    "cost": N_("The cost “%(value)s” is not one of: %(choices)s."),
    "status": N_("The status “%(value)s” is not one of: %(choices)s."),
}


def _choice(enum_class, value: object, field: str):
    if value is None or value == "":
        return None
    try:
        return enum_class(getattr(value, "value", value))
    except ValueError:
        choices = ", ".join(member.value for member in enum_class)
        raise RefusedChange(_(NOT_ONE_OF[field], value=value, choices=choices), field) from None


def _status_word(status: SolutionStatus) -> str:
    """A status as a word inside a sentence: "approved", "approuvée"."""
    return label_of(status).lower()


def _either(words: list[str]) -> str:
    """ "a", "a or b", "a, b or c" in the reader's language; "nothing else" when empty."""
    if not words:
        return _("nothing else")
    if len(words) == 1:
        return words[0]
    return _("%(some)s or %(last)s", some=", ".join(words[:-1]), last=words[-1])


def _code_from_title(session: Session, title: str) -> str:
    """An unused code made of the title's words: “Open a till at 3” → OPEN-A-TILL-AT-3."""
    return code_from_name(
        session, Solution.code, title, fallback="SOLUTION", reserved=RESERVED_CODES
    )


def _check_code(session: Session, code: str) -> str:
    return check_new_code(session, Solution.code, code, noun="solution", reserved=RESERVED_CODES)


def _resolve_challenges(
    session: Session, values: Iterable[object], current: Iterable[Challenge] = ()
) -> list[Challenge]:
    """Challenges from codes (or Challenge rows), in the given order, without repeats.

    Unknown codes are refused; so are retired challenges, unless the solution is already mapped
    to them (an edit must not force a curator to drop a historical mapping).
    """
    given = (getattr(value, "code", None) or str(value or "").strip() for value in values)
    codes = list(dict.fromkeys(code for code in given if code))
    if not codes:
        return []
    found = {
        challenge.code: challenge
        for challenge in session.scalars(select(Challenge).where(Challenge.code.in_(codes)))
    }
    unknown = [code for code in codes if code not in found]
    if unknown:
        raise RefusedChange(
            ngettext(
                "Unknown challenge: %(codes)s.",
                "Unknown challenges: %(codes)s.",
                len(unknown),
                codes=", ".join(unknown),
            ),
            "challenges",
        )
    already = {challenge.id for challenge in current}
    retired = [
        code
        for code in codes
        if found[code].status == ChallengeStatus.RETIRED and found[code].id not in already
    ]
    if retired:
        raise RefusedChange(
            ngettext(
                "The challenge %(codes)s is retired; map an active challenge instead.",
                "The challenges %(codes)s are retired; map an active challenge instead.",
                len(retired),
                codes=", ".join(retired),
            ),
            "challenges",
        )
    return [found[code] for code in codes]


def _clean_solution_data(
    session: Session, data: Mapping[str, Any], *, solution: Solution | None
) -> dict[str, Any]:
    """Validated, normalised values for the keys present in ``data`` (all of them on create)."""
    unknown = set(data) - SOLUTION_FIELDS
    if unknown:
        raise RefusedChange(
            ngettext(
                "Unknown solution field: %(fields)s.",
                "Unknown solution fields: %(fields)s.",
                len(unknown),
                fields=", ".join(sorted(unknown)),
            )
        )
    creating = solution is None
    clean: dict[str, Any] = {}
    if creating or "title" in data:
        title = _text(data.get("title"))
        if title is None:
            raise RefusedChange(_("A solution needs a title."), "title")
        if len(title) > TITLE_MAX:
            raise RefusedChange(
                _(
                    "The title is %(length)d characters long; keep it to %(max)d.",
                    length=len(title),
                    max=TITLE_MAX,
                ),
                "title",
            )
        clean["title"] = title
    if creating or "kind" in data:
        kind = _choice(SolutionKind, data.get("kind"), "kind")
        if kind is None:
            raise RefusedChange(
                _("Choose the kind of solution: training, SOP, asset or other."), "kind"
            )
        clean["kind"] = kind
    for name in ("summary", "body", "owner"):
        if creating or name in data:
            clean[name] = _text(data.get(name))
    if clean.get("owner") and len(clean["owner"]) > OWNER_MAX:
        raise RefusedChange(
            _(
                "The owner is %(length)d characters long; keep it to %(max)d.",
                length=len(clean["owner"]),
                max=OWNER_MAX,
            ),
            "owner",
        )
    if creating or "steps" in data:
        clean["steps"] = _lines(data.get("steps"))
    for name in ("effort", "cost"):
        if creating or name in data:
            clean[name] = _choice(Level, data.get(name), name)
    if creating or "language" in data:
        language = (_text(data.get("language")) or "en").lower()
        if not LANGUAGE_PATTERN.fullmatch(language):
            raise RefusedChange(
                _(
                    "The language “%(language)s” is not a language code such as en or fr.",
                    language=language,
                ),
                "language",
            )
        clean["language"] = language
    if creating or "challenges" in data:
        clean["challenges"] = _resolve_challenges(
            session, data.get("challenges") or (), solution.challenges if solution else ()
        )
    if not creating:
        if "code" in data and data["code"] != solution.code:
            raise RefusedChange(_("A solution's code cannot be edited."), "code")
        if "status" in data and data["status"] != solution.status:
            raise RefusedChange(
                _("A solution's status (use change_status) cannot be edited."), "status"
            )
    return clean


def create_solution(
    session: Session, data: Mapping[str, Any], user: Any, *, commit: bool = True
) -> Solution:
    """Add a solution to the library; returns it. Curators' solutions are approved by default.

    ``data`` holds ``title`` and ``kind`` (required), ``code`` (made from the title when
    empty), ``summary``, ``body`` (Markdown), ``steps`` (one per line or a list), ``effort``,
    ``cost``, ``owner``, ``language``, ``challenges`` (codes) and ``status``.
    """
    clean = _clean_solution_data(session, data, solution=None)
    code = _text(data.get("code"))
    clean["code"] = (
        _check_code(session, code) if code else _code_from_title(session, clean["title"])
    )
    default = SolutionStatus.APPROVED if is_curator(user) else SolutionStatus.DRAFT
    status = _choice(SolutionStatus, data.get("status"), "status") or default
    if status not in CREATE_STATUSES:
        raise RefusedChange(
            _(
                "A new solution can be approved, a draft or pending, not %(status)s.",
                status=_status_word(status),
            ),
            "status",
        )
    if status == SolutionStatus.APPROVED and not is_curator(user):
        raise RefusedChange(_("Only a CX lead or an admin can approve a solution."), "status")
    with change_transaction(session, commit):
        challenges = clean.pop("challenges")
        solution = Solution(**clean, status=status, author_id=getattr(user, "id", None))
        solution.challenges = challenges
        if status == SolutionStatus.APPROVED:
            solution.reviewed_by_id = getattr(user, "id", None)
            solution.reviewed_at = utcnow()
        session.add(solution)
        try:
            session.flush()
        except IntegrityError as error:  # another curator took the code a moment ago
            raise RefusedChange(
                _(
                    "The code “%(code)s” was just taken by another solution; choose another.",
                    code=solution.code,
                ),
                "code",
            ) from error
        record(
            session,
            "solution.create",
            "solution",
            solution.id,
            user=user,
            details={
                "code": solution.code,
                "status": status.value,
                "challenges": [challenge.code for challenge in challenges],
            },
        )
    return solution


def update_solution(
    solution: Solution, data: Mapping[str, Any], user: Any, *, commit: bool = True
) -> list[str]:
    """Edit a solution's content and challenge mapping; returns the names of changed fields.

    Keys absent from ``data`` are left as they are. The code and the status are not edited here
    (see :func:`change_status`). Changing nothing writes nothing.
    """
    session = session_of(solution)
    clean = _clean_solution_data(session, data, solution=solution)
    new_challenges = clean.pop("challenges", None)
    changed = [name for name, value in clean.items() if getattr(solution, name) != value]
    before = [challenge.code for challenge in solution.challenges]
    remapped = new_challenges is not None and (
        {challenge.id for challenge in new_challenges}
        != {challenge.id for challenge in solution.challenges}
    )
    if remapped:
        changed.append("challenges")
    if not changed:
        return []
    with change_transaction(session, commit):
        for name, value in clean.items():
            setattr(solution, name, value)
        details: dict[str, Any] = {"code": solution.code, "fields": changed}
        if "challenges" in changed:
            solution.challenges = new_challenges
            details["challenges"] = {
                "from": before,
                "to": [challenge.code for challenge in new_challenges],
            }
        if "title" in changed:
            details["title"] = solution.title
        record(session, "solution.update", "solution", solution.id, user=user, details=details)
    return changed


def allowed_statuses(solution: Solution) -> tuple[SolutionStatus, ...]:
    """Statuses a curator may move ``solution`` to (a merged solution stays retired)."""
    if solution.merged_into_id is not None:
        return ()
    return TRANSITIONS.get(solution.status, ())


STATUS_ACTIONS = {
    SolutionStatus.APPROVED: "approve",
    SolutionStatus.REJECTED: "reject",
    SolutionStatus.RETIRED: "retire",
    SolutionStatus.PENDING: "submit",
    SolutionStatus.DRAFT: "draft",
}


def change_status(
    solution: Solution,
    new_status: SolutionStatus | str,
    user: Any,
    note: str | None = None,
    *,
    commit: bool = True,
) -> Solution:
    """Review, retire or reinstate a solution; records who did it, when and why.

    Allowed moves are in ``TRANSITIONS``; a rejection needs a note (its author reads it).
    """
    session = session_of(solution)
    target = _choice(SolutionStatus, new_status, "status")
    if target is None:
        raise RefusedChange(_("Choose the new status."), "status")
    note = _text(note)
    if solution.merged_into_id is not None:
        survivor = session.get(Solution, solution.merged_into_id)
        raise RefusedChange(
            _(
                "%(code)s was merged into %(into)s; it stays retired.",
                code=solution.code,
                into=survivor.code,
            )
            if survivor
            else _(
                "%(code)s was merged into another solution; it stays retired.",
                code=solution.code,
            ),
            "status",
        )
    if target == solution.status:
        raise RefusedChange(
            _(
                "%(code)s is already %(status)s.",
                code=solution.code,
                status=_status_word(target),
            ),
            "status",
        )
    allowed = TRANSITIONS.get(solution.status, ())
    if target not in allowed:
        raise RefusedChange(
            _(
                "A %(status)s solution cannot become %(target)s; it can become %(choices)s.",
                status=_status_word(solution.status),
                target=_status_word(target),
                choices=_either([_status_word(status) for status in allowed]),
            ),
            "status",
        )
    if target == SolutionStatus.REJECTED and note is None:
        raise RefusedChange(
            _("Say why the proposal is rejected: its author reads the note."), "note"
        )
    previous = solution.status
    with change_transaction(session, commit):
        solution.status = target
        solution.reviewed_by_id = getattr(user, "id", None)
        solution.reviewed_at = utcnow()
        solution.review_note = note
        action = STATUS_ACTIONS[target]
        if previous == SolutionStatus.RETIRED and target == SolutionStatus.APPROVED:
            action = "reinstate"
        record(
            session,
            f"solution.{action}",
            "solution",
            solution.id,
            user=user,
            details={
                "code": solution.code,
                "from": previous.value,
                "to": target.value,
                "note": note,
            },
        )
    return solution


@dataclass(frozen=True)
class AdoptionFold:
    """A unit has plan items for both solutions: they become one live item on the survivor.

    The survivor's item stays live; the duplicate's item stays in the table as a record of the
    merge (``merged_into`` the live item: never deleted, out of every plan and estimate). The
    live item takes the earliest implementation of the two (``implementation``; a tie keeps the
    survivor's), the blanks it lacks, both items' notes and both histories.
    """

    duplicate_item: Adoption
    survivor_item: Adoption

    @property
    def implementation(self) -> Adoption | None:
        """The implemented item with the earliest effective date, or None when neither is."""
        implemented = [
            item
            for item in (self.survivor_item, self.duplicate_item)  # the survivor's wins ties
            if item.status == AdoptionStatus.IMPLEMENTED
        ]
        if not implemented:
            return None
        return min(
            implemented, key=lambda item: (item.effective_on is None, item.effective_on or date.min)
        )

    @property
    def takes_duplicate_implementation(self) -> bool:
        return self.implementation is self.duplicate_item

    @property
    def unit(self):
        return self.survivor_item.unit


@dataclass
class SolutionMerge:
    """What merging ``duplicate`` into ``survivor`` moves, for the confirmation page."""

    duplicate: Solution
    survivor: Solution
    challenges_added: list[Challenge]  # the duplicate's challenges the survivor lacks
    adoptions_moved: list[Adoption]  # units that adopted only the duplicate
    adoptions_folded: list[AdoptionFold]  # units that adopted both: one item each, nothing lost
    votes_moved: int
    votes_dropped: int  # the user already voted on the survivor
    comments_moved: int
    follows_moved: int  # followers of the duplicate who did not follow the survivor yet
    merged_earlier: list[Solution]  # solutions merged into the duplicate, now into the survivor

    @property
    def touches_impact(self) -> bool:
        """Implemented plan items change solution: the cached impact estimates go stale."""
        return any(
            adoption.status == AdoptionStatus.IMPLEMENTED
            for adoption in self.adoptions_moved
            + [fold.duplicate_item for fold in self.adoptions_folded]
        )


def plan_solution_merge(duplicate: Solution, survivor: Solution) -> SolutionMerge:
    """Check that ``duplicate`` may be merged into ``survivor`` and say what would move."""
    session = session_of(duplicate)
    check_merge_pair(duplicate, survivor, noun="solution", field="survivor")
    if survivor.merged_into_id is not None:
        into = session.get(Solution, survivor.merged_into_id)
        raise RefusedChange(
            _(
                "%(code)s was itself merged into %(into)s; merge into %(into)s instead.",
                code=survivor.code,
                into=into.code,
            )
            if into
            else _(
                "%(code)s was itself merged into another; merge into that one instead.",
                code=survivor.code,
            ),
            "survivor",
        )
    if survivor.status != SolutionStatus.APPROVED:
        raise RefusedChange(
            _(
                "%(code)s is %(status)s: merge only into an approved solution (approve it "
                "first, or merge the other way round).",
                code=survivor.code,
                status=_status_word(survivor.status),
            ),
            "survivor",
        )
    survivor_challenges = {challenge.id for challenge in survivor.challenges}
    adoptions = list(
        session.scalars(
            select(Adoption).where(Adoption.solution_id == duplicate.id).order_by(Adoption.id)
        )
    )
    survivor_items = {
        adoption.unit_id: adoption
        for adoption in session.scalars(select(Adoption).where(Adoption.solution_id == survivor.id))
    }
    voters_on_survivor = set(
        session.scalars(select(Vote.user_id).where(Vote.solution_id == survivor.id))
    )
    votes = list(session.scalars(select(Vote.user_id).where(Vote.solution_id == duplicate.id)))
    comments = session.scalar(
        select(func.count()).select_from(Comment).where(Comment.solution_id == duplicate.id)
    )
    followers_on_survivor = select(Follow.user_id).where(Follow.solution_id == survivor.id)
    follows = session.scalar(
        select(func.count())
        .select_from(Follow)
        .where(Follow.solution_id == duplicate.id, Follow.user_id.not_in(followers_on_survivor))
    )
    return SolutionMerge(
        duplicate=duplicate,
        survivor=survivor,
        challenges_added=[
            challenge
            for challenge in duplicate.challenges
            if challenge.id not in survivor_challenges
        ],
        adoptions_moved=[a for a in adoptions if a.unit_id not in survivor_items],
        adoptions_folded=[
            AdoptionFold(a, survivor_items[a.unit_id])
            for a in adoptions
            if a.unit_id in survivor_items
        ],
        votes_moved=sum(1 for voter in votes if voter not in voters_on_survivor),
        votes_dropped=sum(1 for voter in votes if voter in voters_on_survivor),
        comments_moved=int(comments or 0),
        follows_moved=int(follows or 0),
        merged_earlier=list(
            session.scalars(select(Solution).where(Solution.merged_into_id == duplicate.id))
        ),
    )


def _item_values(adoption: Adoption) -> dict[str, Any]:
    """A plan item's fields as JSON values, for its history."""
    return {
        "solution": adoption.solution.code,
        "status": adoption.status.value,
        "effective_on": adoption.effective_on.isoformat() if adoption.effective_on else None,
        "owner": adoption.owner,
        "due_on": adoption.due_on.isoformat() if adoption.due_on else None,
        "challenge": adoption.challenge.code if adoption.challenge is not None else None,
        "notes": adoption.notes,
    }


def _both_notes(kept: Adoption, folded: Adoption) -> str | None:
    """The kept item's notes, then the folded item's (labelled), unless they say the same."""
    mine, theirs = _text(kept.notes), _text(folded.notes)
    if theirs is None or (mine is not None and theirs in mine):
        return kept.notes
    if mine is None:
        return folded.notes
    return f"{kept.notes}\n\nFrom the {folded.solution.code} plan item: {folded.notes}"


def _fold_plan_item(session: Session, fold: AdoptionFold, why: str, event: dict[str, Any]) -> None:
    """Fold the unit's duplicate item into its survivor item, which stays the one live item.

    The live item takes the earliest implementation (status, effective date), the blanks it
    lacks (owner, due date, challenge; the notes of both are kept), the duplicate item's history
    and checklist, and records a "merge" event with every field it changed. The duplicate item
    stays, unchanged, as the record of what it was, pointing at the live item.
    """
    live, folded = fold.survivor_item, fold.duplicate_item
    before = _item_values(live)
    was = {**_item_values(folded), "id": folded.id, "created_at": folded.created_at.isoformat()}
    if fold.takes_duplicate_implementation:
        live.status = AdoptionStatus.IMPLEMENTED
        live.effective_on = folded.effective_on
        live.status_reason = None
        live.status_changed_at = folded.status_changed_at or utcnow()
    live.owner = live.owner or folded.owner
    live.due_on = live.due_on or folded.due_on
    if live.challenge is None:
        live.challenge = folded.challenge
    live.notes = _both_notes(live, folded)
    for history in list(folded.events):
        history.adoption = live
    # The folded item's checklist joins the live one's, after it; a step both have is kept
    # once, ticked if either ticked it.
    known = {step.text: step for step in live.steps}
    position = max((step.position for step in live.steps), default=0)
    for step in list(folded.steps):
        same = known.get(step.text)
        if same is not None:
            if same.done_at is None and step.done_at is not None:
                same.done_at, same.done_by_id = step.done_at, step.done_by_id
            continue
        position += 1
        step.adoption = live
        step.position = position
    folded.merged_into = live
    after = _item_values(live)
    changes: dict[str, Any] = {
        name: [before[name], after[name]] for name in before if before[name] != after[name]
    }
    changes["folded_item"] = [was, None]  # what the folded item was; it is no longer a plan item
    session.add(
        AdoptionEvent(
            adoption=live,
            changes=changes,
            note=f"Folded in this unit's {was['solution']} plan item ({was['status']}). {why}",
            **event,
        )
    )


def merge_solutions(
    duplicate: Solution,
    survivor: Solution,
    user: Any,
    note: str | None = None,
    *,
    commit: bool = True,
) -> SolutionMerge:
    """Fold ``duplicate`` into ``survivor`` and retire it; returns what moved.

    The survivor gains the duplicate's challenges, plan items, votes and follows (one per
    person), comments and "we tried it" reports. A unit with plan items for both ends with one
    live item on the survivor that keeps both histories and the earliest implementation; the
    other item stays as the record of the merge (see :class:`AdoptionFold`): no plan item is
    ever deleted. Every plan item
    that changes records a "merge" event in its history. The duplicate is retired and points at
    the survivor, so its old code leads there.
    """
    session = session_of(duplicate)
    plan = plan_solution_merge(duplicate, survivor)
    with change_transaction(session, commit):
        for challenge in plan.challenges_added:
            survivor.challenges.append(challenge)
        why = f"{duplicate.code} merged into {survivor.code}" + (
            f": {_text(note)}" if _text(note) else "."
        )
        # Who and when, shared by the history event of every plan item the merge changes.
        event = {
            "user_id": getattr(user, "id", None),
            "actor": getattr(user, "email", None) or "system",
            "action": "merge",
            "at": utcnow(),
        }
        for fold in plan.adoptions_folded:
            _fold_plan_item(session, fold, why, event)
        folded_details = [
            {
                "unit": fold.unit.code,
                "live_item": fold.survivor_item.id,
                "folded_item": fold.duplicate_item.id,
                "status": fold.survivor_item.status.value,
            }
            for fold in plan.adoptions_folded
        ]
        for adoption in plan.adoptions_moved:
            adoption.solution = survivor
            session.add(
                AdoptionEvent(
                    adoption=adoption,
                    changes={"solution": [duplicate.code, survivor.code]},
                    note=why,
                    **event,
                )
            )
        if plan.votes_dropped:
            session.execute(
                delete(Vote)
                .where(
                    Vote.solution_id == duplicate.id,
                    Vote.user_id.in_(
                        select(Vote.user_id)
                        .where(Vote.solution_id == survivor.id)
                        .scalar_subquery()
                    ),
                )
                .execution_options(synchronize_session="fetch")
            )
        session.execute(
            update(Vote)
            .where(Vote.solution_id == duplicate.id)
            .values(solution_id=survivor.id)
            .execution_options(synchronize_session="fetch")
        )
        session.execute(
            update(Comment)
            .where(Comment.solution_id == duplicate.id)
            .values(solution_id=survivor.id)
            .execution_options(synchronize_session="fetch")
        )
        _move_follows(session, duplicate, survivor)
        for earlier in plan.merged_earlier:
            earlier.merged_into = survivor
        previous = duplicate.status
        duplicate.status = SolutionStatus.RETIRED
        duplicate.merged_into = survivor
        duplicate.reviewed_by_id = getattr(user, "id", None)
        duplicate.reviewed_at = utcnow()
        duplicate.review_note = _text(note) or f"Merged into {survivor.code}."
        if plan.touches_impact:
            bump_data_version(session)
        record(
            session,
            "solution.merge",
            "solution",
            duplicate.id,
            user=user,
            details={
                "code": duplicate.code,
                "into": survivor.code,
                "from": previous.value,
                "challenges_added": [c.code for c in plan.challenges_added],
                "adoptions_moved": len(plan.adoptions_moved),
                "adoptions_folded": folded_details,
                "votes_moved": plan.votes_moved,
                "votes_dropped": plan.votes_dropped,
                "comments_moved": plan.comments_moved,
                "follows_moved": plan.follows_moved,
            },
        )
    return plan


def _move_follows(session: Session, duplicate: Solution, survivor: Solution) -> None:
    """The duplicate's followers follow the survivor (each once)."""
    session.execute(
        delete(Follow)
        .where(
            Follow.solution_id == duplicate.id,
            Follow.user_id.in_(
                select(Follow.user_id).where(Follow.solution_id == survivor.id).scalar_subquery()
            ),
        )
        .execution_options(synchronize_session="fetch")
    )
    session.execute(
        update(Follow)
        .where(Follow.solution_id == duplicate.id)
        .values(solution_id=survivor.id)
        .execution_options(synchronize_session="fetch")
    )


def resolve_merged(solution: Solution) -> Solution:
    """The solution a merged one now lives in (following chains), or ``solution`` itself."""
    seen = {solution.id}
    current = solution
    while current.merged_into is not None and current.merged_into.id not in seen:
        current = current.merged_into
        seen.add(current.id)
    return current


def merge_candidates(session: Session, duplicate: Solution, limit: int = 20) -> list[Solution]:
    """Approved solutions that share a challenge with ``duplicate``: the likely survivors."""
    challenge_ids = [challenge.id for challenge in duplicate.challenges]
    if not challenge_ids:
        return []
    return list(
        session.scalars(
            select(Solution)
            .where(
                Solution.status == SolutionStatus.APPROVED,
                Solution.id != duplicate.id,
                Solution.challenges.any(Challenge.id.in_(challenge_ids)),
            )
            .order_by(Solution.title)
            .limit(limit)
        )
    )


def solution_by_code(session: Session, code: str) -> Solution | None:
    """A solution by its code, with the relations the curation pages use."""
    return session.scalar(
        select(Solution)
        .where(Solution.code == code)
        .options(selectinload(Solution.challenges), selectinload(Solution.merged_into))
    )
