"""`cxactions reminders`: each manager's e-mail digest, sent to a real SMTP server (aiosmtpd on
127.0.0.1) and read back as it arrived."""

from __future__ import annotations

import re
import socket
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from flask import Flask

from cxactions import create_app
from cxactions.auth.models import Role, User
from cxactions.config import ConfigError, settings_from_environment
from cxactions.foundations.extensions import db as _db
from cxactions.foundations.vocabulary import AdoptionStatus
from cxactions.impact.services import ImpactSettings, refresh_impact
from cxactions.plans import reminders
from cxactions.plans.models import Adoption, PlanStep
from cxactions.plans.reminders import build_digests, window_end
from tests.factories import small_library, unit_tree
from tests.impact_world import build_world

TODAY = date(2025, 3, 12)  # a Wednesday
SMTP_ENV = ("CXACTIONS_SMTP_", "CXACTIONS_MAIL_FROM", "CXACTIONS_BASE_URL")


# --- A real SMTP server, and the app configured for it through the environment ----------------


class Mailbox:
    """An aiosmtpd handler keeping every message it accepts; it refuses addresses starting with
    "refused" (a recipient the server does not know)."""

    def __init__(self) -> None:
        self.envelopes: list = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("refused"):
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self) -> dict[str, EmailMessage]:
        """What arrived, by recipient (each recipient at most once, or the test fails)."""
        found: dict[str, EmailMessage] = {}
        for envelope in self.envelopes:
            message = message_from_bytes(envelope.content, policy=policy.default)
            for recipient in envelope.rcpt_tos:
                assert recipient not in found, f"{recipient} got two e-mails"
                found[recipient] = message
        return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield mailbox, port
    controller.stop()


@pytest.fixture
def cli(app: Flask, monkeypatch) -> Iterator[Callable[..., object]]:
    """Run ``cxactions reminders ARGS`` in an app built from the environment ``env`` (as the
    console script builds it) on the test's database; returns the click result."""
    import os

    built: list[Flask] = []

    def run(*args: str, env: dict[str, str] | None = None):
        for name in list(os.environ):
            if name.startswith(SMTP_ENV):
                monkeypatch.delenv(name)
        for name, value in (env or {}).items():
            monkeypatch.setenv(name, value)
        keys = ("TESTING", "SECRET_KEY", "INSTANCE_PATH", "SQLALCHEMY_DATABASE_URI")
        other = create_app(
            {key: app.config[key] for key in keys}
            | {
                "SEARCH_INDEX_PATH": app.config["SEARCH_INDEX_PATH"],
                "IMPACT_BACKGROUND_REFRESH": False,
            }
        )
        built.append(other)
        _db.session.commit()  # the command's own session sees everything the test wrote
        with other.app_context():  # else the command would run in the test's app
            result = other.test_cli_runner().invoke(args=["reminders", *args])
        _db.session.rollback()  # and the test sees what the command wrote
        return result

    yield run
    for other in built:
        with other.app_context():
            _db.engine.dispose()


def smtp_env(port: int, **more: str) -> dict[str, str]:
    return {
        "CXACTIONS_SMTP_HOST": "127.0.0.1",
        "CXACTIONS_SMTP_PORT": str(port),
        "CXACTIONS_MAIL_FROM": "CX actions <cx@example.com>",
        "CXACTIONS_BASE_URL": "https://cx.example.com/",
        **more,
    }


# --- Plan items to remind people of ------------------------------------------------------------


