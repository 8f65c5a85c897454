"""The impact pages: leaderboard, CSV, one solution, methods, gaps, "did it work here?" and the
freshness of the cached estimates (a stale cache is recomputed once, in the background)."""

from __future__ import annotations

import csv
import io
import re
import threading

import pytest
import sqlalchemy as sa

from cxactions.auth.models import Role
from cxactions.foundations.extensions import db as _db
from cxactions.foundations.versions import bump_data_version
from cxactions.foundations.vocabulary import SolutionStatus
from cxactions.impact import background
from cxactions.impact.models import ImpactEstimate, ImpactRun
from cxactions.impact.services import (
    ImpactSettings,
    claim_refresh,
    freshness,
    latest_run,
    refresh_impact,
)
from cxactions.library.models import Solution
from tests.impact_world import build_world
from tests.pages import table, visible_text


def linked_solutions(markup: str) -> list[str]:
    """Solution codes in the order their impact pages are linked."""
    return re.findall(r'href="/impact/solutions/([^"?]+)"', markup)


def estimate_of(code: str) -> ImpactEstimate:
    run = latest_run(_db.session)
    return _db.session.scalar(
        sa.select(ImpactEstimate)
        .join(Solution, Solution.id == ImpactEstimate.solution_id)
        .where(ImpactEstimate.run_id == run.id, Solution.code == code)
    )


@pytest.fixture
def world(db):
    """The planted organisation (tests/impact_world.py) with its estimates computed."""
    built = build_world()
    refresh_impact(db.session, ImpactSettings(), trigger="test")
    return built


@pytest.fixture
def manager(world, make_user, login):
    """A manager of district D1 (stores S01 to S08), signed in."""
    return login(make_user(Role.MANAGER, units=[world.units["D1"]]))


# --- The leaderboard ---------------------------------------------------------------------------


def test_leaderboard_ranks_on_evidence_and_lists_the_rest_apart(world, client_as):
    page = client_as(Role.STAFF).get("/impact").get_data(as_text=True)
    ranked = table(page, "ranked")
    assert linked_solutions(ranked) == ["SOL-GOOD", "SOL-OK", "SOL-NULL"]
    assert ranked.count('class="interval ') == 3  # an interval bar per ranked solution
    assert "<caption" in ranked and 'scope="col"' in ranked
    early = table(page, "early")
    assert linked_solutions(early) == ["SOL-FEW"]
    assert "2 more adopting units" in visible_text(early)
    assert "SOL-NEVER" not in page  # never adopted: nothing to rank
    text = visible_text(page)
    assert "Computed just now from 32 units × 40 weeks." in text
    assert "New data since" not in text


def test_leaderboard_marks_placebo_warnings(world, client_as):
    flagged = estimate_of("SOL-GOOD")
    flagged.placebo_warning = True
    for code in ("SOL-OK", "SOL-NULL"):
        estimate_of(code).placebo_warning = False
    _db.session.commit()
    rows = table(client_as(Role.STAFF).get("/impact").get_data(as_text=True), "ranked")
    rows = rows.split("<tr>")[2:]  # after the header row
    assert ["placebo-flag" in row for row in rows] == [True, False, False]


