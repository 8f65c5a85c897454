"""A unit's active challenges: evidence sentences, priority order, the no-signal fallback.

The world is loaded through ``cxactions import`` CSVs (as a customer would), then a CX lead's
signals are added through the ORM. Store S1 in North region greets badly (staff rating 5 against
8 at its five peers), has the longest checkout waits and the lowest wait-time rating, and its
customers complain about the queue in English and French. South region's stores are far worse
still, and must not count as S1's peers.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from scipy import stats

from cxactions.analytics import priorities as core
from cxactions.foundations.extensions import db as _db
from cxactions.foundations.vocabulary import SignalDirection, ThresholdKind
from cxactions.priorities import services as service
from cxactions.surveys.models import Metric
from cxactions.taxonomy.models import Challenge, ChallengeSignal
from cxactions.units.models import Unit

FIRST_WEEK = date(2024, 1, 8)  # a Monday
WEEKS = 8
LAST_WEEK = FIRST_WEEK + timedelta(weeks=WEEKS - 1)
IMPORTANCE = {
    "staff_rating": 0.4,
    "wait_time_rating": 0.3,
    "cleanliness_rating": 0.2,
    "wait_minutes": 0.1,
}

# Per store: staff, wait-time and cleanliness ratings, checkout wait in minutes.
STORES = {
    "S1": (5, 6, 8, 9),
    "S2": (8, 7, 8, 5),
    "S3": (7, 8, 8, 4),
    "S4": (8, 7, 9, 6),
    "S5": (9, 8, 7, 5),
    "S6": (8, 7, 8, 5),
    "T1": (2, 2, 2, 20),
    "T2": (3, 2, 3, 25),
    "T3": (2, 3, 2, 22),
    "T4": (3, 3, 3, 21),
}
S1_COMMENTS = [
    "Waited in the queue for 20 minutes",  # newest first: one comment a week, latest week first
    "File d'attente trop longue",
    "Nobody greeted me, no greeting at all",
    "Une queue énorme, personne à la caisse",
    "Long queue at the till again",
    "Super accueil, merci !",  # praise (overall 9): not a complaint about the welcome
    "The QUEUES were endless",
    "Les files d'attente interminables à la caisse",
    "L'accueil était froid",
    "Bon magasin",
    "Prices are fine",
    "Online order was OK",
]

UNITS_CSV = """unit_id,name,parent_id,kind
R1,North region,,region
D1,Lakeside,R1,district
D2,Hillside,R1,district
S1,Store One,D1,store
S2,Store Two,D1,store
S3,Store Three,D1,store
S4,Store Four,D2,store
S5,Store Five,D2,store
S6,Store Six,D2,store
R2,South region,,region
T1,South One,R2,store
T2,South Two,R2,store
T3,South Three,R2,store
T4,South Four,R2,store
"""

CHALLENGES_CSV = """challenge_id,name,parent_id,description,keywords
SPEED,Speed,,,
SPEED-QUEUE,Long checkout queues,SPEED,,queue;file d'attente;caisse;line
ST,Staff,,,
ST-GREET,Nobody greets customers,ST,,greeting;accueil;welcome
EN-CLEAN,Dirty store,,,dirty;sale;propreté
"""

SOLUTIONS_CSV = """solution_id,title,kind,challenge_ids,status
SOL-EXPRESS,Open an express till at peaks,sop,SPEED-QUEUE,approved
SOL-QUEUE-BOARD,Queue length board for the floor lead,asset,SPEED-QUEUE,approved
SOL-GREET,Greet every customer within ten seconds,training,ST-GREET,approved
SOL-DRAFT,A draft idea,other,ST-GREET,draft
SOL-MOP,Hourly floor check,sop,EN-CLEAN,approved
"""


def responses_csv() -> str:
    lines = ["response_id,unit_id,responded_at,overall,staff_rating,wait_time_rating,"
             "cleanliness_rating,comment"]  # fmt: skip
    # One week before the window where S1 shone: the 8-week window must leave it out.
    weeks = [FIRST_WEEK - timedelta(weeks=1), *(FIRST_WEEK + timedelta(weeks=k) for k in range(8))]
    for store, (staff, wait, clean, _) in STORES.items():
        for index, week in enumerate(weeks):
            for number in range(3):
                comment = ""
                scores = (staff, wait, clean)
                if index == 0 and store == "S1":
                    scores = (10, 10, 10)
                newest_first = WEEKS - index  # 0 for the latest week
                if store == "S1" and index > 0 and number < 2:
                    # Twelve comments, two a week over the latest six weeks, newest first.
                    position = newest_first * 2 + number
                    if position < len(S1_COMMENTS):
                        comment = S1_COMMENTS[position]
                day = week + timedelta(days=1 + (1 - number if comment else number))
                quoted = f'"{comment}"' if comment else ""
                overall = 7 if not comment else 9 if comment.startswith("Super") else 3
                lines.append(
                    f"{store}-{week:%Y%m%d}-{number},{store},{day:%Y-%m-%d},{overall},"
                    f"{scores[0]},{scores[1]},{scores[2]},{quoted}"
                )
    return "\n".join(lines) + "\n"


def operations_csv() -> str:
    lines = ["unit_id,date,metric,value"]
    for store, (*_, minutes) in STORES.items():
        for k in range(WEEKS):
            lines.append(
                f"{store},{FIRST_WEEK + timedelta(weeks=k):%Y-%m-%d},wait_minutes,{minutes}"
            )
    return "\n".join(lines) + "\n"


def import_world(runner, folder: Path) -> None:
    """Everything through ``cxactions import``, as the contract's CSV formats."""
    files = {
        "units": UNITS_CSV,
        "challenges": CHALLENGES_CSV,
        "solutions": SOLUTIONS_CSV,
        "responses": responses_csv(),
        "operations": operations_csv(),
    }
    for kind, text in files.items():
        path = folder / f"{kind}.csv"
        path.write_text(text, encoding="utf-8")
        result = runner.invoke(args=["import", kind, str(path)])
        assert result.exit_code == 0, result.output + (result.stderr or "")
    metric = _db.session.scalar(sa.select(Metric).where(Metric.code == "wait_minutes"))
    metric.higher_is_better = False
    metric.target = 5.0
    _db.session.commit()


