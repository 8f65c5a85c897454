"""The audit trail's pages (issue 15): ``/audit`` lists who changed what and when, newest first,
filtered by who, object type, object and dates, a page at a time; ``/audit.csv`` gives the same
events whole, every cell safe in a spreadsheet. CX leads and admins only."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime

import pytest

from cxactions.audit import services
from cxactions.audit.models import AuditEvent
from cxactions.audit.presenters import describe_details
from cxactions.audit.services import AuditFilters, EventPage, find_events, record
from cxactions.auth.models import Role
from cxactions.foundations.paging import MAX_PAGE
from tests.pages import table, visible_text

FORMULA = '=HYPERLINK("http://evil.example","Click")'


def _event(db, at: datetime, action: str, entity_type: str, entity_id, **fields) -> AuditEvent:
    event = record(db.session, action, entity_type, entity_id, **fields)
    event.at = at
    return event


@pytest.fixture
def trail(db, make_user):
    """Four events over four days, each with one shape of details, by a CX lead, the command
    line and an admin."""
    lead = make_user(Role.CX_LEAD, email="lead@example.com")
    admin = make_user(Role.ADMIN, email="admin@example.com")
    _event(db, datetime(2024, 3, 1, 10, 0), "solution.approve", "solution", 11, user=lead,
           details={"code": "SOP-TILL", "from": "pending", "to": "approved", "note": None})  # fmt: skip
    _event(db, datetime(2024, 3, 2, 0, 0), "challenge.update", "challenge", 7, actor="cli",
           details={"code": "SPEED-QUEUE", "fields": ["name"],
                    "name": {"from": "Long queues", "to": "Long checkout queues"}})  # fmt: skip
    _event(db, datetime(2024, 3, 3, 12, 0), "metric.update", "metric", 3, user=lead,
           details={"code": "overall", "before": {"label": "Overall", "target": 8},
                    "after": {"label": "Overall", "target": 9}})  # fmt: skip
    _event(db, datetime(2024, 3, 4, 23, 59, 59), "adoption.update", "adoption", 5, user=admin,
           details={"unit": "S1", "changes": {"owner": ["Ann", "Bob"]}})  # fmt: skip
    db.session.commit()
    return {"lead": lead, "admin": admin}


def actions(response) -> list[str]:
    """The actions listed on a trail page, in their order."""
    html = response.get_data(as_text=True)
    if 'id="audit-events"' not in html:
        return []
    rows = table(html, "audit-events").split("<tbody>")[1]
    return [cell.split("</code>")[0] for cell in rows.split("<code>")[1:]]


ALL = ["adoption.update", "metric.update", "challenge.update", "solution.approve"]


# --- The page and its filters -------------------------------------------------------------------


def test_the_trail_lists_every_event_newest_first(trail, login):
    response = login(trail["lead"]).get("/audit")
    assert response.status_code == 200
    assert actions(response) == ALL
    assert "4 events" in visible_text(response.get_data(as_text=True))


def test_filtering_by_who_takes_a_user_number_or_part_of_the_actor(trail, login):
    client = login(trail["lead"])
    lead, admin = trail["lead"], trail["admin"]
    assert actions(client.get(f"/audit?who={lead.id}")) == ["metric.update", "solution.approve"]
    assert actions(client.get(f"/audit?who={admin.id}")) == ["adoption.update"]
    assert actions(client.get("/audit?who=cli")) == ["challenge.update"]
    assert actions(client.get("/audit?who=LEAD%40")) == ["metric.update", "solution.approve"]
    # A % or _ typed is a character, not a wildcard; a huge number is no user and no error.
    assert actions(client.get("/audit?who=%25")) == []
    assert client.get("/audit?who=99999999999999999999").status_code == 200


def test_filtering_by_type_and_object(trail, login):
    client = login(trail["lead"])
    assert actions(client.get("/audit?type=challenge")) == ["challenge.update"]
    assert actions(client.get("/audit?type=challenge&object=7")) == ["challenge.update"]
    assert actions(client.get("/audit?type=challenge&object=11")) == []
    assert actions(client.get("/audit?object=11")) == ["solution.approve"]
    html = client.get("/audit").get_data(as_text=True)
    # The type filter offers the types the trail holds.
    options = html.split('id="audit-type"')[1].split("</select>")[0]
    values = [part.split('"')[0] for part in options.split('value="')[1:]]
    assert values == ["", "adoption", "challenge", "metric", "solution"]


def test_filtering_by_dates_includes_both_days(trail, login):
    client = login(trail["lead"])
    assert actions(client.get("/audit?from=2024-03-02&to=2024-03-03")) == [
        "metric.update",
        "challenge.update",
    ]
    # The end day is included to its last second; each bound alone works.
    assert actions(client.get("/audit?from=2024-03-04")) == ["adoption.update"]
    assert actions(client.get("/audit?to=2024-03-01")) == ["solution.approve"]
    assert actions(client.get("/audit?from=2024-03-04&to=2024-03-04")) == ["adoption.update"]
    assert actions(client.get("/audit?to=9999-12-31")) == ALL
    assert actions(client.get("/audit?from=2024-03-05")) == []


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=2024-13-45", "“2024-13-45” is not a date"),
        ("to=yesterday", "“yesterday” is not a date"),
        ("from=2024-03-04&to=2024-03-01", "The end date is before the start date."),
    ],
)
def test_a_bad_date_is_said_on_the_page_and_shows_no_events(trail, login, query, message):
    client = login(trail["lead"])
    response = client.get(f"/audit?{query}")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in visible_text(html)
    assert 'aria-invalid="true"' in html and actions(response) == []
    # The download says the same instead of failing.
    download = client.get(f"/audit.csv?{query}")
    assert download.status_code == 400 and message in visible_text(download.get_data(as_text=True))


def test_the_filters_are_kept_in_the_form_the_pages_and_the_download(trail, login, db):
    for minute in range(55):
        _event(db, datetime(2024, 2, 1, 9, minute), "solution.update", "solution", 11,
               actor="cli", details={"code": "SOP-TILL", "fields": ["title"]})  # fmt: skip
    db.session.commit()
    html = login(trail["lead"]).get("/audit?who=cli&type=solution").get_data(as_text=True)
    assert 'name="who" value="cli"' in html
    assert '<option value="solution" selected>' in html
    assert "/audit.csv?who=cli&amp;type=solution" in html
    assert "/audit?page=2&amp;who=cli&amp;type=solution" in html


# --- Paging -------------------------------------------------------------------------------------


def test_pages_are_bounded(trail, login, db):
    for minute in range(services.PER_PAGE):
        _event(db, datetime(2024, 2, 1, 9, minute), "solution.update", "solution", 11,
               actor="cli", details={"code": "SOP-TILL"})  # fmt: skip
    db.session.commit()
    client = login(trail["lead"])
    assert actions(client.get("/audit"))[:1] == ["adoption.update"]
    assert len(actions(client.get("/audit"))) == services.PER_PAGE
    assert actions(client.get("/audit?page=2")) == ["solution.update"] * 4
    # Past the end, or beyond any page: the last page; nonsense: the first.
    for page in ("3", "1001", "9223372036854775807"):
        assert actions(client.get(f"/audit?page={page}")) == ["solution.update"] * 4
    assert actions(client.get("/audit?page=abc"))[:1] == ["adoption.update"]


def test_find_events_reaches_max_page_at_most(trail, db):
    page = find_events(db.session, AuditFilters(), page=10**9, per_page=1)
    assert (page.page, page.pages, page.total) == (4, 4, 4)
    assert [event.action for event in page.items] == ["solution.approve"]
    assert not page.capped
    capped = EventPage(page=1, pages=MAX_PAGE, total=MAX_PAGE * 2 + 1, per_page=2)
    assert capped.capped and capped.reachable == MAX_PAGE * 2


# --- What each event shows ----------------------------------------------------------------------


def test_each_event_shows_its_changes_as_before_and_after(trail, login):
    html = login(trail["lead"]).get("/audit").get_data(as_text=True)
    rows = table(html, "audit-events")
    assert "<del>pending</del> → <ins>approved</ins>" in rows
    assert "Name: <del>Long queues</del> → <ins>Long checkout queues</ins>" in rows
    assert "Fields changed: name" in rows
    assert "Target: <del>8</del> → <ins>9</ins>" in rows
    assert "Label:" not in rows  # unchanged, so not shown
    assert "Code:" not in rows  # the object column names it
    assert "Owner: <del>Ann</del> → <ins>Bob</ins>" in rows
    assert "Note: –" in rows


def test_objects_link_to_their_page_and_their_history(trail, login):
    html = login(trail["lead"]).get("/audit").get_data(as_text=True)
    rows = table(html, "audit-events")
    assert 'href="/solutions/SOP-TILL"' in rows
    assert 'href="/challenges/SPEED-QUEUE"' in rows
    assert 'href="/units/S1/plan/5"' in rows
    assert 'href="/audit?type=metric&amp;object=3"' in rows
    assert f'href="/audit?who={trail["lead"].id}"' in rows
    assert 'href="/audit?who=cli"' in rows


def test_recorded_text_is_escaped(trail, login, db):
    _event(db, datetime(2024, 3, 5), "solution.update", "solution", 12,
           actor="<b>bold</b>@example.com",
           details={"code": "<i>X</i>", "title": "<script>alert(1)</script>",
                    "changes": {"summary": ["<img src=x>", "ok"]}})  # fmt: skip
    db.session.commit()
    html = login(trail["lead"]).get("/audit").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "<img src=x>" not in html
    assert "<b>bold</b>" not in html and "<i>X</i>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<del>&lt;img src=x&gt;</del> → <ins>ok</ins>" in html


@pytest.mark.one_backend
def test_describe_details_reads_every_recorded_shape(app):
    with app.test_request_context():

        def lines(details):
            return [
                (line.name, line.before, line.after) if line.changed else (line.name, line.value)
                for line in describe_details(details)
            ]

        assert lines(None) == [] and lines({}) == []
        assert lines({"from": "draft", "to": "pending", "note": "Why"}) == [
            ("", "draft", "pending"),
            ("Note", "Why"),
        ]
        assert lines({"code": "M", "into": "S", "from": "approved"}) == [
            ("Code", "M"),
            ("Merged into", "S"),
            ("From", "approved"),
        ]
        assert lines({"before": {"a": 1, "b": 2}, "after": {"a": 1, "b": 3, "c": None}}) == [
            ("B", "2", "3")
        ]
        assert lines({"changes": {"status": ["planned", "in_progress"], "odd": 4}}) == [
            ("Status", "planned", "in_progress"),
            ("Odd", "4"),
        ]
        assert lines({"parent": {"from": None, "to": "SPEED"}}) == [("Parent", "–", "SPEED")]
        # A list of two is a list, not a change, outside "changes".
        assert lines({"challenges": ["A", "B"], "units": [], "ok": True, "n": {"x": 1}}) == [
            ("Challenges", "A, B"),
            ("Units", "–"),
            ("Ok", "yes"),
            ("N", '{"x": 1}'),
        ]
        (long,) = lines({"body": "x" * 1000})
        assert len(long[1]) == 300 and long[1].endswith("…")


# --- The CSV ------------------------------------------------------------------------------------


def _rows(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_the_csv_holds_every_matching_event(trail, login):
    client = login(trail["lead"])
    response = client.get("/audit.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    header = response.get_data(as_text=True).splitlines()[0]
    assert header == "at,actor,user_email,action,entity_type,entity_id,details"
    rows = _rows(response)
    assert [row["action"] for row in rows] == ALL
    approve = rows[-1]
    assert approve["at"] == "2024-03-01T10:00:00Z"
    assert (approve["actor"], approve["user_email"]) == ("lead@example.com", "lead@example.com")
    assert (approve["entity_type"], approve["entity_id"]) == ("solution", "11")
    assert json.loads(approve["details"]) == {
        "code": "SOP-TILL",
        "from": "pending",
        "to": "approved",
        "note": None,
    }
    cli = rows[2]
    assert (cli["actor"], cli["user_email"]) == ("cli", "")
    filtered = _rows(client.get("/audit.csv?type=metric&from=2024-03-03&to=2024-03-03"))
    assert [row["action"] for row in filtered] == ["metric.update"]


def test_the_csv_neutralises_formulas(trail, login, db):
    _event(db, datetime(2024, 3, 6), "solution.update", "solution", "-12", actor=FORMULA,
           details={"note": "=1+2"})  # fmt: skip
    _event(db, datetime(2024, 3, 5), "solution.update", "solution", 12, actor="+1",
           details=None)  # fmt: skip
    db.session.commit()
    rows = _rows(login(trail["admin"]).get("/audit.csv"))
    formula, plus = rows[0], rows[1]
    assert formula["actor"] == "'" + FORMULA
    assert formula["entity_id"] == "'-12"
    assert json.loads(formula["details"]) == {"note": "=1+2"}
    assert plus["actor"] == "'+1" and plus["details"] == ""
    for row in rows:
        for cell in row.values():
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


# --- Who may see it -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/audit", "/audit.csv"])
def test_only_cx_leads_and_admins_see_the_trail(trail, make_user, client, login, path):
    anonymous = client.get(path)
    assert anonymous.status_code == 302 and "/login" in anonymous.location
    for role in (Role.STAFF, Role.MANAGER):
        assert login(make_user(role)).get(path).status_code == 403, role
        client.post("/logout")
    for user in (trail["lead"], trail["admin"]):
        assert login(user).get(path).status_code == 200
        client.post("/logout")


def test_the_navigation_links_the_trail_for_curators_only(trail, make_user, client, login):
    link = 'href="/audit"'
    assert link in login(trail["lead"]).get("/").get_data(as_text=True)
    client.post("/logout")
    assert link not in login(make_user(Role.MANAGER)).get("/").get_data(as_text=True)
