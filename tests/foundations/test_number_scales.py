"""Issue 11, items 1 and 2: numbers are finite and lie on their metric's scale, everywhere they
are read (the imports, /metrics, the signals form), and pages never fail on extreme numbers."""

from __future__ import annotations

import html
import io
import math
from datetime import date, timedelta

import numpy as np
import pytest
import sqlalchemy as sa

from cxactions.auth.models import Role
from cxactions.foundations.charts import (
    EventPoint,
    ScatterPoint,
    Series,
    event_chart,
    interval_axis,
    line_chart,
    nice_ticks,
    scatter_chart,
)
from cxactions.foundations.extensions import db as _db
from cxactions.foundations.scales import (
    describe_scale,
    is_finite_number,
    number_problem,
    scale_problem,
)
from cxactions.foundations.vocabulary import MetricKind, SignalDirection, ThresholdKind
from cxactions.imports.services import run_import
from cxactions.imports.values import parse_numbers
from cxactions.surveys.models import Metric, OperationValue, Response, UnitWeekScore
from cxactions.taxonomy.models import Challenge, ChallengeSignal
from cxactions.units.models import Unit
from tests.imports.test_import_service import database_snapshot, load, write

UNITS = "unit_id,name,parent_id,kind\nR1,North,,region\nS1,Store 1,R1,store\nS2,Store 2,R1,store\n"
RESPONSES = "response_id,unit_id,responded_at,overall,staff_rating\n"
MONDAY = date(2025, 1, 6)


def metric(code: str) -> Metric | None:
    _db.session.expire_all()
    return _db.session.scalar(sa.select(Metric).where(Metric.code == code))


def scale(code: str) -> tuple[float | None, float | None]:
    item = metric(code)
    return item.scale_min, item.scale_max


def error_lines(kind: str, path, **options) -> list[str]:
    result = run_import(_db.session, kind, path, **options)
    assert not result.ok
    return result.error_lines()


@pytest.fixture
def units(db, tmp_path):
    load("units", write(tmp_path, UNITS, "units.csv"))


@pytest.fixture
def surveyed(units, tmp_path):
    """overall and staff_rating (0–10), wait_minutes (unbounded), one challenge."""
    load(
        "responses",
        write(tmp_path, RESPONSES + "a,S1,2025-01-06,7,6\nb,S2,2025-01-06,9,8\n", "r.csv"),
    )
    load(
        "operations",
        write(
            tmp_path,
            "unit_id,date,metric,value\nS1,2025-01-06,wait_minutes,4\nS2,2025-01-06,wait_minutes,9\n",
            "o.csv",
        ),
    )
    _db.session.add(Challenge(code="C-QUEUE", name="Queues"))
    _db.session.commit()


# --------------------------------------------------------------------------- the pure rules


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, 1e308, -1e16, 10**400])
def test_unusable_numbers_are_named(value):
    assert not is_finite_number(value) and number_problem(value)


def test_usable_numbers_and_scales():
    assert is_finite_number(7.5) and is_finite_number(-1e15) and number_problem(0) is None
    assert not is_finite_number(True) and not is_finite_number("7")
    assert scale_problem(0.0, 10.0) is None and scale_problem(None, None) is None
    assert scale_problem(5.0, 5.0)[0] == "max" and scale_problem(math.inf, None)[0] == "min"
    assert describe_scale(0, 10) == "0–10" and describe_scale(None, 100) == "at most 100"


@pytest.mark.parametrize("text", ["1e308", "-1e16", "99999999999999999"])
def test_the_parser_refuses_numbers_too_large_to_add_up(text):
    numbers, problems = parse_numbers(np.array([text, "7"], dtype=object))
    assert problems[0].startswith(f"'{text}' is too large") and 1 not in problems
    assert np.isnan(numbers[0]) and numbers[1] == 7.0


# --------------------------------------------------------------------------- responses.csv