def add_signals() -> None:
    """A CX lead links challenges to metrics (the configuration screen's job)."""
    challenge = {c.code: c for c in _db.session.scalars(sa.select(Challenge))}
    metric = {m.code: m for m in _db.session.scalars(sa.select(Metric))}
    for code, metric_code, direction, kind, threshold in [
        ("ST-GREET", "staff_rating", SignalDirection.BELOW, ThresholdKind.PEER_SD, 1.0),
        ("SPEED-QUEUE", "wait_minutes", SignalDirection.ABOVE, ThresholdKind.ABSOLUTE, 6.0),
        ("SPEED-QUEUE", "wait_time_rating", SignalDirection.BELOW, ThresholdKind.PEER_PERCENTILE,
         20),
        ("EN-CLEAN", "cleanliness_rating", SignalDirection.BELOW, ThresholdKind.PEER_SD, 1.0),
    ]:  # fmt: skip
        _db.session.add(
            ChallengeSignal(
                challenge=challenge[code],
                metric=metric[metric_code],
                direction=direction,
                threshold_kind=kind,
                threshold=threshold,
            )
        )
    _db.session.commit()


@pytest.fixture
def fixed_importance(monkeypatch):
    """Importance as the driver analysis would give it, fixed so that priorities are exact."""
    from cxactions.drivers import services as driver_services

    monkeypatch.setattr(driver_services, "importance_by_metric", lambda *a, **k: IMPORTANCE)
    service._IMPORTANCE_CACHE.clear()
    yield
    service._IMPORTANCE_CACHE.clear()


@pytest.fixture
def world(runner, tmp_path, fixed_importance):
    import_world(runner, tmp_path)
    add_signals()


def unit(code: str) -> Unit:
    return _db.session.scalar(sa.select(Unit).where(Unit.code == code))


# --- Through the service, on both databases ------------------------------------------------


