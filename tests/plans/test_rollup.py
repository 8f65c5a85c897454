"""The roll-up of action plans for a district, a region, a manager's units and the company:
counts by status, lateness, progress, coverage (units with nothing under way; active challenges
no item addresses), what is being tried where, and who may see it.

World: North region R1 > Lakeside D1 (S1, S2), Hillside D2 (S3, S4); South region R2 > D5 (S5).

| unit | solution  | status      | due             | steps (done/all) | challenge   |
| S1   | SOP-TILL  | in progress | yesterday       | 1/4              | SPEED-QUEUE |
| S1   | TRN-LINE  | implemented | –               | –                | –           |
| S2   | SOP-TILL  | planned     | in 3 days       | 0/2              | –           |
| S3   | SOP-TILL  | abandoned   | yesterday       | –                | SPEED-QUEUE |
| S4   | TRN-LINE  | planned     | in 60 days      | 1/1              | –           |
| S5   | SOL-GREET | planned     | in 60 days      | –                | STAFF-GREET |

SOP-TILL and TRN-LINE are listed for SPEED-QUEUE in the library, SOL-GREET for STAFF-GREET.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from cxactions.analytics import priorities as core
from cxactions.auth.models import Role
from cxactions.foundations.vocabulary import (
    AdoptionStatus,
    MetricKind,
    SignalDirection,
    ThresholdKind,
)
from cxactions.library.models import Solution
from cxactions.plans import rollup
from cxactions.plans.models import Adoption, PlanStep
from cxactions.priorities import services as priority_services
from cxactions.priorities.services import unit_priorities
from cxactions.surveys.aggregates import OVERALL, ensure_metrics
from cxactions.surveys.models import UnitWeekScore
from cxactions.taxonomy.models import ChallengeSignal
from cxactions.units.models import Unit
from tests.factories import small_library, solution, unit_tree
from tests.pages import visible_text

TODAY = date.today()
Status = AdoptionStatus


def item(db, unit, solution_row, status, *, due=None, steps=(), challenge=None, **fields):
    """A plan item with ``steps`` given as booleans (ticked or not)."""
    adoption = Adoption(
        unit=unit,
        solution=solution_row,
        status=status,
        due_on=due,
        challenge=challenge,
        owner=fields.pop("owner", "Marie Dupont"),
        **fields,
    )
    adoption.steps = [
        PlanStep(position=n, text=f"Step {n}", done_at=datetime(2026, 1, 1) if done else None)
        for n, done in enumerate(steps, start=1)
    ]
    db.session.add(adoption)
    return adoption


@pytest.fixture
def world(db):
    units = unit_tree()
    south = Unit(code="R2", name="South region", kind="region")
    d5 = Unit(code="D5", name="Bayside district", kind="district", parent=south)
    s5 = Unit(code="S5", name="Store 5", kind="store", parent=d5)
    db.session.add_all([south, d5, s5])
    lib = small_library(retired=False, pending=False, commit=False)
    greet = solution("SOL-GREET", "Greet within ten seconds", challenges=[lib["STAFF-GREET"]])
    till, line, queue = lib["SOP-TILL"], lib["TRN-LINE"], lib["SPEED-QUEUE"]
    yesterday = TODAY - timedelta(days=1)
    later = TODAY + timedelta(days=60)
    item(db, units["S1"], till, Status.IN_PROGRESS, due=yesterday,
         steps=(True, False, False, False), challenge=queue)  # fmt: skip
    item(db, units["S1"], line, Status.IMPLEMENTED, effective_on=date(2026, 1, 5))
    item(db, units["S2"], till, Status.PLANNED, due=TODAY + timedelta(days=3), steps=(False, False))
    item(db, units["S3"], till, Status.ABANDONED, due=yesterday, challenge=queue,
         status_reason="No staff")  # fmt: skip
    item(db, units["S4"], line, Status.PLANNED, due=later, steps=(True,))
    item(db, s5, greet, Status.PLANNED, due=later, challenge=lib["STAFF-GREET"])
    db.session.commit()
    units.update({"R2": south, "D5": d5, "S5": s5})
    ids = {code: unit.id for code, unit in units.items()}
    return {"units": units, "ids": ids, "lib": lib}


def no_challenges(session, organisation, unit_ids):
    return None


def challenges_from(by_code: dict[str, set[str]]):
    """A stand-in for the priorities: each unit's active challenges by unit code."""

    def source(session, organisation, unit_ids):
        codes = {organisation.units[unit_id].code: unit_id for unit_id in unit_ids}
        return {codes[code]: set(found) for code, found in by_code.items() if code in codes}

    return source


