"""The taxonomy's rules: the challenge tree and one challenge with its solutions for the pages,
and the curators' changes (create, edit, move, retire, merge, map solutions), each audited and
transactional."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from cxactions.audit.services import record
from cxactions.foundations import trees
from cxactions.foundations.changes import (
    RefusedChange,
    change_transaction,
    check_merge_pair,
    session_of,
)
from cxactions.foundations.codes import check_new_code, code_from_name
from cxactions.foundations.translation import in_reader_language
from cxactions.foundations.vocabulary import label_of
from cxactions.library.models import Solution, SolutionStatus, solution_challenges
from cxactions.plans.models import Adoption
from cxactions.taxonomy.models import Challenge, ChallengeSignal, ChallengeStatus


@dataclass
class ChallengeNode:
    """A challenge in the tree with the number of approved solutions that address it."""

    challenge: Challenge
    solution_count: int = 0
    children: list[ChallengeNode] = field(default_factory=list)

    @property
    def is_gap(self) -> bool:
        """A challenge (not a category) that no approved solution addresses."""
        return not self.children and self.solution_count == 0

    @property
    def gap_count(self) -> int:
        return sum(child.is_gap + child.gap_count for child in self.children)

    @property
    def challenge_count(self) -> int:
        return sum(1 + child.challenge_count for child in self.children)


@dataclass
class ChallengePage:
    challenge: Challenge
    breadcrumb: list[Challenge]
    children: list[ChallengeNode]
    solutions: list[Solution]
    merged_into: Challenge | None


def solution_counts(
    session: Session, challenge_ids: Collection[int] | None = None
) -> dict[int, int]:
    """Approved solutions per challenge id, in one aggregated query."""
    query = (
        select(solution_challenges.c.challenge_id, func.count())
        .join(Solution, Solution.id == solution_challenges.c.solution_id)
        .where(Solution.status == SolutionStatus.APPROVED)
        .group_by(solution_challenges.c.challenge_id)
    )
    if challenge_ids is not None:
        query = query.where(solution_challenges.c.challenge_id.in_(list(challenge_ids)))
    return {challenge_id: int(count) for challenge_id, count in session.execute(query)}


def challenge_tree(session: Session, *, include_retired: bool = False) -> list[ChallengeNode]:
    """Categories with their challenges below them, in curated order (two queries in all).

    Retired challenges, and everything below them, are left out unless ``include_retired``.
    """
    challenges = list(
        session.scalars(select(Challenge).order_by(Challenge.position, Challenge.name))
    )
    counts = solution_counts(session)
    # A challenge whose parent is retired and hidden is hidden with its whole branch; imported
    # data may loop (A under B under A): such challenges never reach a root.
    roots, children = trees.arrange(
        (
            ChallengeNode(challenge, counts.get(challenge.id, 0))
            for challenge in challenges
            if include_retired or challenge.status == ChallengeStatus.ACTIVE
        ),
        key=_node_id,
        parent_key=lambda node: node.challenge.parent_id,
        orphans_are_roots=False,
    )
    for node, _depth in trees.walk(roots, children, _node_id):
        node.children = children.get(node.challenge.id, [])
    return roots


def _node_id(node: ChallengeNode) -> int:
    return node.challenge.id


def get_challenge(session: Session, code: str) -> Challenge | None:
    """The challenge with two levels of children loaded (the page lists both)."""
    return session.scalar(
        select(Challenge)
        .where(Challenge.code == code)
        .options(selectinload(Challenge.children).selectinload(Challenge.children))
    )


def breadcrumb(challenge: Challenge) -> list[Challenge]:
    """From the top category down to the challenge's parent."""
    return trees.ancestors(challenge)


