"""``cxactions challenges --unit UNIT_ID``: table, CSV and JSON, and a clear error."""

from __future__ import annotations

import csv
import io
import json

from tests.priorities.test_priorities import add_signals, fixed_importance, import_world  # noqa: F401


def challenges(runner, *args: str):
    return runner.invoke(args=["challenges", *args])


def test_csv_lists_challenges_by_rank_with_their_evidence(runner, tmp_path, fixed_importance):  # noqa: F811
    import_world(runner, tmp_path)
    add_signals()
    result = challenges(runner, "--unit", "S1", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0])[:6] == ["unit_id", "challenge_id", "name", "priority", "rank", "evidence"]
    assert [(row["challenge_id"], row["rank"]) for row in rows] == [
        ("ST-GREET", "1"),
        ("SPEED-QUEUE", "2"),
    ]
    assert rows[0]["unit_id"] == "S1"
    assert rows[0]["name"] == "Nobody greets customers"
    assert float(rows[0]["priority"]) > float(rows[1]["priority"])
    assert rows[0]["evidence"].startswith("Staff rating 5.0 vs 8.0 for the 5 other stores")
    assert (
        "6 of 12 comments in the last 8 weeks complain about “queue”, “caisse”"
        in rows[1]["evidence"]
    )
    assert rows[1]["solutions"] == "SOL-EXPRESS;SOL-QUEUE-BOARD"


def test_json_carries_evidence_lists_and_solutions(runner, tmp_path, fixed_importance):  # noqa: F811
    import_world(runner, tmp_path)
    add_signals()
    result = challenges(runner, "--unit", "S1", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["unit_id"] == "S1"
    assert data["peers"] == "North region"
    assert data["window_start"] == "2024-01-08" and data["window_end"] == "2024-03-03"
    first, second = data["challenges"]
    assert (first["challenge_id"], first["rank"]) == ("ST-GREET", 1)
    assert [item["kind"] for item in second["evidence"]] == ["metric", "comments", "metric"]
    assert second["evidence"][1]["examples"][0] == "Waited in the queue for 20 minutes"
    assert [item["solution_id"] for item in second["solutions"]] == [
        "SOL-EXPRESS",
        "SOL-QUEUE-BOARD",
    ]
    assert second["solutions"][0]["verdict"] == "untested"


def test_table_is_readable(runner, tmp_path, fixed_importance):  # noqa: F811
    import_world(runner, tmp_path)
    add_signals()
    result = challenges(runner, "--unit", "S1")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "Store One (S1)"
    assert " 1. Nobody greets customers [ST-GREET]  priority 1.99" in lines
    assert any(line.strip().startswith("SOL-EXPRESS") for line in lines)


def test_without_signals_the_weakest_drivers_are_printed(runner, tmp_path, fixed_importance):  # noqa: F811
    import_world(runner, tmp_path)
    result = challenges(runner, "--unit", "S1", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    drivers = [row for row in rows if row["kind"] == "driver"]
    assert [row["name"] for row in drivers] == ["Staff rating", "Wait time rating", "Wait minutes"]
    assert all(row["challenge_id"] == "" and row["rank"] == "" for row in drivers)
    table = challenges(runner, "--unit", "S1").stdout
    assert "No challenge signals are configured." in table
    assert "Weakest drivers against peers (not linked to a challenge):" in table


def test_weeks_option_changes_the_window(runner, tmp_path, fixed_importance):  # noqa: F811
    import_world(runner, tmp_path)
    add_signals()
    data = json.loads(challenges(runner, "--unit", "S1", "--weeks", "2", "--format", "json").stdout)
    assert data["weeks"] == 2 and data["window_start"] == "2024-02-19"


def test_with_the_real_driver_analysis_the_command_succeeds(runner, tmp_path):
    import_world(runner, tmp_path)
    add_signals()
    result = challenges(runner, "--unit", "S1", "--format", "json")
    assert result.exit_code == 0, result.output
    assert {item["challenge_id"] for item in json.loads(result.stdout)["challenges"]} >= {
        "ST-GREET"
    }


def test_unknown_unit_is_a_one_line_error(runner, db):
    result = challenges(runner, "--unit", "NOPE")
    assert result.exit_code != 0
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "Error: There is no unit with the unit_id 'NOPE'."
    ]