def region(db, world, **kwargs) -> rollup.PlanRollup:
    kwargs.setdefault("challenges", no_challenges)
    return rollup.plan_rollup(db.session, [world["ids"]["R1"]], today=TODAY, **kwargs)


def row(summary: rollup.PlanRollup, code: str) -> rollup.ScopeRow:
    return next(found for found in summary.rows if found.unit.code == code)


# --- Figures -------------------------------------------------------------------------------------


def test_counts_by_status_cover_the_whole_subtree(db, world):
    summary = region(db, world)
    totals = summary.totals
    assert totals.items == 5
    assert {status: totals.of(status) for status in Status} == {
        Status.PLANNED: 2,
        Status.IN_PROGRESS: 1,
        Status.IMPLEMENTED: 1,
        Status.ABANDONED: 1,
    }
    assert totals.active == 3
    assert [found.unit.code for found in summary.rows] == ["D2", "D1"]  # by name
    assert row(summary, "D1").figures.items == 3
    assert row(summary, "D2").figures.items == 2


def test_only_active_items_are_overdue_or_due_soon(db, world):
    summary = region(db, world)
    # S1's item was due yesterday; S3's too, but it was abandoned: it is not late.
    assert summary.totals.overdue == 1
    assert summary.totals.due_soon == 1  # S2's, due in 3 days; S4's (60 days) is not soon
    assert (row(summary, "D1").figures.overdue, row(summary, "D1").figures.due_soon) == (1, 1)
    assert (row(summary, "D2").figures.overdue, row(summary, "D2").figures.due_soon) == (0, 0)


def test_mean_progress_is_over_active_items_with_the_per_item_rule(db, world):
    summary = region(db, world)
    # Active: S1 1/4 = 25, S2 0/2 = 0, S4 1/1 = 100; the implemented and abandoned ones are out.
    assert summary.totals.mean_progress == pytest.approx((25 + 0 + 100) / 3 / 100)
    assert row(summary, "D1").figures.mean_progress == pytest.approx(0.125)
    assert row(summary, "D2").figures.mean_progress == pytest.approx(1.0)


def test_a_district_lists_its_stores_and_the_company_its_regions(db, world):
    district = rollup.plan_rollup(
        db.session, [world["ids"]["D1"]], today=TODAY, challenges=no_challenges
    )
    assert [(found.unit.code, found.leaf, found.figures.items) for found in district.rows] == [
        ("S1", True, 2),
        ("S2", True, 1),
    ]
    company = rollup.plan_rollup(db.session, None, today=TODAY, challenges=no_challenges)
    assert company.company
    assert [(found.unit.code, found.figures.items) for found in company.rows] == [
        ("R1", 5),
        ("R2", 1),
    ]
    assert company.totals.items == 6


def test_a_managers_units_are_rolled_up_side_by_side(db, world):
    ids = world["ids"]
    summary = rollup.plan_rollup(
        db.session, [ids["D1"], ids["D5"]], today=TODAY, challenges=no_challenges
    )
    assert [found.unit.code for found in summary.rows] == ["D5", "D1"]
    assert summary.totals.items == 4


# --- Coverage ------------------------------------------------------------------------------------


def test_units_with_no_active_item_are_listed(db, world):
    summary = region(db, world)
    # S1: in progress; S2: planned; S3: only an abandoned item; S4: planned.
    assert [gap.unit.code for gap in summary.idle] == ["S3"]
    assert summary.idle[0].parent.code == "D2"
    assert (summary.totals.units, summary.totals.idle_units) == (4, 1)
    assert (row(summary, "D2").figures.units, row(summary, "D2").figures.idle_units) == (2, 1)
    # An implemented item does not keep a unit covered: the plan has nothing under way.
    s1_items = db.session.scalars(sa.select(Adoption).where(Adoption.unit_id == world["ids"]["S1"]))
    for found in s1_items:
        if found.status == Status.IN_PROGRESS:
            found.status = Status.IMPLEMENTED
    db.session.commit()
    assert [gap.unit.code for gap in region(db, world).idle] == ["S3", "S1"]  # by district


def test_units_above_the_stores_do_not_count_for_coverage(db, world):
    summary = region(db, world)
    assert {gap.unit.code for gap in summary.idle} <= {"S1", "S2", "S3", "S4"}
    assert summary.totals.units == 4