def challenge_page(
    session: Session, challenge: Challenge, *, include_retired: bool = False
) -> ChallengePage:
    """Everything the challenge page shows: where it sits, what is below it, what addresses it."""

    def visible(items: list[Challenge]) -> list[Challenge]:
        return [item for item in items if include_retired or item.status == ChallengeStatus.ACTIVE]

    children = visible(challenge.children)
    below = [grandchild for child in children for grandchild in visible(child.children)]
    counts = solution_counts(session, [item.id for item in children + below]) if children else {}
    nodes = [
        ChallengeNode(
            child,
            counts.get(child.id, 0),
            [ChallengeNode(item, counts.get(item.id, 0)) for item in visible(child.children)],
        )
        for child in children
    ]
    solutions = list(
        session.scalars(
            select(Solution)
            .join(solution_challenges, solution_challenges.c.solution_id == Solution.id)
            .where(
                solution_challenges.c.challenge_id == challenge.id,
                Solution.status == SolutionStatus.APPROVED,
            )
            .order_by(Solution.title)
        )
    )
    merged_into = (
        session.get(Challenge, challenge.merged_into_id) if challenge.merged_into_id else None
    )
    return ChallengePage(
        challenge=challenge,
        breadcrumb=breadcrumb(challenge),
        children=nodes,
        solutions=solutions,
        merged_into=merged_into,
    )


# --- Curation: create, edit and merge challenges ----------------------------------------------
#
# Like the library's curation services: check everything, then write, audit and commit (or
# raise ``RefusedChange`` having written nothing). The search index follows the commit.

NAME_MAX = 200
CHALLENGE_FIELDS = {
    "name",
    "description",
    "name_fr",
    "description_fr",
    "keywords",
    "parent",
    "status",
}
# A new challenge starts active; its code is given or made from its name.
CREATE_FIELDS = (CHALLENGE_FIELDS - {"status"}) | {"code"}
RESERVED_CODES = {"new"}  # /challenges/new is the creation page
ACTIVE = ChallengeStatus.ACTIVE


def challenge_options(
    session: Session, *, exclude: Collection[int] = ()
) -> list[tuple[str, str, bool, str]]:
    """Every challenge as ``(code, label with its path, active, lang)`` in tree order, for
    forms: the names in the reader's language (``lang``: the challenge's own name's language).

    Challenges in ``exclude`` (and everything below them) are left out.
    """
    rows = list(session.scalars(select(Challenge).order_by(Challenge.position, Challenge.name)))
    ids = {row.id for row in rows}
    by_parent: dict[int | None, list[Challenge]] = {}
    for row in rows:
        by_parent.setdefault(row.parent_id if row.parent_id in ids else None, []).append(row)
    options: list[tuple[str, str, bool, str]] = []
    seen: set[int] = set(exclude)

    def walk(parent_id: int | None, path: list[str]) -> None:
        for row in by_parent.get(parent_id, []):
            if row.id in seen:
                continue
            seen.add(row.id)
            name, lang = in_reader_language(row.name, row.name_fr)
            label = " › ".join([*path, name or row.code])
            options.append((row.code, label, row.status == ACTIVE, lang))
            walk(row.id, [*path, name or row.code])

    walk(None, [])
    return options


def subtree_ids(session: Session, *challenge_ids: int) -> set[int]:
    """The challenges and every challenge below them (a recursive CTE on SQLite and
    PostgreSQL; UNION stops at loops in imported data)."""
    return trees.subtree_ids(session, Challenge, challenge_ids)


def _keywords(value: object) -> str | None:
    """One keyword per line (a string or a list), trimmed, without repeats (ignoring case)."""
    if value is None:
        return None
    items = value.splitlines() if isinstance(value, str) else [str(item) for item in value]
    kept: dict[str, str] = {}
    for item in items:
        word = item.strip()
        if word and word.casefold() not in kept:
            kept[word.casefold()] = word
    return "\n".join(kept.values()) or None


def _text(value: object) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def _next_position(session: Session, parent_id: int | None, *, leaving: int | None = None) -> int:
    query = select(func.max(Challenge.position)).where(
        Challenge.parent_id.is_(None) if parent_id is None else Challenge.parent_id == parent_id
    )
    if leaving is not None:
        query = query.where(Challenge.id != leaving)
    highest = session.scalar(query)
    return 0 if highest is None else highest + 1


