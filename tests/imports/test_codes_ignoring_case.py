"""Issue 11, item 4: codes of units, challenges, solutions and metrics are unique ignoring case
and keep the case they were first written in. Imports refuse a code (or a reference) that
differs only by case from an existing one, naming the right one; so do the curation forms and,
underneath everything, the database."""

from __future__ import annotations

import html

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from cxactions.auth.models import Role
from cxactions.foundations.changes import RefusedChange
from cxactions.foundations.extensions import db as _db
from cxactions.foundations.vocabulary import MetricKind, SolutionKind
from cxactions.imports.services import run_import
from cxactions.library.models import Solution
from cxactions.library.services import create_solution
from cxactions.surveys.models import Metric
from cxactions.taxonomy.models import Challenge
from cxactions.units.models import Unit
from tests.imports.test_import_service import database_snapshot, load, write

RULE = "codes are unique ignoring case"


def refused(kind: str, path) -> list[str]:
    """The error lines of an import, which must be the same in a dry run."""
    dry = run_import(_db.session, kind, path, dry_run=True)
    real = run_import(_db.session, kind, path)
    assert not dry.ok and not real.ok
    assert dry.error_lines() == real.error_lines()
    return real.error_lines()


@pytest.fixture
def world(db, tmp_path):
    """Unit ZD3 under region R1, challenges C-Queue (lower-case letters kept), a solution,
    the metrics overall, staff_rating and wait_minutes."""
    load("units", write(tmp_path, "unit_id,name,parent_id\nR1,North,\nZD3,Store,R1\n", "u.csv"))
    load("challenges", write(tmp_path, "challenge_id,name\nC-Queue,Queues\n", "c.csv"))
    load(
        "solutions", write(tmp_path, "solution_id,title,kind\nSol-Till,Open a till,sop\n", "s.csv")
    )
    load(
        "responses",
        write(
            tmp_path,
            "response_id,unit_id,responded_at,overall,staff_rating\nr1,ZD3,2025-01-06,7,6\n",
            "r.csv",
        ),
    )
    load(
        "operations",
        write(tmp_path, "unit_id,date,metric,value\nZD3,2025-01-06,wait_minutes,4\n", "o.csv"),
    )


# --------------------------------------------------------------------------- the database


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (lambda: Unit(code="ZD3", name="A"), lambda: Unit(code="zd3", name="B")),
        (lambda: Challenge(code="C-X", name="A"), lambda: Challenge(code="c-x", name="B")),
        (
            lambda: Solution(code="SOL", title="A", kind=SolutionKind.SOP),
            lambda: Solution(code="sol", title="B", kind=SolutionKind.SOP),
        ),
        (
            lambda: Metric(code="wait", kind=MetricKind.OPERATIONAL),
            lambda: Metric(code="WAIT", kind=MetricKind.OPERATIONAL),
        ),
    ],
    ids=["units", "challenges", "solutions", "metrics"],
)
def test_the_database_refuses_codes_differing_only_by_case(db, first, second):
    db.session.add(first())
    db.session.commit()
    db.session.add(second())
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


# --------------------------------------------------------------------------- new codes


def test_a_file_may_not_hold_two_codes_differing_only_by_case(db, tmp_path):
    path = write(tmp_path, "unit_id,name,parent_id\nZD3,Store,\nzd3,Other store,\nZd3,Third,\n")
    assert refused("units", path) == [
        f"file.csv:3: unit_id: zd3 differs only by case from ZD3 on line 2 — {RULE}; use ZD3",
        f"file.csv:4: unit_id: Zd3 differs only by case from ZD3 on line 2 — {RULE}; use ZD3",
    ]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Unit)) == 0


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        ("units", "unit_id,name\nzd3,Store\n", f"unit_id: zd3 already exists as ZD3 — {RULE}; "
         "use ZD3"),
        ("challenges", "challenge_id,name\nC-QUEUE,Queues\n", "challenge_id: C-QUEUE already "
         f"exists as C-Queue — {RULE}; use C-Queue"),
        ("solutions", "solution_id,title,kind\nSOL-TILL,Open a till,sop\n", "solution_id: "
         f"SOL-TILL already exists as Sol-Till — {RULE}; use Sol-Till"),
    ],
)  # fmt: skip
def test_a_new_code_differing_only_by_case_from_a_stored_one_is_refused(
    world, tmp_path, kind, text, expected
):
    before = database_snapshot()
    assert refused(kind, write(tmp_path, text)) == [f"file.csv:2: {expected}"]
    assert database_snapshot() == before


def test_the_stored_code_itself_still_updates(world, tmp_path):
    result = load("units", write(tmp_path, "unit_id,name\nZD3,Store renamed\n"))
    assert result.rows_updated == 1