def test_active_challenges_come_in_priority_order_with_their_evidence(world):
    result = service.unit_priorities(_db.session, unit("S1"))

    assert result.as_of == LAST_WEEK
    assert result.window_start == FIRST_WEEK
    assert result.peer_label == "North region"
    assert result.peers == 6  # the six stores of North region, S1 included; South left out
    assert result.comments == 12
    assert result.weights_from == "drivers"
    assert [item.code for item in result.challenges] == ["ST-GREET", "SPEED-QUEUE"]

    greet, queue = result.challenges
    assert [evidence.sentence for evidence in greet.evidence] == [
        "Staff rating 5.0 vs 8.0 for the 5 other stores in North region: 4.2 SD below them.",
        "2 of 12 comments in the last 8 weeks complain about “accueil”, “greeting” (17%).",
    ]
    assert [evidence.sentence for evidence in queue.evidence] == [
        "Wait time rating 6.0 vs 7.4 for the 5 other stores in North region: bottom 20% of "
        "stores (the lowest of 6).",
        "6 of 12 comments in the last 8 weeks complain about “queue”, “caisse” (50%).",
        "Wait minutes 9.0, above the threshold of 6.0; the 5 other stores in North region: 5.0 "
        "(target 5.0).",
    ]
    assert queue.signals_hit == ["wait_minutes", "wait_time_rating"]
    assert queue.comment_evidence.examples == [
        "Waited in the queue for 20 minutes",
        "File d'attente trop longue",
        "Une queue énorme, personne à la caisse",
    ]

    # importance x gap in peer SDs; comments weigh like an average metric (1/4), z capped at 3.
    # The peers have no comments: S1's 2 of 12 are set against the 5% base share.
    sd = 0.5**0.5
    staff = 0.4 * 3 / sd
    greeting_z = stats.norm.isf(stats.binom.sf(2 - 1, 12, core.COMMENT_BASE_SHARE))
    assert greet.priority == pytest.approx(staff + 0.25 * greeting_z)
    wait_rating = 0.3 * 1.4 / 0.3**0.5
    minutes = 0.1 * 3 / sd  # 3 minutes past the threshold, in peer SDs
    assert queue.priority == pytest.approx(wait_rating + minutes + 0.25 * 3.0)

    # Solutions: approved only, best evidence first (no impact run yet: by title).
    assert [entry.solution.code for entry in greet.solutions] == ["SOL-GREET"]
    assert [entry.solution.code for entry in queue.solutions] == [
        "SOL-EXPRESS",
        "SOL-QUEUE-BOARD",
    ]
    assert not result.show_weakest  # signals are configured and hit


def test_a_unit_doing_well_has_no_active_challenge(world):
    result = service.unit_priorities(_db.session, unit("S4"))
    assert result.challenges == []
    assert result.signals_configured
    # No signal hit: the metrics where it trails its peers a little still show.
    assert result.show_weakest
    assert [item.metric.code for item in result.weakest] == ["wait_time_rating", "wait_minutes"]


def test_a_percentile_signal_is_hit_where_a_peer_sd_one_is_not(world):
    # S5's cleanliness 7 is the lowest of six and 2.7 SD below the others' 8.2.
    result = service.unit_priorities(_db.session, unit("S5"))
    assert [item.code for item in result.challenges] == ["EN-CLEAN"]
    assert result.challenges[0].evidence[0].sentence == (
        "Cleanliness rating 7.0 vs 8.2 for the 5 other stores in North region: 2.7 SD below them."
    )


def test_without_signals_the_weakest_drivers_show_unlinked(runner, tmp_path, fixed_importance):
    import_world(runner, tmp_path)  # no signals configured
    result = service.unit_priorities(_db.session, unit("S1"))

    assert not result.signals_configured
    assert result.show_weakest
    # S1's complaints cannot raise a challenge alone: its peers left no comments to compare.
    assert result.challenges == []
    assert [item.metric.code for item in result.weakest] == [
        "staff_rating",
        "wait_time_rating",
        "wait_minutes",  # lower is better: 9 minutes against 5 is weak
    ]
    assert result.weakest[0].sentence == (
        "Staff rating 5.0 vs 8.0 for the 5 other stores in North region: 4.2 SD below them."
    )
    assert result.weakest[2].sentence == (
        "Wait minutes 9.0 vs 5.0 for the 5 other stores in North region: 5.7 SD above them "
        "(target 5.0)."
    )


def test_the_window_follows_weeks_and_as_of(world):
    # Only the week before the window, when S1 scored 10 everywhere: nothing is wrong then.
    result = service.unit_priorities(
        _db.session, unit("S1"), weeks=1, as_of=FIRST_WEEK - timedelta(days=3)
    )
    assert result.as_of == FIRST_WEEK - timedelta(weeks=1)
    assert "ST-GREET" not in [item.code for item in result.challenges]


