"""`cxactions demo`: a small organisation on an empty database, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from cxactions import create_app
from cxactions.audit.models import AuditEvent
from cxactions.auth.models import User
from cxactions.crowd.models import Comment, Vote
from cxactions.foundations.extensions import db
from cxactions.foundations.vocabulary import AdoptionStatus, MetricKind, Role, SolutionStatus
from cxactions.library.models import Solution
from cxactions.plans.models import Adoption, DueState
from cxactions.surveys.models import Metric, OperationValue, Response, UnitWeekScore
from cxactions.taxonomy.models import ChallengeSignal
from cxactions.units.models import Unit

SMALL = ["demo", "--stores", "12", "--weeks", "20", "--seed", "5"]


@pytest.fixture
def empty_app(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Flask]:
    """An application on a database with no schema at all: the demo runs the migrations."""
    instance = tmp_path / "instance"
    admin = database = None
    if backend == "sqlite":
        url = f"sqlite:///{instance / 'demo.sqlite3'}"
    else:
        admin = sa.create_engine(
            request.getfixturevalue("postgres_url"), isolation_level="AUTOCOMMIT"
        )
        database = f"cx_demo_{uuid.uuid4().hex[:10]}"
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{database}"'))
        url = admin.url.set(database=database).render_as_string(hide_password=False)
    application = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "WTF_CSRF_ENABLED": False,
            "INSTANCE_PATH": str(instance),
            "SQLALCHEMY_DATABASE_URI": url,
            "SEARCH_INDEX_PATH": str(instance / "search-index"),
        }
    )
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()
    if admin is not None:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()


def count(model, *where) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def snapshot() -> dict[str, int]:
    return {
        "stores": count(Unit, Unit.kind == "store"),
        "units": count(Unit),
        "responses": count(Response),
        "operations": count(OperationValue),
        "adoptions": count(Adoption),
        "week_scores": count(UnitWeekScore),
        "users": count(User),
        "solutions": count(Solution),
    }


def test_demo_builds_a_living_organisation_refuses_a_rerun_and_resets(empty_app, monkeypatch):
    monkeypatch.delenv("CXACTIONS_PASSWORD", raising=False)
    runner = empty_app.test_cli_runner()
    result = runner.invoke(args=SMALL)
    assert result.exit_code == 0, result.output + str(result.exception)
    assert "staff@demo.cxactions" in result.stdout and "demo-password" in result.stdout
    assert "Writing survey responses" in result.stderr  # progress goes to stderr

    first = snapshot()
    assert first["stores"] == 12
    assert first["units"] > 12  # regions and districts above the stores
    assert 12 * 20 * 3 <= first["responses"] <= 12 * 20 * 25
    assert first["operations"] == 12 * 20 * 4
    assert first["week_scores"] == 12 * 20 * 5  # overall and four drivers per store-week
    assert count(Metric, Metric.kind == MetricKind.DRIVER) == 4
    assert count(Metric, Metric.kind == MetricKind.OPERATIONAL) == 4
    assert count(ChallengeSignal) > 0
    assert count(Solution, Solution.status == SolutionStatus.PENDING) >= 3
    assert count(Vote) > 0 and count(Comment) > 0
    assert count(AuditEvent, AuditEvent.action == "demo.generate") == 1
    assert os.path.isdir(empty_app.config["SEARCH_INDEX_PATH"])

    sample = db.session.scalars(sa.select(Response).where(Response.comment.is_not(None))).first()
    assert 0 <= sample.overall <= 10 and set(sample.scores) <= {
        "wait_time_rating",
        "staff_rating",
        "cleanliness_rating",
        "product_availability_rating",
    }
    adoptions = db.session.scalars(sa.select(Adoption)).all()
    assert adoptions and {a.status for a in adoptions} <= set(AdoptionStatus)
    assert any(a.status == AdoptionStatus.IMPLEMENTED for a in adoptions)
    for adoption in adoptions:
        assert adoption.solution.status == SolutionStatus.APPROVED
        assert adoption.effective_on is not None and adoption.owner
        if adoption.challenge is not None:
            assert adoption.challenge in adoption.solution.challenges
    # Plans in every status, some late; checklists copied from the solutions, ticked as far as
    # each item has got; every abandoned item says why.
    assert {a.status for a in adoptions} == set(AdoptionStatus)
    today = date.today()
    states = {a.due_state(today) for a in adoptions}
    assert {DueState.OVERDUE, DueState.DUE_SOON} <= states
    manager = db.session.scalar(sa.select(User).where(User.email == "manager@demo.cxactions"))
    district = manager.units[0]
    mine = [a for a in adoptions if a.unit.parent_id == district.id]
    assert {a.due_state(today) for a in mine} >= {DueState.OVERDUE, DueState.DUE_SOON}
    with_steps = [a for a in adoptions if a.solution.step_list]
    assert with_steps and all(len(a.steps) == len(a.solution.step_list) for a in with_steps)
    for adoption in with_steps:
        expected = {AdoptionStatus.IMPLEMENTED: 100, AdoptionStatus.PLANNED: 0}
        if adoption.status in expected:
            assert adoption.percent_complete == expected[adoption.status]
    assert all(a.status_reason for a in adoptions if a.status == AdoptionStatus.ABANDONED)
    assert roles_with_units(db) == {"staff@demo.cxactions", "manager@demo.cxactions"}

    roles = {user.email: user for user in db.session.scalars(sa.select(User))}
    assert roles["manager@demo.cxactions"].role == Role.MANAGER
    assert [u.kind for u in roles["manager@demo.cxactions"].units] == ["district"]
    assert roles["lead@demo.cxactions"].role == Role.CX_LEAD
    for email in ("staff@demo.cxactions", "manager@demo.cxactions", "lead@demo.cxactions",
                  "admin@demo.cxactions"):  # fmt: skip
        client = empty_app.test_client()
        response = client.post("/login", data={"email": email, "password": "demo-password"})
        assert response.status_code == 302, email

    again = runner.invoke(args=SMALL)
    assert again.exit_code != 0
    reason = again.stderr.strip().splitlines()[-1]
    assert "already holds" in reason and "--reset" in reason
    assert snapshot() == first

    kept = runner.invoke(args=[*SMALL, "--if-empty"])  # what `make demo` runs on a second start
    assert kept.exit_code == 0 and "keeping it" in kept.stdout
    assert snapshot() == first

    reset = runner.invoke(args=[*SMALL, "--reset"])
    assert reset.exit_code == 0, reset.output + str(reset.exception)
    db.session.expire_all()
    assert snapshot() == first  # the same seed gives the same organisation, nothing doubled


def test_demo_with_a_broken_seed_fails_in_one_line_and_writes_nothing(empty_app, tmp_path):
    seed = tmp_path / "seed"
    (seed / "solutions").mkdir(parents=True)
    (seed / "challenges.csv").write_text("challenge_id,name\nA,Alpha\n", encoding="utf-8")
    (seed / "solutions" / "X.md").write_text(
        '+++\nid = "X"\ntitle = "x"\nkind = "sop"\nlanguage = "en"\nsummary = "s"\n'
        'challenges = ["MISSING"]\nsteps = ["a"]\n+++\nbody\n',
        encoding="utf-8",
    )
    result = empty_app.test_cli_runner().invoke(args=[*SMALL, "--seed-dir", str(seed)])
    assert result.exit_code != 0
    reason = result.stderr.strip().splitlines()[-1]
    assert "X.md" in reason and "MISSING" in reason
    assert count(Unit) == 0 and count(Solution) == 0


def roles_with_units(db) -> set[str]:
    """The demo accounts attached to units: the staff account works in the manager's district."""
    return {user.email for user in db.session.scalars(sa.select(User)) if user.units}
