"""``cxactions import KIND FILE``: exit codes, stdout summary, stderr report."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from cxactions.foundations.extensions import db as _db
from cxactions.units.models import Unit
from tests.imports.test_import_service import DATA, database_snapshot


def invoke(runner, *args: str):
    return runner.invoke(args=["import", *args])


def test_success_prints_one_summary_line_and_exits_zero(runner, db):
    path = str(DATA / "units.csv")
    result = invoke(runner, "units", path)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [result.stdout.strip()]  # one line
    assert result.stdout.startswith(f"{path}: 7 rows read: 7 inserted, 0 updated, 0 unchanged")
    assert result.stderr == ""
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(Unit)) == 7


def test_failure_reports_every_bad_row_on_stderr_and_writes_nothing(runner, db, tmp_path):
    invoke(runner, "units", str(DATA / "units.csv"))
    path = tmp_path / "responses.csv"
    path.write_text(
        "response_id,unit_id,responded_at,overall,comment\n"
        "R-1,S-PAR-01,2024-03-04,8,fine\n"
        "R-2,S-NOWHERE,2024-03-04,8,fine\n"
        "R-3,S-PAR-01,2024-02-30,8,fine\n"
        "R-4,S-PAR-01,2024-03-04,8,slow, rude\n"
    )
    before = database_snapshot()
    result = invoke(runner, "responses", str(path))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{path}:3: unit_id: unknown unit_id 'S-NOWHERE' (not in the database: import units.csv first)",
        f"{path}:4: responded_at: impossible date: '2024-02-30'",
        f"{path}:5: expected 5 fields, found 6: an unquoted comma in a comment? Put text holding "
        "a comma in double quotes",
        f"Error: {path}: 3 errors in 3 of 4 rows: nothing was written",
    ]
    assert database_snapshot() == before


def test_dry_run_writes_nothing(runner, db):
    before = database_snapshot()
    result = invoke(runner, "units", str(DATA / "units.csv"), "--dry-run")
    assert result.exit_code == 0
    assert "dry run, 7 rows read, all valid: 7 would be inserted" in result.stdout
    assert database_snapshot() == before


def test_skip_invalid_imports_the_rest_and_reports_the_bad_rows(runner, db, tmp_path):
    path = tmp_path / "units.csv"
    path.write_text("unit_id,name\nS1,One\nS2,\nS3,Three\n")
    result = invoke(runner, "units", str(path), "--skip-invalid")
    assert result.exit_code == 0
    assert result.stderr.splitlines() == [f"{path}:3: name: required, but empty"]
    assert "2 inserted" in result.stdout and "1 invalid skipped" in result.stdout


def test_notices_go_to_stderr(runner, db):
    path = DATA / "units_cp1252.csv"
    result = invoke(runner, "units", str(path))
    assert result.exit_code == 0
    assert result.stderr.startswith(f"{path}: note: the file is not UTF-8 (byte 0xE9 on line 2)")


def test_unknown_kind_and_missing_file_are_usage_errors(runner, db, tmp_path: Path):
    assert invoke(runner, "stores", str(DATA / "units.csv")).exit_code == 2
    assert invoke(runner, "units", str(tmp_path / "missing.csv")).exit_code == 2


def test_progress_bar_on_stderr_for_big_files(runner, db, monkeypatch):
    from cxactions.imports import cli

    monkeypatch.setattr(cli, "PROGRESS_MIN_BYTES", 10)
    result = invoke(runner, "units", str(DATA / "units.csv"))
    assert result.exit_code == 0
    assert "Importing units.csv" in result.stderr
    assert "Importing" not in result.stdout