def test_challenges_no_item_addresses_are_listed(db, world):
    source = challenges_from(
        {
            "S1": {"SPEED-QUEUE", "STAFF-GREET"},  # queue: its item names it; greeting: nothing
            "S2": {"STAFF-GREET"},  # its till item is for queues
            "S3": {"SPEED-QUEUE"},  # its item for queues was abandoned
            "S4": {"SPEED-QUEUE"},  # its training names no challenge, but is listed for queues
        }
    )
    summary = region(db, world, challenges=source)
    assert summary.challenges_checked
    found = {gap.unit.code: [c.code for c in gap.challenges] for gap in summary.unaddressed}
    assert found == {"S1": ["STAFF-GREET"], "S2": ["STAFF-GREET"], "S3": ["SPEED-QUEUE"]}
    assert summary.totals.unaddressed_units == 3
    assert row(summary, "D1").figures.unaddressed_units == 2
    counts = [(challenge.code, count) for challenge, count in rollup.unaddressed_counts(summary)]
    assert counts == [("STAFF-GREET", 2), ("SPEED-QUEUE", 1)]


def test_without_signals_the_challenge_check_says_so(db, world, client_as):
    summary = region(db, world, challenges=priority_services.active_challenges_by_unit)
    assert not summary.challenges_checked
    assert summary.unaddressed == []
    page = client_as(Role.CX_LEAD).get("/units/R1/plans")
    assert "No challenge has a signal yet" in visible_text(page.get_data(as_text=True))


# --- Active challenges from the priorities, in one batch -------------------------------------


def weekly_overall(db, scores: dict[str, float], weeks: int = 8) -> None:
    """``overall`` window means per store, as imports of responses leave them."""
    overall = ensure_metrics(db.session, [OVERALL], MetricKind.OUTCOME)[OVERALL]
    monday = date(2026, 3, 2)
    for code, mean in scores.items():
        unit_id = db.session.scalar(sa.select(Unit.id).where(Unit.code == code))
        for week in range(weeks):
            db.session.add(
                UnitWeekScore(
                    metric_id=overall,
                    unit_id=unit_id,
                    week_start=monday - timedelta(weeks=week),
                    n=10,
                    total=mean * 10,
                    total_sq=mean * mean * 10 + 10,
                )
            )
    db.session.commit()


def signal(db, challenge, kind: ThresholdKind, threshold: float) -> None:
    overall = ensure_metrics(db.session, [OVERALL], MetricKind.OUTCOME)[OVERALL]
    db.session.add(
        ChallengeSignal(
            challenge=challenge,
            metric_id=overall,
            direction=SignalDirection.BELOW,
            threshold_kind=kind,
            threshold=threshold,
        )
    )
    db.session.commit()


def test_active_challenges_are_those_the_unit_page_shows(db, world, client_as):
    lib = world["lib"]
    weekly_overall(db, {"S1": 4.0, "S2": 8.0, "S3": 8.5, "S4": 5.9, "S5": 3.0})
    signal(db, lib["STAFF-GREET"], ThresholdKind.ABSOLUTE, 6.0)
    signal(db, lib["SPEED-QUEUE"], ThresholdKind.PEER_SD, 0.5)
    organisation = rollup.Organisation.load(db.session)
    stores = [world["ids"][code] for code in ("S1", "S2", "S3", "S4", "S5")]
    batch = priority_services.active_challenges_by_unit(db.session, organisation, stores)
    for unit_id in stores:
        page = unit_priorities(db.session, db.session.get(Unit, unit_id))
        assert batch[unit_id] == {item.code for item in page.challenges if item.signals_hit}
    by_code = {organisation.units[unit_id].code: codes for unit_id, codes in batch.items()}
    assert by_code["S1"] == {"STAFF-GREET", "SPEED-QUEUE"}
    assert by_code["S4"] == {"STAFF-GREET"}
    assert by_code["S2"] == set()
    assert by_code["S5"] == {"STAFF-GREET"}  # South region has no other store to compare with

    summary = region(db, world, challenges=priority_services.active_challenges_by_unit)
    found = {gap.unit.code: [c.code for c in gap.challenges] for gap in summary.unaddressed}
    assert found == {"S1": ["STAFF-GREET"], "S4": ["STAFF-GREET"]}
    text = visible_text(client_as(Role.CX_LEAD).get("/units/R1/plans").get_data(as_text=True))
    assert "Units with an active challenge that no item addresses 2" in text


