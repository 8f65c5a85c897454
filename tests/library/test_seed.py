"""Loading seed/ into the database: the real library loads, reloading changes nothing."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa

from cxactions.audit.models import AuditEvent
from cxactions.config import PROJECT_ROOT
from cxactions.foundations.vocabulary import ChallengeStatus, SolutionStatus
from cxactions.library.models import Solution
from cxactions.library.seed import load_seed, read_seed_challenges
from cxactions.library.seed_files import SeedError, read_seed_solutions
from cxactions.taxonomy.models import Challenge

SEED = PROJECT_ROOT / "seed"


def write_seed(folder: Path, challenges: str, solutions: dict[str, str]) -> Path:
    """A small seed folder: ``challenges.csv`` and ``solutions/test/<name>.md`` files."""
    (folder / "solutions" / "test").mkdir(parents=True, exist_ok=True)
    (folder / "challenges.csv").write_text(textwrap.dedent(challenges).lstrip(), encoding="utf-8")
    for name, text in solutions.items():
        path = folder / "solutions" / "test" / f"{name}.md"
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return folder


CHALLENGES = """
    challenge_id,parent_id,name,description,keywords
    SPEED,,Speed,"Customers wait, too long.",
    SPEED-QUEUE,SPEED,Long queues,"Queues at the till.",queue;file d'attente; caisse
    STAFF,,Staff,,
    ST-GREET,STAFF,Not greeted,,hello;bonjour
"""


def solution_file(code: str, challenges: str = '"SPEED-QUEUE"', title: str = "Open a till") -> str:
    return f"""
        +++
        id = "{code}"
        title = "{title}"
        kind = "sop"
        language = "en"
        summary = "Open a second till when five people wait."
        challenges = [{challenges}]
        steps = ["Count the queue.", "Call a colleague."]
        effort = "low"
        owner = "Store operations"
        +++
        Body text in **Markdown**.
    """


def count(db, model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_the_real_seed_loads_completely(db):
    summary = load_seed(db.session, SEED)
    db.session.commit()
    rows = read_seed_challenges(SEED / "challenges.csv")
    files = read_seed_solutions(SEED)
    assert count(db, Challenge) == len(rows) and len(summary.challenges_created) == len(rows)
    assert count(db, Solution) == len(files) and len(summary.solutions_created) == len(files)
    queue = db.session.scalar(sa.select(Challenge).where(Challenge.code == "SPEED-QUEUE"))
    assert queue.parent.code == "SPEED"
    assert "file d'attente" in queue.keyword_list and "queue" in queue.keyword_list
    for item in files[:10]:
        stored = db.session.scalar(sa.select(Solution).where(Solution.code == item.code))
        assert stored.status == SolutionStatus.APPROVED
        assert stored.title == item.title and stored.language == item.language
        assert stored.step_list == list(item.steps)
        assert {c.code for c in stored.challenges} == set(item.challenge_codes)
    assert count(db, AuditEvent) == len(rows) + len(files)


def test_loading_twice_changes_nothing(db):
    load_seed(db.session, SEED)
    db.session.commit()
    stamps = dict(db.session.execute(sa.select(Solution.code, Solution.updated_at)).all())
    events = count(db, AuditEvent)
    again = load_seed(db.session, SEED)
    db.session.commit()
    assert not again.changed
    assert again.solutions_unchanged == len(stamps)
    assert count(db, AuditEvent) == events
    assert dict(db.session.execute(sa.select(Solution.code, Solution.updated_at)).all()) == stamps


def test_changed_files_update_in_place_and_curation_is_kept(db, tmp_path):
    seed = write_seed(tmp_path / "seed", CHALLENGES, {"ONE": solution_file("OPS-ONE")})
    load_seed(db.session, seed, actor="tester")
    db.session.commit()
    stored = db.session.scalar(sa.select(Solution).where(Solution.code == "OPS-ONE"))
    stored.status = SolutionStatus.RETIRED  # a CX lead retired it
    greet = db.session.scalar(sa.select(Challenge).where(Challenge.code == "ST-GREET"))
    greet.status = ChallengeStatus.RETIRED
    db.session.commit()

    write_seed(
        seed,
        CHALLENGES.replace("Long queues", "Long checkout queues"),
        {"ONE": solution_file("OPS-ONE", '"SPEED-QUEUE", "ST-GREET"', title="Open two tills")},
    )
    summary = load_seed(db.session, seed, actor="tester")
    db.session.commit()
    assert summary.challenges_updated == ["SPEED-QUEUE"]
    assert summary.solutions_updated == ["OPS-ONE"]
    db.session.expire_all()
    stored = db.session.scalar(sa.select(Solution).where(Solution.code == "OPS-ONE"))
    assert stored.title == "Open two tills"
    assert {c.code for c in stored.challenges} == {"SPEED-QUEUE", "ST-GREET"}
    assert stored.status == SolutionStatus.RETIRED
    greet = db.session.scalar(sa.select(Challenge).where(Challenge.code == "ST-GREET"))
    assert greet.status == ChallengeStatus.RETIRED
    update = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "solution.update"))
    assert update.actor == "tester" and set(update.details["fields"]) == {"title", "challenges"}


def test_unknown_challenge_names_the_file_and_the_id_and_writes_nothing(db, tmp_path):
    seed = write_seed(
        tmp_path / "seed",
        CHALLENGES,
        {"GOOD": solution_file("OPS-GOOD"), "BAD": solution_file("OPS-BAD", '"NO-SUCH"')},
    )
    with pytest.raises(SeedError) as caught:
        load_seed(db.session, seed)
    message = str(caught.value)
    assert "BAD.md" in message and "NO-SUCH" in message and "OPS-BAD" in message
    db.session.rollback()
    assert count(db, Challenge) == 0 and count(db, Solution) == 0


@pytest.mark.parametrize(
    ("csv_text", "expected"),
    [
        (CHALLENGES + "    ST-X,NOPE,Orphan,,\n", "challenges.csv:6: parent_id: unknown"),
        (CHALLENGES + "    SPEED,,Again,,\n", "challenges.csv:6: challenge_id: 'SPEED' already"),
        (
            "challenge_id,name,parent_id\nA,a,B\nB,b,A\n",
            "cycle",
        ),
        ("challenge_id,title\nA,a\n", "missing columns ['name']"),
    ],
)
def test_malformed_taxonomy_is_refused_with_its_line(db, tmp_path, csv_text, expected):
    seed = write_seed(tmp_path / "seed", csv_text, {})
    with pytest.raises(SeedError) as caught:
        load_seed(db.session, seed)
    assert expected in str(caught.value)
    assert count(db, Challenge) == 0


def test_duplicate_solution_ids_name_both_files(db, tmp_path):
    seed = write_seed(
        tmp_path / "seed",
        CHALLENGES,
        {"FIRST": solution_file("OPS-SAME"), "SECOND": solution_file("OPS-SAME")},
    )
    with pytest.raises(SeedError, match="FIRST.md|SECOND.md") as caught:
        load_seed(db.session, seed)
    assert "OPS-SAME" in str(caught.value)