def _clean_challenge_data(
    session: Session,
    data: Mapping[str, Any],
    *,
    challenge: Challenge | None,
    allowed: Collection[str],
) -> tuple[dict[str, Any], Challenge | None]:
    """Validated, normalised values for the keys present in ``data`` (the name always when
    creating, that is when ``challenge`` is None), and the parent the challenge would have.

    The one place the rules of a challenge's fields live, for the edit and the creation.
    """
    unknown = set(data) - set(allowed)
    if unknown:
        raise RefusedChange(
            ngettext(
                "Unknown challenge field: %(fields)s.",
                "Unknown challenge fields: %(fields)s.",
                len(unknown),
                fields=", ".join(sorted(unknown)),
            )
        )
    creating = challenge is None
    wanted: dict[str, Any] = {}
    if creating or "name" in data:
        name = _text(data.get("name"))
        if name is None:
            raise RefusedChange(_("A challenge needs a name."), "name")
        if len(name) > NAME_MAX:
            raise RefusedChange(
                _(
                    "The name is %(length)d characters long; keep it to %(max)d.",
                    length=len(name),
                    max=NAME_MAX,
                ),
                "name",
            )
        wanted["name"] = name
    if "description" in data:
        wanted["description"] = _text(data["description"])
    if "name_fr" in data:
        name_fr = _text(data["name_fr"])
        if name_fr is not None and len(name_fr) > NAME_MAX:
            raise RefusedChange(
                _(
                    "The French name is %(length)d characters long; keep it to %(max)d.",
                    length=len(name_fr),
                    max=NAME_MAX,
                ),
                "name_fr",
            )
        wanted["name_fr"] = name_fr
    if "description_fr" in data:
        wanted["description_fr"] = _text(data["description_fr"])
    if "keywords" in data:
        wanted["keywords"] = _keywords(data["keywords"])
    status = challenge.status if challenge is not None else ACTIVE
    if "status" in data:
        try:
            status = ChallengeStatus(getattr(data["status"], "value", data["status"]))
        except ValueError:
            raise RefusedChange(
                _(
                    "The status “%(status)s” is not one of: active, retired.",
                    status=data["status"],
                ),
                "status",
            ) from None
        if challenge is not None and status == ACTIVE and challenge.merged_into_id is not None:
            into = session.get(Challenge, challenge.merged_into_id)
            raise RefusedChange(
                _(
                    "%(code)s was merged into %(into)s; it stays retired.",
                    code=challenge.code,
                    into=into.code,
                )
                if into
                else _(
                    "%(code)s was merged into another challenge; it stays retired.",
                    code=challenge.code,
                ),
                "status",
            )
        if (
            challenge is not None
            and status == ChallengeStatus.RETIRED
            and challenge.status == ACTIVE
        ):
            active_children = [child.code for child in challenge.children if child.status == ACTIVE]
            if active_children:
                raise RefusedChange(
                    _(
                        "%(code)s still has active sub-challenges (%(children)s): move, merge or "
                        "retire them first.",
                        code=challenge.code,
                        children=", ".join(active_children),
                    ),
                    "status",
                )
        wanted["status"] = status
    parent = challenge.parent if challenge is not None else None
    if "parent" in data:
        parent_code = getattr(data["parent"], "code", None) or _text(data["parent"])
        parent = None
        if parent_code is not None:
            parent = session.scalar(select(Challenge).where(Challenge.code == parent_code))
            if parent is None:
                raise RefusedChange(
                    _("There is no challenge with the code “%(code)s”.", code=parent_code),
                    "parent",
                )
            if challenge is not None and parent.id in subtree_ids(session, challenge.id):
                raise RefusedChange(
                    _(
                        "%(code)s cannot go under %(parent)s: a challenge cannot be its own "
                        "parent.",
                        code=challenge.code,
                        parent=parent.code,
                    )
                    if parent.id == challenge.id
                    else _(
                        "%(code)s cannot go under %(parent)s: %(parent)s is below %(code)s, "
                        "which would make a loop.",
                        code=challenge.code,
                        parent=parent.code,
                    ),
                    "parent",
                )
    # A new challenge, one moved or one made active again must not hide under a retired parent.
    placed = creating or (parent.id if parent else None) != challenge.parent_id
    reactivated = not creating and status == ACTIVE and challenge.status != ACTIVE
    if (
        parent is not None
        and parent.status != ACTIVE
        and status == ACTIVE
        and (placed or reactivated)
    ):
        raise RefusedChange(
            _(
                "%(code)s is retired: an active challenge under it would be hidden.",
                code=parent.code,
            ),
            "parent",
        )
    return wanted, parent


