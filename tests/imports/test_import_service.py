"""run_import on SQLite and PostgreSQL: all or nothing, upserts, keys, dry runs."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from cxactions.audit.models import AuditEvent
from cxactions.foundations.extensions import db as _db
from cxactions.foundations.vocabulary import AdoptionStatus, MetricKind, SolutionStatus
from cxactions.imports.models import ImportRun
from cxactions.imports.services import run_import
from cxactions.library.models import Solution
from cxactions.plans.models import Adoption
from cxactions.surveys.models import Metric, OperationValue, Response, UnitWeekScore
from cxactions.taxonomy.models import Challenge
from cxactions.units.models import Unit
from tests.paths import DATA as TEST_DATA

DATA = TEST_DATA / "imports"
ORDER = ["units", "challenges", "solutions", "responses", "operations", "adoptions"]


def database_snapshot() -> dict[str, list[tuple]]:
    """Every row of every table, to prove an import left the database exactly as it was."""
    _db.session.rollback()
    snapshot = {}
    for table in _db.metadata.sorted_tables:
        rows = _db.session.execute(sa.select(table)).all()
        snapshot[table.name] = sorted((tuple(row) for row in rows), key=repr)
    _db.session.rollback()
    return snapshot


def load(kind: str, path: Path | None = None, **options):
    result = run_import(_db.session, kind, path or DATA / f"{kind}.csv", **options)
    assert result.ok, result.error_lines()
    return result


def load_all(until: str = "adoptions") -> None:
    for kind in ORDER[: ORDER.index(until) + 1]:
        load(kind)


def write(tmp_path: Path, text: str, name: str = "file.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="")
    return path


def codes(model) -> dict[str, object]:
    return {item.code: item for item in _db.session.scalars(sa.select(model))}


# --------------------------------------------------------------------------- loading


def test_fixture_files_load_in_order(db):
    results = {kind: load(kind) for kind in ORDER}
    assert {kind: result.rows_inserted for kind, result in results.items()} == {
        "units": 7, "challenges": 4, "solutions": 3, "responses": 5, "operations": 4,
        "adoptions": 3,
    }  # fmt: skip

    units = codes(Unit)
    # Parents defined further down the file are found.
    assert units["S-PAR-01"].parent.code == "D-IDF"
    assert units["D-IDF"].parent.code == "R-NORTH"
    assert units["R-NORTH"].parent is None
    assert units["D-IDF"].name == "Île-de-France district"

    challenges = codes(Challenge)
    assert challenges["C-QUEUE-TILL"].parent.code == "C-WAIT"
    assert challenges["C-QUEUE-TILL"].keyword_list == ["long queue", "file d'attente", "caisse"]

    solutions = codes(Solution)
    assert solutions["SOL-QUEUE-BUSTER"].status == SolutionStatus.APPROVED  # the default
    assert solutions["SOL-PEAK-ROTA"].status == SolutionStatus.DRAFT
    assert solutions["SOL-PEAK-ROTA"].summary.endswith('with a "rota" template.')
    assert sorted(c.code for c in solutions["SOL-HELP-POINT"].challenges) == [
        "C-STAFF",
        "C-STAFF-FIND",
    ]

    responses = {r.response_key: r for r in _db.session.scalars(sa.select(Response))}
    third = responses["R-0003"]
    assert third.unit.code == "S-LYO-01"
    assert third.responded_on == date(2024, 3, 5)
    assert third.responded_at == datetime(2024, 3, 5, 18, 40, 12)  # as written, no shift
    assert third.comment.startswith('The queue was "endless".\nOnly one till')
    assert third.scores == {"wait_time_rating": 2.0, "staff_rating": 3.0}
    assert responses["R-0002"].scores == {"wait_time_rating": 5.0}  # empty cells omitted
    assert responses["R-0002"].responded_at is None and responses["R-0002"].comment is None
    kinds = dict(_db.session.execute(sa.select(Metric.code, Metric.kind)).all())
    assert kinds == {
        "overall": MetricKind.OUTCOME,
        "wait_time_rating": MetricKind.DRIVER,
        "staff_rating": MetricKind.DRIVER,
        "wait_minutes": MetricKind.OPERATIONAL,
        "checkout_compliance": MetricKind.OPERATIONAL,
    }
    # The weekly sums follow the responses (Monday weeks).
    week = _db.session.execute(
        sa.select(UnitWeekScore.n, UnitWeekScore.total)
        .join(Metric, Metric.id == UnitWeekScore.metric_id)
        .where(
            Metric.code == "overall",
            UnitWeekScore.unit_id == units["S-PAR-01"].id,
            UnitWeekScore.week_start == date(2024, 3, 4),
        )
    ).one()
    assert tuple(week) == (2, 14.5)

    values = _db.session.execute(
        sa.select(Unit.code, OperationValue.on_date, Metric.code, OperationValue.value)
        .join(Unit, Unit.id == OperationValue.unit_id)
        .join(Metric, Metric.id == OperationValue.metric_id)
    ).all()
    assert ("S-LYO-01", date(2024, 3, 4), "wait_minutes", 11.25) in values

    adoptions = {
        (a.unit.code, a.solution.code): a for a in _db.session.scalars(sa.select(Adoption))
    }
    implemented = adoptions[("S-LYO-01", "SOL-QUEUE-BUSTER")]
    assert implemented.status == AdoptionStatus.IMPLEMENTED
    assert implemented.effective_on == date(2024, 3, 8)
    assert implemented.challenge.code == "C-QUEUE-TILL"
    assert adoptions[("S-LYO-01", "SOL-HELP-POINT")].status == AdoptionStatus.IMPLEMENTED
    assert adoptions[("S-PAR-01", "SOL-HELP-POINT")].effective_on is None


def test_reimport_same_files_changes_nothing(db):
    load_all()
    before = database_snapshot()
    for kind in ORDER:
        result = load(kind)
        assert (result.rows_inserted, result.rows_updated) == (0, 0), kind
        assert result.rows_unchanged == result.rows_read
    after = database_snapshot()
    # Only the record of the imports themselves grew.
    for name in ("import_runs", "audit_events"):
        assert len(after.pop(name)) == len(before.pop(name)) + len(ORDER)
    assert after == before


def test_reimport_with_changed_values_updates_and_never_duplicates(db, tmp_path):
    load_all("responses")
    changed = (DATA / "responses.csv").read_text().replace("R-0002,S-PAR-01,2024-03-05,6.5,,5,",
                                                           "R-0002,S-PAR-01,2024-03-05,2,,5,1")  # fmt: skip
    result = load("responses", write(tmp_path, changed))
    assert (result.rows_inserted, result.rows_updated, result.rows_unchanged) == (0, 1, 4)
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(Response)) == 5
    second = _db.session.scalar(sa.select(Response).where(Response.response_key == "R-0002"))
    assert second.overall == 2.0 and second.scores == {"wait_time_rating": 5.0, "staff_rating": 1.0}
    overall = _db.session.execute(
        sa.select(UnitWeekScore.total)
        .join(Metric, Metric.id == UnitWeekScore.metric_id)
        .join(Unit, Unit.id == UnitWeekScore.unit_id)
        .where(Metric.code == "overall", Unit.code == "S-PAR-01")
    ).scalar_one()
    assert overall == 8 + 2

    units = write(tmp_path, "unit_id,name\nS-PAR-01,Paris Rivoli (flagship)\n", "units.csv")
    result = load("units", units)
    assert (result.rows_inserted, result.rows_updated) == (0, 1)
    unit = codes(Unit)["S-PAR-01"]
    # Columns absent from the file are left alone.
    assert unit.name == "Paris Rivoli (flagship)" and unit.parent.code == "D-IDF"


def test_french_and_windows_1252_files_load(db):
    load("units")
    result = load("responses", DATA / "responses_fr.csv")
    assert result.rows_inserted == 3 and any("French" in notice for notice in result.notices)
    response = _db.session.scalar(sa.select(Response).where(Response.response_key == "R-FR-01"))
    assert response.overall == 7.5 and response.scores["staff_rating"] == 9.5
    assert response.responded_at == datetime(2024, 3, 4, 9, 15)
    result = load("units", DATA / "units_cp1252.csv")
    assert "Windows-1252" in result.notices[0]
    assert codes(Unit)["S-ORL-01"].name == "Orléans – Centre « Gare »"


def test_import_is_recorded_with_an_audit_event(db):
    result = load("units", actor="cli:alice")
    run = _db.session.get(ImportRun, result.run_id)
    assert (run.kind, run.actor, run.rows_read, run.rows_inserted) == ("units", "cli:alice", 7, 7)
    assert run.filename == "units.csv" and run.finished_at is not None
    event = _db.session.scalar(sa.select(AuditEvent))
    assert (event.action, event.entity_type, event.entity_id) == (
        "import.units",
        "import_run",
        str(run.id),
    )
    assert event.details["rows_inserted"] == 7


def test_search_follows_an_imported_library(db, app):
    from cxactions.search.service import SearchOptions, search

    load_all("solutions")
    titles = {hit.title for hit in search(db.session, "", SearchOptions(per_page=100)).results}
    assert "Queue-busting with mobile tills" in titles and "Long queue at the till" in titles
    assert "Peak-hour rota training" not in titles  # a draft is not searchable
    drafts = search(
        db.session, "", SearchOptions(curator=True, status="draft", per_page=100)
    ).results
    assert [hit.title for hit in drafts] == ["Peak-hour rota training"]  # unless a lead asks


# --------------------------------------------------------------------------- all or nothing

BAD_FILES = {
    "responses with a bad number": (
        "responses",
        "response_id,unit_id,responded_at,overall\nR-1,S-PAR-01,2024-03-04,8\n"
        "R-2,S-PAR-01,2024-03-04,abc\n",
        "file.csv:3: overall: not a number: 'abc'",
    ),
    "responses with an impossible date": (
        "responses",
        "response_id,unit_id,responded_at,overall\nR-1,S-PAR-01,2024-02-30,8\n",
        "file.csv:2: responded_at: impossible date: '2024-02-30'",
    ),
    "responses for an unknown unit": (
        "responses",
        "response_id,unit_id,responded_at,overall\nR-1,S-PAR-01,2024-03-04,8\n"
        "R-2,S-NOWHERE,2024-03-04,8\n",
        "file.csv:3: unit_id: unknown unit_id 'S-NOWHERE' (not in the database: import "
        "units.csv first)",
    ),
    "responses with a duplicate key": (
        "responses",
        "response_id,unit_id,responded_at,overall\nR-1,S-PAR-01,2024-03-04,8\n"
        "R-1,S-PAR-01,2024-03-05,7\n",
        "file.csv:3: response_id: duplicate response_id 'R-1' (first on line 2)",
    ),
    "responses with an empty overall": (
        "responses",
        "response_id,unit_id,responded_at,overall\nR-1,S-PAR-01,2024-03-04,\n",
        "file.csv:2: overall: required, but empty",
    ),
    "responses with a stray quote": (
        "responses",
        'response_id,unit_id,responded_at,overall,comment\nR-1,S-PAR-01,2024-03-04,8,"oops\n'
        "R-2,S-PAR-01,2024-03-04,8,fine\n",
        "file.csv:2: a quote opened on this line never closes",
    ),
    "responses with an unquoted comma": (
        "responses",
        "response_id,unit_id,responded_at,overall,comment\nR-1,S-PAR-01,2024-03-04,8,slow, rude\n",
        "file.csv:2: expected 5 fields, found 6: an unquoted comma in a comment?",
    ),
    "responses with a driver named like an operational metric": (
        "responses",
        "response_id,unit_id,responded_at,overall,wait_minutes\nR-1,S-PAR-01,2024-03-04,8,3\n",
        "file.csv:1: wait_minutes: 'wait_minutes' is already an operational metric, not a "
        "survey driver; rename the column",
    ),
    "units whose parent does not exist": (
        "units",
        "unit_id,name,parent_id\nS-NEW,New store,D-NOWHERE\n",
        "file.csv:2: parent_id: unknown unit_id 'D-NOWHERE' (not in the database nor in this file)",
    ),
    "units forming a cycle": (
        "units",
        "unit_id,name,parent_id\nX-A,A,X-B\nX-B,B,X-C\nX-C,C,X-A\n",
        "file.csv:2: parent_id: the parents form a cycle: X-A → X-B → X-C → X-A",
    ),
    "units forming a cycle through the database": (
        "units",
        "unit_id,name,parent_id\nR-NORTH,North region,S-PAR-01\n",
        "file.csv:2: parent_id: the parents form a cycle: R-NORTH → S-PAR-01 → D-IDF → R-NORTH",
    ),
    "units with an unknown column": (
        "units",
        "unit_id,name,region\nS-NEW,New store,North\n",
        "file.csv:1: region: unknown column (expected: unit_id, name, parent_id, kind)",
    ),
    "units with a missing column": (
        "units",
        "unit_id,kind\nS-NEW,store\n",
        "file.csv:1: name: required column is missing",
    ),
    "units, header only": (
        "units",
        "unit_id,name\n",
        "file.csv:1: the file has a header but no data rows",
    ),
    "an empty file": ("units", "", "file.csv:1: the file is empty (no header line)"),
    "solutions for an unknown challenge": (
        "solutions",
        "solution_id,title,kind,challenge_ids\nSOL-NEW,New,sop,C-WAIT;C-NOWHERE\n",
        "file.csv:2: challenge_ids: unknown challenge_id 'C-NOWHERE'",
    ),
    "solutions of an unknown kind": (
        "solutions",
        "solution_id,title,kind\nSOL-NEW,New,poster\n",
        "file.csv:2: kind: 'poster' is not one of training, sop, asset, other",
    ),
    "challenges with a duplicate column": (
        "challenges",
        "challenge_id,name,name\nC-NEW,New,New\n",
        "file.csv:1: name: duplicate column (columns 2 and 3)",
    ),
    "adoptions of an unknown solution": (
        "adoptions",
        "unit_id,solution_id,adopted_on\nS-PAR-01,SOL-NOWHERE,2024-03-01\n",
        "file.csv:2: solution_id: unknown solution_id 'SOL-NOWHERE'",
    ),
    "adoptions implemented without a date": (
        "adoptions",
        "unit_id,solution_id,adopted_on,status\nS-PAR-01,SOL-QUEUE-BUSTER,,implemented\n",
        "file.csv:2: adopted_on: required when status is implemented",
    ),
    "operations for a survey metric": (
        "operations",
        "unit_id,date,metric,value\nS-PAR-01,2024-03-04,staff_rating,3\n",
        "file.csv:2: metric: 'staff_rating' is a survey driver metric, not an operational input",
    ),
    "operations with a duplicate key": (
        "operations",
        "unit_id,date,metric,value\nS-PAR-01,2024-03-04,wait_minutes,3\n"
        "S-PAR-01,2024-03-04,wait_minutes,4\n",
        "file.csv:3: unit_id: duplicate unit_id, date, metric 'S-PAR-01', 2024-03-04, "
        "'wait_minutes' (first on line 2)",
    ),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_an_invalid_file_writes_nothing_and_says_where(db, tmp_path, case):
    load_all()
    kind, text, expected = BAD_FILES[case]
    before = database_snapshot()
    result = run_import(_db.session, kind, write(tmp_path, text))
    assert not result.ok
    assert "nothing was written" in result.summary() or "cannot be read" in result.summary()
    assert any(line.startswith(expected) for line in result.error_lines()), result.error_lines()
    assert database_snapshot() == before


def test_a_late_error_rolls_back_the_chunks_already_written(db, tmp_path):
    load("units")
    rows = [f"R-{i},S-PAR-01,2024-03-04,{i % 10}" for i in range(30)] + ["R-30,S-PAR-01,x,1"]
    path = write(tmp_path, "response_id,unit_id,responded_at,overall\n" + "\n".join(rows) + "\n")
    before = database_snapshot()
    result = run_import(_db.session, "responses", path, chunk_rows=4)
    assert result.error_lines() == [
        "file.csv:32: responded_at: not a date (ISO 8601: YYYY-MM-DD, optionally with a time): 'x'"
    ]
    assert result.summary() == "file.csv: 1 error in 1 of 31 rows: nothing was written"
    assert database_snapshot() == before


def test_every_bad_row_is_counted_but_only_the_first_50_are_listed(db, tmp_path):
    load("units")
    rows = [f"R-{i},S-PAR-01,2024-03-04,bad{i}" for i in range(120)]
    path = write(tmp_path, "response_id,unit_id,responded_at,overall\n" + "\n".join(rows) + "\n")
    result = run_import(_db.session, "responses", path, chunk_rows=7)
    lines = result.error_lines()
    assert len(lines) == 51
    assert lines[0] == "file.csv:2: overall: not a number: 'bad0'"
    assert lines[49] == "file.csv:51: overall: not a number: 'bad49'"
    assert lines[50] == "… and 70 more errors"
    assert result.error_count == 120


def test_dry_run_validates_keys_and_writes_nothing(db, tmp_path):
    load("units")
    before = database_snapshot()
    result = run_import(_db.session, "challenges", DATA / "challenges.csv", dry_run=True)
    assert result.ok and result.dry_run
    assert result.summary() == (
        "challenges.csv: dry run, 4 rows read, all valid: 4 would be inserted, 0 updated, "
        "0 unchanged; nothing was written"
    )
    result = run_import(_db.session, "responses", DATA / "responses.csv", dry_run=True)
    assert result.ok and "nothing was written" in result.summary()
    bad = write(tmp_path, "response_id,unit_id,responded_at,overall\nR-1,S-NOWHERE,2024-03-04,8\n")
    result = run_import(_db.session, "responses", bad, dry_run=True)
    assert not result.ok and "unknown unit_id 'S-NOWHERE'" in result.error_lines()[0]
    assert database_snapshot() == before


def test_skip_invalid_imports_the_valid_rows(db, tmp_path):
    load("units")
    path = write(
        tmp_path,
        "unit_id,name,parent_id\nX-1,One,R-NORTH\nX-2,,R-NORTH\nX-3,Three,X-2\nX-4,Four,X-1\n",
    )
    result = run_import(_db.session, "units", path, skip_invalid=True)
    assert result.ok
    assert result.error_lines() == [
        "file.csv:3: name: required, but empty",
        "file.csv:4: parent_id: unknown unit_id 'X-2' (not in the database nor in this file)",
    ]
    assert (result.rows_inserted, result.rows_skipped) == (2, 2)
    assert "2 invalid skipped" in result.summary()
    assert codes(Unit)["X-4"].parent.code == "X-1"


def test_responses_stream_in_chunks_with_keys_checked_across_them(db, tmp_path):
    load("units")
    rows = [
        f"R-{i},S-PAR-0{1 + i % 2},2024-03-{1 + i % 28:02d},{i % 11},,{i % 5}" for i in range(25)
    ]
    header = "response_id,unit_id,responded_at,overall,comment,staff_rating\n"
    path = write(tmp_path, header + "\n".join(rows) + "\n")
    result = run_import(_db.session, "responses", path, chunk_rows=4)
    assert result.ok and result.rows_inserted == 25
    again = run_import(_db.session, "responses", path, chunk_rows=6)
    assert (again.rows_inserted, again.rows_updated, again.rows_unchanged) == (0, 0, 25)
    total = _db.session.scalar(
        sa.select(sa.func.sum(UnitWeekScore.n))
        .join(Metric, Metric.id == UnitWeekScore.metric_id)
        .where(Metric.code == "staff_rating")
    )
    assert total == 25
    stored = _db.session.scalar(sa.select(Response).where(Response.response_key == "R-7"))
    assert json.loads(json.dumps(stored.scores)) == {"staff_rating": 2.0}


def test_a_database_error_mid_import_rolls_everything_back(db, monkeypatch):
    from cxactions.imports.loaders import responses

    load("units")
    before = database_snapshot()
    dbapi = _db.engine.dialect.dbapi

    def refuse(*args, **kwargs):
        raise dbapi.IntegrityError("simulated: a unit was deleted meanwhile")

    monkeypatch.setattr(responses, "refresh_unit_weeks", refuse)
    result = run_import(_db.session, "responses", DATA / "responses.csv")
    assert not result.ok
    assert result.summary() == (
        "responses.csv: the database refused the rows: simulated: a unit was deleted meanwhile"
    )
    assert database_snapshot() == before
