"""``cxactions plans export [--unit UNIT_ID] --output FILE`` and the roll-up's "Download CSV":
every plan item in scope, one row per item, cells safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta

import pytest

from cxactions.auth.models import Role
from cxactions.foundations.csv_export import csv_chunks, csv_text
from cxactions.foundations.vocabulary import AdoptionStatus
from cxactions.plans import rollup
from cxactions.plans.export_cli import plans_group
from cxactions.plans.models import Adoption, PlanStep
from tests.conftest import TEST_PASSWORD, browser_for
from tests.factories import small_library, unit_tree

CONTRACT_COLUMNS = [
    "unit_id",
    "solution_id",
    "challenge_id",
    "status",
    "owner",
    "due_on",
    "adopted_on",
    "percent_complete",
]
TODAY = date.today()
DUE = TODAY + timedelta(days=30)


@pytest.fixture
def world(db):
    """R1 > D1 (S1, S2), D2 (S3, S4). S1 runs SOP-TILL (1 of 2 steps ticked, for SPEED-QUEUE,
    owner a formula) and implemented TRN-LINE; S2 plans SOP-TILL (owner "+1"); S4 abandoned
    TRN-LINE, with a note that starts with "-"."""
    units = unit_tree()
    lib = small_library(retired=False, pending=False, commit=False)
    till, line = lib["SOP-TILL"], lib["TRN-LINE"]
    running = Adoption(
        unit=units["S1"],
        solution=till,
        challenge=lib["SPEED-QUEUE"],
        status=AdoptionStatus.IN_PROGRESS,
        owner='=HYPERLINK("http://evil.example","Click")',
        due_on=DUE,
        effective_on=TODAY + timedelta(days=7),  # the planned start
        created_at=datetime(2026, 1, 5, 9, 30, 15, 123456),
        status_changed_at=datetime(2026, 1, 6, 8, 0),
    )
    running.steps = [
        PlanStep(position=1, text="Brief", done_at=datetime(2026, 1, 6)),
        PlanStep(position=2, text="Sign", done_at=None),
    ]
    done = Adoption(
        unit=units["S1"],
        solution=line,
        status=AdoptionStatus.IMPLEMENTED,
        owner="Marie Dupont",
        effective_on=date(2026, 1, 12),
    )
    planned = Adoption(
        unit=units["S2"], solution=till, status=AdoptionStatus.PLANNED, owner="+1", due_on=DUE
    )
    dropped = Adoption(
        unit=units["S4"],
        solution=line,
        status=AdoptionStatus.ABANDONED,
        owner="@SUM(A1:A9)",
        status_reason="No budget",
        notes="-2+3 then =cmd|' /C calc'!A0",
        due_on=TODAY - timedelta(days=3),
    )
    db.session.add_all([running, done, planned, dropped])
    db.session.commit()
    return units


def run_export(app, runner, *args: str):
    """``cxactions plans export ...`` as the contract names it (the app's ``plans`` group, or
    the group this feature offers until the factory registers it)."""
    if "plans" in app.cli.commands:
        return runner.invoke(args=["plans", "export", *args])
    return runner.invoke(plans_group, ["export", *args])


def read_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def exported(app, runner, tmp_path, *args: str) -> tuple[list[str], list[dict[str, str]]]:
    path = tmp_path / "plan.csv"
    result = run_export(app, runner, *args, "--output", str(path))
    assert result.exit_code == 0, result.output + (result.stderr or "")
    text = path.read_text(encoding="utf-8")
    return text.splitlines()[0].split(","), read_rows(text)


def test_the_header_starts_with_the_contract_columns(app, runner, world, tmp_path):
    header, rows = exported(app, runner, tmp_path)
    assert header[: len(CONTRACT_COLUMNS)] == CONTRACT_COLUMNS
    assert header == list(rollup.EXPORT_COLUMNS)
    assert len(rows) == 4


def test_each_item_is_one_row_with_codes_dates_and_progress(app, runner, world, tmp_path):
    _, rows = exported(app, runner, tmp_path)
    assert [(row["unit_id"], row["solution_id"]) for row in rows] == [
        ("S1", "SOP-TILL"),
        ("S1", "TRN-LINE"),
        ("S2", "SOP-TILL"),
        ("S4", "TRN-LINE"),
    ]
    running, done, planned, dropped = rows
    assert running["challenge_id"] == "SPEED-QUEUE"
    assert running["status"] == "in_progress"
    assert running["due_on"] == DUE.isoformat()
    # adopted_on is what the adoptions import reads back: the planned start of an active item...
    assert running["adopted_on"] == (TODAY + timedelta(days=7)).isoformat()
    # ...and the date it took effect for an implemented one.
    assert done["adopted_on"] == "2026-01-12"
    assert planned["adopted_on"] == ""
    assert (running["percent_complete"], running["steps_done"], running["steps_total"]) == (
        "50",
        "1",
        "2",
    )
    assert done["percent_complete"] == "100"  # implemented, no steps
    assert planned["percent_complete"] == "0"
    assert running["unit_name"] == "Store 1" and running["parent_unit_id"] == "D1"
    assert running["solution_title"] == "Open a till at three"
    assert running["challenge_name"] == "Long checkout queues"
    assert running["created_at"] == "2026-01-05T09:30:15Z"
    assert running["status_changed_at"] == "2026-01-06T08:00:00Z"
    assert dropped["status_reason"] == "No budget"
    # Only active items are late: the abandoned one was due three days ago.
    assert [row["due_state"] for row in rows] == ["", "", "", ""]


def test_due_state_flags_late_and_soon_active_items(app, runner, world, tmp_path, db):
    planned = db.session.query(Adoption).filter_by(owner="+1").one()
    planned.due_on = TODAY - timedelta(days=1)
    running = db.session.query(Adoption).filter_by(status=AdoptionStatus.IN_PROGRESS).one()
    running.due_on = TODAY + timedelta(days=2)
    db.session.commit()
    _, rows = exported(app, runner, tmp_path)
    assert {row["unit_id"] + row["solution_id"]: row["due_state"] for row in rows} == {
        "S1SOP-TILL": "due_soon",
        "S1TRN-LINE": "",
        "S2SOP-TILL": "overdue",
        "S4TRN-LINE": "",
    }


def test_unit_limits_the_export_to_its_subtree(app, runner, world, tmp_path):
    _, rows = exported(app, runner, tmp_path, "--unit", "D1")
    assert {row["unit_id"] for row in rows} == {"S1", "S2"}
    _, rows = exported(app, runner, tmp_path, "--unit", "S4")
    assert [row["unit_id"] for row in rows] == ["S4"]
    _, rows = exported(app, runner, tmp_path, "--unit", "R1")
    assert len(rows) == 4


def test_cells_that_would_run_as_formulas_are_written_as_text(app, runner, world, tmp_path):
    _, rows = exported(app, runner, tmp_path)
    owners = [row["owner"] for row in rows]
    assert owners == [
        '\'=HYPERLINK("http://evil.example","Click")',
        "Marie Dupont",
        "'+1",  # a spreadsheet would read +1 as the number 1
        "'@SUM(A1:A9)",
    ]
    assert rows[3]["notes"] == "'-2+3 then =cmd|' /C calc'!A0"
    # Numbers stay numbers.
    assert rows[0]["percent_complete"] == "50"


def test_an_unknown_unit_fails_with_its_reason_and_writes_nothing(app, runner, world, tmp_path):
    path = tmp_path / "plan.csv"
    result = run_export(app, runner, "--unit", "NOPE", "--output", str(path))
    assert result.exit_code != 0
    assert result.stderr.strip().splitlines() == [
        "Error: There is no unit with the unit_id 'NOPE'."
    ]
    assert not path.exists()


def test_output_is_required(app, runner, world):
    result = run_export(app, runner)
    assert result.exit_code != 0
    assert "--output" in result.stderr


def test_the_command_reports_what_it_wrote(app, runner, world, tmp_path):
    path = tmp_path / "plan.csv"
    result = run_export(app, runner, "--unit", "D1", "--output", str(path))
    assert result.stderr.strip() == f"3 plan items written to {path}"


def test_an_empty_scope_writes_the_header_alone(app, runner, world, tmp_path):
    header, rows = exported(app, runner, tmp_path, "--unit", "S3")
    assert header == list(rollup.EXPORT_COLUMNS) and rows == []


def test_the_chunks_make_the_same_document_as_the_writer_at_once():
    rows = [[f"U{n}", "=1+1" if n % 7 == 0 else n, -n] for n in range(2_345)]
    pieces = list(csv_chunks(["a", "b", "c"], iter(rows), chunk_rows=100))
    assert len(pieces) == 24
    assert "".join(pieces) == csv_text(["a", "b", "c"], rows)


# --- The download ------------------------------------------------------------------------------


def test_the_download_streams_the_same_rows_as_the_command(app, runner, world, tmp_path, client_as):
    lead = client_as(Role.CX_LEAD)
    response = lead.get("/units/D1/plans.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == "attachment; filename=plan-items-D1.csv"
    path = tmp_path / "d1.csv"
    assert run_export(app, runner, "--unit", "D1", "--output", str(path)).exit_code == 0
    assert response.get_data(as_text=True) == path.read_text(encoding="utf-8")
    everything = lead.get("/plans.csv")
    assert everything.headers["Content-Disposition"] == "attachment; filename=plan-items.csv"
    assert len(read_rows(everything.get_data(as_text=True))) == 4
    owners = [row["owner"] for row in read_rows(everything.get_data(as_text=True))]
    assert owners[0].startswith("'=HYPERLINK") and owners[2] == "'+1"


def test_a_manager_downloads_their_own_units_only(world, client_as):
    manager = client_as(Role.MANAGER, units=[world["D2"]])
    rows = read_rows(manager.get("/plans.csv").get_data(as_text=True))
    assert [row["unit_id"] for row in rows] == ["S4"]
    assert manager.get("/units/D1/plans.csv").status_code == 403


def test_a_download_left_unread_or_stopped_half_way_closes_cleanly(app, world, make_user):
    """As the route sweep calls it: each request in its own context, the response closed
    unread; and a download stopped after its first piece. Nothing is left open (the test
    fails on any warning)."""
    lead = make_user(Role.CX_LEAD)
    browser = browser_for(app)
    assert (
        browser.post("/login", data={"email": lead.email, "password": TEST_PASSWORD}).status_code
        == 302
    )
    for path in ("/plans.csv", "/units/D1/plans.csv"):
        response = browser.open(path)
        assert response.status_code == 200
        response.close()
        response = browser.open(path)
        first = next(iter(response.response))
        assert (
            first.startswith(b"unit_id,")
            if isinstance(first, bytes)
            else first.startswith("unit_id,")
        )
        response.close()
    assert browser.open("/plans.csv").get_data(as_text=True).count("\n") == 5