def create_challenge(
    session: Session, data: Mapping[str, Any], user: Any = None, *, commit: bool = True
) -> Challenge:
    """Add a challenge, or a top-level category when it has no parent, last among its
    siblings; returns it.

    ``data`` holds ``name`` (required), ``code`` (made from the name when empty; unique
    ignoring case), ``description``, ``name_fr``, ``description_fr``, ``keywords`` (one per
    line) and ``parent`` (a code, or empty for a top-level category).
    """
    wanted, parent = _clean_challenge_data(session, data, challenge=None, allowed=CREATE_FIELDS)
    code = _text(data.get("code"))
    code = (
        check_new_code(session, Challenge.code, code, noun="challenge", reserved=RESERVED_CODES)
        if code
        else code_from_name(
            session, Challenge.code, wanted["name"], fallback="CHALLENGE", reserved=RESERVED_CODES
        )
    )
    position = _next_position(session, parent.id if parent else None)
    with change_transaction(session, commit):
        challenge = Challenge(code=code, status=ACTIVE, position=position, **wanted)
        challenge.parent = parent
        session.add(challenge)
        try:
            session.flush()
        except IntegrityError as error:  # another curator took the code a moment ago
            raise RefusedChange(
                _(
                    "The code “%(code)s” was just taken by another challenge; choose another.",
                    code=code,
                ),
                "code",
            ) from error
        record(
            session,
            "challenge.create",
            "challenge",
            challenge.id,
            user=user,
            details={
                "code": code,
                "name": challenge.name,
                "parent": parent.code if parent else None,
                "position": position,
            },
        )
    return challenge


def update_challenge(
    challenge: Challenge, data: Mapping[str, Any], user: Any = None, *, commit: bool = True
) -> list[str]:
    """Edit a challenge: ``name``, ``description``, ``name_fr`` and ``description_fr`` (the
    French ones, optional), ``keywords`` (one per line), ``parent`` (a code, or empty for a
    top-level category) and ``status``; returns the changed fields.

    Keys absent from ``data`` are left alone; changing nothing writes nothing.
    """
    session = session_of(challenge)
    wanted, parent = _clean_challenge_data(
        session, data, challenge=challenge, allowed=CHALLENGE_FIELDS
    )
    moved = (parent.id if parent else None) != challenge.parent_id
    changed = [name for name, value in wanted.items() if getattr(challenge, name) != value]
    if moved:
        changed.append("parent")
    if not changed:
        return []
    details: dict[str, Any] = {"code": challenge.code, "fields": changed}
    for name in ("name", "name_fr", "status"):
        if name in changed:
            details[name] = {
                "from": _plain(getattr(challenge, name)),
                "to": _plain(wanted[name]),
            }
    if moved:
        details["parent"] = {
            "from": challenge.parent.code if challenge.parent else None,
            "to": parent.code if parent else None,
        }
    with change_transaction(session, commit):
        for name, value in wanted.items():
            setattr(challenge, name, value)
        if moved:
            challenge.position = _next_position(
                session, parent.id if parent else None, leaving=challenge.id
            )
            challenge.parent = parent
        record(session, "challenge.update", "challenge", challenge.id, user=user, details=details)
    return changed


def _plain(value: object) -> object:
    return getattr(value, "value", value)


@dataclass
class ChallengeMerge:
    """What merging ``source`` into ``target`` moves, for the confirmation page."""

    source: Challenge
    target: Challenge
    solutions_moved: list[Solution]  # mapped to the source; the target gains them
    solutions_shared: list[Solution]  # mapped to both already
    adoptions_moved: int
    children_moved: list[Challenge]
    signals_moved: list[ChallengeSignal]
    signals_dropped: list[ChallengeSignal]  # the target watches the same metric the same way
    keywords_added: list[str]
    merged_earlier: list[Challenge]  # challenges merged into the source, now into the target


