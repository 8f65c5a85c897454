"""User-written Markdown renders inert; number formats and chart geometry are right."""

from __future__ import annotations

import re
from datetime import date

import pytest

from cxactions.auth.models import Role
from cxactions.foundations.charts import Series, line_chart, nice_ticks
from cxactions.foundations.translation import format_number, format_score, format_signed
from cxactions.web.rendering import render_markdown
from tests.factories import solution

HOSTILE_BODY = """\
## Steps

Click [here](javascript:alert(1)) or [there](JaVaScRiPt:alert(2)) or [data](data:text/html,x).

<script>alert("stored xss")</script>

<img src=x onerror="alert(3)">
<a href="https://example.com" onclick="alert(4)" style="color:red">a real link</a>
<iframe src="https://evil.example"></iframe>
<p onmouseover="alert(5)">hover</p>
"""


def assert_inert(html: str) -> None:
    lowered = html.lower()
    assert "<script" not in lowered
    assert "javascript:" not in lowered
    assert "data:text/html" not in lowered
    assert "onerror" not in lowered and "onclick" not in lowered and "onmouseover" not in lowered
    assert "<iframe" not in lowered and "<img" not in lowered
    assert "style=" not in lowered


def test_markdown_keeps_formatting_and_drops_anything_active():
    html = str(render_markdown(HOSTILE_BODY))
    assert_inert(html)
    assert "<h2>Steps</h2>" in html
    assert 'href="https://example.com"' in html
    assert 'rel="noopener noreferrer nofollow"' in html
    assert "hover" in html  # the text stays, the handler goes


def test_markdown_of_nothing_is_empty():
    assert str(render_markdown(None)) == ""
    assert str(render_markdown("")) == ""


def test_a_hostile_solution_body_renders_inert_on_its_page(db, client_as):
    solution(
        "XSS-1",
        "<script>alert('title')</script> Queue fix",
        summary='"><script>alert("summary")</script>',
        body=HOSTILE_BODY,
        steps='<img src=x onerror="alert(6)">\nStep two',
    )
    db.session.commit()
    response = client_as(Role.STAFF).get("/solutions/XSS-1")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    body = page[page.index('<div class="prose"') :]
    body = body[: body.index("</div>")]
    assert_inert(body)
    # Title, summary and steps are plain text: escaped, never interpreted.
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=&#34;alert(6)&#34;&gt;" in page
    # The only scripts on the page would be ours, and there are none.
    assert not re.search(r"<script\b", page, re.I)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.456, "+0.46"), (-0.456, "−0.46"), (0.001, "±0.00"), (-0.004, "±0.00"), (None, "–")],
)
def test_signed_differences_show_their_sign(value, expected):
    assert format_signed(value) == expected


def test_scores_and_counts_read_well():
    assert format_score(7.456) == "7.46"
    assert format_score(None) == "–"
    assert format_number(1234567) == "1,234,567"
    assert format_number(None) == "–"


def test_nice_ticks_cover_the_range_with_round_steps():
    assert nice_ticks(6.3, 8.7) == [6.0, 7.0, 8.0, 9.0]
    assert nice_ticks(5.0, 5.0) == [5.0, 5.5, 6.0]
    ticks = nice_ticks(12, 87)
    assert ticks[0] <= 12 and ticks[-1] >= 87


def test_line_chart_breaks_the_line_where_weeks_are_missing():
    weeks = [date(2024, 1, 1), date(2024, 1, 8), date(2024, 1, 29), date(2024, 2, 5)]
    chart = line_chart([Series("Store", [(week, 7.0 + i) for i, week in enumerate(weeks)])])
    assert chart is not None
    path = chart.series[0].path
    assert path.count("M") == 2 and path.count("L") == 2
    xs = [float(part.split()[0][1:]) for part in re.findall(r"[ML][\d.]+ [\d.]+", path)]
    assert xs[0] == chart.plot_left and xs[-1] == chart.plot_right
    ys = [float(part.split()[1]) for part in re.findall(r"[ML][\d.]+ [\d.]+", path)]
    assert ys == sorted(ys, reverse=True)  # higher scores are drawn higher up
    assert all(chart.plot_top <= y <= chart.plot_bottom for y in ys)


def test_line_chart_with_no_points_draws_nothing():
    assert line_chart([Series("Store", [])]) is None


def test_a_single_week_is_drawn_as_a_dot():
    chart = line_chart([Series("Store", [(date(2024, 1, 1), 7.0)])])
    assert chart is not None and len(chart.series[0].dots) == 1
