"""Every route, every method, every kind of user: the answers match ``ROUTE_ACCESS``.

The table in ``cxactions/auth/permissions.py`` declares who may use each route; the views
enforce it. This sweep calls every route of the application (GET and POST alike) on real
objects as an anonymous visitor, staff of another district, staff of the unit's district, a
manager of another district, the unit's manager, a CX lead and an admin. Removing a check from any view — a POST-only one included — makes a
refused user get through, and fails here; a route missing from the table fails too.
"""

from __future__ import annotations

from datetime import date

import pytest

from cxactions import create_app
from cxactions.auth.models import Role
from cxactions.auth.permissions import ROUTE_ACCESS, Access
from cxactions.crowd.models import Comment
from cxactions.foundations.vocabulary import (
    AdoptionStatus,
    MetricKind,
    SignalDirection,
    SolutionStatus,
    ThresholdKind,
)
from cxactions.plans.models import Adoption, PlanStep
from cxactions.surveys.aggregates import OVERALL, ensure_metrics
from cxactions.taxonomy.models import ChallengeSignal
from tests.conftest import TEST_PASSWORD, browser_for
from tests.factories import challenge, solution, unit_tree

# Who is asking, from the least to the most powerful: refused users come first, so a POST
# that an allowed user makes (and that may change the world) cannot hide a refusal.
VISITORS = [
    "anonymous",
    "other_staff",
    "staff",
    "other_manager",
    "unit_manager",
    "cx_lead",
    "admin",
]
ALLOWED = {
    Access.PUBLIC: set(VISITORS),
    Access.SIGNED_IN: set(VISITORS) - {"anonymous"},
    # Staff and managers: only the units they are attached to (and below).
    Access.UNIT_VIEWERS: {"staff", "unit_manager", "cx_lead", "admin"},
    Access.UNIT_PLANNERS: {"unit_manager", "cx_lead", "admin"},
    Access.MANAGERS: {"other_manager", "unit_manager", "cx_lead", "admin"},
    Access.CX_LEAD: {"cx_lead", "admin"},
    Access.ADMIN: {"admin"},
    # The world's proposal and comment are the staff member's own.
    Access.AUTHORS: {"staff"},
}
SKIPPED_METHODS = {"HEAD", "OPTIONS"}


