"""Merging two solutions never deletes a plan item: a unit that adopted both ends with one live
item on the survivor that keeps both items' history and the earliest implementation; the other
item stays as the record of the merge (issue 11, item 3; issue 15)."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import sqlalchemy as sa

from cxactions.audit.models import AuditEvent
from cxactions.auth.models import Role
from cxactions.foundations.versions import current_data_version
from cxactions.foundations.vocabulary import AdoptionStatus
from cxactions.library import services
from cxactions.plans.models import INCLUDE_MERGED, Adoption, AdoptionEvent
from tests.factories import challenge, solution, unit_tree
from tests.pages import visible_text


def item(unit, sol, status, effective_on=None, *, history=(), **fields) -> Adoption:
    """A plan item with its own history: one event per ``(at, action)`` in ``history``."""
    adoption = Adoption(unit=unit, solution=sol, status=status, effective_on=effective_on, **fields)
    adoption.events = [
        AdoptionEvent(
            at=at, actor="manager@example.com", action=action, note=f"{sol.code} {action}"
        )
        for at, action in history
    ]
    return adoption


@pytest.fixture
def world(db, make_user):
    """SOP-DUP duplicates SOP-KEEP; both address one challenge; a CX lead merges them."""
    units = unit_tree()
    queue = challenge("SPEED-QUEUE", "Long checkout queues")
    keep = solution("SOP-KEEP", "Open a till at three", challenges=[queue])
    dup = solution("SOP-DUP", "Third customer opens a till", challenges=[queue])
    db.session.commit()
    return {
        "units": units,
        "queue": queue,
        "keep": keep,
        "dup": dup,
        "lead": make_user(Role.CX_LEAD, email="lead@example.com"),
    }


def unit_items(db, unit) -> list[Adoption]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Adoption).where(Adoption.unit_id == unit.id)))


def folded_record(db, item_id: int) -> Adoption:
    """A plan item folded by the merge: still in the table, out of every ordinary query."""
    db.session.expire_all()
    assert db.session.scalar(sa.select(Adoption).where(Adoption.id == item_id)) is None
    return db.session.scalar(
        sa.select(Adoption)
        .where(Adoption.id == item_id)
        .execution_options(**{INCLUDE_MERGED: True})
    )


def history(adoption: Adoption) -> list[tuple[str, str | None]]:
    return [(event.action, event.note) for event in adoption.events]


def merge_event(adoption: Adoption) -> AdoptionEvent:
    (event,) = [event for event in adoption.events if event.action == "merge"]
    return event


def test_both_implemented_the_earliest_implementation_is_kept_with_both_histories(db, world):
    s1, keep, dup = world["units"]["S1"], world["keep"], world["dup"]
    later = item(
        s1, keep, AdoptionStatus.IMPLEMENTED, date(2024, 5, 6), owner="Ana",
        notes="Till rota changed.",
        history=[(datetime(2024, 4, 1, 9), "create"), (datetime(2024, 5, 6, 9), "implement")],
    )  # fmt: skip
    earlier = item(
        s1, dup, AdoptionStatus.IMPLEMENTED, date(2024, 3, 4), due_on=date(2024, 3, 1),
        notes="Bell at the till.",
        history=[(datetime(2024, 2, 1, 9), "create"), (datetime(2024, 3, 4, 9), "implement")],
    )  # fmt: skip
    db.session.add_all([later, earlier])
    db.session.commit()
    later_id, earlier_id, earlier_created = later.id, earlier.id, earlier.created_at
    version = current_data_version(db.session)

    plan = services.merge_solutions(dup, keep, world["lead"], "Same fix.")

    assert [(f.survivor_item.id, f.duplicate_item.id) for f in plan.adoptions_folded] == [
        (later_id, earlier_id)
    ]
    (kept,) = unit_items(db, s1)
    assert kept.id == later_id and kept.solution_id == keep.id
    # The earliest implementation wins.
    assert (kept.status, kept.effective_on) == (AdoptionStatus.IMPLEMENTED, date(2024, 3, 4))
    assert kept.owner == "Ana" and kept.due_on == date(2024, 3, 1)  # blank due date filled
    assert kept.notes == "Till rota changed.\n\nFrom the SOP-DUP plan item: Bell at the till."
    # Both histories, in time order, then the merge.
    assert history(kept)[:4] == [
        ("create", "SOP-DUP create"),
        ("implement", "SOP-DUP implement"),
        ("create", "SOP-KEEP create"),
        ("implement", "SOP-KEEP implement"),
    ]
    event = merge_event(kept)
    assert (event.user_id, event.actor) == (world["lead"].id, "lead@example.com")
    assert event.note.endswith("SOP-DUP merged into SOP-KEEP: Same fix.")
    assert "solution" not in event.changes  # it was the survivor's item already
    assert event.changes["due_on"] == [None, "2024-03-01"]
    assert event.changes["effective_on"] == ["2024-05-06", "2024-03-04"]
    assert event.changes["notes"][0] == "Till rota changed."
    assert "status" not in event.changes
    assert event.changes["folded_item"] == [
        {
            "id": earlier_id,
            "solution": "SOP-DUP",
            "status": "implemented",
            "effective_on": "2024-03-04",
            "owner": None,
            "due_on": "2024-03-01",
            "challenge": None,
            "notes": "Bell at the till.",
            "created_at": earlier_created.isoformat(),
        },
        None,
    ]
    # The folded item is never deleted: it stays as it was, pointing at the live item.
    record = folded_record(db, earlier_id)
    assert (record.solution_id, record.status, record.effective_on, record.merged_into_id) == (
        dup.id,
        AdoptionStatus.IMPLEMENTED,
        date(2024, 3, 4),
        later_id,
    )
    assert current_data_version(db.session) == version + 1
    (audit,) = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "solution.merge")
    ).all()
    assert "adoptions_dropped" not in audit.details
    assert audit.details["adoptions_folded"] == [
        {"unit": "S1", "live_item": later_id, "folded_item": earlier_id, "status": "implemented"}
    ]


def test_only_the_duplicate_implemented_its_item_survives_on_the_survivor(db, world):
    s1, s2, keep, dup = world["units"]["S1"], world["units"]["S2"], world["keep"], world["dup"]
    planned = item(
        s1, keep, AdoptionStatus.PLANNED, owner="Ana", due_on=date(2024, 9, 1),
        challenge_id=world["queue"].id, history=[(datetime(2024, 6, 1), "create")],
    )  # fmt: skip
    done = item(
        s1, dup, AdoptionStatus.IMPLEMENTED, date(2024, 5, 6),
        history=[(datetime(2024, 4, 1), "create"), (datetime(2024, 5, 6), "implement")],
    )  # fmt: skip
    alone = item(s2, dup, AdoptionStatus.IMPLEMENTED, date(2024, 1, 8))
    db.session.add_all([planned, done, alone])
    db.session.commit()
    done_id, planned_id, alone_id = done.id, planned.id, alone.id
    version = current_data_version(db.session)

    services.merge_solutions(dup, keep, world["lead"])

    (kept,) = unit_items(db, s1)
    assert (kept.id, kept.solution_id) == (planned_id, keep.id)
    assert (kept.status, kept.effective_on) == (AdoptionStatus.IMPLEMENTED, date(2024, 5, 6))
    assert (kept.owner, kept.due_on, kept.challenge_id) == (
        "Ana",
        date(2024, 9, 1),
        world["queue"].id,
    )
    assert [action for action, _ in history(kept)] == ["create", "implement", "create", "merge"]
    assert kept.status_changed_at is not None
    event = merge_event(kept)
    assert event.changes["folded_item"][0]["status"] == "implemented"
    assert event.changes["folded_item"][0]["solution"] == "SOP-DUP"
    assert event.changes["status"] == ["planned", "implemented"]
    assert folded_record(db, done_id).merged_into_id == planned_id
    # A unit that had only the duplicate simply moves, and its history says so.
    (moved,) = unit_items(db, s2)
    assert (moved.id, moved.solution_id, moved.status) == (
        alone_id,
        keep.id,
        AdoptionStatus.IMPLEMENTED,
    )
    assert merge_event(moved).changes == {"solution": ["SOP-DUP", "SOP-KEEP"]}
    assert (merge_event(moved).user_id, merge_event(moved).actor) == (
        world["lead"].id,
        "lead@example.com",
    )
    implemented = db.session.scalars(
        sa.select(Adoption.unit_id).where(Adoption.status == AdoptionStatus.IMPLEMENTED)
    ).all()
    assert sorted(implemented) == sorted([s1.id, s2.id])  # nothing implemented lost
    assert current_data_version(db.session) == version + 1


def test_neither_implemented_the_survivors_item_is_kept_and_estimates_stay_fresh(db, world):
    s1, keep, dup = world["units"]["S1"], world["keep"], world["dup"]
    mine = item(
        s1, keep, AdoptionStatus.IN_PROGRESS, notes="Rota drafted.",
        history=[(datetime(2024, 6, 1), "create")],
    )  # fmt: skip
    theirs = item(
        s1, dup, AdoptionStatus.PLANNED, owner="Bo", due_on=date(2024, 8, 1),
        notes="Rota drafted.", history=[(datetime(2024, 5, 1), "create")],
    )  # fmt: skip
    db.session.add_all([mine, theirs])
    db.session.commit()
    mine_id, theirs_id = mine.id, theirs.id
    version = current_data_version(db.session)

    services.merge_solutions(dup, keep, world["lead"])

    (kept,) = unit_items(db, s1)
    assert (kept.id, kept.solution_id, kept.status) == (
        mine_id,
        keep.id,
        AdoptionStatus.IN_PROGRESS,
    )
    assert (kept.owner, kept.due_on, kept.notes) == ("Bo", date(2024, 8, 1), "Rota drafted.")
    assert history(kept) == [
        ("create", "SOP-DUP create"),
        ("create", "SOP-KEEP create"),
        ("merge", merge_event(kept).note),
    ]
    event = merge_event(kept)
    assert "solution" not in event.changes  # it was already the survivor's item
    assert event.changes["owner"] == [None, "Bo"] and event.changes["due_on"] == [
        None,
        "2024-08-01",
    ]
    assert "notes" not in event.changes  # the same notes are not repeated
    assert event.changes["folded_item"][0]["solution"] == "SOP-DUP"
    assert event.changes["folded_item"][0]["due_on"] == "2024-08-01"
    assert folded_record(db, theirs_id).status == AdoptionStatus.PLANNED
    assert current_data_version(db.session) == version


def test_the_merge_page_tells_the_lead_items_are_folded_then_folds_them(db, world, login):
    s1, keep, dup = world["units"]["S1"], world["keep"], world["dup"]
    db.session.add_all(
        [
            item(s1, keep, AdoptionStatus.PLANNED, owner="Ana"),
            item(s1, dup, AdoptionStatus.IMPLEMENTED, date(2024, 5, 6)),
        ]
    )
    db.session.commit()
    client = login(world["lead"])

    preview = client.post("/solutions/SOP-DUP/merge", data={"survivor": "SOP-KEEP"})
    assert preview.status_code == 200
    text = visible_text(preview.get_data(as_text=True))
    assert "dropped" not in text.lower()
    assert "Plan items folded together, nothing lost" in text
    assert (
        "Store 1: its SOP-KEEP item (planned) takes the earlier implementation of its SOP-DUP "
        "item (implemented on 6 May 2024) and folds it in." in text
    )
    assert len(unit_items(db, s1)) == 2  # a preview writes nothing

    response = client.post(
        "/solutions/SOP-DUP/merge", data={"survivor": "SOP-KEEP", "confirm": "Merge"}
    )
    assert response.status_code == 302
    (kept,) = unit_items(db, s1)
    assert (kept.solution_id, kept.status, kept.effective_on, kept.owner) == (
        keep.id,
        AdoptionStatus.IMPLEMENTED,
        date(2024, 5, 6),
        "Ana",
    )
    event = merge_event(kept)
    assert (event.user_id, event.actor) == (world["lead"].id, "lead@example.com")
    assert event.changes["folded_item"][0]["status"] == "implemented"