def test_out_of_range_and_huge_survey_values_are_refused_by_line_and_column(units, tmp_path):
    path = write(
        tmp_path,
        RESPONSES + "a,S1,2025-01-06,1e308,5\n"
        "b,S1,2025-01-06,-5,5\n"
        "c,S2,2025-01-06,99999,5\n"
        "d,S2,2025-01-06,8,11\n"  # the driver column is new: created on 0–10 too
        "e,S2,2025-01-06,inf,5\n"
        "f,S2,2025-01-06,10,0\n",  # both ends of the scale are on it
    )
    before = database_snapshot()
    lines = error_lines("responses", path)
    assert lines[:5] == [
        "file.csv:2: overall: '1e308' is too large: numbers must lie between -1e+15 and 1e+15",
        "file.csv:3: overall: -5 is outside the scale of overall (0–10); a CX lead can change "
        "the scale on /metrics or with targets.csv (min, max)",
        "file.csv:4: overall: 99999 is outside the scale of overall (0–10); a CX lead can "
        "change the scale on /metrics or with targets.csv (min, max)",
        "file.csv:5: staff_rating: 11 is outside the scale of staff_rating (0–10); a CX lead "
        "can change the scale on /metrics or with targets.csv (min, max)",
        "file.csv:6: overall: not a number: 'inf'",
    ]
    assert len(lines) == 5
    assert database_snapshot() == before


def test_the_import_creates_survey_metrics_on_0_10_and_operations_unbounded(surveyed):
    assert scale("overall") == (0.0, 10.0) and scale("staff_rating") == (0.0, 10.0)
    assert scale("wait_minutes") == (None, None)


def test_the_stored_scale_decides_and_a_dry_run_reports_what_the_real_run_does(surveyed, tmp_path):
    load("targets", write(tmp_path, "metric,target,min,max\noverall,,0,100\n", "t.csv"))
    good = write(tmp_path, RESPONSES + "c,S1,2025-01-13,80,5\n", "good.csv")
    assert load("responses", good).rows_inserted == 1
    bad = write(tmp_path, RESPONSES + "d,S1,2025-01-13,101,5\ne,S1,2025-01-13,50,10.5\n", "bad.csv")
    dry = error_lines("responses", bad, dry_run=True)
    assert dry == error_lines("responses", bad)
    assert [line.split(": ")[:2] for line in dry[:2]] == [
        ["bad.csv:2", "overall"],
        ["bad.csv:3", "staff_rating"],
    ]
    assert "(0–100)" in dry[0] and "(0–10)" in dry[1]


def test_the_upload_page_refuses_out_of_range_values(units, client_as):
    client = client_as(Role.CX_LEAD)
    response = client.post(
        "/imports",
        data={
            "kind": "responses",
            "file": (io.BytesIO((RESPONSES + "a,S1,2025-01-06,-5,5\n").encode()), "responses.csv"),
        },  # fmt: skip
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert (
        '<td class="num">2</td><td><code>overall</code></td><td class="error">-5 is outside the '
        "scale of overall (0–10)"
    ) in html.unescape(page)
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(Response)) == 0


# --------------------------------------------------------------------------- operations.csv


def test_operational_values_are_finite_and_on_a_scale_once_one_is_set(surveyed, tmp_path):
    header = "unit_id,date,metric,value\n"
    lines = error_lines(
        "operations", write(tmp_path, header + "S1,2025-01-07,queue_length,1e308\n")
    )
    assert lines == [
        "file.csv:2: value: '1e308' is too large: numbers must lie between -1e+15 and 1e+15"
    ]
    # Unbounded: a negative value of a new or existing input is fine.
    load("operations", write(tmp_path, header + "S1,2025-01-07,wait_minutes,-1\n", "ok.csv"))
    load("targets", write(tmp_path, "metric,target,min,max\nwait_minutes,5,-1,60\n", "t.csv"))
    path = write(tmp_path, header + "S1,2025-01-08,wait_minutes,61\nS2,2025-01-08,wait_minutes,3\n")
    dry = error_lines("operations", path, dry_run=True)
    assert (
        dry
        == error_lines("operations", path)
        == [
            "file.csv:2: value: 61 is outside the scale of wait_minutes (-1–60); a CX lead can "
            "change the scale on /metrics or with targets.csv (min, max)"
        ]
    )