def test_leaderboard_filters_by_challenge_with_the_ones_below_and_by_kind(world, client_as):
    client = client_as(Role.STAFF)

    def codes(query: str) -> set[str]:
        return set(linked_solutions(client.get(f"/impact?{query}").get_data(as_text=True)))

    # SPEED's own solutions are mapped to SPEED-QUEUE, below it.
    assert codes("challenge=SPEED") == {"SOL-GOOD", "SOL-NULL", "SOL-FEW"}
    assert codes("challenge=CARE") == {"SOL-OK", "SOL-NULL"}
    assert codes("challenge=CARE-CLEAN") == {"SOL-OK"}
    assert codes("kind=training") == {"SOL-GOOD"}
    assert codes("kind=sop") == {"SOL-OK", "SOL-FEW"}
    assert codes("challenge=SPEED&kind=sop") == {"SOL-FEW"}
    unknown = client.get("/impact?challenge=NOPE").get_data(as_text=True)
    assert "There is no challenge with the code “NOPE”." in unknown
    assert linked_solutions(unknown) == []


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("rank", ["SOL-GOOD", "SOL-OK", "SOL-NULL"]),
        ("effect", ["SOL-GOOD", "SOL-OK", "SOL-NULL"]),
        ("units", ["SOL-GOOD", "SOL-OK", "SOL-NULL"]),  # 8 each: ties keep the rank order
        ("title", ["SOL-GOOD", "SOL-NULL", "SOL-OK"]),  # Greeting, Numbered, Queue
        ("nonsense", ["SOL-GOOD", "SOL-OK", "SOL-NULL"]),
    ],
)
def test_leaderboard_sorts(world, client_as, sort, expected):
    page = client_as(Role.STAFF).get(f"/impact?sort={sort}").get_data(as_text=True)
    assert linked_solutions(table(page, "ranked")) == expected


@pytest.mark.parametrize(("role", "shown"), [(Role.MANAGER, False), (Role.CX_LEAD, True)])
def test_retired_solutions_are_ranked_for_curators_only(world, client_as, role, shown):
    world.solutions["SOL-OK"].status = SolutionStatus.RETIRED
    _db.session.commit()
    ranked = table(client_as(role).get("/impact").get_data(as_text=True), "ranked")
    assert ("SOL-OK" in linked_solutions(ranked)) == shown
    assert ("Retired" in visible_text(ranked)) == shown


def test_csv_export_has_the_contract_columns_and_follows_the_filters(world, client_as):
    client = client_as(Role.MANAGER)
    response = client.get("/impact.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert list(rows[0])[:8] == [
        "solution_id", "title", "effect", "ci_low", "ci_high", "n_units", "rank", "kind",
    ]  # fmt: skip
    assert [row["solution_id"] for row in rows] == ["SOL-GOOD", "SOL-OK", "SOL-NULL", "SOL-FEW"]
    assert [row["rank"] for row in rows] == ["1", "2", "3", ""]
    for row in rows:
        assert float(row["ci_low"]) <= float(row["effect"]) <= float(row["ci_high"])
    assert rows[0]["title"] == "Greeting training" and rows[0]["kind"] == "training"
    assert rows[3]["units_needed"] == "2" and rows[3]["n_units"] == "3"
    filtered = client.get("/impact.csv?kind=sop&sort=title").get_data(as_text=True)
    assert [row["solution_id"] for row in csv.DictReader(io.StringIO(filtered))] == [
        "SOL-OK",
        "SOL-FEW",
    ]


def test_empty_state_without_any_run(db, client_as):
    client = client_as(Role.STAFF)
    text = visible_text(client.get("/impact").get_data(as_text=True))
    assert "No estimates yet: run cxactions refresh-impact" in text
    assert (
        client.get("/impact.csv")
        .get_data(as_text=True)
        .startswith("solution_id,title,effect,ci_low,ci_high,n_units,rank")
    )


def test_a_first_run_under_way_says_it_is_being_computed(db, client_as):
    claim_refresh(db.session, ImpactSettings(), "test")
    text = visible_text(client_as(Role.STAFF).get("/impact").get_data(as_text=True))
    assert "Estimates are being computed" in text


# --- One solution ------------------------------------------------------------------------------


