"""``cxactions search`` on a library imported through the contract's CSV files."""

from __future__ import annotations

import json

import pytest

CHALLENGES = """challenge_id,name,parent_id,description
WAIT,Waiting,,Customers wait too long
WAIT-PHARMACY,Slow pharmacy counter,WAIT,Prescriptions take ages to be served
CLEAN,Cleanliness,,
CLEAN-FLOOR,Sticky floors,CLEAN,Floors near the drinks aisle stay sticky
"""

SOLUTIONS = """solution_id,title,kind,description,challenge_ids,status
RX-FASTLANE,Express lane for prescription pickups,sop,A separate counter for ready prescriptions,WAIT-PHARMACY,
RX-SMS,Texto quand l'ordonnance est prête,asset,Le client reçoit un SMS et évite l'attente au comptoir,WAIT-PHARMACY,approved
FLOOR-MOP,Hourly mop round by the drinks aisle,training,Staff learn the hourly mopping round,CLEAN-FLOOR,
FLOOR-DRAFT,Self-cleaning floor tiles,asset,An idea still in draft,CLEAN-FLOOR,draft
FLOOR-OLD,Sawdust on the floor,other,Retired practice,CLEAN-FLOOR,retired
"""


@pytest.fixture
def library(runner, tmp_path):
    for kind, text in (("challenges", CHALLENGES), ("solutions", SOLUTIONS)):
        path = tmp_path / f"{kind}.csv"
        path.write_text(text, encoding="utf-8")
        result = runner.invoke(args=["import", kind, str(path)])
        assert result.exit_code == 0, result.output
    return runner


def search_json(runner, *args: str) -> dict:
    result = runner.invoke(args=["search", *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_json_has_the_contract_shape_and_the_file_ids(library):
    payload = search_json(library, "prescription")
    assert set(payload) == {"query", "total", "suggestion", "results"}
    assert payload["query"] == "prescription" and payload["suggestion"] is None
    assert payload["total"] == len(payload["results"]) == 2
    first = payload["results"][0]
    assert set(first) == {"type", "id", "title", "score"}
    assert (first["type"], first["id"]) == ("solution", "RX-FASTLANE")
    assert [item["id"] for item in payload["results"]] == ["RX-FASTLANE", "WAIT-PHARMACY"]
    scores = [item["score"] for item in payload["results"]]
    assert scores == sorted(scores, reverse=True)


def test_drafts_and_retired_solutions_are_never_listed(library):
    ids = {item["id"] for item in search_json(library, "floor")["results"]}
    assert {"FLOOR-MOP", "CLEAN-FLOOR"} <= ids
    assert not ids & {"FLOOR-DRAFT", "FLOOR-OLD"}


def test_kind_filters_solutions(library):
    payload = search_json(library, "floor", "--kind", "training")
    assert [item["id"] for item in payload["results"]] == ["FLOOR-MOP"]


def test_limit_caps_the_results_not_the_total(library):
    payload = search_json(library, "floor", "--limit", "1")
    assert len(payload["results"]) == 1 and payload["total"] == 2


def test_a_typo_is_suggested_and_still_finds(library):
    payload = search_json(library, "presciption")
    assert payload["suggestion"] == "prescription"
    assert payload["results"] and payload["results"][0]["id"] in {"RX-FASTLANE", "WAIT-PHARMACY"}


def test_french_with_elision_finds_the_french_solution(library):
    payload = search_json(library, "l'ordonnance")
    assert [item["id"] for item in payload["results"]] == ["RX-SMS"]


def test_reimporting_an_edited_title_updates_the_index(library, tmp_path):
    path = tmp_path / "edit.csv"
    path.write_text(
        "solution_id,title,kind\nFLOOR-MOP,Half-hourly squeegee round,training\n", encoding="utf-8"
    )
    assert library.invoke(args=["import", "solutions", str(path)]).exit_code == 0
    assert [item["id"] for item in search_json(library, "squeegee")["results"]] == ["FLOOR-MOP"]
    assert "FLOOR-MOP" not in {item["id"] for item in search_json(library, "mop")["results"]}


def test_table_output_names_the_hits(library):
    result = library.invoke(args=["search", "sticky"])
    assert result.exit_code == 0
    assert "CLEAN-FLOOR" in result.stdout and "results for 'sticky'" in result.stdout