# --------------------------------------------------------------------------- signals.csv


SIGNALS = "challenge_id,metric,direction,threshold_kind,threshold\n"


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("C-QUEUE,staff_rating,below,absolute,12", "threshold: 12 is outside the scale of "
         "staff_rating (0–10)"),
        ("C-QUEUE,staff_rating,below,absolute,inf", "threshold: not a number: 'inf'"),
        ("C-QUEUE,staff_rating,below,peer_sd,nan", "threshold: not a number: 'nan'"),
        ("C-QUEUE,wait_minutes,above,absolute,1e308", "threshold: '1e308' is too large"),
        ("C-QUEUE,staff_rating,below,peer_percentile,100", "threshold: a peer_percentile "
         "threshold must be between 0 and 100"),
    ],
)  # fmt: skip
def test_signal_thresholds_are_finite_and_absolute_ones_on_the_scale(
    surveyed, tmp_path, row, expected
):
    path = write(tmp_path, SIGNALS + row + "\n")
    dry = error_lines("signals", path, dry_run=True)
    assert dry == error_lines("signals", path)
    assert dry[0].startswith("file.csv:2: " + expected), dry
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(ChallengeSignal)) == 0


def test_an_absolute_threshold_on_an_unbounded_metric_may_be_any_finite_number(surveyed, tmp_path):
    load("signals", write(tmp_path, SIGNALS + "C-QUEUE,wait_minutes,above,absolute,-3\n"))


# --------------------------------------------------------------------------- targets.csv


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("overall,11,,", "file.csv:2: target: 11 is outside the scale of overall (0–10)"),
        ("overall,inf,,", "file.csv:2: target: not a number: 'inf'"),
        ("overall,nan,,", "file.csv:2: target: not a number: 'nan'"),
        ("overall,1e308,,", "file.csv:2: target: '1e308' is too large"),
        ("overall,5,6,", "file.csv:2: target: 5 is outside the scale of overall (6–10)"),
        ("overall,5,10,0", "file.csv:2: max: the scale's min (10) must be less than its max (0)"),
        ("overall,5,,-inf", "file.csv:2: max: not a number: '-inf'"),
        ("overall,,,", "file.csv:2: target: required, but empty"),
        ("wait_minutes,100,,50", "file.csv:2: target: 100 is outside the scale of wait_minutes"),
    ],
)
def test_targets_and_scales_are_finite_and_consistent(surveyed, tmp_path, text, expected):
    path = write(tmp_path, "metric,target,min,max\n" + text + "\n")
    before = database_snapshot()
    dry = error_lines("targets", path, dry_run=True)
    assert dry == error_lines("targets", path)
    assert dry[0].startswith(expected), dry
    assert database_snapshot() == before


def test_a_stored_target_must_fit_the_new_scale(surveyed, tmp_path):
    load("targets", write(tmp_path, "metric,target\noverall,8\n", "t.csv"))
    lines = error_lines("targets", write(tmp_path, "metric,target,min,max\noverall,,0,5\n"))
    assert lines[0] == (
        "file.csv:2: target: the stored target 8 of overall is outside the scale 0–5: "
        "give a target on it"
    )