@pytest.fixture
def world(db, make_user):
    """R1 > D1 (S1, S2), D2 (S3, S4); plan items around ``TODAY``; managers of D1 (English),
    D2 (French), the region, and people who get nothing."""
    units = unit_tree()
    lib = small_library(
        solutions={
            "SOP-GREET": {"title": "Greet every customer", "challenges": ["STAFF-GREET"]},
            "SOP-FLOOR": {"title": "Floor walker at peaks", "challenges": ["SPEED-QUEUE"]},
        }
    )

    def item(unit, solution, status, due_on, owner="Marie Dupont", steps=()):
        adoption = Adoption(
            unit=units[unit],
            solution=lib[solution],
            status=status,
            owner=owner,
            due_on=due_on,
            effective_on=due_on if status == AdoptionStatus.IMPLEMENTED else None,
        )
        adoption.steps = [
            PlanStep(position=position, text=f"Step {position}", done_at=done)
            for position, done in enumerate(steps, start=1)
        ]
        db.session.add(adoption)
        return adoption

    ticked = datetime(2025, 3, 1, 9)
    items = {
        # D1: one overdue (half done), one due soon, one far off, one done, one abandoned.
        "late": item(
            "S1",
            "SOP-TILL",
            AdoptionStatus.IN_PROGRESS,
            TODAY - timedelta(days=4),
            steps=[ticked, None],
        ),  # fmt: skip
        "soon": item("S2", "TRN-LINE", AdoptionStatus.PLANNED, TODAY + timedelta(days=3), None),
        "today": item("S2", "SOP-GREET", AdoptionStatus.PLANNED, TODAY, "Jo & Co <jo@x.org>"),
        "far": item("S1", "TRN-LINE", AdoptionStatus.PLANNED, TODAY + timedelta(days=30)),
        "done": item("S2", "SOP-TILL", AdoptionStatus.IMPLEMENTED, TODAY - timedelta(days=9)),
        "dropped": item("S1", "SOP-FLOOR", AdoptionStatus.ABANDONED, TODAY - timedelta(days=9)),
        # D2: one overdue item.
        "other": item(
            "S3", "SOP-FLOOR", AdoptionStatus.PLANNED, TODAY - timedelta(days=1), "Luc Martin"
        ),
    }
    db.session.commit()
    people = {
        "maya": make_user(Role.MANAGER, units=[units["D1"]], email="maya@example.com"),
        "fred": make_user(Role.MANAGER, units=[units["D2"]], email="fred@example.com"),
        "rita": make_user(Role.MANAGER, units=[units["R1"]], email="rita@example.com"),
        "idle": make_user(Role.MANAGER, units=[units["S4"]], email="idle@example.com"),
        "gone": make_user(Role.MANAGER, units=[units["D1"]], email="gone@example.com"),
        "lead": make_user(Role.CX_LEAD, email="lead@example.com"),
        "staff": make_user(Role.STAFF, email="staff@example.com"),
    }
    people["maya"].name = "Maya Martin"
    people["fred"].locale = "fr"
    people["gone"].active = False
    db.session.commit()
    return {"units": units, "items": items, "people": people}


def last_digest(email: str) -> datetime | None:
    return _db.session.scalar(sa.select(User.last_digest_at).where(User.email == email))


