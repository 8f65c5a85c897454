"""Browser fixtures: the app served on a free localhost port, driven by Debian's chromium.

Playwright never downloads a browser here: it launches /usr/bin/chromium with the flags this
machine needs (no sandbox as root, no background networking on a closed network).
"""

from __future__ import annotations

import shutil
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from cxactions import create_app
from cxactions.auth.models import User
from cxactions.foundations.extensions import db as _db
from cxactions.foundations.i18n import LANGUAGE_COOKIE
from cxactions.foundations.vocabulary import MetricKind
from cxactions.surveys.models import Metric, UnitWeekScore
from cxactions.units.models import Unit
from tests.conftest import PG_ADMIN_URL, TEST_PASSWORD
from tests.factories import unit_tree

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]


@pytest.fixture(scope="session")
def browser():
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def live_server(app) -> Iterator[str]:
    """Serve ``app`` (with CSRF on, as in production) on 127.0.0.1; yields the base URL."""
    app.config["WTF_CSRF_ENABLED"] = True
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@contextmanager
def watched_tab(browser, base_url: str) -> Iterator[Any]:
    """A tab in a browser context of its own (its own cookies) that fails the test when a page
    breaks the Content-Security-Policy (an inline script or style the browser refused) or
    throws."""
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    problems: list[str] = []
    tab.on(
        "console",
        lambda message: (
            problems.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    tab.on("pageerror", lambda error: problems.append(str(error)))
    try:
        yield tab
    finally:
        context.close()
    assert problems == [], problems


@pytest.fixture
def page(browser, live_server):
    """A tab on the live server; every browser test fails on a CSP violation or a script error."""
    with watched_tab(browser, live_server) as tab:
        yield tab


def sign_in(page, email: str) -> None:
    """Sign in through the login form with the test password; lands on the home page."""
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("main [type=submit]")
    page.wait_for_url("**/")


# --- One organisation for the page-by-page checks (accessibility, phones and tablets) ----------
#
# The demo generator's small organisation (the starter library, a dozen stores with twenty weeks
# of survey answers, drivers, signals, action plans, votes and comments), built once per worker
# and database backend on its own database, served on its own port and only read by the tests.


@dataclass(frozen=True)
class Site:
    """The served organisation: its URL, a signed-in browser state per role, and the codes the
    pages are reached by (``{store}``, ``{solution}``, ``{challenge}``, ``{pending}``,
    ``{query}``)."""

    url: str
    states: dict[str, dict]
    codes: dict[str, str]


ROLE_EMAILS = {
    "staff": "staff@demo.cxactions",
    "manager": "manager@demo.cxactions",
    "cx_lead": "lead@demo.cxactions",
    "admin": "admin@demo.cxactions",
}
LANGUAGES = ("en", "fr")


@contextmanager
def served_demo(backend: str, browser, tmp_path_factory, request, name: str) -> Iterator[tuple]:
    """The demo organisation on a database of its own, served on its own port: yields the app,
    its base URL, the codes its pages are reached by and a signed-in browser state per role."""
    folder = tmp_path_factory.mktemp(name)
    url, drop_database = _site_database(backend, folder, request)
    application = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "WTF_CSRF_ENABLED": True,
            "INSTANCE_PATH": str(folder),
            "SQLALCHEMY_DATABASE_URI": url,
            "SEARCH_INDEX_PATH": str(folder / "search-index"),
            "IMPACT_BACKGROUND_REFRESH": False,
            # A dozen stores rank few solutions on the default evidence bar: rank every one.
            "IMPACT_MIN_UNITS": 1,
            # The wrong-password page is shown once per language and test.
            "SIGN_IN_MAX_FAILURES_PER_ACCOUNT": 1000,
            "SIGN_IN_MAX_FAILURES_PER_ADDRESS": 1000,
        }
    )
    with application.app_context():
        _db.create_all()
        codes = _build_site(application)
        _db.session.remove()
    server = make_server("127.0.0.1", 0, application, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base_url = f"http://127.0.0.1:{server.server_port}"
    try:
        states = {
            role: _signed_in_state(browser, base_url, email) for role, email in ROLE_EMAILS.items()
        }
        yield application, base_url, codes, states
    finally:
        server.shutdown()
        thread.join(timeout=5)
        with application.app_context():
            _db.engine.dispose()
        drop_database()


@pytest.fixture(scope="session")
def site(backend: str, browser, tmp_path_factory, request) -> Iterator[Site]:
    """The demo organisation, only read by the tests that use it."""
    with served_demo(backend, browser, tmp_path_factory, request, "site") as served:
        _application, base_url, codes, states = served
        yield Site(url=base_url, states=states, codes=codes)


def _site_database(backend: str, folder, request) -> tuple[str, Callable[[], None]]:
    """A database of its own: the other tests empty theirs after every test."""
    if backend == "sqlite":
        return f"sqlite:///{folder / 'site.sqlite3'}", lambda: None
    request.getfixturevalue("postgres_url")  # skips (or fails under CI) when PostgreSQL is away
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"cxactions_site_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = admin.url.set(database=name).render_as_string(hide_password=False)

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url, drop


def _build_site(application) -> dict[str, str]:
    from cxactions.config import PROJECT_ROOT
    from cxactions.demo.services import DemoOptions, generate_demo
    from cxactions.foundations.vocabulary import AdoptionStatus, SolutionStatus
    from cxactions.impact.models import ImpactEstimate
    from cxactions.impact.services import ImpactSettings, refresh_impact
    from cxactions.library.models import Solution
    from cxactions.plans.models import Adoption
    from cxactions.search.service import rebuild_index

    options = DemoOptions(
        seed_dir=PROJECT_ROOT / "seed", stores=12, weeks=20, seed=5, password=TEST_PASSWORD
    )
    generate_demo(_db.session, options)
    _db.session.commit()
    rebuild_index()
    run = refresh_impact(
        _db.session, ImpactSettings.from_config(application.config), trigger="test"
    )
    session = _db.session
    # A store of the manager's district where a ranked solution was implemented: its unit page,
    # the solution's page and evidence, and the store's own story of it.
    manager = session.scalar(sa.select(User).where(User.email == ROLE_EMAILS["manager"]))
    district = manager.units[0]
    ranked = sa.select(ImpactEstimate.solution_id).where(
        ImpactEstimate.run_id == run.id, ImpactEstimate.rank.is_not(None)
    )
    adoption = session.scalars(
        sa.select(Adoption)
        .join(Unit, Unit.id == Adoption.unit_id)
        .where(
            Unit.parent_id == district.id,
            Adoption.status == AdoptionStatus.IMPLEMENTED,
            Adoption.solution_id.in_(ranked),
        )
        .order_by(Unit.code, Adoption.id)
    ).first()
    assert adoption is not None, "the demo organisation ranks no solution of the manager's stores"
    solution = adoption.solution
    pending = session.scalars(
        sa.select(Solution.code)
        .where(Solution.status == SolutionStatus.PENDING)
        .order_by(Solution.code)
    ).first()
    return {
        "store": adoption.unit.code,
        "item": str(adoption.id),
        "district": district.code,
        "solution": solution.code,
        "challenge": solution.challenges[0].code,
        "pending": pending,
        "query": "queue",
    }


def _signed_in_state(browser, base_url: str, email: str) -> dict:
    context = browser.new_context(base_url=base_url)
    try:
        sign_in(context.new_page(), email)
        return context.storage_state()
    finally:
        context.close()


@pytest.fixture
def open_tab(browser, site) -> Callable[..., AbstractContextManager]:
    """``with open_tab(role, width=390) as tab``: a tab on the site, signed in as ``role`` (None:
    signed out). Like ``page``, it fails when the browser refuses an inline script or style (the
    Content-Security-Policy) or a script throws."""

    @contextmanager
    def opened(role: str | None, *, width: int = 1280, javascript: bool = True) -> Iterator:
        context = browser.new_context(
            base_url=site.url,
            viewport={"width": width, "height": 900},
            storage_state=site.states[role] if role else None,
            java_script_enabled=javascript,
        )
        tab = context.new_page()
        tab.set_default_timeout(10_000)
        problems: list[str] = []
        tab.on(
            "console",
            lambda message: (
                problems.append(message.text) if "Content Security Policy" in message.text else None
            ),
        )
        tab.on("pageerror", lambda error: problems.append(str(error)))
        try:
            yield tab
        finally:
            context.close()
        assert problems == [], problems

    return opened


def set_language(tab, site: Site, language: str) -> None:
    """Serve the next pages in ``language`` (the cookie the header's switch sets)."""
    tab.context.add_cookies([{"name": LANGUAGE_COOKIE, "value": language, "url": site.url}])


@dataclass(frozen=True)
class SitePage:
    """One main page as one role sees it: ``path`` may name the site's codes (``{store}``...);
    ``then`` takes the page to a state (a form sent back with its errors) and returns the
    response of that last navigation."""

    name: str
    role: str | None
    path: str
    status: int = 200
    then: Callable[..., Any] | None = None

    def load(self, tab, site: Site, language: str) -> None:
        set_language(tab, site, language)
        response = tab.goto(self.path.format(**site.codes))
        if self.then is not None:
            response = self.then(tab)
        assert response is not None and response.status == self.status, (
            f"{self.name} ({language}): HTTP {response.status if response else None}"
        )
        assert tab.locator("html").get_attribute("lang") == language
        # Folded parts of the page (figures under a chart, a plan's form) are checked open.
        tab.evaluate("document.querySelectorAll('main details').forEach(d => { d.open = true; })")


def _wrong_password(tab):
    tab.fill("input[name=email]", "nobody@example.com")
    tab.fill("input[name=password]", "not the password")
    with tab.expect_navigation() as navigation:
        tab.click("main [type=submit]")
    return navigation.value


def _add_to_plan_without_fields(tab):
    candidate = tab.locator("details.plan-candidate__add").first
    candidate.locator("summary").click()
    # Owner and due date come filled in: emptied, the form is refused (and the site unchanged).
    candidate.locator("input[name=owner]").fill("")
    candidate.locator("input[name=due_on]").fill("")
    with tab.expect_navigation() as navigation:
        candidate.locator("[type=submit]").click()
    return navigation.value


def _import_a_broken_file(tab):
    tab.select_option("select[name=kind]", "units")
    tab.set_input_files(
        "input[name=file]",
        files=[
            {
                "name": "units.csv",
                "mimeType": "text/csv",
                "buffer": b"unit_id,name,parent_id\nR9,North,\nS91,,R9\nS92,Store 92,R-NOWHERE\n",
            }
        ],
    )
    with tab.expect_navigation() as navigation:
        tab.click("form[enctype] [type=submit]")
    return navigation.value


# Every main page, each as the role that sees the most of it (a CX lead's curation buttons, a
# manager's plan of their own store, a staff member's read-only tables), and one page at least
# per role. The accessibility and the small-screen tests visit each in both languages.
SITE_PAGES = [
    SitePage("sign-in", None, "/login"),
    SitePage("sign-in-refused", None, "/login", status=400, then=_wrong_password),
    SitePage("home-signed-out", None, "/"),
    SitePage("home-staff", "staff", "/"),
    SitePage("search", "staff", "/search?q={query}"),
    SitePage("units", "staff", "/units"),
    SitePage("company", "staff", "/company"),
    SitePage("adoption", "staff", "/units/{store}/adoptions/{solution}"),
    SitePage("metrics", "staff", "/metrics"),
    SitePage("impact", "staff", "/impact"),
    SitePage("impact-methods", "staff", "/impact/methods"),
    SitePage("impact-gaps", "staff", "/impact/gaps"),
    SitePage("drivers", "staff", "/drivers"),
    SitePage("password", "staff", "/account/password"),
    SitePage("not-found", "staff", "/nowhere", status=404),
    SitePage("forbidden", "staff", "/imports", status=403),
    SitePage("home-manager", "manager", "/"),
    SitePage("unit", "manager", "/units/{store}"),
    SitePage("plan-find", "manager", "/units/{store}/plan/find?q={query}"),
    SitePage(
        "plan-adopt-refused",
        "manager",
        "/units/{store}/plan/find?q={query}",
        status=400,
        then=_add_to_plan_without_fields,
    ),
    SitePage("impact-solution", "manager", "/impact/solutions/{solution}"),
    SitePage("plan-item", "manager", "/units/{store}/plan/{item}"),
    SitePage("plan-item-staff", "staff", "/units/{store}/plan/{item}"),
    SitePage("plans-rollup-unit", "manager", "/units/{district}/plans"),
    SitePage("plans-rollup", "cx_lead", "/plans"),
    SitePage("plans-flagged", "cx_lead", "/impact/flagged"),
    SitePage("home-cx-lead", "cx_lead", "/"),
    SitePage("imports", "cx_lead", "/imports", status=422, then=_import_a_broken_file),
    SitePage("metrics-cx-lead", "cx_lead", "/metrics"),
    SitePage("challenges", "cx_lead", "/challenges"),
    SitePage("challenge", "cx_lead", "/challenges/{challenge}"),
    SitePage("challenge-signals", "cx_lead", "/challenges/{challenge}/signals"),
    SitePage("challenge-edit", "cx_lead", "/challenges/{challenge}/edit"),
    SitePage("challenge-merge", "cx_lead", "/challenges/{challenge}/merge"),
    SitePage("library", "cx_lead", "/solutions"),
    SitePage("solution", "cx_lead", "/solutions/{solution}"),
    SitePage("solution-pending", "cx_lead", "/solutions/{pending}"),
    SitePage("solution-new", "cx_lead", "/solutions/new"),
    SitePage("solution-edit", "cx_lead", "/solutions/{solution}/edit"),
    SitePage("solution-merge", "cx_lead", "/solutions/{solution}/merge"),
    SitePage("home-admin", "admin", "/"),
    # Crowdsourcing and governance (issue 15).
    SitePage("solution-staff", "staff", "/solutions/{solution}"),
    SitePage("proposal-staff", "staff", "/solutions/{pending}"),
    SitePage("ideas", "staff", "/proposals"),
    SitePage("propose", "staff", "/proposals/new"),
    SitePage("my-submissions", "staff", "/proposals/mine"),
    SitePage("notifications", "staff", "/notifications"),
    SitePage("desk", "cx_lead", "/desk"),
    SitePage("audit", "cx_lead", "/audit"),
    SitePage("challenge-new", "cx_lead", "/challenges/new"),
    SitePage("challenge-map", "cx_lead", "/challenges/{challenge}/solutions"),
    SitePage("users", "admin", "/users"),
    SitePage("user-new", "admin", "/users/new"),
]


def store_scores() -> dict:
    """District D1's four stores of district D1 with eight weeks of overall and staff ratings; S1 trails."""
    units = unit_tree()
    overall = Metric(code="overall", kind=MetricKind.OUTCOME)
    rating = Metric(code="staff_rating", label="Staff friendliness", kind=MetricKind.DRIVER)
    _db.session.add_all([overall, rating])
    _db.session.flush()
    levels = {"S1": (6.0, 3.0), "S2": (8.0, 4.5), "S3": (8.2, 4.6), "S4": (7.9, 4.4)}
    monday = date(2025, 3, 3)
    for week in range(8):
        for code, (score, staff_score) in levels.items():
            for metric, mean in ((overall, score), (rating, staff_score + 0.05 * week)):
                _db.session.add(
                    UnitWeekScore(
                        metric_id=metric.id,
                        unit_id=units[code].id,
                        week_start=monday + timedelta(weeks=week),
                        n=20,
                        total=mean * 20,
                        total_sq=mean * mean * 20,
                    )
                )
    _db.session.commit()
    return units