def test_a_scale_never_shrinks_past_stored_values(surveyed, tmp_path):
    # Stored: overall 7 and 9, staff_rating 6 and 8, wait_minutes 4 and 9.
    path = write(tmp_path, "metric,target,min,max\noverall,,0,8\nwait_minutes,,5,\n")
    dry = error_lines("targets", path, dry_run=True)
    assert (
        dry
        == error_lines("targets", path)
        == [
            "file.csv:2: max: 1 stored value of overall lies outside 0–8 (stored values range from "
            "7 to 9): choose a scale that holds them, or correct the data first",
            "file.csv:3: min: 1 stored value of wait_minutes lies outside at least 5 (stored values "
            "range from 4 to 9): choose a scale that holds them, or correct the data first",
        ]
    )
    assert scale("overall") == (0.0, 10.0) and scale("wait_minutes") == (None, None)
    # A scale that holds the data is fine, and widening never looks at the data.
    result = load(
        "targets",
        write(tmp_path, "metric,target,min,max\noverall,8,1,9\nstaff_rating,,,100\n", "ok.csv"),
    )
    assert (result.rows_inserted, result.rows_updated) == (0, 2)
    assert scale("overall") == (1.0, 9.0) and scale("staff_rating") == (0.0, 100.0)
    assert metric("overall").target == 8.0


def test_a_scale_never_shrinks_past_an_absolute_signal_threshold(surveyed, tmp_path):
    load("signals", write(tmp_path, SIGNALS + "C-QUEUE,staff_rating,below,absolute,3\n", "s.csv"))
    lines = error_lines("targets", write(tmp_path, "metric,target,min,max\nstaff_rating,,4,\n"))
    assert lines == [
        "file.csv:2: min: the absolute threshold of 1 signal of staff_rating lies outside 4–10 "
        "(C-QUEUE below 3): change it first"
    ]


def test_targets_declare_a_metric_with_its_scale_before_its_data(units, tmp_path):
    result = load(
        "targets",
        write(
            tmp_path,
            "metric,target,min,max,kind\noverall,,0,100,\nstaff_rating,70,0,100,driver\n"
            "queue_length,,0,,operational\n",
            "t.csv",
        ),
    )
    assert (result.rows_inserted, result.rows_updated) == (3, 0)
    assert metric("overall").kind == MetricKind.OUTCOME and scale("overall") == (0.0, 100.0)
    assert metric("staff_rating").kind == MetricKind.DRIVER and metric("staff_rating").target == 70
    assert scale("queue_length") == (0.0, None)
    load("responses", write(tmp_path, RESPONSES + "a,S1,2025-01-06,80,65\n", "r.csv"))
    refused = write(tmp_path, "unit_id,date,metric,value\nS1,2025-01-06,queue_length,-2\n")
    assert error_lines("operations", refused)[0].startswith(
        "file.csv:2: value: -2 is outside the scale of queue_length (at least 0)"
    )


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("nps,50,0,100,", "metric: unknown metric 'nps' (not in the database"),
        ("nps,50,0,100,outcome", "kind: only 'overall' is the outcome"),
        ("overall,5,,,driver", "kind: 'overall' is an outcome metric, not driver"),
        (
            "staff_rating,5,,,operational",
            "kind: 'staff_rating' is a driver metric, not operational",
        ),
    ],
)
def test_a_metric_is_declared_only_on_purpose(surveyed, tmp_path, row, expected):
    path = write(tmp_path, "metric,target,min,max,kind\n" + row + "\n")
    assert error_lines("targets", path)[0].startswith("file.csv:2: " + expected)


# --------------------------------------------------------------------------- /metrics


def post_metric(client, code: str, **fields):
    return client.post(
        f"/metrics/{code}",
        data={f"{code}-{name}": value for name, value in fields.items()},
        follow_redirects=True,
    )


@pytest.mark.parametrize("typed", ["inf", "-inf", "nan", "1e308", "Infinity"])
def test_metrics_form_refuses_non_finite_targets(surveyed, client_as, typed):
    client = client_as(Role.CX_LEAD)
    post_metric(client, "overall", target="8", higher_is_better="y")
    page = post_metric(client, "overall", target=typed, higher_is_better="y")
    assert "finite number" in page.get_data(as_text=True)
    assert metric("overall").target == 8.0
    assert client.get("/drivers").status_code == 200


