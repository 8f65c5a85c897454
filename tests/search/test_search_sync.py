"""The index follows the database: after commits, never after rollbacks, through crashes,
corruption and several writing processes."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import textwrap

import pytest
import sqlalchemy as sa
from whoosh import index as whoosh_index

from cxactions.foundations.extensions import db as _db
from cxactions.foundations.vocabulary import SolutionStatus
from cxactions.library.models import Solution
from cxactions.search import index, sync
from cxactions.search.models import SearchOutbox
from cxactions.search.service import SearchOptions, rebuild_index, search
from tests.factories import challenge, solution


def codes(query: str, **options) -> list[str]:
    return [
        hit.id for hit in search(_db.session, query, SearchOptions(per_page=100, **options)).results
    ]


def outbox_rows(db) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(SearchOutbox))


def indexed_documents(app) -> dict[str, tuple[str, str]]:
    """key -> (title, status) of every document in the index."""
    ix = whoosh_index.open_dir(app.config["SEARCH_INDEX_PATH"])
    with ix.searcher() as searcher:
        found = {
            fields["key"]: (fields["title"], fields["status"])
            for fields in searcher.all_stored_fields()
        }
    ix.close()
    return found


def database_documents(db) -> dict[str, tuple[str, str]]:
    from cxactions.library.models import Solution
    from cxactions.taxonomy.models import Challenge

    found = {
        f"solution:{row.id}": (row.title, row.status.value)
        for row in db.session.execute(sa.select(Solution.id, Solution.title, Solution.status))
    }
    found.update(
        {
            f"challenge:{row.id}": (row.name, row.status.value)
            for row in db.session.execute(sa.select(Challenge.id, Challenge.name, Challenge.status))
        }
    )
    return found


def test_a_committed_solution_is_searchable_at_once(db):
    queue = challenge("SPEED-QUEUE", "Long checkout queues")
    solution("SOP-TILL", "Open a third till at rush hour", challenges=[queue])
    db.session.commit()
    assert codes("rush hour") == ["SOP-TILL"]
    assert codes("checkout queues")[:2] == ["SPEED-QUEUE", "SOP-TILL"]  # its challenge's name
    assert outbox_rows(db) == 0


def test_a_rolled_back_change_never_reaches_the_index(db):
    solution("SOP-TILL", "Open a third till")
    db.session.commit()
    item = db.session.scalar(sa.select(Solution))
    item.title = "Greet every customer"
    db.session.flush()
    db.session.rollback()
    assert codes("greet") == []
    assert codes("third till") == ["SOP-TILL"]
    assert outbox_rows(db) == 0


def test_edit_retire_and_approve_follow_the_database(db):
    item = solution("SOP-TILL", "Open a third till")
    db.session.commit()
    item.title = "Open a spare lane"
    db.session.commit()
    assert codes("till") == [] and codes("lane") == ["SOP-TILL"]
    item.status = SolutionStatus.RETIRED
    db.session.commit()
    assert codes("lane") == []
    assert codes("lane", curator=True, status="retired") == ["SOP-TILL"]
    assert codes("lane", status="retired") == []  # staff cannot ask for retired ones
    item.status = SolutionStatus.APPROVED
    db.session.commit()
    assert codes("lane") == ["SOP-TILL"]


def test_renaming_a_challenge_reindexes_its_solutions(db):
    category = challenge("SPEED", "Speed")
    queue = challenge("SPEED-QUEUE", "Long checkout queues", parent=category)
    solution("SOP-TILL", "Open a third till", challenges=[queue])
    db.session.commit()
    category.name = "Rapidity"
    db.session.commit()
    assert "SOP-TILL" in codes("rapidity")
    assert codes("rapidity", category="SPEED")[-1] == "SOP-TILL"


def test_a_deleted_solution_leaves_the_index(db):
    item = solution("SOP-TILL", "Open a third till")
    db.session.commit()
    db.session.delete(item)
    db.session.commit()
    assert codes("till") == []


def test_work_left_by_a_process_that_died_after_its_commit_is_applied(app, db):
    solution("SOP-TILL", "Open a third till")
    db.session.commit()
    # A commit whose process dies before the index write: the outbox keeps the work.
    app.config["SEARCH_SYNC"] = "off"
    solution("SOP-GREET", "Greet within ten seconds")
    db.session.commit()
    assert outbox_rows(db) == 1
    app.config["SEARCH_SYNC"] = "inline"
    app.config["SEARCH_OUTBOX_CHECK_SECONDS"] = 0
    assert codes("greet") == ["SOP-GREET"]  # the next search drains it
    assert outbox_rows(db) == 0


def test_a_missing_index_is_rebuilt(app, db, caplog):
    solution("SOP-TILL", "Open a third till")
    db.session.commit()
    shutil.rmtree(app.config["SEARCH_INDEX_PATH"])
    with caplog.at_level(logging.WARNING):
        assert codes("till") == ["SOP-TILL"]
    assert "rebuilding" in caplog.text


@pytest.mark.parametrize("damage", ["truncate", "garbage", "version"])
def test_a_corrupt_index_is_rebuilt_with_a_warning_never_an_error(app, db, caplog, damage):

    solution("SOP-TILL", "Open a third till")
    db.session.commit()
    path = app.config["SEARCH_INDEX_PATH"]
    for name in os.listdir(path):
        target = os.path.join(path, name)
        if damage == "version" and name == index.VERSION_FILE:
            with open(target, "w") as handle:
                handle.write("0")
        elif damage != "version" and name.endswith((".toc", ".seg")):
            with open(target, "r+b") as handle:
                if damage == "truncate":
                    handle.truncate(10)
                else:
                    handle.write(b"\x00garbage" * 8)
    from cxactions.search import engine

    engine.forget_open_indexes()
    app.config["SEARCH_OUTBOX_CHECK_SECONDS"] = 0
    with caplog.at_level(logging.WARNING):
        assert codes("till") == ["SOP-TILL"]
    assert "rebuild" in caplog.text
    assert index.is_current(path)


def test_reindex_rebuilds_from_the_database(app, db, runner):
    solution("SOP-TILL", "Open a third till")
    solution("SOP-DRAFT", "A draft idea", status=SolutionStatus.DRAFT)
    db.session.commit()
    result = runner.invoke(args=["reindex"])
    assert result.exit_code == 0, result.output
    assert "Indexed 2 documents." in result.output
    assert indexed_documents(app) == database_documents(db)


def test_bulk_writes_outside_the_orm_are_queued_explicitly(app, db):
    from cxactions.library.models import Solution

    solution("SOP-TILL", "Open a third till")
    db.session.commit()
    db.session.execute(sa.update(Solution).values(title="Open a spare register"))
    ids = db.session.scalars(sa.select(Solution.id)).all()
    sync.enqueue(db.session, "solution", ids)
    db.session.commit()
    assert codes("register") == ["SOP-TILL"]


WORKER = textwrap.dedent(
    """
    import os, random, sys
    import sqlalchemy as sa
    from cxactions import create_app
    from cxactions.foundations.extensions import db
    from cxactions.library.models import Solution
    from cxactions.foundations.vocabulary import SolutionStatus

    worker, edits, url, index_path, die_after = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
    app = create_app({
        "TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": url,
        "SEARCH_INDEX_PATH": index_path, "IMPACT_BACKGROUND_REFRESH": False,
        "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else {},
    })
    rng = random.Random(worker)
    with app.app_context():
        for number in range(edits):
            ids = db.session.scalars(sa.select(Solution.id)).all()
            action = rng.random()
            if action < 0.3 or not ids:
                db.session.add(Solution(code=f"W{worker}-{number}", kind="sop", title=f"new {worker} {number}"))
            else:
                item = db.session.get(Solution, rng.choice(ids))
                if action < 0.8:
                    item.title = f"edited {worker} {number}"
                else:
                    item.status = rng.choice(list(SolutionStatus))
            if number == die_after:
                app.config["SEARCH_SYNC"] = "off"  # commit, then die before the index write
                db.session.commit()
                os._exit(3)
            db.session.commit()
    """
)


@pytest.mark.slow
def test_four_processes_editing_at_once_lose_no_update(app, db, tmp_path):
    for number in range(20):
        solution(f"SEED-{number}", f"seed solution {number}")
    db.session.commit()
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    path = app.config["SEARCH_INDEX_PATH"]
    edits = 150
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                str(script),
                str(worker),
                str(edits),
                url,
                path,
                str(edits - 10 if worker == 0 else -1),
            ],  # fmt: skip
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for worker in range(4)
    ]
    for worker in workers:
        _, errors = worker.communicate(timeout=600)
        assert worker.returncode in (0, 3), errors[-2000:]
        assert "LockError" not in errors and "Traceback" not in errors, errors[-2000:]
    assert workers[0].returncode == 3  # died between a commit and its index write
    db.session.remove()
    sync.drain(db.engine, path)  # what the next search does (the others may have done it)
    assert outbox_rows(db) == 0
    assert indexed_documents(app) == database_documents(db)


def test_rebuild_keeps_readers_working_and_matches_the_database(app, db):
    for number in range(30):
        solution(f"S-{number}", f"solution number {number}")
    db.session.commit()
    assert len(codes("solution")) == 30
    assert rebuild_index() == 30
    assert len(codes("solution")) == 30
    assert indexed_documents(app) == database_documents(db)


def test_a_rolled_back_savepoint_keeps_the_outer_change_for_the_index(db):
    item = solution("SOP-TILL", "Open a third till")
    db.session.commit()
    item.title = "Open a spare lane"
    db.session.flush()
    savepoint = db.session.begin_nested()
    savepoint.rollback()
    db.session.commit()
    assert codes("lane") == ["SOP-TILL"]