def test_new_metrics_differing_only_by_case_are_refused(world, tmp_path):
    # A metric written with capitals (made before the import rules, or by hand).
    _db.session.add(Metric(code="Queue_Length", kind=MetricKind.DRIVER, scale_min=0, scale_max=10))
    _db.session.commit()
    operations = write(tmp_path, "unit_id,date,metric,value\nZD3,2025-01-06,Wait_Minutes,4\n")
    assert refused("operations", operations) == [
        f"file.csv:2: metric: Wait_Minutes already exists as wait_minutes — {RULE}; "
        "use wait_minutes"
    ]
    # Headers are read in lower case: the driver column queue_length is new, and clashes.
    responses = write(
        tmp_path, "response_id,unit_id,responded_at,overall,queue_length\nr9,ZD3,2025-01-07,7,5\n"
    )
    assert refused("responses", responses)[0] == (
        f"file.csv:1: queue_length: queue_length already exists as Queue_Length — {RULE}; "
        "use Queue_Length"
    )
    targets = write(tmp_path, "metric,target,kind\nWAIT_MINUTES,5,operational\n")
    assert refused("targets", targets) == [
        f"file.csv:2: metric: unknown metric 'WAIT_MINUTES' (did you mean 'wait_minutes'? "
        f"{RULE}: use 'wait_minutes')"
    ]


# --------------------------------------------------------------------------- references


def did_you_mean(column: str, code: str, right: str) -> str:
    return f"unknown {column} '{code}' (did you mean '{right}'? {RULE}: use '{right}')"


@pytest.mark.parametrize(
    ("kind", "text", "column", "code", "right"),
    [
        ("responses", "response_id,unit_id,responded_at,overall\nr2,zd3,2025-01-06,7\n",
         "unit_id", "zd3", "ZD3"),
        ("operations", "unit_id,date,metric,value\nzD3,2025-01-06,wait_minutes,4\n",
         "unit_id", "zD3", "ZD3"),
        ("units", "unit_id,name,parent_id\nS9,Store,r1\n", "unit_id", "r1", "R1"),
        ("challenges", "challenge_id,name,parent_id\nC-SUB,Sub,c-queue\n", "challenge_id",
         "c-queue", "C-Queue"),
        ("adoptions", "unit_id,solution_id,adopted_on\nZD3,SOL-TILL,2025-01-06\n", "solution_id",
         "SOL-TILL", "Sol-Till"),
        ("adoptions", "unit_id,solution_id,adopted_on,challenge_id\nZD3,Sol-Till,2025-01-06,"
         "C-QUEUE\n", "challenge_id", "C-QUEUE", "C-Queue"),
        ("signals", "challenge_id,metric,direction,threshold\nc-queue,wait_minutes,above,1\n",
         "challenge_id", "c-queue", "C-Queue"),
        ("signals", "challenge_id,metric,direction,threshold\nC-Queue,Wait_Minutes,above,1\n",
         "metric", "Wait_Minutes", "wait_minutes"),
        ("targets", "metric,target\nOverall,8\n", "metric", "Overall", "overall"),
    ],
)  # fmt: skip
def test_references_differing_only_by_case_are_refused_with_the_right_code(
    world, tmp_path, kind, text, column, code, right
):
    before = database_snapshot()
    lines = refused(kind, write(tmp_path, text))
    where = "parent_id" if text.split("\n")[0].endswith("parent_id") else column
    assert lines[0] == f"file.csv:2: {where}: {did_you_mean(column, code, right)}"
    assert database_snapshot() == before


def test_challenge_ids_differing_only_by_case_are_refused(world, tmp_path):
    path = write(tmp_path, "solution_id,title,kind,challenge_ids\nSOL-2,Two,sop,c-queue;C-NONE\n")
    assert refused("solutions", path) == [
        "file.csv:2: challenge_ids: unknown challenge_id 'c-queue' (did you mean 'C-Queue'?), "
        "'C-NONE' (not in the database: import challenges.csv first)"
    ]


# --------------------------------------------------------------------------- curation forms


def test_the_solution_form_refuses_a_code_differing_only_by_case(world, client_as):
    response = client_as(Role.CX_LEAD).post(
        "/solutions/new",
        data={"code": "sol-till", "title": "Another till", "kind": "sop", "language": "en",
              "status": "approved"},
    )  # fmt: skip
    assert response.status_code == 400
    page = html.unescape(response.get_data(as_text=True))
    assert "The code “sol-till” differs only by case from the existing solution “Sol-Till”" in page
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(Solution)) == 1


def test_a_code_made_from_the_title_avoids_codes_differing_only_by_case(world, make_user):
    _db.session.add(Solution(code="open-a-till", title="Old", kind=SolutionKind.SOP))
    _db.session.commit()
    lead = make_user(Role.CX_LEAD)
    made = create_solution(_db.session, {"title": "Open a till", "kind": "sop"}, lead)
    assert made.code == "OPEN-A-TILL-2"
    with pytest.raises(RefusedChange) as error:
        create_solution(_db.session, {"code": "OPEN-a-till", "title": "x", "kind": "sop"}, lead)
    assert error.value.field == "code"


def test_the_signals_form_names_a_metric_differing_only_by_case(world, make_user):
    from cxactions.taxonomy.services import add_signal

    challenge = _db.session.scalar(sa.select(Challenge).where(Challenge.code == "C-Queue"))
    with pytest.raises(RefusedChange) as error:
        add_signal(_db.session, challenge, "WAIT_MINUTES", "above", "peer_sd", 1.0)
    assert "did you mean “wait_minutes”?" in error.value.message