def test_solution_page_reads_the_effect_and_draws_the_event_study(world, client_as):
    page = client_as(Role.STAFF).get("/impact/solutions/SOL-GOOD").get_data(as_text=True)
    text = visible_text(page)
    assert re.search(
        r"Raised satisfaction by about 1\.\d points \(\S+ to \S+\) at 8 stores\.", text
    )
    # Three rankable solutions are too few to estimate a prior: the raw estimate is shown as is.
    assert "is not pulled towards the library-wide average" in text
    chart = page[page.index('<svg class="chart__svg event-chart"') : page.index("</svg>")]
    assert 'role="img"' in chart and "<title" in chart and "<desc" in chart
    for phase in ("placebo", "dip", "effect"):
        assert f"point--{phase}" in chart
    assert 'class="band band--dip"' in chart and "Left out of the baseline" in chart
    assert 'class="chart__zero"' in chart
    assert "Weeks since adoption" in chart and "Change in satisfaction (points)" in chart
    assert "Show the figures" in text  # the text alternative
    assert 'href="/solutions/SOL-GOOD"' in page  # the library page
    assert "Pre-trend warning" not in text or estimate_of("SOL-GOOD").placebo_warning


def test_solution_page_warns_when_the_placebo_check_fails(world, client_as):
    estimate_of("SOL-NULL").placebo_warning = True
    _db.session.commit()
    text = visible_text(
        client_as(Role.STAFF).get("/impact/solutions/SOL-NULL").get_data(as_text=True)
    )
    assert "Pre-trend warning." in text and "read the effect with care" in text


def test_solution_page_lists_a_managers_own_adopting_units_with_their_story(world, manager):
    page = manager.get("/impact/solutions/SOL-GOOD").get_data(as_text=True)
    adopters = table(page, "adopters")
    assert re.findall(r'href="/units/(\w+)/adoptions/SOL-GOOD"', adopters) == ["S01", "S02"]
    assert "And 6 more units outside the ones you look after." in visible_text(page)


def test_solution_page_lists_every_adopting_unit_for_staff(world, client_as):
    page = client_as(Role.STAFF).get("/impact/solutions/SOL-GOOD").get_data(as_text=True)
    assert len(re.findall(r"/adoptions/SOL-GOOD", table(page, "adopters"))) == 8


def test_solution_pages_say_why_there_is_no_ranked_estimate(world, client_as):
    client = client_as(Role.STAFF)
    few = visible_text(client.get("/impact/solutions/SOL-FEW").get_data(as_text=True))
    assert "Not enough evidence yet: 3 adopting units could be compared" in few
    assert "it needs 2 more" in few and "Early reading, not ranked" in few
    never = visible_text(client.get("/impact/solutions/SOL-NEVER").get_data(as_text=True))
    assert "Not measured: no unit has implemented it yet" in never


def test_solution_page_is_not_found_for_unknown_codes(world, client_as):
    assert client_as(Role.STAFF).get("/impact/solutions/NOPE").status_code == 404


@pytest.mark.parametrize(
    ("state", "role", "status"),
    [
        (SolutionStatus.REJECTED, Role.STAFF, 404),
        (SolutionStatus.DRAFT, Role.STAFF, 404),
        (SolutionStatus.REJECTED, Role.CX_LEAD, 200),
        # Proposals waiting for review are open to colleagues (they vote and comment on them).
        (SolutionStatus.PENDING, Role.STAFF, 200),
    ],
)
def test_a_rejected_or_draft_solution_exists_for_curators_only(
    world, client_as, state, role, status
):
    world.solutions["SOL-NEVER"].status = state
    _db.session.commit()
    assert client_as(role).get("/impact/solutions/SOL-NEVER").status_code == status


# --- Methods and gaps -------------------------------------------------------------------------


def test_methods_page_explains_the_estimate_in_plain_words(world, client_as):
    text = visible_text(client_as(Role.STAFF).get("/impact/methods").get_data(as_text=True))
    for phrase in (
        "over the first 12 weeks after it took effect",
        "same region, same week",
        "the 6 weeks just before adoption",
        "inverse of its variance",
        "clustered by unit",
        "a minimum of 5 adopting units",
        "Morris, 1983",
        "Pre-trend",
        "Borusyak, Jaravel & Spiess",
        "bench/RESULTS.md",
        "Computed just now",
    ):
        assert phrase in text, phrase