def test_peers_of_a_region_are_the_other_regions(world):
    result = service.unit_priorities(_db.session, unit("R1"))
    assert result.peer_label == "the company"
    assert result.peers == 2
    assert result.unit_word == "regions"
    assert result.challenges == []  # two regions: too few peers for a spread


def test_without_the_driver_analysis_every_metric_weighs_the_same(runner, tmp_path, monkeypatch):
    import_world(runner, tmp_path)
    add_signals()
    monkeypatch.setattr(service, "_importance", lambda session: ({}, "equal"))
    result = service.unit_priorities(_db.session, unit("S1"))
    assert result.weights_from == "equal"
    greet = next(item for item in result.challenges if item.code == "ST-GREET")
    assert greet.evidence[0].weight == pytest.approx(0.25)


def test_partial_renders_challenges_evidence_and_solution_links(world, app):
    from flask import render_template

    result = service.unit_priorities(_db.session, unit("S1"))
    with app.test_request_context():
        html = render_template("priorities/_unit_priorities.html", priorities=result)
    assert html.index("Nobody greets customers") < html.index("Long checkout queues")
    assert "4.2 SD below them" in html
    assert 'href="/solutions/SOL-EXPRESS"' in html
    assert "SOL-DRAFT" not in html
    assert "Waited in the queue for 20 minutes" in html
    assert "weakest-drivers" not in html


def test_partial_shows_weakest_drivers_without_signals(runner, tmp_path, app, fixed_importance):
    from flask import render_template

    import_world(runner, tmp_path)
    result = service.unit_priorities(_db.session, unit("S1"))
    with app.test_request_context():
        html = render_template("priorities/_unit_priorities.html", priorities=result)
    assert 'id="weakest-drivers"' in html
    assert "No challenge signals are configured yet" in html


def test_empty_database_has_no_priorities(db):
    region = Unit(code="X", name="Lonely", kind="store")
    _db.session.add(region)
    _db.session.commit()
    result = service.unit_priorities(_db.session, region)
    assert result.as_of is None
    assert result.challenges == [] and result.weakest == []


# --- The pure core ---------------------------------------------------------------------------


def metric(code: str, higher_is_better: bool = True, kind: str = "driver") -> core.MetricInfo:
    return core.MetricInfo(code, code, kind, higher_is_better)


def test_gaps_are_in_peer_sds_so_different_scales_compare():
    values = pd.DataFrame(
        {"rating": [6.0, 8.0, 7.0, 9.0, 8.0], "minutes": [5.0, 4.0, 6.0, 5.0, 5.0]},
        index=[1, 2, 3, 4, 5],
    )
    metrics = {"rating": metric("rating"), "minutes": metric("minutes", False, "operational")}
    signals = [
        core.Signal("A", "rating", "below", "peer_sd", 1.0),
        core.Signal("B", "minutes", "above", "peer_sd", 1.0),
    ]
    result = core.active_challenges(values, 1, metrics, signals)
    # rating: 6 vs 8 (sd 0.816) = 2.45 SD; minutes: 5 vs 5 = 0 SD, not hit
    assert [item.code for item in result] == ["A"]
    assert result[0].evidence[0].gap_sd == pytest.approx(2 / (2 / 3) ** 0.5)


def test_importance_breaks_the_order_of_equal_gaps():
    values = pd.DataFrame({"a": [1.0, 2, 3, 4], "b": [1.0, 2, 3, 4]}, index=[1, 2, 3, 4])
    metrics = {"a": metric("a"), "b": metric("b")}
    signals = [core.Signal("X", "a", "below", "peer_sd", 0.5),
               core.Signal("Y", "b", "below", "peer_sd", 0.5)]  # fmt: skip
    first = core.active_challenges(values, 1, metrics, signals, importance={"a": 0.2, "b": 0.8})
    assert [item.code for item in first] == ["Y", "X"]
    second = core.active_challenges(values, 1, metrics, signals, importance={"a": 0.8, "b": 0.2})
    assert [item.code for item in second] == ["X", "Y"]


def test_top_percentile_for_metrics_where_high_is_bad():
    values = pd.DataFrame({"m": [10.0, 1, 2, 3, 4, 5, 6, 7, 8, 9]}, index=range(10))
    metrics = {"m": metric("m", False, "operational")}
    signals = [core.Signal("X", "m", "above", "peer_percentile", 0.1)]
    result = core.active_challenges(values, 0, metrics, signals)
    assert "top 10% of units (the highest of 10)" in result[0].evidence[0].sentence
    assert core.active_challenges(values, 9, metrics, signals) == []  # 2nd highest: 20%


