"""Every audited action writes the event it should, side paths included (issue 11, item 14).

The curation pages' events are read by their own tests (test_library_curation,
test_taxonomy_curation, test_plans_find, test_metrics_page, test_import_*, test_merge_*); here
are the actions no other test read: users created or updated by ``cxactions user add`` and by
the demo, one's own password changed, a signal removed, the seed's challenge and solution creations and updates, the demo's
staff submissions, a draft submitted for review, and imports of every kind from the command
line and the upload page. Each test reads the event: action, entity, who, and the key details.
"""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from cxactions.audit.models import AuditEvent
from cxactions.auth.models import Role, User
from cxactions.config import PROJECT_ROOT
from cxactions.demo.services import DemoOptions, generate_demo
from cxactions.foundations.changes import RefusedChange
from cxactions.foundations.vocabulary import MetricKind, SolutionStatus
from cxactions.imports.models import ImportRun
from cxactions.library import services as library
from cxactions.library.models import Solution
from cxactions.library.seed import load_seed
from cxactions.surveys.models import Metric
from cxactions.taxonomy import services as taxonomy
from cxactions.taxonomy.models import Challenge, ChallengeSignal
from tests.factories import challenge
from tests.imports.test_import_service import DATA
from tests.library.test_seed import CHALLENGES, solution_file, write_seed


def events(db, action: str) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


def only(db, action: str) -> AuditEvent:
    (event,) = events(db, action)
    return event


def code_of(model, entity_id: str) -> str:
    from cxactions.foundations.extensions import db

    return db.session.get(model, int(entity_id)).code


# --- Users: cxactions user add ----------------------------------------------------------------


def test_user_add_records_the_creation_then_the_update(runner, db, monkeypatch):
    from tests.factories import unit_tree

    unit_tree()
    db.session.commit()
    monkeypatch.setenv("CXACTIONS_PASSWORD", "first-password")
    result = runner.invoke(
        args=["user", "add", "Maya@Example.com", "--role", "manager", "--unit", "D1"]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User))
    created = only(db, "user.create")
    assert (created.entity_type, created.entity_id) == ("user", str(user.id))
    assert (created.user_id, created.actor) == (None, "cli")
    assert created.details == {
        "email": "maya@example.com",
        "role": "manager",
        "units": ["D1"],
        "password_changed": True,
    }
    assert not events(db, "user.update")

    monkeypatch.delenv("CXACTIONS_PASSWORD")
    result = runner.invoke(
        args=[
            "user",
            "add",
            "maya@example.com",
            "--role",
            "manager",
            "--unit",
            "S3",
            "--unit",
            "S4",
        ]
    )
    assert result.exit_code == 0, result.output
    updated = only(db, "user.update")
    assert (updated.entity_type, updated.entity_id, updated.actor) == ("user", str(user.id), "cli")
    assert updated.details["role"] == "manager"
    assert sorted(updated.details["units"]) == ["S3", "S4"]
    assert updated.details["password_changed"] is False
    assert len(events(db, "user.create")) == 1


def test_changing_ones_password_is_recorded_without_the_password(db, make_user, login):
    from tests.conftest import TEST_PASSWORD

    user = make_user(Role.STAFF, email="sam@example.com")
    client = login(user)
    wrong = {"current_password": "not it", "new_password": "x" * 12, "confirm": "x" * 12}
    assert client.post("/account/password", data=wrong).status_code == 400
    assert not events(db, "user.password_change")
    new = "a new long password"
    data = {"current_password": TEST_PASSWORD, "new_password": new, "confirm": new}
    assert client.post("/account/password", data=data).status_code == 302
    event = only(db, "user.password_change")
    assert (event.entity_type, event.entity_id) == ("user", str(user.id))
    assert (event.user_id, event.actor) == (user.id, "sam@example.com")
    assert event.details == {"email": "sam@example.com", "sessions_ended": 0}
    assert new not in str(event.details)


# --- Signals: removing one --------------------------------------------------------------------