def test_an_item_added_for_a_challenge_takes_the_unit_off_the_list(db, world):
    weekly_overall(db, {"S1": 4.0, "S2": 8.0, "S3": 8.5, "S4": 8.0})
    signal(db, world["lib"]["STAFF-GREET"], ThresholdKind.ABSOLUTE, 6.0)
    first = region(db, world, challenges=priority_services.active_challenges_by_unit)
    assert [gap.unit.code for gap in first.unaddressed] == ["S1"]
    greet = db.session.scalar(sa.select(Solution).where(Solution.code == "SOL-GREET"))
    item(db, world["units"]["S1"], greet, Status.PLANNED, due=TODAY + timedelta(days=9))
    db.session.commit()
    assert (
        region(db, world, challenges=priority_services.active_challenges_by_unit).unaddressed == []
    )


def random_peer_values(rng: np.random.Generator, units: int) -> pd.DataFrame:
    columns = {}
    for code in ("a", "b", "c"):
        column = (
            rng.integers(0, 5, units).astype(float)
            if rng.random() < 0.5
            else rng.normal(7, 1, units)
        )
        column[rng.random(units) < 0.2] = np.nan
        if rng.random() < 0.1:
            column[:] = 3.0
        columns[code] = column
    return pd.DataFrame(columns, index=pd.Index(range(100, 100 + units), dtype="int64"))


def test_signal_hits_decide_as_the_unit_page_does_for_every_kind_of_threshold():
    rng = np.random.default_rng(14)
    metrics = {code: core.MetricInfo(code, code, "driver") for code in ("a", "b", "c")}
    compared = 0
    for _trial in range(400):
        values = random_peer_values(rng, int(rng.integers(1, 12)))
        signals = [
            core.Signal(f"{code}-{kind}", code, str(rng.choice(["below", "above"])), kind, limit)
            for code in metrics
            for kind, limit in (
                ("peer_sd", float(rng.choice([0.0, 0.5, 1.0]))),
                ("peer_percentile", float(rng.choice([20, 0.3, 50]))),
                ("absolute", float(rng.choice([2.0, 4.5, 7.0]))),
            )
        ]
        fast = core.signal_hits(values, signals)
        for unit_id in values.index:
            slow = core.active_challenges(values, unit_id, metrics, signals)
            assert fast.get(unit_id, set()) == {found.code for found in slow}, (values, unit_id)
            compared += 1
    assert compared > 2000


# --- What is being tried where -------------------------------------------------------------------


def test_solutions_are_listed_with_their_units_by_status_most_units_first(db, world):
    summary = region(db, world)
    spreads = [
        (
            spread.solution.code,
            spread.trying,
            spread.units,
            {status.value: spread.of(status) for status in Status if spread.of(status)},
        )
        for spread in summary.solutions
    ]
    assert spreads == [
        ("SOP-TILL", 2, 3, {"planned": 1, "in_progress": 1, "abandoned": 1}),
        ("TRN-LINE", 2, 2, {"planned": 1, "implemented": 1}),
    ]
    assert not summary.codes_listed
    assert all(spread.unit_codes == [] for spread in summary.solutions)


def test_a_district_names_the_units_trying_each_solution(db, world):
    summary = rollup.plan_rollup(
        db.session, [world["ids"]["D1"]], today=TODAY, challenges=no_challenges
    )
    assert summary.codes_listed
    assert [(s.solution.code, s.unit_codes) for s in summary.solutions] == [
        ("SOP-TILL", ["S1", "S2"]),
        ("TRN-LINE", ["S1"]),
    ]


def test_the_page_shows_the_figures_and_the_lists(db, world, client_as):
    page = client_as(Role.CX_LEAD).get("/units/D1/plans")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    text = visible_text(html)
    assert "Action plans of Lakeside district" in text
    assert 'href="/units/D1/plans.csv"' in html
    assert "Open a till at three" in text and "S1, S2" in text
    company = client_as(Role.CX_LEAD).get("/plans")
    assert company.status_code == 200
    assert "Action plans across the company" in visible_text(company.get_data(as_text=True))
    assert 'href="/units/R1/plans"' in company.get_data(as_text=True)


def test_long_lists_are_paged_and_silly_pages_are_bounded(db, world, client_as):
    district = world["units"]["D1"]
    for number in range(60):
        db.session.add(Unit(code=f"X{number:02d}", name=f"Extra {number:02d}", parent=district))
    db.session.commit()
    lead = client_as(Role.CX_LEAD)
    first = visible_text(lead.get("/units/D1/plans").get_data(as_text=True))
    assert "Extra 00" in first and "Extra 59" not in first
    second = lead.get("/units/D1/plans?units_page=2&idle_page=2")
    assert "Extra 59" in visible_text(second.get_data(as_text=True))
    for query in ("units_page=99999999999999999999", "idle_page=-4", "solutions_page=abc"):
        assert lead.get(f"/units/D1/plans?{query}").status_code == 200


