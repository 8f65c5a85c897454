"""Reading the taxonomy for the pages: the challenge tree and one challenge with its solutions."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from cxactions.extensions import db
from cxactions.library.models import Solution, SolutionStatus, solution_challenges
from cxactions.taxonomy.models import Challenge, ChallengeStatus


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


def solution_counts(challenge_ids: Collection[int] | None = None) -> dict[int, int]:
    """Approved solutions per challenge id, in one aggregated query."""
    query = (
        select(solution_challenges.c.challenge_id, func.count())
        .join(Solution, Solution.id == solution_challenges.c.solution_id)
        .where(Solution.status == SolutionStatus.APPROVED)
        .group_by(solution_challenges.c.challenge_id)
    )
    if challenge_ids is not None:
        query = query.where(solution_challenges.c.challenge_id.in_(list(challenge_ids)))
    return {challenge_id: int(count) for challenge_id, count in db.session.execute(query)}


def challenge_tree(*, include_retired: bool = False) -> list[ChallengeNode]:
    """Categories with their challenges below them, in curated order (two queries in all).

    Retired challenges, and everything below them, are left out unless ``include_retired``.
    """
    challenges = list(
        db.session.scalars(select(Challenge).order_by(Challenge.position, Challenge.name))
    )
    counts = solution_counts()
    nodes = {
        challenge.id: ChallengeNode(challenge, counts.get(challenge.id, 0))
        for challenge in challenges
        if include_retired or challenge.status == ChallengeStatus.ACTIVE
    }
    roots: list[ChallengeNode] = []
    for challenge in challenges:
        node = nodes.get(challenge.id)
        if node is None:
            continue
        if challenge.parent_id is None:
            roots.append(node)
        elif challenge.parent_id in nodes:
            nodes[challenge.parent_id].children.append(node)
        # else: its parent is retired and hidden, so the whole branch is hidden with it.
    return _without_cycles(roots)


def _without_cycles(roots: list[ChallengeNode]) -> list[ChallengeNode]:
    """Imported data may loop (A under B under A); such nodes never reach a root, so they are
    already absent. This guards the other case: a node reachable twice."""
    seen: set[int] = set()

    def prune(node: ChallengeNode) -> None:
        seen.add(node.challenge.id)
        node.children = [child for child in node.children if child.challenge.id not in seen]
        for child in node.children:
            prune(child)

    for root in roots:
        prune(root)
    return roots


def get_challenge(code: str) -> Challenge | None:
    """The challenge with two levels of children loaded (the page lists both)."""
    return db.session.scalar(
        select(Challenge)
        .where(Challenge.code == code)
        .options(selectinload(Challenge.children).selectinload(Challenge.children))
    )


def breadcrumb(challenge: Challenge) -> list[Challenge]:
    """From the top category down to the challenge's parent."""
    chain: list[Challenge] = []
    seen = {challenge.id}
    node = challenge.parent
    while node is not None and node.id not in seen:
        seen.add(node.id)
        chain.append(node)
        node = node.parent
    return list(reversed(chain))


def challenge_page(challenge: Challenge, *, include_retired: bool = False) -> ChallengePage:
    """Everything the challenge page shows: where it sits, what is below it, what addresses it."""

    def visible(items: list[Challenge]) -> list[Challenge]:
        return [item for item in items if include_retired or item.status == ChallengeStatus.ACTIVE]

    children = visible(challenge.children)
    below = [grandchild for child in children for grandchild in visible(child.children)]
    counts = solution_counts([item.id for item in children + below]) if children else {}
    nodes = [
        ChallengeNode(
            child,
            counts.get(child.id, 0),
            [ChallengeNode(item, counts.get(item.id, 0)) for item in visible(child.children)],
        )
        for child in children
    ]
    solutions = list(
        db.session.scalars(
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
        db.session.get(Challenge, challenge.merged_into_id) if challenge.merged_into_id else None
    )
    return ChallengePage(
        challenge=challenge,
        breadcrumb=breadcrumb(challenge),
        children=nodes,
        solutions=solutions,
        merged_into=merged_into,
    )