def test_metrics_form_sets_and_checks_the_scale(surveyed, client_as, db):
    client = client_as(Role.CX_LEAD)
    page = client.get("/metrics").get_data(as_text=True)
    assert 'name="overall-scale_min"' in page and "0–10" in page
    text = post_metric(client, "wait_minutes", target="5", scale_min="0", scale_max="30")
    assert "wait_minutes: saved." in text.get_data(as_text=True)
    assert scale("wait_minutes") == (0.0, 30.0) and metric("wait_minutes").higher_is_better is False
    refused = {
        "min above max": ({"scale_min": "30", "scale_max": "0"}, "must be less than its max"),
        "infinite max": ({"scale_min": "0", "scale_max": "inf"}, "finite number"),
        "target off the scale": ({"target": "40", "scale_min": "0", "scale_max": "30"},
                                 "The target 40 is outside the scale (0–30)"),
        "stored data off the scale": ({"target": "5", "scale_min": "5", "scale_max": "30"},
                                      "1 stored value of wait_minutes lies outside 5–30"),
    }  # fmt: skip
    for case, (fields, message) in refused.items():
        page = post_metric(client, "wait_minutes", **fields).get_data(as_text=True)
        assert message in page, case
        assert scale("wait_minutes") == (0.0, 30.0), case
    # A request without the scale fields keeps the scale; empty fields open it.
    post_metric(client, "wait_minutes", target="6")
    assert scale("wait_minutes") == (0.0, 30.0) and metric("wait_minutes").target == 6.0
    post_metric(client, "wait_minutes", target="6", scale_min="", scale_max="")
    assert scale("wait_minutes") == (None, None)


def test_metrics_form_refuses_a_scale_that_cuts_an_absolute_threshold(surveyed, client_as, db):
    challenge = db.session.scalar(sa.select(Challenge).where(Challenge.code == "C-QUEUE"))
    db.session.add(
        ChallengeSignal(
            challenge_id=challenge.id,
            metric_id=metric("wait_minutes").id,
            direction=SignalDirection.ABOVE,
            threshold_kind=ThresholdKind.ABSOLUTE,
            threshold=40.0,
        )
    )
    db.session.commit()
    page = post_metric(client_as(Role.CX_LEAD), "wait_minutes", scale_min="0", scale_max="30")
    assert "(C-QUEUE above 40): change it first" in page.get_data(as_text=True)
    assert scale("wait_minutes") == (None, None)


# --------------------------------------------------------------------------- signals form


@pytest.mark.parametrize(
    ("kind", "typed", "message"),
    [
        ("peer_sd", "inf", "finite number"),
        ("peer_sd", "nan", "finite number"),
        ("absolute", "-inf", "finite number"),
        ("absolute", "1e308", "finite number"),
        ("absolute", "11", "11 is outside its scale (0–10)"),
        ("peer_percentile", "100", "between 0 and 100"),
        ("peer_sd", "0", "greater than 0"),
    ],
)
def test_signals_form_refuses_bad_thresholds(surveyed, client_as, kind, typed, message):
    client = client_as(Role.CX_LEAD)
    response = client.post(
        "/challenges/C-QUEUE/signals",
        data={"metric": "staff_rating", "direction": "below", "threshold_kind": kind,
              "threshold": typed},
    )  # fmt: skip
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(ChallengeSignal)) == 0
    assert client.get("/drivers").status_code == 200


def test_signals_form_takes_an_absolute_threshold_on_the_scale(surveyed, client_as):
    response = client_as(Role.CX_LEAD).post(
        "/challenges/C-QUEUE/signals",
        data={"metric": "staff_rating", "direction": "below", "threshold_kind": "absolute",
              "threshold": "4.5"},
    )  # fmt: skip
    assert response.status_code == 302
    assert _db.session.scalar(sa.select(ChallengeSignal.threshold)) == 4.5


