"""The optional e-mail digest of notifications, sent by `cxactions reminders` to a real SMTP
server (aiosmtpd on 127.0.0.1), in each recipient's language, once per notification."""

from __future__ import annotations

import sqlalchemy as sa

from cxactions.auth.models import Role
from cxactions.crowd import services
from cxactions.crowd.digest import build_notification_digests, set_email_notifications
from cxactions.crowd.models import Notification
from cxactions.foundations.vocabulary import SolutionStatus
from tests.conftest import TEST_PASSWORD, browser_for
from tests.factories import challenge, solution, unit_tree
from tests.plans.test_reminders import smtp_env


def _world(db, make_user):
    units = unit_tree()
    queue = challenge("SPEED-QUEUE", "Long checkout queues")
    author = make_user(Role.STAFF, units=[units["D1"]], email="ana@example.com")
    french = make_user(Role.STAFF, units=[units["D1"]], email="luc@example.com")
    french.locale = "fr"
    colleague = make_user(Role.STAFF, units=[units["D1"]], email="bo@example.com")
    idea = solution(
        "IDEA-BELL", "Bell at the till", challenges=[queue],
        status=SolutionStatus.PENDING, author_id=author.id,
    )  # fmt: skip
    db.session.commit()
    return {"author": author, "french": french, "colleague": colleague, "idea": idea}


def test_only_people_who_asked_get_their_unread_unmailed_notifications(db, make_user):
    world = _world(db, make_user)
    services.set_follow(world["idea"], world["french"], True)
    set_email_notifications(db.session, world["author"], True)
    set_email_notifications(db.session, world["french"], True)
    services.add_comment(world["idea"], world["colleague"], "Works at S2 too.")
    # The colleague did not ask: nothing for them, even with notifications waiting.
    services.add_comment(world["idea"], world["author"], "Thanks!")
    digests = {d.email: d for d in build_notification_digests(db.session, "https://cx.example.com")}
    assert sorted(digests) == ["ana@example.com", "luc@example.com"]
    assert digests["ana@example.com"].total == 1  # the colleague's comment; not their own
    assert digests["luc@example.com"].language == "fr"
    # Read notifications are not e-mailed.
    services.mark_read(db.session, world["author"])
    emails = [d.email for d in build_notification_digests(db.session, "https://x")]
    assert emails == ["luc@example.com"]


def test_turning_it_on_does_not_mail_what_was_already_waiting(db, make_user):
    world = _world(db, make_user)
    services.add_comment(world["idea"], world["colleague"], "Before.")
    set_email_notifications(db.session, world["author"], True)
    assert build_notification_digests(db.session, "https://x") == []
    services.add_comment(world["idea"], world["colleague"], "After.")
    (digest,) = build_notification_digests(db.session, "https://x")
    assert [note.comment.body for note in digest.notifications] == ["After."]


def test_the_reminders_command_sends_each_notification_once_in_the_readers_language(
    db,
    make_user,
    smtp,
    cli,
):
    mailbox, port = smtp
    world = _world(db, make_user)
    services.set_follow(world["idea"], world["french"], True)
    set_email_notifications(db.session, world["author"], True)
    set_email_notifications(db.session, world["french"], True)
    services.add_comment(world["idea"], world["colleague"], "Works at S2 too.")

    result = cli(env=smtp_env(port))
    assert result.exit_code == 0, result.output
    assert "Notifications: 2 sent, 0 failed." in result.output
    messages = mailbox.messages()
    english = messages["ana@example.com"]
    assert english["Subject"] == "cxactions: 1 new notification"
    text = english.get_body(("plain",)).get_content()
    assert "bo@example.com commented on Bell at the till." in text
    assert "https://cx.example.com/solutions/IDEA-BELL" in text
    html = english.get_body(("html",)).get_content()
    assert '<a href="https://cx.example.com/solutions/IDEA-BELL">Bell at the till</a>' in html
    french = messages["luc@example.com"].get_body(("plain",)).get_content()
    assert "a commenté" in french
    assert (
        db.session.scalar(sa.select(sa.func.count()).where(Notification.emailed_at.is_(None))) == 0
    )

    # A second run sends nothing more: each notification is e-mailed once.
    again = cli(env=smtp_env(port))
    assert "Notifications: 0 sent, 0 failed." in again.output
    assert len(mailbox.envelopes) == 2


def test_the_switch_is_on_the_notifications_page(app, db, make_user):
    world = _world(db, make_user)
    browser = browser_for(app)
    browser.post("/login", data={"email": "ana@example.com", "password": TEST_PASSWORD})
    page = browser.get("/notifications").get_data(as_text=True)
    assert "E-mail them to me" in page
    assert browser.post("/notifications/email", data={"email": "on"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(type(world["author"]), world["author"].id).email_notifications
    assert "Stop the e-mails" in browser.get("/notifications").get_data(as_text=True)
    browser.post("/notifications/email", data={"email": "off"})
    db.session.expire_all()
    assert not db.session.get(type(world["author"]), world["author"].id).email_notifications
