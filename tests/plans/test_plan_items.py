"""A plan item's life on its own page: start, implement (with a date that is checked), abandon
(with a reason), reopen, edit, tick and add steps; its history; the data version the impact
engine keys on; two people saving the same item."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from cxactions.auth.models import Role
from cxactions.foundations.changes import RefusedChange
from cxactions.foundations.versions import current_data_version
from cxactions.foundations.vocabulary import AdoptionStatus
from cxactions.plans import workflow
from cxactions.plans.models import Adoption, PlanStep
from cxactions.plans.services import Attention, attention
from tests.conftest import TEST_PASSWORD, browser_for
from tests.factories import impact_run, small_library, unit_tree
from tests.pages import visible_text

DUE = date.today() + timedelta(days=30)
TODAY = date.today()


@pytest.fixture
def world(db, make_user):
    """Units R1 > D1 (S1, S2), D2 (S3, S4); a manager of D1; a solution with three steps."""
    units = unit_tree()
    lib = small_library(
        retired=False,
        pending=False,
        solutions={
            "SOP-TILL": {
                "title": "Open a third till at rush hour",
                "steps": "Brief the team\nPut up the sign\nCheck the queue at noon",
            },
            "SOP-BOARD": {"title": "Queue board", "challenges": ["SPEED-QUEUE"]},
        },
    )
    manager = make_user(Role.MANAGER, units=[units["D1"]], email="maya@example.com")
    return {"units": units, "manager": manager, "lib": lib}


def adopt(client, unit="S1", solution="SOP-TILL", **fields):
    data = {"solution": solution, "owner": "Marie Dupont", "due_on": DUE.isoformat()}
    data.update(fields)
    return client.post(f"/units/{unit}/plan", data=data)


def the_item(db, solution="SOP-TILL") -> Adoption:
    db.session.expire_all()
    return db.session.scalar(
        sa.select(Adoption).join(Adoption.solution).where(Adoption.solution.has(code=solution))
    )


@pytest.fixture
def manager(world, login):
    return login(world["manager"])


@pytest.fixture
def item(world, manager, db) -> Adoption:
    assert adopt(manager).status_code == 302
    return the_item(db)


def post(client, item, action="", **data):
    data.setdefault("version", str(item.version))
    path = f"/units/S1/plan/{item.id}" + (f"/{action}" if action else "")
    return client.post(path, data=data)


# --- Adopting: the checklist is the solution's steps, copied ------------------------------------


def test_adopting_copies_the_solution_steps_and_later_edits_leave_the_plan_alone(world, item, db):
    assert [step.text for step in item.steps] == [
        "Brief the team",
        "Put up the sign",
        "Check the queue at noon",
    ]
    world["lib"]["SOP-TILL"].steps = "A rewritten step"
    db.session.commit()
    assert [step.text for step in the_item(db).steps][0] == "Brief the team"
    assert the_item(db).percent_complete == 0
    assert [event.action for event in the_item(db).events] == ["create"]


def test_the_unit_page_links_each_item_to_its_page_with_its_progress(item, manager):
    page = manager.get("/units/S1").get_data(as_text=True)
    assert f'href="/units/S1/plan/{item.id}"' in page
    assert "0 of 3 steps" in visible_text(page)


# --- The status workflow -----------------------------------------------------------------------


def test_start_implement_and_the_item_enters_the_estimates(item, manager, db):
    before = current_data_version(db.session)
    assert post(manager, item, "start").status_code == 302
    assert the_item(db).status == AdoptionStatus.IN_PROGRESS
    assert current_data_version(db.session) == before  # nothing the estimates read changed

    took_effect = TODAY - timedelta(days=3)
    response = post(manager, the_item(db), "implement", effective_on=took_effect.isoformat())
    assert response.status_code == 302
    done = the_item(db)
    assert (done.status, done.effective_on) == (AdoptionStatus.IMPLEMENTED, took_effect)
    assert current_data_version(db.session) == before + 1  # recomputed, as after an import

    # Moving the date it took effect is a change of the data too.
    post(manager, done, "implement", effective_on=(took_effect - timedelta(days=1)).isoformat())
    assert current_data_version(db.session) == before + 2
    # Reopening takes it out of the estimates: another change.
    assert post(manager, the_item(db), "reopen").status_code == 302
    reopened = the_item(db)
    assert (reopened.status, reopened.effective_on) == (AdoptionStatus.IN_PROGRESS, None)
    assert current_data_version(db.session) == before + 3
    assert [event.action for event in reopened.events] == [
        "create",
        "start",
        "implement",
        "implement",
        "reopen",
    ]


@pytest.mark.parametrize(
    ("effective_on", "message"),
    [
        ("", "Give the date the solution took effect."),
        ((TODAY + timedelta(days=1)).isoformat(), "The date it took effect is in the future"),
        ((TODAY - timedelta(days=181)).isoformat(), "more than 180 days before the item"),
        ("31/12/2025", "Give the date as a date"),
    ],
)
def test_the_date_it_took_effect_is_checked(item, manager, db, effective_on, message):
    response = post(manager, item, "implement", effective_on=effective_on)
    assert response.status_code == 400
    assert message in visible_text(response.get_data(as_text=True))
    kept = the_item(db)
    assert (kept.status, kept.effective_on) == (AdoptionStatus.PLANNED, None)


def test_back_dating_reaches_180_days_before_the_item_was_created(item, manager, db):
    earliest = item.created_at.date() - timedelta(days=180)
    assert post(manager, item, "implement", effective_on=earliest.isoformat()).status_code == 302
    assert the_item(db).effective_on == earliest


def test_abandoning_needs_a_reason_and_adopting_again_reopens_the_item(item, manager, db):
    response = post(manager, item, "abandon", reason="  ")
    assert response.status_code == 400
    assert "Say why the item is abandoned." in response.get_data(as_text=True)
    assert the_item(db).status == AdoptionStatus.PLANNED

    post(manager, item, "abandon", reason="The till broke down for good.")
    abandoned = the_item(db)
    assert (abandoned.status, abandoned.status_reason) == (
        AdoptionStatus.ABANDONED,
        "The till broke down for good.",
    )
    page = visible_text(manager.get(f"/units/S1/plan/{item.id}").get_data(as_text=True))
    assert "The till broke down for good." in page

    # Adopting the same solution again brings the one item back (one item per unit and solution).
    new_due = DUE + timedelta(days=10)
    response = adopt(manager, owner="Paul Martin", due_on=new_due.isoformat())
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Adoption)) == 1
    back = the_item(db)
    assert (back.id, back.status, back.owner, back.due_on, back.status_reason) == (
        item.id,
        AdoptionStatus.PLANNED,
        "Paul Martin",
        new_due,
        None,
    )
    assert [event.action for event in back.events][-1] == "readopt"


def test_an_active_item_is_not_adopted_twice(item, manager):
    response = adopt(manager)
    assert response.status_code == 302
    assert "already in the action plan" in manager.get("/units/S1").get_data(as_text=True)


def test_the_transitions_that_make_no_sense_are_refused(item, world, db):
    user = world["manager"]
    with pytest.raises(RefusedChange, match="Only an implemented or abandoned item"):
        workflow.reopen(db.session, item, user=user)
    workflow.abandon(db.session, item, reason="No budget", user=user)
    with pytest.raises(RefusedChange, match="must be reopened before"):
        workflow.implement(db.session, item, effective_on=TODAY, user=user)
    with pytest.raises(RefusedChange, match="already abandoned"):
        workflow.abandon(db.session, item, reason="again", user=user)
    with pytest.raises(RefusedChange, match="Only a planned item can be started"):
        workflow.start(db.session, item, user=user)


# --- Details and history -----------------------------------------------------------------------


def test_editing_the_details_keeps_each_change_in_the_history(item, manager, db):
    later = DUE + timedelta(days=7)
    response = post(
        manager,
        item,
        owner="Paul Martin",
        due_on=later.isoformat(),
        challenge="SPEED-QUEUE",
        notes="Start with the Saturday team.",
    )
    assert response.status_code == 302
    edited = the_item(db)
    assert (edited.owner, edited.due_on, edited.challenge.code, edited.notes) == (
        "Paul Martin",
        later,
        "SPEED-QUEUE",
        "Start with the Saturday team.",
    )
    assert edited.events[-1].changes["owner"] == ["Marie Dupont", "Paul Martin"]
    assert edited.events[-1].changes["challenge"] == [None, "SPEED-QUEUE"]
    page = visible_text(manager.get(f"/units/S1/plan/{item.id}").get_data(as_text=True))
    assert "Details changed · Maya" in page or "Details changed" in page
    assert "Marie Dupont → Paul Martin" in page


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"owner": ""}, "Say who owns this action."),
        ({"owner": "x" * 201}, "The owner is at most 200 characters."),
        ({"due_on": (TODAY - timedelta(days=1)).isoformat()}, "The due date is in the past"),
        ({"notes": "n" * 5001}, "The notes are at most 5000 characters."),
        ({"challenge": "NOPE"}, "Choose one of the listed challenges."),
    ],
)
def test_bad_details_are_refused_and_the_input_kept(item, manager, db, fields, message):
    data = {"owner": "Paul Martin", "due_on": DUE.isoformat(), "notes": "kept", **fields}
    response = post(manager, item, **data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in visible_text(page)
    assert data["notes"] in page  # what the user typed is still in the form
    assert the_item(db).owner == "Marie Dupont"


# --- Checklist --------------------------------------------------------------------------------


def test_steps_are_ticked_unticked_and_added(item, manager, db):
    first, second, _third = item.steps
    assert post(manager, item, f"steps/{first.id}", done="1").status_code == 302
    assert post(manager, item, f"steps/{second.id}", done="1").status_code == 302
    assert the_item(db).percent_complete == 66
    post(manager, item, f"steps/{second.id}", done="0")
    assert the_item(db).percent_complete == 33
    assert post(manager, item, "steps", text="Thank the team").status_code == 302
    steps = the_item(db).steps
    assert [step.text for step in steps][-1] == "Thank the team"
    assert the_item(db).percent_complete == 25
    assert "1 of 4 steps" in visible_text(manager.get("/units/S1").get_data(as_text=True))
    # A step of another item is not this item's.
    other = PlanStep(adoption_id=item.id, position=9, text="x")
    assert post(manager, item, "steps/999999", done="1").status_code == 302
    assert other.done_at is None


def test_an_empty_step_is_refused(item, manager, db):
    response = post(manager, item, "steps", text=" ")
    assert response.status_code == 400
    assert "Write the step to add." in response.get_data(as_text=True)
    assert len(the_item(db).steps) == 3


# --- Two people, one item -----------------------------------------------------------------------


def test_a_save_based_on_an_old_version_is_refused_and_the_input_kept(item, world, login, db):
    seen = item.version
    first = login(world["manager"])
    assert post(first, item, owner="Paul Martin", due_on=DUE.isoformat()).status_code == 302
    # The second person still has the page as it was before the first save.
    response = first.post(
        f"/units/S1/plan/{item.id}",
        data={"owner": "Lea Roux", "due_on": DUE.isoformat(), "version": str(seen)},
    )
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Someone else changed this plan item since you opened it" in page
    assert 'value="Lea Roux"' in page  # their input is kept
    assert the_item(db).owner == "Paul Martin"  # the first save is not lost
    # Saving again from the refreshed form works.
    version = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
    response = first.post(
        f"/units/S1/plan/{item.id}",
        data={"owner": "Lea Roux", "due_on": DUE.isoformat(), "version": version},
    )
    assert response.status_code == 302
    assert the_item(db).owner == "Lea Roux"


def test_the_database_refuses_a_write_based_on_a_stale_row(item, world, app, db):
    """The check in the service may pass in two requests at once: the version counter in the
    UPDATE still refuses the second write."""
    db.session.expire_all()
    mine = db.session.get(Adoption, item.id)
    assert mine.version == 1
    # Another request changes the row behind this session's back.
    with db.engine.begin() as connection:
        connection.execute(
            sa.update(Adoption).where(Adoption.id == item.id).values(owner="Other", version=2)
        )
    with pytest.raises(RefusedChange, match="Someone else changed"):
        workflow.update_details(
            db.session,
            mine,
            owner="Mine",
            due_on=DUE,
            challenge=None,
            notes=None,
            user=world["manager"],
            version=1,
        )
    db.session.expire_all()
    assert db.session.get(Adoption, item.id).owner == "Other"


def test_the_history_is_shown_newest_first(item, manager):
    post(manager, item, "start")
    page = visible_text(manager.get(f"/units/S1/plan/{item.id}").get_data(as_text=True))
    assert page.index("Started") < page.index("Added to the plan")


def test_status_changes_are_dated(item, manager, db):
    post(manager, item, "start")
    assert isinstance(the_item(db).status_changed_at, datetime)


# --- Due and overdue, on the unit page and the manager's home page ----------------------------


def test_overdue_and_due_soon_items_are_flagged_for_the_manager(world, item, manager, db):
    late = the_item(db)
    late.due_on = TODAY - timedelta(days=2)  # imported or left as it was: now overdue
    db.session.commit()
    assert adopt(manager, solution="TRN-LINE", due_on=(TODAY + timedelta(days=3)).isoformat())
    adopt(manager, solution="SOP-BOARD", due_on=(TODAY + timedelta(days=40)).isoformat())

    unit_page = visible_text(manager.get("/units/S1").get_data(as_text=True))
    assert unit_page.count("Overdue") == 1 and unit_page.count("Due this week") == 1

    home = manager.get("/").get_data(as_text=True)
    text = visible_text(home)
    assert "1 overdue" in text and "1 due this week" in text
    assert f'href="/units/S1/plan/{late.id}"' in home
    assert "Open a third till at rush hour" in text
    # An implemented item is never late; a manager of another district sees none of these.
    post(manager, the_item(db), "implement", effective_on=TODAY.isoformat())
    assert "1 overdue" not in visible_text(manager.get("/").get_data(as_text=True))
    units = world["units"]
    assert attention(db.session, [units["S3"].id, units["S4"].id], TODAY) == Attention(0, 0, [])
    assert attention(db.session, [units["S1"].id], TODAY).due_soon == 1


# --- Evidence on the item page; the CX lead's list of fixes to reconsider ----------------------


def as_lead(app, make_user):
    """A CX lead in a browser of their own (the manager keeps theirs)."""
    lead = make_user(Role.CX_LEAD, email="lea@example.com")
    browser = browser_for(app)
    browser.post("/login", data={"email": lead.email, "password": TEST_PASSWORD})
    return browser


@pytest.mark.parametrize(
    ("interval", "warning"),
    [
        ((-0.5, -0.8, -0.2), "The evidence says this solution lowers satisfaction."),
        ((0.02, -0.1, 0.15), "The evidence says this solution makes no measurable difference."),
    ],
)
def test_a_flagged_solution_shows_better_alternatives(
    world, item, manager, db, app, make_user, interval, warning
):
    post(manager, item, owner="Marie Dupont", due_on=DUE.isoformat(), challenge="SPEED-QUEUE")
    post(manager, the_item(db), "implement", effective_on=TODAY.isoformat())
    impact_run(
        {
            "SOP-TILL": (*interval, 3),
            "TRN-LINE": (0.5, 0.2, 0.8, 1),
            "SOP-BOARD": (0.1, -0.3, 0.5, 4),
        }
    )
    page = visible_text(manager.get(f"/units/S1/plan/{item.id}").get_data(as_text=True))
    assert warning in page
    alternatives = page[page.index("Better-evidenced solutions") :]
    assert "Line-busting training" in alternatives
    assert "Queue board" not in alternatives  # ranked below the flagged one, interval across zero

    flagged = visible_text(as_lead(app, make_user).get("/impact/flagged").get_data(as_text=True))
    assert (
        "Open a third till at rush hour" in flagged and "Implemented at 1 unit: Store 1" in flagged
    )


def test_a_solution_that_works_is_not_flagged(world, item, manager, db, app, make_user):
    post(manager, item, "implement", effective_on=TODAY.isoformat())
    impact_run({"SOP-TILL": (0.5, 0.2, 0.8, 1)})
    page = visible_text(manager.get(f"/units/S1/plan/{item.id}").get_data(as_text=True))
    assert "Across the company: #1 +0.50 pts" in page
    assert "The evidence says" not in page
    flagged = visible_text(as_lead(app, make_user).get("/impact/flagged").get_data(as_text=True))
    assert "Nothing to reconsider" in flagged