def test_comments_add_to_an_active_challenge_without_peers_to_compare():
    values = pd.DataFrame({"a": [1.0, 2, 3, 4]}, index=[1, 2, 3, 4])
    metrics = {"a": metric("a")}
    many = {"Q": core.CommentTally(15, 100), "P": core.CommentTally(40, 100)}
    signals = [core.Signal("Q", "a", "below", "peer_sd", 1.0)]
    result = core.active_challenges(values, 1, metrics, signals, comments=many)
    # Without peers' comments, 40% about P is no proof: only the base share says anything.
    assert [item.code for item in result] == ["Q"]
    # gap 2 SD x weight 1, plus 15 of 100 against the 5% base share (z 3.7) capped at 3
    assert result[0].priority == pytest.approx(2.0 + core.COMMENT_GAP_CAP)
    few = {"Q": core.CommentTally(2, 100)}  # below the 5% base share: adds nothing
    assert core.active_challenges(values, 1, metrics, signals, comments=few)[0].priority == (
        pytest.approx(2.0)
    )


def tally(mentions, comments, peer_mentions=None, peer_comments=None) -> core.CommentTally:
    return core.CommentTally(
        mentions, comments, peer_mentions=peer_mentions, peer_comments=peer_comments
    )


def test_comments_that_stand_out_against_peers_raise_a_challenge_alone():
    values = pd.DataFrame({"a": [3.0, 2, 3, 4]}, index=[1, 2, 3, 4])
    metrics = {"a": metric("a")}
    signals = [core.Signal("Q", "a", "below", "peer_sd", 1.0)]  # not hit: 3 is the peers' mean
    context = core.PeerContext(unit_word="stores", place="in North region")
    comments = {"P": tally(12, 100, 40, 2_000)}  # 12% of the unit's comments against 2%
    [raised] = core.active_challenges(values, 1, metrics, signals, comments=comments,
                                      context=context)  # fmt: skip
    assert raised.code == "P" and raised.raised_by_comments and raised.signals_hit == []
    assert raised.evidence[0].sentence == (
        "12 of 100 comments in the last 8 weeks complain about it (12%, against 2% of the "
        "other stores' comments in North region)."
    )
    z = stats.norm.isf(stats.binom.sf(11, 100, 40.5 / 2_001))
    assert raised.evidence[0].gap_sd == pytest.approx(z, rel=1e-9)
    assert raised.priority == pytest.approx(min(z, core.COMMENT_GAP_CAP))  # one metric: weight 1

    def raises(item: core.CommentTally) -> bool:
        return bool(core.active_challenges(values, 1, metrics, signals, comments={"P": item}))

    assert not raises(tally(12, 100, 240, 2_000))  # the peers complain as much
    assert not raises(tally(4, 10, 0, 2_000))  # 40%, but four complaints prove little
    assert not raises(tally(12, 100))  # no peer comments to compare with
    assert not raises(tally(12, 100, 1, 20))  # too few of them
    # 3,000 of 25,000 (12%) against 9%: far beyond chance, but not 1.5 times the peers' share
    assert core.binomial_tail(3_000, 25_000, 1_800.5 / 20_001) < 1e-30
    assert not raises(tally(3_000, 25_000, 1_800, 20_000))
    assert raises(tally(3_000, 25_000, 1_000, 20_000))


