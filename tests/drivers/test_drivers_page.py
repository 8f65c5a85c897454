"""The key-drivers page: importance against performance, company-wide or for a region."""

from __future__ import annotations

from cxactions.auth.models import Role
from cxactions.foundations.charts import ScatterPoint, scatter_chart
from tests.units.test_scorecard import organisation  # noqa: F401  (the fixture)


def test_the_page_ranks_drivers_and_draws_the_chart(organisation, client_as):  # noqa: F811
    page = client_as(Role.STAFF).get("/drivers").get_data(as_text=True)
    assert "What drives satisfaction" in page
    assert "Wait (minutes)" in page and "staff rating" in page.lower()
    assert '<svg class="chart__svg"' in page and "Gap to target" in page


def test_a_region_narrows_the_scope_and_an_unknown_one_is_ignored(organisation, client_as):  # noqa: F811
    client = client_as(Role.STAFF)
    assert "in North" in client.get("/drivers?region=R1").get_data(as_text=True)
    assert "across the company" in client.get("/drivers?region=NOPE").get_data(as_text=True)


def test_without_data_the_page_says_so(db, client_as):
    page = client_as(Role.STAFF).get("/drivers").get_data(as_text=True)
    assert "Not enough survey data yet" in page


def test_scatter_places_points_and_quadrant_lines_inside_the_plot():
    chart = scatter_chart(
        [ScatterPoint("a", -1.0, 0.6), ScatterPoint("b", 2.0, 0.1)], x_split=0.0, y_split=0.5
    )
    left, right = chart.plot_left, chart.plot_right
    assert all(left <= point.cx <= right for point in chart.points)
    assert chart.points[0].cy < chart.points[1].cy  # more important = higher
    assert left < chart.x_split < right and chart.plot_top < chart.y_split < chart.plot_bottom
    assert scatter_chart([]) is None