def text_of(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n")


def html_of(message: EmailMessage) -> str:
    return message.get_body(("html",)).get_content().replace("\r\n", "\n")


# --- Sending -----------------------------------------------------------------------------------


def test_each_manager_gets_one_digest_of_their_due_and_overdue_items(world, smtp, cli):
    mailbox, port = smtp
    result = cli("--today", TODAY.isoformat(), env=smtp_env(port))
    assert result.exit_code == 0, result.output + result.stderr
    received = mailbox.messages()
    # Active managers with something due; not the idle one, the inactive one, leads or staff.
    assert sorted(received) == ["fred@example.com", "maya@example.com", "rita@example.com"]
    assert "sent to maya@example.com: 1 overdue, 2 due soon, 0 measured" in result.output
    assert "sent to rita@example.com: 2 overdue, 2 due soon, 0 measured" in result.output
    assert "Reminders: 3 sent, 0 failed, 1 manager with nothing to report." in result.output

    maya = received["maya@example.com"]
    assert maya["Subject"] == "cxactions: 1 overdue, 2 due this week"
    assert maya["From"] == "CX actions <cx@example.com>"
    text = text_of(maya)
    assert text.startswith("Hello Maya Martin,")
    overdue, due_soon = text.index("Overdue (1)"), text.index("Due within 7 days (2)")
    assert overdue < due_soon
    late = world["items"]["late"]
    assert (
        "- Open a till at three · Store 1 (S1)\n"
        "  Due 8 Mar 2025, 4 days late · Owner: Marie Dupont · 50% complete\n"
        f"  https://cx.example.com/units/S1/plan/{late.id}\n"
    ) in text
    assert "Due today, 12 Mar 2025 · Owner: Jo & Co <jo@x.org> · 0% complete" in text
    assert "Due 15 Mar 2025, in 3 days · No owner named · 0% complete" in text
    # Far off, implemented, abandoned and other districts' items are not Maya's business.
    assert text.count("https://cx.example.com/units/") == 3
    assert "Floor walker" not in text and "Store 3" not in text
    # The HTML alternative says the same, with links.
    html = html_of(maya)
    assert '<html lang="en">' in html
    assert f'<a href="https://cx.example.com/units/S1/plan/{late.id}">' in html
    assert "4 days late" in html
    assert "Owner: Jo &amp; Co &lt;jo@x.org&gt;" in html and "<jo@x.org>" not in html

    rita = text_of(received["rita@example.com"])  # the region: both districts
    assert "Overdue (2)" in rita and "Store 3 (S3)" in rita and "Store 1 (S1)" in rita

    for email in ("maya@example.com", "fred@example.com", "rita@example.com"):
        assert last_digest(email) is not None
    for email in ("idle@example.com", "gone@example.com", "lead@example.com"):
        assert last_digest(email) is None


def test_a_french_manager_gets_the_digest_in_french(world, smtp, cli):
    mailbox, port = smtp
    result = cli("--today", TODAY.isoformat(), env=smtp_env(port))
    assert result.exit_code == 0, result.output + result.stderr
    fred = mailbox.messages()["fred@example.com"]
    assert fred["Subject"] == "cxactions : 1 en retard"
    text = text_of(fred)
    assert text.startswith("Bonjour fred@example.com,")
    assert "En retard (1)" in text
    assert "Échéance le 11 mars 2025, 1 jour de retard · Responsable : Luc Martin" in text
    assert "0\u00a0% réalisée" in text
    assert '<html lang="fr">' in html_of(fred)


def test_without_smtp_the_command_says_so_and_sends_nothing(world, smtp, cli):
    mailbox, _ = smtp
    result = cli("--today", TODAY.isoformat())
    assert result.exit_code == 0
    assert result.output.strip() == (
        "No SMTP server is configured (set CXACTIONS_SMTP_HOST): no reminders sent."
    )
    assert mailbox.envelopes == []
    assert last_digest("maya@example.com") is None


def test_a_dry_run_prints_the_digests_and_sends_nothing(world, smtp, cli):
    mailbox, port = smtp
    result = cli("--today", TODAY.isoformat(), "--dry-run", env=smtp_env(port))
    assert result.exit_code == 0, result.output + result.stderr
    assert "would send to maya@example.com: 1 overdue, 2 due soon, 0 measured" in result.output
    assert "  Subject: cxactions: 1 overdue, 2 due this week" in result.output
    assert "  |   Due 8 Mar 2025, 4 days late · Owner: Marie Dupont" in result.output
    assert "Reminders (dry run, nothing sent): 3 would be sent" in result.output
    assert mailbox.envelopes == []
    assert last_digest("maya@example.com") is None


def test_a_dry_run_works_without_smtp_too(world, cli):
    result = cli("--today", TODAY.isoformat(), "--dry-run")
    assert result.exit_code == 0, result.output + result.stderr
    assert result.output.startswith("No SMTP server is configured")
    assert "would send to fred@example.com: 1 overdue, 0 due soon, 0 measured" in result.output
    assert "  Subject: cxactions : 1 en retard" in result.output


def test_an_unreachable_server_fails_clearly_and_records_nothing(world, cli):
    port = free_port()  # nothing listens there
    result = cli("--today", TODAY.isoformat(), env=smtp_env(port))
    assert result.exit_code == 1
    assert f"cannot send through the SMTP server 127.0.0.1:{port}:" in result.stderr
    assert "Connection refused" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("Error: 3 of 3 digests not sent")
    for email in ("maya@example.com", "fred@example.com", "rita@example.com"):
        assert last_digest(email) is None


def test_a_refused_recipient_is_reported_and_the_others_still_get_theirs(world, smtp, cli, db):
    mailbox, port = smtp
    world["people"]["fred"].email = "refused-fred@example.com"
    db.session.commit()
    result = cli("--today", TODAY.isoformat(), env=smtp_env(port))
    assert result.exit_code == 1
    assert "not sent to refused-fred@example.com: the server refused the recipient" in (
        result.stderr
    )
    assert "550" in result.stderr
    assert sorted(mailbox.messages()) == ["maya@example.com", "rita@example.com"]
    assert "Reminders: 2 sent, 1 failed" in result.output
    assert last_digest("refused-fred@example.com") is None
    assert last_digest("maya@example.com") is not None


def test_the_command_is_wired_to_the_console_script_options(world, smtp, cli):
    _, port = smtp
    result = cli("--today", "12/03/2025", env=smtp_env(port))
    assert result.exit_code == 2
    assert "'12/03/2025' does not match the format '%Y-%m-%d'" in result.stderr


# --- Measured effects --------------------------------------------------------------------------


@pytest.fixture
def measured_world(db, make_user):
    """The planted organisation of tests/impact_world.py (SOL-GOOD took effect at S01 on
    10 Apr 2024, at S02 two weeks later) with its estimates, and a manager of D1."""
    world = build_world()
    refresh_impact(db.session, ImpactSettings(), trigger="test")
    manager = make_user(Role.MANAGER, units=[world.units["D1"]], email="dina@example.com")
    return world, manager


def test_an_effect_measured_since_the_last_digest_is_reported_once(measured_world, smtp, cli):
    mailbox, port = smtp
    env = smtp_env(port)
    result = cli("--today", "2024-06-01", env=env)
    assert result.exit_code == 0, result.output + result.stderr
    dina = mailbox.messages()["dina@example.com"]
    assert re.fullmatch(r"cxactions: \d+ effects measured", dina["Subject"])
    text = text_of(dina)
    assert "Effects measured since your last digest" in text
    good = text[text.index("- Greeting training · Store 1 (S01)") :]
    assert re.match(
        r"- Greeting training · Store 1 \(S01\), implemented on 10 Apr 2024\n"
        r"  Measured here: [+−]\d\.\d points over \d+ weeks \(observed against expected\)\.\n"
        r"  Across the 8 units that implemented it: \+\d\.\d points "
        r"\(95% interval [+−]\d\.\d to \+\d\.\d\)\.\n"
        r"  https://cx\.example\.com/units/S01/adoptions/SOL-GOOD\n",
        good,
    ), good[:400]
    assert "Store 9" not in text  # SOL-GOOD at S09 is another district's

    # Nothing new since: no run finished after this digest, so no second e-mail.
    mailbox.envelopes.clear()
    again = cli("--today", "2024-06-08", env=env)
    assert again.exit_code == 0, again.output + again.stderr
    assert mailbox.envelopes == []
    assert "Reminders: 0 sent, 0 failed, 1 manager with nothing to report." in again.output


def test_an_effect_is_not_reported_after_its_window_closed(measured_world, smtp, cli, db):
    mailbox, port = smtp
    _, manager = measured_world
    # A digest went out on 5 July 2024, before the latest impact run: S01's twelve weeks of
    # SOL-GOOD ended on 3 July (its final figure was in that digest), S02's run to 17 July.
    assert window_end(date(2024, 4, 10), "week", 12) == date(2024, 7, 3)
    manager.last_digest_at = datetime(2024, 7, 5, 8)
    db.session.commit()
    result = cli("--today", "2024-07-12", env=smtp_env(port))
    assert result.exit_code == 0, result.output + result.stderr
    text = text_of(mailbox.messages()["dina@example.com"])
    assert "Greeting training · Store 2 (S02)" in text
    assert "Greeting training · Store 1 (S01)" not in text


# --- Building digests without SMTP ---------------------------------------------------------------


def test_a_long_digest_is_capped_with_a_link_to_the_rest(world, app, db, monkeypatch):
    monkeypatch.setattr(reminders, "MAX_DUE_ITEMS", 2)
    digests = {
        digest.email: digest
        for digest in build_digests(db.session, today=TODAY, base_url="https://cx.example.com/")
    }
    rita = digests["rita@example.com"]
    assert (rita.overdue_total, rita.due_soon_total, rita.hidden_due) == (2, 2, 2)
    assert [item.unit_code for item in rita.overdue] == ["S1", "S3"] and rita.due_soon == []
    assert digests["idle@example.com"].is_empty
    assert "gone@example.com" not in digests and "lead@example.com" not in digests
    message = reminders.render(rita)
    assert (
        "see them all at "
        '<a href="https://cx.example.com/units/R1/plans">https://cx.example.com/units/R1/plans</a>'
    ) in message.html
    text = message.body
    assert (
        "And 2 more plan items due or overdue: see them all at https://cx.example.com/units/R1/plans"
        in text
    )


def test_window_ends_never_fall_short_of_the_calendar():
    assert window_end(date(2024, 1, 31), "month", 1) == date(2024, 2, 29)
    assert window_end(date(2024, 11, 15), "quarter", 1) == date(2025, 2, 15)
    assert window_end(date(2024, 2, 29), "year", 1) == date(2025, 2, 28)


# --- Settings ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"CXACTIONS_SMTP_HOST": "mail example"},
            "CXACTIONS_SMTP_HOST='mail example' is not valid",
        ),
        ({"CXACTIONS_SMTP_PORT": "70000"}, "a whole number from 1 to 65535"),
        ({"CXACTIONS_SMTP_STARTTLS": "maybe"}, "CXACTIONS_SMTP_STARTTLS='maybe'"),
        (
            {"CXACTIONS_SMTP_STARTTLS": "1", "CXACTIONS_SMTP_SSL": "1"},
            "CXACTIONS_SMTP_STARTTLS and CXACTIONS_SMTP_SSL are both on: choose one",
        ),
        ({"CXACTIONS_SMTP_USERNAME": "cx"}, "set both to sign in to the SMTP server, or neither"),
        ({"CXACTIONS_MAIL_FROM": "cxactions"}, "CXACTIONS_MAIL_FROM='cxactions' is not valid"),
        ({"CXACTIONS_BASE_URL": "cx.example.com"}, "an absolute http(s) URL"),
        ({"CXACTIONS_BASE_URL": "ftp://cx.example.com"}, "CXACTIONS_BASE_URL='ftp"),
    ],
)
def test_a_bad_smtp_setting_is_named_with_what_it_accepts(environ, message):
    with pytest.raises(ConfigError) as error:
        settings_from_environment(environ)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_a_password_is_never_echoed_in_an_error():
    with pytest.raises(ConfigError) as error:
        settings_from_environment(
            {"CXACTIONS_SMTP_USERNAME": "cx", "CXACTIONS_SMTP_PASSWORD": "sec\nret"}
        )
    assert "sec" not in str(error.value)


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, {"MAIL_SERVER": None, "MAIL_PORT": 25, "MAIL_DEFAULT_SENDER": "cxactions@localhost"}),
        ({"CXACTIONS_SMTP_HOST": "smtp.example.com"}, {"MAIL_PORT": 25, "MAIL_USE_TLS": False}),
        ({"CXACTIONS_SMTP_STARTTLS": "yes"}, {"MAIL_PORT": 587, "MAIL_USE_TLS": True}),
        ({"CXACTIONS_SMTP_SSL": "on"}, {"MAIL_PORT": 465, "MAIL_USE_SSL": True}),
        ({"CXACTIONS_SMTP_STARTTLS": "1", "CXACTIONS_SMTP_PORT": "2525"}, {"MAIL_PORT": 2525}),
        (
            {"CXACTIONS_SMTP_USERNAME": "cx", "CXACTIONS_SMTP_PASSWORD": " two words "},
            {"MAIL_USERNAME": "cx", "MAIL_PASSWORD": " two words "},
        ),
        ({}, {"BASE_URL": "http://127.0.0.1:5000"}),
        (
            {"CXACTIONS_BASE_URL": "https://cx.example.com/cx/"},
            {"BASE_URL": "https://cx.example.com/cx"},
        ),
    ],
)
def test_smtp_settings_come_from_the_environment(environ, expected):
    settings = settings_from_environment(environ)
    assert {key: settings[key] for key in expected} == expected