def test_removing_a_signal_records_who_removed_what(db, make_user, login):
    queue = challenge("SPEED-QUEUE", "Long checkout queues")
    db.session.add_all(
        [
            Metric(code="overall", kind=MetricKind.OUTCOME),
            Metric(code="wait_minutes", kind=MetricKind.OPERATIONAL),
        ]
    )
    db.session.commit()
    lead = make_user(Role.CX_LEAD, email="lead@example.com")
    client = login(lead)
    form = {"metric": "wait_minutes", "direction": "above", "threshold_kind": "absolute"}
    assert (
        client.post("/challenges/SPEED-QUEUE/signals", data={**form, "threshold": "8"}).status_code
        == 302
    )
    added = only(db, "signal.add")
    assert (added.entity_type, added.entity_id, added.user_id) == (
        "challenge",
        str(queue.id),
        lead.id,
    )
    assert added.details == {
        "code": "SPEED-QUEUE",
        "metric": "wait_minutes",
        "direction": "above",
        "threshold_kind": "absolute",
        "threshold": 8.0,
    }
    signal_id = db.session.scalar(sa.select(ChallengeSignal.id))

    response = client.post(f"/challenges/SPEED-QUEUE/signals/{signal_id}/delete")
    assert response.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ChallengeSignal)) == 0
    removed = only(db, "signal.remove")
    assert (removed.entity_type, removed.entity_id) == ("challenge", str(queue.id))
    assert (removed.user_id, removed.actor) == (lead.id, "lead@example.com")
    assert removed.details == {
        "code": "SPEED-QUEUE",
        "metric": "wait_minutes",
        "direction": "above",
    }


def test_a_refused_removal_records_nothing(db, make_user):
    queue = challenge("SPEED-QUEUE", "Long checkout queues")
    db.session.commit()
    with pytest.raises(RefusedChange):
        taxonomy.remove_signal(db.session, queue, 12345, user=make_user(Role.CX_LEAD))
    assert not events(db, "signal.remove")


# --- The seed: challenges and solutions created, then updated ---------------------------------


def test_the_seed_records_its_creations_and_updates(db, tmp_path):
    seed = write_seed(tmp_path / "seed", CHALLENGES, {"ONE": solution_file("OPS-ONE")})
    load_seed(db.session, seed, actor="tester")
    db.session.commit()
    created = events(db, "challenge.create")
    assert [event.details["code"] for event in created] == [
        "SPEED",
        "SPEED-QUEUE",
        "STAFF",
        "ST-GREET",
    ]
    for event in created:
        assert (event.entity_type, event.actor, event.user_id) == ("challenge", "tester", None)
        assert code_of(Challenge, event.entity_id) == event.details["code"]
        assert event.details["source"] == "seed"
    solution = only(db, "solution.create")
    assert (solution.entity_type, solution.actor) == ("solution", "tester")
    assert code_of(Solution, solution.entity_id) == "OPS-ONE"
    assert solution.details == {"code": "OPS-ONE", "source": "seed", "challenges": ["SPEED-QUEUE"]}

    write_seed(seed, CHALLENGES.replace("Long queues", "Long checkout queues"), {})
    load_seed(db.session, seed, actor="tester-2")
    db.session.commit()
    updated = only(db, "challenge.update")
    assert (updated.entity_type, updated.actor) == ("challenge", "tester-2")
    assert code_of(Challenge, updated.entity_id) == "SPEED-QUEUE"
    assert updated.details == {"code": "SPEED-QUEUE", "source": "seed", "fields": ["name"]}
    # solution.update from the seed: tests/library/test_seed.py reads it.


# --- The demo: its users, its library and its staff submissions --------------------------------