def plan_challenge_merge(source: Challenge, target: Challenge) -> ChallengeMerge:
    """Check that ``source`` may be merged into ``target`` and say what would move."""
    session = session_of(source)
    check_merge_pair(source, target, noun="challenge", field="target")
    if target.status != ACTIVE:
        raise RefusedChange(
            _("%(code)s is retired: merge into an active challenge.", code=target.code), "target"
        )
    if target.id in subtree_ids(session, source.id):
        raise RefusedChange(
            _(
                "%(target)s is below %(source)s: merge it the other way round, or move it out "
                "first.",
                target=target.code,
                source=source.code,
            ),
            "target",
        )
    target_solutions = {solution.id for solution in target.solutions}
    watched = {(signal.metric_id, signal.direction) for signal in target.signals}
    target_words = {word.casefold() for word in target.keyword_list}
    return ChallengeMerge(
        source=source,
        target=target,
        solutions_moved=[s for s in source.solutions if s.id not in target_solutions],
        solutions_shared=[s for s in source.solutions if s.id in target_solutions],
        adoptions_moved=int(
            session.scalar(
                select(func.count()).select_from(Adoption).where(Adoption.challenge_id == source.id)
            )
            or 0
        ),
        children_moved=list(source.children),
        signals_moved=[s for s in source.signals if (s.metric_id, s.direction) not in watched],
        signals_dropped=[s for s in source.signals if (s.metric_id, s.direction) in watched],
        keywords_added=[w for w in source.keyword_list if w.casefold() not in target_words],
        merged_earlier=list(
            session.scalars(select(Challenge).where(Challenge.merged_into_id == source.id))
        ),
    )


def merge_challenges(
    source: Challenge, target: Challenge, user: Any = None, *, commit: bool = True
) -> ChallengeMerge:
    """Fold ``source`` into ``target`` and retire it; returns what moved.

    The target gains the source's solutions, adoptions, sub-challenges, signals and keywords;
    the source is retired and points at the target.
    """
    session = session_of(source)
    plan = plan_challenge_merge(source, target)
    with change_transaction(session, commit):
        for solution in plan.solutions_moved:
            solution.challenges.append(target)
        for solution in plan.solutions_moved + plan.solutions_shared:
            solution.challenges.remove(source)
        session.execute(
            update(Adoption)
            .where(Adoption.challenge_id == source.id)
            .values(challenge_id=target.id)
            .execution_options(synchronize_session="fetch")
        )
        position = _next_position(session, target.id)
        for offset, child in enumerate(plan.children_moved):
            child.parent = target
            child.position = position + offset
        for signal in plan.signals_dropped:
            source.signals.remove(signal)  # delete-orphan: the row goes
        for signal in plan.signals_moved:
            signal.challenge = target
        if plan.keywords_added:
            target.keywords = _keywords([*target.keyword_list, *plan.keywords_added])
        for earlier in plan.merged_earlier:
            earlier.merged_into_id = target.id
        previous = source.status
        source.status = ChallengeStatus.RETIRED
        source.merged_into_id = target.id
        record(
            session,
            "challenge.merge",
            "challenge",
            source.id,
            user=user,
            details={
                "code": source.code,
                "into": target.code,
                "from": previous.value,
                "solutions_moved": [s.code for s in plan.solutions_moved],
                "adoptions_moved": plan.adoptions_moved,
                "children_moved": [c.code for c in plan.children_moved],
                "signals_moved": len(plan.signals_moved),
                "signals_dropped": len(plan.signals_dropped),
                "keywords_added": plan.keywords_added,
            },
        )
    return plan


# --- Mapping solutions from the challenge's side ----------------------------------------------
#
# The library maps a solution to its challenges (``update_solution``); here a curator does the
# same from the challenge. Both write the same rows, so the search index follows either way.

ADD_MAX = 50  # solution codes added in one save
SUGGESTIONS_MAX = 200  # approved solutions offered in the add field's list


def mappable_solutions(
    session: Session, challenge: Challenge, limit: int = SUGGESTIONS_MAX
) -> list[Solution]:
    """Approved solutions not mapped to the challenge yet, by title: at most ``limit``."""
    mapped = select(solution_challenges.c.solution_id).where(
        solution_challenges.c.challenge_id == challenge.id
    )
    return list(
        session.scalars(
            select(Solution)
            .where(Solution.status == SolutionStatus.APPROVED, Solution.id.not_in(mapped))
            .order_by(Solution.title, Solution.code)
            .limit(max(0, min(limit, SUGGESTIONS_MAX)))
        )
    )