# --------------------------------------------------------------------------- charts and pages


@pytest.mark.parametrize(
    ("low", "high"),
    [
        (-1.7e308, 1.7e308),
        (1e308, 1e308),
        (-1e308, -1e308),
        (7.0, math.inf),
        (-math.inf, math.inf),
        (math.nan, 5.0),
        (1e-320, 1e-320),
        (1e20, 1e20 + 1e5),
        (0.0, 1e15),
    ],
)
def test_nice_ticks_never_fail(low, high):
    ticks = nice_ticks(low, high)
    assert 2 <= len(ticks) <= 13
    assert all(math.isfinite(tick) for tick in ticks)
    assert ticks == sorted(ticks) and ticks[0] < ticks[-1]


def test_charts_draw_extreme_and_skip_non_finite_values():
    weeks = [MONDAY + timedelta(weeks=index) for index in range(4)]
    chart = line_chart(
        [Series("Store", list(zip(weeks, [7.0, 1.7e308, math.inf, math.nan], strict=True)))]
    )
    assert chart is not None and chart.series[0].path.count("M") == 1
    assert all(chart.plot_top - 20 <= y <= chart.plot_bottom + 20 for y, _ in chart.y_ticks)
    assert line_chart([Series("Store", [(weeks[0], 1e308)])]).series[0].dots
    assert line_chart([Series("Store", [(weeks[0], math.inf)])]) is None
    assert scatter_chart([ScatterPoint("a", 0.2, 1e308), ScatterPoint("b", math.nan, 1)])
    assert event_chart(points=[EventPoint(0, 1e308, -1e308, math.inf)]) is not None
    axis = interval_axis([-1e308, 1e308, math.inf])
    assert axis is not None and all(0 <= x <= axis.width for x, _ in axis.ticks)


def add_weeks(unit: Unit, metric_id: int, totals: list[float]) -> None:
    for week, total in enumerate(totals):
        _db.session.add(
            UnitWeekScore(
                metric_id=metric_id,
                unit_id=unit.id,
                week_start=MONDAY + timedelta(weeks=week),
                n=1,
                total=total,
                total_sq=total * total,
            )
        )


SCORECARD_PAGES = ("/units/S1", "/units/S2", "/units/S3", "/units/D1", "/units/R1", "/company",
                   "/units", "/drivers", "/metrics")  # fmt: skip


def test_scorecard_pages_survive_extreme_stored_numbers(db, client_as):
    """Rows written directly, as a database filled before these rules may hold them: a unit
    with huge but finite weekly means (one week alone: the chart gets a single value), one
    whose weekly totals are infinite (two 1e308 responses once added up to that), and one with
    a large valid operational input."""
    region = Unit(code="R1", name="North", kind="region")
    district = Unit(code="D1", name="Lakeside", kind="district", parent=region)
    stores = [Unit(code=f"S{i}", name=f"Store {i}", kind="store", parent=district)
              for i in (1, 2, 3)]  # fmt: skip
    overall = Metric(code="overall", kind=MetricKind.OUTCOME, target=8.0, scale_min=0,
                     scale_max=10)  # fmt: skip
    pallets = Metric(code="pallets", kind=MetricKind.OPERATIONAL)
    db.session.add_all([region, district, *stores, overall, pallets])
    db.session.flush()
    add_weeks(stores[0], overall.id, [1.5e308])
    add_weeks(stores[1], overall.id, [7.0, math.inf, 8.0, math.inf])
    add_weeks(stores[2], overall.id, [6.0, 7.0, 8.0, 7.5])
    for index, store in enumerate(stores):
        db.session.add(OperationValue(unit_id=store.id, on_date=MONDAY, metric_id=pallets.id,
                                      value=1e15 * (index + 1)))  # fmt: skip
    db.session.commit()
    client = client_as(Role.ADMIN)
    for path in SCORECARD_PAGES:
        assert client.get(path).status_code == 200, path