def test_the_demo_records_its_users_library_submissions_and_itself(db):
    result = generate_demo(
        db.session, DemoOptions(seed_dir=PROJECT_ROOT / "seed", stores=8, weeks=16, seed=3)
    )
    db.session.commit()
    users = {event.details["email"]: event for event in events(db, "user.create")}
    assert set(users) == {
        "staff@demo.cxactions",
        "manager@demo.cxactions",
        "lead@demo.cxactions",
        "admin@demo.cxactions",
    }
    for email, event in users.items():
        user = db.session.scalar(sa.select(User).where(User.email == email))
        assert (event.entity_type, event.entity_id, event.actor) == ("user", str(user.id), "demo")
        assert event.details["role"] == user.role.value and event.details["password_changed"]
    assert len(users["manager@demo.cxactions"].details["units"]) == 1

    seeded = events(db, "solution.create")
    assert len(seeded) == len(result.seed.solutions_created) > 0
    assert {event.actor for event in seeded} == {"demo"}
    assert len(events(db, "challenge.create")) == len(result.seed.challenges_created) > 0

    submitted = events(db, "solution.submit")
    assert submitted
    for event in submitted:
        stored = db.session.get(Solution, int(event.entity_id))
        assert (event.entity_type, event.actor, event.user_id) == ("solution", "demo", None)
        assert event.details == {"code": stored.code, "status": "pending"}
        assert stored.status == SolutionStatus.PENDING

    demo = only(db, "demo.generate")
    assert (demo.entity_type, demo.entity_id, demo.actor) == ("organisation", None, "demo")
    assert {key: demo.details[key] for key in ("stores", "weeks", "seed")} == {
        "stores": 8,
        "weeks": 16,
        "seed": 3,
    }
    assert (
        demo.details["responses"] == result.responses
        and demo.details["adoptions"] == result.adoptions
    )


# --- A draft submitted for review -------------------------------------------------------------


def test_submitting_a_draft_for_review_is_recorded(db, make_user):
    author = make_user(Role.STAFF, email="author@example.com")
    draft = library.create_solution(db.session, {"title": "My idea", "kind": "other"}, author)
    lead = make_user(Role.CX_LEAD, email="lead@example.com")
    library.change_status(draft, "pending", lead, note="Worth a look.")
    event = only(db, "solution.submit")
    assert (event.entity_type, event.entity_id) == ("solution", str(draft.id))
    assert (event.user_id, event.actor) == (lead.id, "lead@example.com")
    assert event.details == {
        "code": draft.code,
        "from": "draft",
        "to": "pending",
        "note": "Worth a look.",
    }


# --- Imports: every kind, from the command line and from the upload page -----------------------

ORDER = ["units", "challenges", "solutions", "responses", "operations", "adoptions"]


def test_every_kind_of_import_is_recorded_from_the_command_line(runner, db):
    for kind in ORDER:
        result = runner.invoke(args=["import", kind, str(DATA / f"{kind}.csv")])
        assert result.exit_code == 0, result.output
        run = db.session.scalar(sa.select(ImportRun).where(ImportRun.kind == kind))
        event = only(db, f"import.{kind}")
        assert (event.entity_type, event.entity_id) == ("import_run", str(run.id))
        assert event.user_id is None and event.actor.startswith("cli") and event.actor == run.actor
        assert event.details["file"] == str(DATA / f"{kind}.csv")  # the path as given
        assert event.details["rows_read"] == run.rows_read > 0
        assert (event.details["rows_inserted"], event.details["rows_updated"]) == (
            run.rows_inserted,
            run.rows_updated,
        )
        assert event.details["errors"] == 0


def test_an_upload_is_recorded_with_the_user_who_sent_it(db, make_user, login):
    lead = make_user(Role.CX_LEAD, email="lead@example.com")
    client = login(lead)
    data = {"kind": "units", "file": (io.BytesIO((DATA / "units.csv").read_bytes()), "shops.csv")}
    response = client.post("/imports", data=data, content_type="multipart/form-data")
    assert response.status_code in (200, 302), response.get_data(as_text=True)[:500]
    run = db.session.scalar(sa.select(ImportRun))
    event = only(db, "import.units")
    assert (event.entity_type, event.entity_id) == ("import_run", str(run.id))
    assert (event.user_id, event.actor) == (lead.id, "lead@example.com")
    assert event.details["file"] == "shops.csv" and event.details["rows_inserted"] == 7