def test_gaps_list_challenges_without_a_solution_or_without_one_that_works(world, client_as):
    assert estimate_of("SOL-NULL").ci_low <= 0 < estimate_of("SOL-OK").ci_low  # as planted
    page = client_as(Role.STAFF).get("/impact/gaps").get_data(as_text=True)
    no_solution = table(page, "gaps-no-solution")
    assert re.findall(r'href="/challenges/([\w-]+)"', no_solution) == ["SPEED-HOLD"]
    no_evidence = table(page, "gaps-no-evidence")
    assert re.findall(r'href="/challenges/([\w-]+)"', no_evidence) == ["CARE-GREET"]
    assert linked_solutions(no_evidence) == ["SOL-NULL"]
    assert "1 challenges with no solution" in visible_text(page)


def test_gaps_count_untried_solutions_as_no_evidence(world, client_as):
    estimate_of("SOL-GOOD").ci_low = -0.1  # now nothing under SPEED-QUEUE is shown to work
    _db.session.commit()
    page = client_as(Role.STAFF).get("/impact/gaps").get_data(as_text=True)
    no_evidence = table(page, "gaps-no-evidence")
    assert "SPEED-QUEUE" in no_evidence
    assert "Not adopted yet" in no_evidence and "Not enough evidence yet" in no_evidence


# --- The challenge page --------------------------------------------------------------------


def test_challenge_page_orders_solutions_by_evidence(world, client_as):
    page = client_as(Role.STAFF).get("/challenges/SPEED-QUEUE").get_data(as_text=True)
    grid = page[page.index('id="challenge-solutions"') :]
    codes = re.findall(r'href="/solutions/([^"]+)"', grid)
    # Ranked by rank (1, 3), then not enough evidence, then never adopted.
    assert codes == ["SOL-GOOD", "SOL-NULL", "SOL-FEW", "SOL-NEVER"]
    text = visible_text(grid)
    assert re.search(r"#1 \+1\.\d\d pts \(\S+ to \S+\)", text)
    assert "Not enough evidence yet · 3 of 5 units" in text and "Not adopted yet" in text


# --- Did it work here? ---------------------------------------------------------------------------


def test_did_it_work_here_draws_the_unit_against_its_expected_scores(world, manager):
    response = manager.get("/units/S01/adoptions/SOL-GOOD")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    text = visible_text(page)
    assert "Greeting training at Store 1" in text
    assert "One unit is a noisy measure." in text
    assert 'href="/impact/solutions/SOL-GOOD"' in page
    chart = page[page.index('aria-labelledby="unit-story-title') : page.index("</svg>")]
    assert "series--unit" in chart and "series--expected" in chart
    assert 'class="band band--dip"' in chart
    assert re.search(
        r"<title>Week of \d+ \w+ 2024 \(\+0\): observed \d\.\d\d from \d+ responses", chart
    )
    assert "Show the weekly figures" in text
    assert re.search(r"After it took effect [▲▼→] [+−±]\d\.\d\d", text)


def test_did_it_work_here_follows_the_unit_scope(world, manager):
    assert manager.get("/units/S09/adoptions/SOL-GOOD").status_code == 403
    assert manager.get("/units/S01/adoptions/NOPE").status_code == 404
    assert manager.get("/units/S01/adoptions/SOL-NEVER").status_code == 404  # no plan item
    assert manager.get("/units/NOPE/adoptions/SOL-GOOD").status_code == 404


def test_did_it_work_here_waits_for_an_implemented_plan_item(world, manager):
    response = manager.get("/units/S01/adoptions/SOL-OK")  # planned only
    assert response.status_code == 200
    assert "This plan item is planned" in visible_text(response.get_data(as_text=True))


def test_unit_page_links_implemented_plan_items_to_their_story(world, manager):
    page = manager.get("/units/S01").get_data(as_text=True)
    assert 'href="/units/S01/adoptions/SOL-GOOD"' in page
    assert 'href="/units/S01/adoptions/SOL-OK"' not in page  # planned: nothing to compare


