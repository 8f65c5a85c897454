"""signals.csv and targets.csv: loading, re-importing, every validation error, dry runs."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from cxactions.audit.models import AuditEvent
from cxactions.auth.models import Role
from cxactions.foundations.extensions import db as _db
from cxactions.foundations.vocabulary import SignalDirection, ThresholdKind
from cxactions.imports.models import ImportRun
from cxactions.imports.services import run_import
from cxactions.surveys.models import Metric
from cxactions.taxonomy.models import Challenge, ChallengeSignal
from tests.imports.test_import_parsing import messages, read
from tests.imports.test_import_service import DATA, database_snapshot, load, load_all, write


def signals() -> dict[tuple[str, str, str], tuple[str, float]]:
    """Every stored signal: (challenge, metric, direction) -> (threshold kind, threshold)."""
    rows = _db.session.execute(
        sa.select(
            Challenge.code,
            Metric.code,
            ChallengeSignal.direction,
            ChallengeSignal.threshold_kind,
            ChallengeSignal.threshold,
        )
        .join(Challenge, Challenge.id == ChallengeSignal.challenge_id)
        .join(Metric, Metric.id == ChallengeSignal.metric_id)
    ).all()
    return {
        (challenge, metric, direction.value): (kind.value, threshold)
        for challenge, metric, direction, kind, threshold in rows
    }


def metrics() -> dict[str, tuple[str | None, bool, float | None]]:
    """Every metric: code -> (label, higher_is_better, target)."""
    rows = _db.session.execute(
        sa.select(Metric.code, Metric.label, Metric.higher_is_better, Metric.target)
    ).all()
    return {code: (label, better, target) for code, label, better, target in rows}


def counts(result) -> tuple[int, int, int]:
    return result.rows_inserted, result.rows_updated, result.rows_unchanged


@pytest.fixture
def world(db):
    """Units, challenges, solutions, responses and operations: every metric the files name."""
    load_all("operations")


# --------------------------------------------------------------------------- signals


def test_signals_load_with_peer_sd_as_the_default_kind(world):
    result = load("signals")
    assert counts(result) == (4, 0, 0)
    assert signals() == {
        ("C-QUEUE-TILL", "wait_minutes", "above"): ("absolute", 8.0),
        ("C-QUEUE-TILL", "wait_time_rating", "below"): ("peer_sd", 1.5),
        ("C-WAIT", "overall", "below"): ("peer_sd", 1.0),  # empty threshold_kind
        ("C-STAFF-FIND", "staff_rating", "below"): ("peer_percentile", 10.0),  # 'Below'
    }
    signal = _db.session.scalar(
        sa.select(ChallengeSignal).where(ChallengeSignal.threshold_kind == ThresholdKind.ABSOLUTE)
    )
    assert signal.challenge.code == "C-QUEUE-TILL" and signal.metric.code == "wait_minutes"
    assert signal.direction == SignalDirection.ABOVE


def test_reimport_same_signals_changes_nothing(world):
    load("signals")
    before = database_snapshot()
    result = load("signals")
    assert counts(result) == (0, 0, 4)
    assert result.summary().startswith(
        "signals.csv: 4 rows read: 0 inserted, 0 updated, 4 unchanged"
    )
    after = database_snapshot()
    for name in ("import_runs", "audit_events"):
        assert len(after.pop(name)) == len(before.pop(name)) + 1
    assert after == before


def test_reimported_signals_update_their_threshold_and_never_duplicate(world, tmp_path):
    load("signals")
    # Without a threshold_kind column, a threshold is a number of peer standard deviations.
    path = write(
        tmp_path,
        "challenge_id,metric,direction,threshold\n"
        "C-QUEUE-TILL,wait_minutes,above,2\n"  # was absolute 8
        "C-QUEUE-TILL,wait_time_rating,below,1.5\n"  # unchanged
        "C-QUEUE-TILL,wait_minutes,below,0.5\n",  # another direction: another signal
    )
    result = load("signals", path)
    assert counts(result) == (1, 1, 1)
    stored = signals()
    assert len(stored) == 5
    assert stored[("C-QUEUE-TILL", "wait_minutes", "above")] == ("peer_sd", 2.0)
    assert stored[("C-QUEUE-TILL", "wait_minutes", "below")] == ("peer_sd", 0.5)
    assert stored[("C-STAFF-FIND", "staff_rating", "below")] == ("peer_percentile", 10.0)


def test_a_signal_held_twice_in_the_database_is_updated_as_one(world, tmp_path):
    load("signals")
    ids = dict(_db.session.execute(sa.select(Challenge.code, Challenge.id)).all())
    wait = _db.session.scalar(sa.select(Metric.id).where(Metric.code == "wait_minutes"))
    _db.session.add(
        ChallengeSignal(
            challenge_id=ids["C-QUEUE-TILL"],
            metric_id=wait,
            direction=SignalDirection.ABOVE,
            threshold_kind=ThresholdKind.PEER_SD,
            threshold=3,
        )
    )
    _db.session.commit()
    path = write(
        tmp_path, "challenge_id,metric,direction,threshold_kind,threshold\n"
        "C-QUEUE-TILL,wait_minutes,above,absolute,9\n",
    )  # fmt: skip
    assert counts(load("signals", path)) == (0, 1, 0)
    thresholds = _db.session.execute(
        sa.select(ChallengeSignal.threshold_kind, ChallengeSignal.threshold).where(
            ChallengeSignal.metric_id == wait
        )
    ).all()
    assert thresholds == [(ThresholdKind.ABSOLUTE, 9.0)] * 2


def test_french_signals_file_loads(world):
    result = load("signals", DATA / "signals_fr.csv")
    assert any("French" in notice for notice in result.notices)
    assert signals() == {
        ("C-QUEUE-TILL", "wait_minutes", "above"): ("absolute", 7.5),
        ("C-WAIT", "overall", "below"): ("peer_sd", 1.25),
    }


# --------------------------------------------------------------------------- targets


def test_targets_load_and_empty_cells_keep_the_stored_values(world):
    before = metrics()
    result = load("targets")
    assert counts(result) == (0, 3, 0)
    after = metrics()
    assert after["wait_minutes"] == ("Minutes waiting at the till", False, 5.0)
    assert after["staff_rating"] == (before["staff_rating"][0], True, 4.5)  # label kept
    assert after["overall"] == ("Overall satisfaction", True, 8.0)
    assert after["checkout_compliance"] == before["checkout_compliance"]  # not in the file


def test_reimport_same_targets_changes_nothing(world):
    load("targets")
    before = database_snapshot()
    result = load("targets")
    assert counts(result) == (0, 0, 3)
    after = database_snapshot()
    for name in ("import_runs", "audit_events"):
        assert len(after.pop(name)) == len(before.pop(name)) + 1
    assert after == before


def test_reimported_targets_update_only_what_changed(world, tmp_path):
    load("targets")
    path = write(tmp_path, "metric,target\nwait_minutes,6\nstaff_rating,4.5\n")
    result = load("targets", path)
    assert counts(result) == (0, 1, 1)
    # Columns absent from the file are left alone.
    assert metrics()["wait_minutes"] == ("Minutes waiting at the till", False, 6.0)


def test_french_targets_file_loads(world):
    result = load("targets", DATA / "targets_fr.csv")
    assert counts(result) == (0, 2, 0)
    stored = metrics()
    assert stored["wait_minutes"] == ("Attente en caisse (minutes)", False, 4.5)
    assert stored["checkout_compliance"] == ("Conformité caisse", True, 0.95)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [("true", True), ("Yes", True), ("1", True), ("FALSE", False), ("no", False), ("0", False)],
)
def test_higher_is_better_reads_yes_no_words(tmp_path, cell, expected):
    path = write(tmp_path, f"metric,target,higher_is_better\nwait_minutes,5,{cell}\n")
    rows, errors, _ = read(path, "targets")
    assert errors == []
    assert rows["higher_is_better"].tolist() == [expected]


# --------------------------------------------------------------------------- audit, dry runs


@pytest.mark.parametrize("kind", ["signals", "targets"])
def test_import_is_recorded_with_an_audit_event(world, kind):
    result = load(kind, actor="cli:alice")
    run = _db.session.get(ImportRun, result.run_id)
    assert (run.kind, run.actor, run.rows_read, run.filename) == (
        kind,
        "cli:alice",
        result.rows_read,
        f"{kind}.csv",
    )
    event = _db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == f"import.{kind}"))
    assert (event.entity_type, event.entity_id) == ("import_run", str(run.id))


@pytest.mark.parametrize(
    ("kind", "summary"),
    [
        ("signals", "signals.csv: dry run, 4 rows read, all valid: 4 would be inserted, 0 updated"),
        ("targets", "targets.csv: dry run, 3 rows read, all valid: 0 would be inserted, 3 updated"),
    ],
)
def test_dry_run_writes_nothing(world, kind, summary):
    before = database_snapshot()
    result = run_import(_db.session, kind, DATA / f"{kind}.csv", dry_run=True)
    assert result.ok and result.summary().startswith(summary)
    assert database_snapshot() == before


# --------------------------------------------------------------------------- validation

SIGNALS = "challenge_id,metric,direction,threshold_kind,threshold\n"
TARGETS = "metric,target,label,higher_is_better\n"
BAD_FILES = {
    "signal of an unknown challenge": (
        "signals",
        SIGNALS + "C-NOWHERE,wait_minutes,above,absolute,8\n",
        "file.csv:2: challenge_id: unknown challenge_id 'C-NOWHERE' (not in the database: "
        "import challenges.csv first)",
    ),
    "signal of a merged challenge": (
        "signals",
        SIGNALS + "C-STAFF-FIND,staff_rating,below,peer_sd,1\n",
        "file.csv:2: challenge_id: 'C-STAFF-FIND' was merged into 'C-STAFF': use 'C-STAFF'",
    ),
    "signal of an unknown metric": (
        "signals",
        SIGNALS + "C-WAIT,wait_minute,above,absolute,8\n",
        "file.csv:2: metric: unknown metric 'wait_minute' (did you mean 'wait_minutes'? not in "
        "the database: metrics come from the driver columns of responses.csv and from "
        "operations.csv: import those first)",
    ),
    "signal of an unknown direction": (
        "signals",
        SIGNALS + "C-WAIT,wait_minutes,over,absolute,8\n",
        "file.csv:2: direction: 'over' is not one of below, above",
    ),
    "signal of an unknown threshold kind": (
        "signals",
        SIGNALS + "C-WAIT,wait_minutes,above,percent,8\n",
        "file.csv:2: threshold_kind: 'percent' is not one of absolute, peer_sd, peer_percentile",
    ),
    "signal with a threshold that is not a number": (
        "signals",
        SIGNALS + "C-WAIT,wait_minutes,above,absolute,high\n",
        "file.csv:2: threshold: not a number: 'high'",
    ),
    "signal without a threshold": (
        "signals",
        SIGNALS + "C-WAIT,wait_minutes,above,absolute,\n",
        "file.csv:2: threshold: required, but empty",
    ),
    "signal without a direction": (
        "signals",
        SIGNALS + "C-WAIT,wait_minutes,,absolute,8\n",
        "file.csv:2: direction: required, but empty",
    ),
    "signal with a negative number of peer standard deviations": (
        "signals",
        SIGNALS + "C-WAIT,wait_minutes,above,peer_sd,-1\n",
        "file.csv:2: threshold: a peer_sd threshold is a number of standard deviations and "
        "must be greater than 0 (e.g. 1 or 1.5), not -1",
    ),
    "signal with zero peer standard deviations (the default kind)": (
        "signals",
        "challenge_id,metric,direction,threshold\nC-WAIT,wait_minutes,above,0\n",
        "file.csv:2: threshold: a peer_sd threshold is a number of standard deviations and "
        "must be greater than 0 (e.g. 1 or 1.5), not 0",
    ),
    "signal with a percentile above 100": (
        "signals",
        SIGNALS + "C-WAIT,wait_minutes,above,peer_percentile,150\n",
        "file.csv:2: threshold: a peer_percentile threshold must be between 0 and 100, both "
        "excluded (e.g. 10 for the worst 10% of peer units), not 150",
    ),
    "signal with a percentile of 0": (
        "signals",
        SIGNALS + "C-WAIT,wait_minutes,above,peer_percentile,0\n",
        "file.csv:2: threshold: a peer_percentile threshold must be between 0 and 100, both "
        "excluded (e.g. 10 for the worst 10% of peer units), not 0",
    ),
    "signals with a duplicate key": (
        "signals",
        SIGNALS + "C-WAIT,wait_minutes,above,absolute,8\nC-WAIT,wait_minutes,ABOVE,peer_sd,1\n",
        "file.csv:3: challenge_id: duplicate challenge_id, metric, direction 'C-WAIT', "
        "'wait_minutes', 'above' (first on line 2)",
    ),
    "signals with a keywords column": (
        "signals",
        "challenge_id,metric,direction,threshold,keywords\nC-WAIT,wait_minutes,above,1,queue\n",
        "file.csv:1: keywords: unknown column (expected: challenge_id, metric, direction, "
        "threshold_kind, threshold)",
    ),
    "signals without a threshold column": (
        "signals",
        "challenge_id,metric,direction\nC-WAIT,wait_minutes,above\n",
        "file.csv:1: threshold: required column is missing",
    ),
    "target of an unknown metric": (
        "targets",
        TARGETS + "nps,50,,\n",
        "file.csv:2: metric: unknown metric 'nps' (not in the database: metrics come from the "
        "driver columns of responses.csv and from operations.csv: import those first)",
    ),
    "target that is not a number": (
        "targets",
        TARGETS + "wait_minutes,five,,\n",
        "file.csv:2: target: not a number: 'five'",
    ),
    "target left empty": (
        "targets",
        TARGETS + "wait_minutes,,Wait,\n",
        "file.csv:2: target: required, but empty",
    ),
    "target with a direction that is not yes or no": (
        "targets",
        TARGETS + "wait_minutes,5,,lower\n",
        "file.csv:2: higher_is_better: 'lower' is not a yes/no value (true/false, yes/no, 1/0)",
    ),
    "target with a label too long": (
        "targets",
        TARGETS + "wait_minutes,5," + "x" * 201 + ",\n",
        "file.csv:2: label: longer than 200 characters: 'xxxxxxxx",
    ),
    "targets with a duplicate metric": (
        "targets",
        TARGETS + "wait_minutes,5,,\nwait_minutes,6,,\n",
        "file.csv:3: metric: duplicate metric 'wait_minutes' (first on line 2)",
    ),
    "targets with a unit column": (
        "targets",
        "metric,target,unit\nwait_minutes,5,minutes\n",
        "file.csv:1: unit: unknown column (expected: metric, target, label, higher_is_better, "
        "min, max, kind)",
    ),
    "targets without a target column": (
        "targets",
        "metric,label\nwait_minutes,Wait\n",
        "file.csv:1: target: required column is missing",
    ),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_an_invalid_file_writes_nothing_and_says_where(world, tmp_path, case):
    merged = _db.session.scalar(sa.select(Challenge).where(Challenge.code == "C-STAFF-FIND"))
    merged.merged_into_id = _db.session.scalar(
        sa.select(Challenge.id).where(Challenge.code == "C-STAFF")
    )
    _db.session.commit()
    load("signals", write(tmp_path, SIGNALS + "C-WAIT,wait_minutes,above,absolute,8\n", "ok.csv"))
    kind, text, expected = BAD_FILES[case]
    before = database_snapshot()
    result = run_import(_db.session, kind, write(tmp_path, text))
    assert not result.ok
    lines = result.error_lines()
    assert any(line.startswith(expected) for line in lines), lines
    assert database_snapshot() == before


def test_every_bad_row_is_reported_at_once(world, tmp_path):
    path = write(
        tmp_path,
        SIGNALS + "C-WAIT,wait_minutes,above,absolute,8\n"
        "C-NOWHERE,wait_minutes,above,absolute,8\n"
        "C-WAIT,nps,below,peer_sd,1\n"
        "C-WAIT,overall,below,peer_percentile,100\n",
    )
    result = run_import(_db.session, "signals", path)
    assert [line.split(": ")[:2] for line in result.error_lines()] == [
        ["file.csv:3", "challenge_id"],
        ["file.csv:4", "metric"],
        ["file.csv:5", "threshold"],
    ]
    assert result.summary() == "file.csv: 3 errors in 3 of 4 rows: nothing was written"
    assert signals() == {}


def test_threshold_rules_are_checked_by_the_parser(tmp_path):
    path = write(
        tmp_path,
        SIGNALS + "C-A,m,above,absolute,-5\nC-B,m,above,peer_sd,0.5\nC-C,m,above,peer_sd,0\n"
        "C-D,m,above,peer_percentile,99.5\nC-E,m,above,bogus,-1\n",
    )
    rows, errors, _ = read(path, "signals")
    assert rows["challenge_id"].tolist() == ["C-A", "C-B", "C-D"]  # an absolute may be negative
    assert [(line, column) for line, column, _ in messages(errors)] == [
        (4, "threshold"),
        (6, "threshold_kind"),  # the threshold of an unknown kind is not judged
    ]


# --------------------------------------------------------------------------- command line, page


def test_cli_imports_signals_and_targets(runner, world):
    for kind, expected in (("signals", "4 inserted"), ("targets", "3 updated")):
        path = str(DATA / f"{kind}.csv")
        dry = runner.invoke(args=["import", kind, path, "--dry-run"])
        assert dry.exit_code == 0, dry.output
        assert "nothing was written" in dry.stdout
        result = runner.invoke(args=["import", kind, path])
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith(f"{path}: ") and expected in result.stdout


def test_cli_reports_bad_signals_and_can_skip_them(runner, world, tmp_path):
    path = write(
        tmp_path,
        SIGNALS + "C-WAIT,wait_minutes,above,absolute,8\nC-WAIT,overall,below,peer_sd,-2\n",
    )
    result = runner.invoke(args=["import", "signals", str(path)])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{path}:3: threshold: a peer_sd threshold is a number of standard deviations and must "
        "be greater than 0 (e.g. 1 or 1.5), not -2",
        f"Error: {path}: 1 error in 1 of 2 rows: nothing was written",
    ]
    assert signals() == {}
    result = runner.invoke(args=["import", "signals", str(path), "--skip-invalid"])
    assert result.exit_code == 0
    assert "1 inserted" in result.stdout and "1 invalid skipped" in result.stdout
    assert list(signals()) == [("C-WAIT", "wait_minutes", "above")]


def test_upload_page_lists_and_documents_the_new_kinds(client_as, db):
    page = client_as(Role.CX_LEAD).get("/imports").get_data(as_text=True)
    assert '<option value="signals">' in page and '<option value="targets">' in page
    assert "<code>signals.csv</code>" in page and "<code>targets.csv</code>" in page
    assert "peer_percentile, between 0 and 100" in page
    assert "<code>higher_is_better</code> (optional): true or false" in page


def test_upload_imports_signals(client_as, world):
    client = client_as(Role.CX_LEAD)
    data = {"kind": "signals", "file": (io.BytesIO((DATA / "signals.csv").read_bytes()), "s.csv")}
    response = client.post("/imports", data=data, content_type="multipart/form-data")
    assert response.status_code == 200
    assert "s.csv: 4 rows read: 4 inserted, 0 updated, 0 unchanged" in response.get_data(
        as_text=True
    )
    assert len(signals()) == 4
