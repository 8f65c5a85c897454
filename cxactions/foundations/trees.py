"""Adjacency trees: every row points at its parent (``parent_id``), as units and challenges do.

Both trees come from imported data, which may loop (A under B under A): every walk here stops
at a loop instead of hanging, and ``find_cycles`` names the loops for the checks that refuse
them. Generic over the model: rows need an ``id`` and a ``parent_id`` column (and a ``parent``
relationship for ``ancestors``).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from typing import Any, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)


def subtree_select(model: Any, root_ids: Iterable[int] | Select) -> Select:
    """A SELECT of the ids of the given rows and every row below them, to use in ``in_()``.

    ``model`` is a mapped class or a table; ``root_ids`` the ids, or a SELECT of them. A
    recursive CTE on SQLite and PostgreSQL: UNION (not UNION ALL) stops at loops in the data.
    """
    columns = getattr(model, "__table__", model).c
    roots = root_ids if isinstance(root_ids, Select) else list(root_ids)
    tree = select(columns.id).where(columns.id.in_(roots)).cte("subtree", recursive=True)
    tree = tree.union(select(columns.id).where(columns.parent_id == tree.c.id))
    return select(tree.c.id)


def subtree_ids(session: Session, model: Any, root_ids: Iterable[int] | Select) -> set[int]:
    """The ids of the given rows and every row below them (no query for no roots)."""
    roots = root_ids if isinstance(root_ids, Select) else list(root_ids)
    if not isinstance(roots, Select) and not roots:
        return set()
    return set(session.scalars(subtree_select(model, roots)))


def ancestors(item: Any, *, include_self_on_cycle: bool = False) -> list[Any]:
    """From the top of the item's tree down to its parent (the breadcrumb), following the
    loaded ``parent`` relationship; a loop ends the chain. On a loop the item itself is listed
    only with ``include_self_on_cycle``."""
    chain: list[Any] = []
    seen: set[Any] = set() if include_self_on_cycle else {item.id}
    node = item.parent
    while node is not None and node.id not in seen:
        seen.add(node.id)
        chain.append(node)
        node = node.parent
    chain.reverse()
    return chain


def arrange(
    items: Iterable[T],
    *,
    key: Callable[[T], Hashable],
    parent_key: Callable[[T], Hashable | None],
    orphans_are_roots: bool = False,
) -> tuple[list[T], dict[Hashable, list[T]]]:
    """``items`` as trees: the roots, and the children by their parent's key, in items' order.

    An item whose parent is not among ``items`` is a root when ``orphans_are_roots``; otherwise
    it is left out, with everything below it. Items on a loop never reach a root.
    """
    items = list(items)
    keys = {key(item) for item in items}
    roots: list[T] = []
    children: dict[Hashable, list[T]] = {}
    for item in items:
        parent = parent_key(item)
        if parent is not None and parent in keys:
            children.setdefault(parent, []).append(item)
        elif parent is None or orphans_are_roots:
            roots.append(item)
    return roots, children


def walk(
    roots: Iterable[T], children: Mapping[Hashable, list[T]], key: Callable[[T], Hashable]
) -> Iterator[tuple[T, int]]:
    """Every item reachable from ``roots`` with its depth (roots are 0), depth first, each once:
    a loop in the data cannot hang it."""
    seen: set[Hashable] = set()
    stack = [(root, 0) for root in reversed(list(roots))]
    while stack:
        item, depth = stack.pop()
        item_key = key(item)
        if item_key in seen:
            continue
        seen.add(item_key)
        yield item, depth
        stack.extend((child, depth + 1) for child in reversed(children.get(item_key, [])))


def find_cycles(parents: Mapping[K, K | None], starts: Iterable[K]) -> dict[K, list[K]]:
    """The keys among ``starts`` that sit on a parent cycle, each with its cycle read from
    itself (``[A, B, C]`` for A under B under C under A), in the order the cycles are found.

    ``parents`` maps a key to its parent's key; ``None``, or a key it does not hold, ends a
    chain.
    """
    starts = list(starts)
    found: dict[K, list[K]] = {}
    done: set[K] = set()
    for start in starts:
        path: list[K] = []
        on_path: dict[K, int] = {}
        node: K | None = start
        while node is not None and node not in done and node not in on_path:
            on_path[node] = len(path)
            path.append(node)
            node = parents.get(node)
        if node is not None and node in on_path:
            cycle = path[on_path[node] :]
            for member in cycle:
                at = cycle.index(member)
                found.setdefault(member, cycle[at:] + cycle[:at])
        done.update(path)
    wanted = set(starts)
    return {key: cycle for key, cycle in found.items() if key in wanted}