@pytest.mark.parametrize("n", [1, 7, 60, 500, 5_000])
@pytest.mark.parametrize("p", [1e-4, 0.02, 0.3, 0.5, 0.93])
def test_binomial_tail_matches_scipy(n, p):
    for k in sorted({0, 1, n // 3, int(n * p), int(n * p) + 1, n // 2, n - 1, n, n + 1}):
        expected = stats.binom.sf(k - 1, n, p)
        assert core.binomial_tail(k, n, p) == pytest.approx(expected, rel=1e-9, abs=1e-300)


def test_a_store_whose_customers_complain_of_dirt_shows_it_from_comments_alone(
    world, runner, tmp_path, app
):
    # North's other stores now comment too: S2's customers keep finding it dirty, S3's once.
    lines = ["response_id,unit_id,responded_at,overall,comment"]
    for week in range(WEEKS):
        day = FIRST_WEEK + timedelta(weeks=week, days=2)
        lines.append(f"X-S2-{week},S2,{day:%Y-%m-%d},3,The store was dirty")
        for store in ("S3", "S4", "S5", "S6"):
            for number in range(5):
                text = "Sale et mal rangé" if (store, week, number) == ("S3", 0, 0) else "Fine"
                overall = 3 if text != "Fine" else 7
                lines.append(f"X-{store}-{week}-{number},{store},{day:%Y-%m-%d},{overall},{text}")
    path = tmp_path / "more.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = runner.invoke(args=["import", "responses", str(path)])
    assert result.exit_code == 0, result.output

    # S2's cleanliness rating is its peers' 8: no signal is hit, its comments alone raise it.
    two = service.unit_priorities(_db.session, unit("S2"))
    [clean] = two.challenges
    assert clean.code == "EN-CLEAN" and clean.raised_by_comments
    assert clean.evidence[0].sentence.startswith(
        "8 of 8 comments in the last 8 weeks complain about “dirty” (100%, against 0.6% of the "
        "other stores' comments in North region)"
    )
    assert clean.evidence[0].examples == ["The store was dirty"]
    assert [entry.solution.code for entry in clean.solutions] == ["SOL-MOP"]
    assert two.as_dict()["challenges"][0]["raised_by_comments"] is True
    from flask import render_template

    with app.test_request_context():
        html = render_template("priorities/_unit_priorities.html", priorities=two)
    assert "from comments" in html and "The store was dirty" in html

    # S3's one complaint in 40 comments proves nothing.
    assert "EN-CLEAN" not in [item.code for item in service.unit_priorities(
        _db.session, unit("S3")).challenges]  # fmt: skip
    # S1's queue complaints are now set against its peers' (none about the queue).
    queue = next(item for item in service.unit_priorities(_db.session, unit("S1")).challenges
                 if item.code == "SPEED-QUEUE")  # fmt: skip
    assert "(50%, against 0% of the other stores' comments in North region)" in (
        queue.comment_evidence.sentence
    )


def test_survey_imports_keep_the_driver_weights_so_pages_never_compute_them(
    runner, tmp_path, monkeypatch
):
    from cxactions.drivers import services as driver_services
    from cxactions.drivers.models import DriverWeights
    from cxactions.foundations.versions import SURVEY_DATA, current_data_version

    import_world(runner, tmp_path)
    version = current_data_version(_db.session, SURVEY_DATA)
    assert version == 2  # the responses, then the operations
    stored = driver_services.stored_company_weights(_db.session)
    computed = driver_services.importance_by_metric(_db.session)
    assert computed and stored == pytest.approx(computed)

    def no_analysis(*args, **kwargs):
        raise AssertionError("a page ran the company-wide driver analysis")

    monkeypatch.setattr(driver_services, "driver_importance", no_analysis)
    service._IMPORTANCE_CACHE.clear()
    result = service.unit_priorities(_db.session, unit("S1"))
    assert result.weights_from == "drivers"

    # Challenges are not survey data: their import leaves the weights alone.
    path = tmp_path / "more-challenges.csv"
    path.write_text("challenge_id,name\nNEW,A new challenge\n", encoding="utf-8")
    assert runner.invoke(args=["import", "challenges", str(path)]).exit_code == 0
    assert current_data_version(_db.session, SURVEY_DATA) == version
    # A dry run of operations writes nothing; a real one replaces the weights.
    path = tmp_path / "more-operations.csv"
    path.write_text(
        f"unit_id,date,metric,value\nS2,{LAST_WEEK:%Y-%m-%d},wait_minutes,7\n", encoding="utf-8"
    )
    monkeypatch.undo()
    assert runner.invoke(args=["import", "operations", str(path), "--dry-run"]).exit_code == 0
    assert current_data_version(_db.session, SURVEY_DATA) == version
    assert runner.invoke(args=["import", "operations", str(path)]).exit_code == 0
    assert current_data_version(_db.session, SURVEY_DATA) == version + 1
    rows = _db.session.scalars(sa.select(DriverWeights)).all()
    assert [row.survey_version for row in rows] == [version + 1]  # only the newest is kept
    assert rows[0].weights == pytest.approx(driver_services.importance_by_metric(_db.session))