# --- Who may see it --------------------------------------------------------------------------

PAGES = ["/plans", "/units/D1/plans", "/plans.csv", "/units/D1/plans.csv"]


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(world, client, path):
    response = client.get(path)
    assert response.status_code == 302 and "/login" in response.location


@pytest.mark.parametrize("path", PAGES)
def test_staff_may_not_see_roll_ups(world, client_as, path):
    assert client_as(Role.STAFF).get(path).status_code == 403


@pytest.mark.parametrize("path", ["/units/D1/plans", "/units/D1/plans.csv", "/units/S1/plans"])
def test_a_manager_of_another_district_may_not_see_this_one(world, client_as, path):
    other = client_as(Role.MANAGER, units=[world["units"]["D2"]])
    assert other.get(path).status_code == 403


@pytest.mark.parametrize("path", ["/units/D1/plans", "/units/S1/plans", "/units/D1/plans.csv"])
def test_the_manager_of_the_subtree_sees_it(world, client_as, path):
    manager = client_as(Role.MANAGER, units=[world["units"]["D1"]])
    assert manager.get(path).status_code == 200


def test_a_manager_may_not_see_the_region_above_their_district(world, client_as):
    manager = client_as(Role.MANAGER, units=[world["units"]["D1"]])
    assert manager.get("/units/R1/plans").status_code == 403


@pytest.mark.parametrize("role", [Role.CX_LEAD, Role.ADMIN])
@pytest.mark.parametrize("path", PAGES + ["/units/S5/plans"])
def test_cx_leads_and_admins_see_every_roll_up(world, client_as, role, path):
    assert client_as(role).get(path).status_code == 200


def test_an_unknown_unit_is_not_found(world, client_as):
    lead = client_as(Role.CX_LEAD)
    assert lead.get("/units/NOPE/plans").status_code == 404
    assert lead.get("/units/NOPE/plans.csv").status_code == 404


def test_a_manager_of_one_unit_is_sent_to_its_roll_up(world, client_as):
    manager = client_as(Role.MANAGER, units=[world["units"]["D2"]])
    response = manager.get("/plans")
    assert response.status_code == 302 and response.location.endswith("/units/D2/plans")


def test_a_manager_of_several_units_sees_them_and_nothing_else(world, client_as):
    units = world["units"]
    manager = client_as(Role.MANAGER, units=[units["D1"], units["S1"], units["D5"]])
    page = manager.get("/plans")
    assert page.status_code == 200
    text = visible_text(page.get_data(as_text=True))
    assert "Action plans of your units" in text
    assert "Lakeside district" in text and "Bayside district" in text
    assert "Hillside district" not in text and "Store 3" not in text
    rows = manager.get("/plans.csv").get_data(as_text=True).splitlines()[1:]
    assert sorted({line.split(",")[0] for line in rows}) == ["S1", "S2", "S5"]


def test_a_manager_without_units_sees_an_empty_roll_up(world, client_as):
    manager = client_as(Role.MANAGER)
    page = manager.get("/plans")
    assert page.status_code == 200
    assert "You do not look after any unit yet" in visible_text(page.get_data(as_text=True))
    assert manager.get("/plans.csv").get_data(as_text=True).count("\n") == 1  # the header


def test_under_a_single_top_unit_the_company_lists_the_units_below_it(db, world):
    top = Unit(code="CO", name="The company", kind="company")
    db.session.add(top)
    for code in ("R1", "R2"):
        world["units"][code].parent = top
    db.session.commit()
    company = rollup.plan_rollup(db.session, None, today=TODAY, challenges=no_challenges)
    assert [found.unit.code for found in company.rows] == ["R1", "R2"]
    assert company.totals.items == 6


def test_page_links_carry_only_the_page_numbers(db, world, client_as):
    district = world["units"]["D1"]
    for number in range(60):
        db.session.add(Unit(code=f"X{number:02d}", name=f"Extra {number:02d}", parent=district))
    db.session.commit()
    html = (
        client_as(Role.CX_LEAD)
        .get("/units/D1/plans?_external=1&_scheme=javascript&idle_page=2&q=%3Cx%3E")
        .get_data(as_text=True)
    )
    links = re.findall(r'href="([^"]*)"', html)
    assert not [link for link in links if "javascript" in link or "_scheme" in link or "q=" in link]
    assert 'href="/units/D1/plans?idle_page=2&amp;units_page=2#units-heading"' in html