def _routes() -> list[tuple[str, str, str]]:
    """(endpoint, method, rule) of every route, read from an app built like production's."""
    app = create_app({"SECRET_KEY": "x" * 32, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    return sorted(
        (rule.endpoint, method, rule.rule)
        for rule in app.url_map.iter_rules()
        for method in sorted((rule.methods or set()) - SKIPPED_METHODS)
    )


ROUTES = _routes()


def test_every_route_is_in_the_access_table():
    endpoints = {endpoint for endpoint, _, _ in ROUTES}
    assert sorted(endpoints - set(ROUTE_ACCESS)) == [], "declare these routes in ROUTE_ACCESS"
    assert sorted(set(ROUTE_ACCESS) - endpoints) == [], "these routes no longer exist"


@pytest.fixture
def world(app, db, make_user):
    """Units R1 > D1 (S1, S2), D2 (S3, S4); a challenge with a signal; two solutions, one of
    them implemented at S1; one user of each kind."""
    units = unit_tree()
    overall = ensure_metrics(db.session, [OVERALL], MetricKind.OUTCOME)[OVERALL]
    queue = challenge("SPEED-QUEUE", "Long checkout queues")
    challenge("SPEED-HOLD", "Long phone hold times")
    signal = ChallengeSignal(
        challenge=queue,
        metric_id=overall,
        direction=SignalDirection.BELOW,
        threshold_kind=ThresholdKind.PEER_SD,
        threshold=1.0,
    )
    db.session.add(signal)
    till = solution("SOP-TILL", "Open a till at three", challenges=[queue])
    solution("SOP-BOARD", "Queue board", challenges=[queue])
    item = Adoption(
        unit=units["S1"],
        solution=till,
        status=AdoptionStatus.IMPLEMENTED,
        effective_on=date(2024, 5, 6),
        steps=[PlanStep(position=1, text="Brief the team")],
    )
    db.session.add(item)
    db.session.commit()
    users = {
        "other_staff": make_user(Role.STAFF, units=[units["D2"]]),
        "staff": make_user(Role.STAFF, units=[units["D1"]]),
        "other_manager": make_user(Role.MANAGER, units=[units["D2"]]),
        "unit_manager": make_user(Role.MANAGER, units=[units["D1"]]),
        "cx_lead": make_user(Role.CX_LEAD),
        "admin": make_user(Role.ADMIN),
    }
    idea = solution(
        "IDEA-STAFF",
        "Greeter at the door",
        challenges=[queue],
        status=SolutionStatus.PENDING,
        author_id=users["staff"].id,
    )
    remark = Comment(solution=idea, user_id=users["staff"].id, body="Tried it at S1.")
    db.session.add(remark)
    db.session.commit()
    values = {
        "comment_id": remark.id,
        "code": {
            "crowd": "IDEA-STAFF",
            "taxonomy": "SPEED-QUEUE",
            "library": "SOP-TILL",
            "impact": "SOP-TILL",
            "units": "S1",
            "plans": "S1",
            "plans_rollup": "D1",
            "surveys": OVERALL,
        },
        "solution_code": "SOP-TILL",
        "signal_id": signal.id,
        "item_id": item.id,
        "step_id": item.steps[0].id,
        # Staff: an admin's POST (a password reset) comes last in the sweep and harms no one.
        "user_id": users["staff"].id,
        "filename": "css/app.css",
    }
    return {"users": users, "values": values}


def url_for_rule(rule: str, endpoint: str, values: dict) -> str:
    blueprint = endpoint.split(".")[0]
    path = rule
    for name, value in values.items():
        for converter in ("", "int:", "path:"):
            placeholder = f"<{converter}{name}>"
            if placeholder in path:
                chosen = value[blueprint] if isinstance(value, dict) else value
                path = path.replace(placeholder, str(chosen))
    assert "<" not in path, f"no sample value for {rule}"
    return path


def visitor(app, world, who: str):
    browser = browser_for(app)
    if who != "anonymous":
        user = world["users"][who]
        response = browser.post("/login", data={"email": user.email, "password": TEST_PASSWORD})
        assert response.status_code == 302, who
    return browser


@pytest.mark.parametrize(("endpoint", "method", "rule"), ROUTES)
def test_each_route_answers_each_visitor_as_the_table_says(app, world, endpoint, method, rule):
    access = ROUTE_ACCESS[endpoint]
    path = url_for_rule(rule, endpoint, world["values"])
    for who in VISITORS:
        response = visitor(app, world, who).open(path, method=method)
        response.close()
        status = response.status_code
        sent_to_sign_in = status == 302 and "/login" in response.location
        if who in ALLOWED[access]:
            assert status not in (401, 403) and not sent_to_sign_in, (
                f"{who} was refused {method} {path} ({status}); the table says {access}"
            )
        elif who == "anonymous":
            assert sent_to_sign_in or status == 401, f"anonymous got {status} on {method} {path}"
        else:
            assert status == 403, f"{who} got {status} on {method} {path}; table says {access}"


HOSTILE_PAGING = "page=9223372036854775807&per_page=9223372036854775807&weeks=-1&limit=1e999"


@pytest.mark.parametrize(("endpoint", "rule"), sorted({(e, r) for e, m, r in ROUTES if m == "GET"}))
def test_no_page_fails_on_huge_or_silly_page_numbers(app, world, endpoint, rule):
    """Every page and size parameter is bounded: no GET answers 500 to overflowing numbers."""
    browser = visitor(app, world, "cx_lead")
    path = url_for_rule(rule, endpoint, world["values"])
    for query in (HOSTILE_PAGING, "page=-5&per_page=-5", "page=abc&per_page=abc"):
        response = browser.get(f"{path}?{query}")
        response.close()
        assert response.status_code < 500, f"{path}?{query}: {response.status_code}"