def _codes(values: Iterable[object]) -> list[str]:
    """Codes (or rows with a code) trimmed, without blanks or repeats ignoring case."""
    kept: dict[str, str] = {}
    for value in values:
        code = _text(getattr(value, "code", value))
        if code is not None and code.lower() not in kept:
            kept[code.lower()] = code
    return list(kept.values())


def map_solutions(
    challenge: Challenge,
    add: Iterable[object] = (),
    remove: Iterable[object] = (),
    user: Any = None,
    *,
    commit: bool = True,
) -> tuple[list[str], list[str]]:
    """Map the solutions in ``add`` to the challenge and unmap those in ``remove`` (codes, any
    case), in one transaction; returns the codes added and the codes removed.

    Only approved solutions can be added, and not to a retired challenge (as from the
    solution's side); unknown codes are refused. Removing works on any mapped solution. A code
    in both stays mapped; codes already mapped (or already gone) change nothing, and changing
    nothing writes nothing.
    """
    session = session_of(challenge)
    wanted = _codes(add)
    if len(wanted) > ADD_MAX:
        raise RefusedChange(
            _(
                "That is %(count)d solutions at once; add at most %(max)d in one save.",
                count=len(wanted),
                max=ADD_MAX,
            ),
            "add",
        )
    current = {solution.code.lower(): solution for solution in challenge.solutions}
    new_codes = [code for code in wanted if code.lower() not in current]
    found = (
        {
            solution.code.lower(): solution
            for solution in session.scalars(
                select(Solution).where(
                    func.lower(Solution.code).in_([code.lower() for code in new_codes])
                )
            )
        }
        if new_codes
        else {}
    )
    unknown = [code for code in new_codes if code.lower() not in found]
    if unknown:
        raise RefusedChange(
            ngettext(
                "There is no solution with the code %(codes)s.",
                "There are no solutions with the codes %(codes)s.",
                len(unknown),
                codes=", ".join(unknown),
            ),
            "add",
        )
    added = [found[code.lower()] for code in new_codes]
    not_approved = [item for item in added if item.status != SolutionStatus.APPROVED]
    if not_approved:
        raise RefusedChange(
            ngettext(
                "%(codes)s is not approved: only approved solutions can be mapped here.",
                "%(codes)s are not approved: only approved solutions can be mapped here.",
                len(not_approved),
                codes=", ".join(
                    f"{item.code} ({label_of(item.status).lower()})" for item in not_approved
                ),
            ),
            "add",
        )
    if added and challenge.status != ACTIVE:
        raise RefusedChange(
            _(
                "%(code)s is retired: no solution can be newly mapped to it (unmapping still "
                "works).",
                code=challenge.code,
            ),
            "add",
        )
    unmapped = {code.lower() for code in _codes(remove)} - {code.lower() for code in wanted}
    removed = [solution for code, solution in current.items() if code in unmapped]
    if not added and not removed:
        return [], []
    with change_transaction(session, commit):
        for solution in removed:
            challenge.solutions.remove(solution)
        challenge.solutions.extend(added)
        try:
            session.flush()
        except IntegrityError as error:  # the same mapping was saved a moment ago elsewhere
            raise RefusedChange(
                _(
                    "Someone changed this challenge's solutions at the same time; reload the "
                    "page and try again."
                )
            ) from error
        record(
            session,
            "challenge.map_solutions",
            "challenge",
            challenge.id,
            user=user,
            details={
                "code": challenge.code,
                "added": [solution.code for solution in added],
                "removed": [solution.code for solution in removed],
            },
        )
    return [solution.code for solution in added], [solution.code for solution in removed]


# --- Signals: which metrics reveal a challenge ------------------------------------------------