# --- Freshness -----------------------------------------------------------------------------------


def test_new_data_shows_a_stale_banner(world, client_as):
    bump_data_version(_db.session)
    _db.session.commit()
    text = visible_text(client_as(Role.STAFF).get("/impact").get_data(as_text=True))
    assert "New data since: run cxactions refresh-impact" in text


def test_a_stale_page_starts_one_background_refresh_and_says_so(app, world, client_as, monkeypatch):
    started: list[int] = []
    monkeypatch.setattr(
        background, "start_thread", lambda app, settings, run_id: started.append(run_id)
    )
    app.config["IMPACT_BACKGROUND_REFRESH"] = True
    bump_data_version(_db.session)
    _db.session.commit()
    client = client_as(Role.STAFF)
    for path in ("/impact", "/impact/solutions/SOL-GOOD", "/challenges/SPEED-QUEUE"):
        text = visible_text(client.get(path).get_data(as_text=True))
        assert "New data since: being recomputed." in text
    assert len(started) == 1  # the claimed run is under way: later pages do not start another


def test_the_starter_refreshes_once_then_finds_the_estimates_fresh(app, world, monkeypatch):
    monkeypatch.setattr(background, "start_thread", background.refresh_in_app_context)
    app.config["IMPACT_BACKGROUND_REFRESH"] = True
    before = latest_run(_db.session).id
    bump_data_version(_db.session)
    _db.session.commit()
    fresh, started = background.ensure_fresh(app, _db.session)
    assert started and fresh.running
    _db.session.expire_all()
    now = freshness(_db.session)
    assert not now.stale and not now.running
    assert now.run.id != before and now.run.trigger == "page"
    assert background.ensure_fresh(app, _db.session)[1] is False


def test_the_starter_starts_nothing_when_a_run_is_under_way_or_failed(app, world, monkeypatch):
    started: list[int] = []
    monkeypatch.setattr(
        background, "start_thread", lambda app, settings, run_id: started.append(run_id)
    )
    app.config["IMPACT_BACKGROUND_REFRESH"] = True
    bump_data_version(_db.session)
    _db.session.commit()
    assert background.ensure_fresh(app, _db.session)[1]
    assert not background.ensure_fresh(app, _db.session)[1]  # the first claim is running
    run = _db.session.get(ImpactRun, started[0])
    run.status, run.error = "failed", "ValueError: broken"
    _db.session.commit()
    assert not background.ensure_fresh(app, _db.session)[1]  # would fail again on this data
    bump_data_version(_db.session)
    _db.session.commit()
    assert background.ensure_fresh(app, _db.session)[1]  # new data: worth another try
    app.config["IMPACT_BACKGROUND_REFRESH"] = False
    bump_data_version(_db.session)
    _db.session.commit()
    assert not background.ensure_fresh(app, _db.session)[1]
    assert len(started) == 2


def test_the_background_thread_refreshes_without_blocking(app, world):
    app.config["IMPACT_BACKGROUND_REFRESH"] = True
    bump_data_version(_db.session)
    _db.session.commit()
    fresh, started = background.ensure_fresh(app, _db.session)
    assert started
    run_id = _db.session.scalar(sa.select(sa.func.max(ImpactRun.id)))
    thread = next(t for t in threading.enumerate() if t.name == f"impact-refresh-{run_id}")
    assert thread.daemon
    thread.join(timeout=60)
    _db.session.expire_all()
    assert _db.session.get(ImpactRun, run_id).status == "done"
    assert not freshness(_db.session).stale


def test_impact_is_in_the_main_navigation_once_signed_in(db, client, client_as):
    assert 'href="/impact"' not in client.get("/").get_data(as_text=True)
    assert 'href="/impact"' in client_as(Role.MANAGER).get("/").get_data(as_text=True)
