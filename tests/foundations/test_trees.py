"""The tree helper shared by units and challenges: subtrees, ancestors, forests and cycles."""

from __future__ import annotations

import sqlalchemy as sa

from cxactions.foundations import trees
from cxactions.units.models import Unit
from tests.factories import challenge, unit_tree


def _loop_d1_under_s1(db, units: dict[str, Unit]) -> None:
    """Imported data gone wrong: D1 under its own store S1 (D1 → S1 → D1)."""
    db.session.execute(
        sa.update(Unit).where(Unit.id == units["D1"].id).values(parent_id=units["S1"].id)
    )
    db.session.expire_all()


def test_subtree_of_a_small_tree(db):
    units = unit_tree()
    ids = {unit.id: code for code, unit in units.items()}
    below_d2 = trees.subtree_ids(db.session, Unit, [units["D2"].id])
    assert {ids[i] for i in below_d2} == {"D2", "S3", "S4"}
    everything = trees.subtree_ids(db.session, Unit, [units["R1"].id])
    assert {ids[i] for i in everything} == set(units)
    assert trees.subtree_ids(db.session, Unit, []) == set()
    # The SELECT form composes into another query, and accepts a SELECT of roots.
    roots = sa.select(Unit.id).where(Unit.code == "D1")
    codes = db.session.scalars(
        sa.select(Unit.code).where(Unit.id.in_(trees.subtree_select(Unit, roots)))
    )
    assert sorted(codes) == ["D1", "S1", "S2"]


def test_subtree_of_challenges(db):
    top = challenge("TOP", "Top")
    middle = challenge("MID", "Middle", top)
    leaf = challenge("LEAF", "Leaf", middle)
    challenge("OTHER", "Other")
    assert trees.subtree_ids(db.session, type(top), [middle.id]) == {middle.id, leaf.id}


def test_ancestors_run_from_the_root_down(db):
    units = unit_tree()
    assert [unit.code for unit in trees.ancestors(units["S3"])] == ["R1", "D2"]
    assert trees.ancestors(units["R1"]) == []


def test_a_cycle_neither_hangs_nor_goes_unreported(db):
    units = unit_tree()
    _loop_d1_under_s1(db, units)
    ids = {unit.id: code for code, unit in units.items()}
    # The recursive CTE stops at the loop.
    below = trees.subtree_ids(db.session, Unit, [units["D1"].id])
    assert {ids[i] for i in below} == {"D1", "S1", "S2"}
    assert {ids[i] for i in trees.subtree_ids(db.session, Unit, [units["R1"].id])} == {
        "R1",
        "D2",
        "S3",
        "S4",
    }
    # The breadcrumb stops when it comes back round.
    d1 = db.session.get(Unit, units["D1"].id)
    assert [unit.code for unit in trees.ancestors(d1)] == ["S1"]
    assert [unit.code for unit in trees.ancestors(d1, include_self_on_cycle=True)] == ["D1", "S1"]
    # A forest walk from the roots never meets the loop, and meets everyone else once.
    rows = list(db.session.scalars(sa.select(Unit).order_by(Unit.code)))
    roots, children = trees.arrange(
        rows, key=lambda u: u.id, parent_key=lambda u: u.parent_id, orphans_are_roots=True
    )
    walked = [(unit.code, depth) for unit, depth in trees.walk(roots, children, lambda u: u.id)]
    assert walked == [("R1", 0), ("D2", 1), ("S3", 2), ("S4", 2)]
    # The parents, read as codes, report the loop from each of its members.
    code_of = {unit.id: unit.code for unit in rows}
    parents = {unit.code: code_of.get(unit.parent_id) for unit in rows}
    assert trees.find_cycles(parents, sorted(parents)) == {"D1": ["D1", "S1"], "S1": ["S1", "D1"]}
    assert trees.find_cycles(parents, ["S2", "S3"]) == {}  # S2 only leads into it


def test_walk_and_arrange_on_plain_data():
    parents = {"a": None, "b": "a", "c": "a", "d": "b", "x": "missing"}
    items = list(parents)
    roots, children = trees.arrange(items, key=str, parent_key=parents.get, orphans_are_roots=False)
    assert roots == ["a"]  # "x" hangs below a parent that is not there: left out
    assert list(trees.walk(roots, children, str)) == [("a", 0), ("b", 1), ("d", 2), ("c", 1)]
    roots, _ = trees.arrange(items, key=str, parent_key=parents.get, orphans_are_roots=True)
    assert roots == ["a", "x"]


def test_find_cycles_names_each_member_from_itself():
    parents = {"a": "b", "b": "c", "c": "a", "d": "a", "e": None, "f": "f"}
    assert trees.find_cycles(parents, list(parents)) == {
        "a": ["a", "b", "c"],
        "b": ["b", "c", "a"],
        "c": ["c", "a", "b"],
        "f": ["f"],
    }
    assert trees.find_cycles(parents, ["d", "e"]) == {}
    assert trees.find_cycles(parents, ["c"]) == {"c": ["c", "a", "b"]}