def add_signal(
    session: Session,
    challenge: Challenge,
    metric_code: str,
    direction: str,
    threshold_kind: str,
    threshold: float,
    user: Any = None,
) -> ChallengeSignal:
    """Link ``challenge`` to a metric (or update the link with the same direction); committed.

    Raises :class:`RefusedChange` (nothing written) for an unknown metric, a direction or kind
    outside the vocabulary, or a threshold that makes no sense for its kind.
    """
    from cxactions.foundations.scales import (
        describe_scale,
        format_short,
        number_problem,
        on_scale,
    )
    from cxactions.foundations.vocabulary import (
        MetricKind,
        SignalDirection,
        ThresholdKind,
        threshold_problem,
    )
    from cxactions.surveys.models import Metric

    code = (metric_code or "").strip()
    # Codes are unique ignoring case: one lookup finds the metric or the one meant.
    metric = session.scalar(select(Metric).where(func.lower(Metric.code) == code.lower()))
    if metric is not None and metric.code != code and metric.kind != MetricKind.OUTCOME:
        raise RefusedChange(
            _(
                "There is no metric “%(code)s”: did you mean “%(known)s”? Codes are unique "
                "ignoring case.",
                code=code,
                known=metric.code,
            ),
            "metric",
        )
    if metric is None or metric.code != code or metric.kind == MetricKind.OUTCOME:
        raise RefusedChange(
            _(
                "There is no driver or operational metric “%(code)s”: metrics come from "
                "imported responses and operations.",
                code=metric_code,
            ),
            "metric",
        )
    if direction not in {item.value for item in SignalDirection}:
        raise RefusedChange(
            _("Choose whether the challenge shows when the metric is low or high."), "direction"
        )
    if threshold_kind not in {item.value for item in ThresholdKind}:
        raise RefusedChange(_("Choose how the threshold is measured."), "threshold_kind")
    problem = number_problem(threshold)
    if problem:
        raise RefusedChange(
            _("The threshold must be a finite number: %(problem)s.", problem=problem),
            "threshold",
        )
    threshold = float(threshold)
    problem = threshold_problem(threshold_kind, threshold)
    if problem:
        raise RefusedChange.from_phrase(problem, "threshold")
    scale = (metric.scale_min, metric.scale_max)
    if threshold_kind == ThresholdKind.ABSOLUTE.value and not on_scale(threshold, *scale):
        raise RefusedChange(
            _(
                "An absolute threshold is a value of %(metric)s: %(threshold)s is outside its "
                "scale (%(scale)s).",
                metric=metric.code,
                threshold=format_short(threshold),
                scale=describe_scale(*scale),
            ),
            "threshold",
        )
    with change_transaction(session, True):
        signal = session.scalar(
            select(ChallengeSignal).where(
                ChallengeSignal.challenge_id == challenge.id,
                ChallengeSignal.metric_id == metric.id,
                ChallengeSignal.direction == SignalDirection(direction),
            )
        )
        action = "signal.update" if signal is not None else "signal.add"
        if signal is None:
            signal = ChallengeSignal(
                challenge_id=challenge.id, metric_id=metric.id, direction=SignalDirection(direction)
            )
            session.add(signal)
        signal.threshold_kind = ThresholdKind(threshold_kind)
        signal.threshold = float(threshold)
        session.flush()
        record(
            session,
            action,
            "challenge",
            challenge.id,
            user=user,
            details={
                "code": challenge.code,
                "metric": metric.code,
                "direction": direction,
                "threshold_kind": threshold_kind,
                "threshold": float(threshold),
            },
        )
    return signal


def remove_signal(session: Session, challenge: Challenge, signal_id: int, user: Any = None) -> None:
    """Unlink one of the challenge's signals; committed. Unknown ids are a RefusedChange."""
    signal = session.get(ChallengeSignal, signal_id)
    if signal is None or signal.challenge_id != challenge.id:
        raise RefusedChange(_("That signal is not linked to this challenge (any more)."))
    with change_transaction(session, True):
        record(
            session,
            "signal.remove",
            "challenge",
            challenge.id,
            user=user,
            details={
                "code": challenge.code,
                "metric": signal.metric.code,
                "direction": signal.direction.value,
            },
        )
        session.delete(signal)


def signal_metrics(session: Session) -> list:
    """The metrics a signal may watch: drivers and operational inputs, by code."""
    from cxactions.foundations.vocabulary import MetricKind
    from cxactions.surveys.models import Metric

    return list(
        session.scalars(
            select(Metric).where(Metric.kind != MetricKind.OUTCOME).order_by(Metric.code)
        )
    )
