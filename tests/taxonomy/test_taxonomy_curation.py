"""Curating the taxonomy: edit, move, retire and merge challenges, through the web and the
services, each audited, refused for non-curators, and followed by the search index."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from cxactions.audit.models import AuditEvent
from cxactions.auth.models import Role
from cxactions.foundations.changes import RefusedChange
from cxactions.foundations.extensions import db as _db
from cxactions.foundations.vocabulary import ChallengeStatus, MetricKind, SignalDirection
from cxactions.plans.models import Adoption
from cxactions.search.models import SearchOutbox
from cxactions.search.service import SearchOptions, search
from cxactions.surveys.models import Metric
from cxactions.taxonomy import services
from cxactions.taxonomy.models import Challenge, ChallengeSignal
from tests.factories import challenge, solution, unit_tree
from tests.pages import visible_text


def found(query: str, doc_type: str = "solution", **options) -> set[str]:
    result = search(_db.session, query, SearchOptions(doc_type=doc_type, per_page=50, **options))
    return {hit.id for hit in result.results}


def events(db, action: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


def get(db, code: str) -> Challenge:
    db.session.expire_all()
    return db.session.scalar(sa.select(Challenge).where(Challenge.code == code))


@pytest.fixture
def taxonomy(db):
    """SPEED (QUEUE, HOLD > HOLD-MUSIC), STAFF (GREET); solutions on QUEUE, HOLD and GREET."""
    speed = challenge("SPEED", "Speed and responsiveness")
    queue = challenge(
        "SPEED-QUEUE", "Long checkout queues", parent=speed, keywords="queue\nfile d'attente"
    )
    hold = challenge("SPEED-HOLD", "Long phone hold times", parent=speed, position=1)
    music = challenge("HOLD-MUSIC", "Dreadful hold music", parent=hold)
    staff = challenge("STAFF", "Staff interaction", position=1)
    greet = challenge("STAFF-GREET", "Customers not greeted", parent=staff, keywords="hello\nQueue")
    till = solution("SOP-TILL", "Open a till at three", challenges=[queue])
    both = solution("SOP-BOTH", "Greet the people in line", challenges=[queue, greet])
    hello = solution("SOP-HELLO", "Say hello", challenges=[greet])
    callback = solution("SOP-CALLBACK", "Offer a callback", challenges=[hold])
    db.session.commit()
    return {
        "speed": speed,
        "queue": queue,
        "hold": hold,
        "music": music,
        "staff": staff,
        "greet": greet,
        "till": till,
        "both": both,
        "hello": hello,
        "callback": callback,
    }


@pytest.fixture
def curator(make_user):
    return make_user(Role.CX_LEAD)


# --- Edit --------------------------------------------------------------------------------


def test_renaming_a_challenge_makes_its_solutions_findable_by_the_new_name(db, taxonomy, client_as):
    assert "SOP-CALLBACK" in found("phone hold")
    assert "SOP-CALLBACK" not in found("switchboard")
    client = client_as(Role.CX_LEAD)
    page = client.get("/challenges/SPEED-HOLD").get_data(as_text=True)
    assert "/challenges/SPEED-HOLD/edit" in page and "/challenges/SPEED-HOLD/merge" in page
    form = client.get("/challenges/SPEED-HOLD/edit").get_data(as_text=True)
    assert 'value="Long phone hold times"' in form
    assert 'value="HOLD-MUSIC"' not in form  # nothing below it may become its parent
    response = client.post(
        "/challenges/SPEED-HOLD/edit",
        data={
            "name": "Switchboard delays",
            "description": "Callers wait.",
            "keywords": "  hold \n\n on hold\nHOLD\n",
            "parent": "SPEED",
            "status": "active",
        },
    )
    assert response.status_code == 302 and response.location.endswith("/challenges/SPEED-HOLD")
    hold = get(db, "SPEED-HOLD")
    assert hold.name == "Switchboard delays" and hold.keywords == "hold\non hold"
    (event,) = events(db, "challenge.update")
    assert event.details["name"] == {"from": "Long phone hold times", "to": "Switchboard delays"}
    assert set(event.details["fields"]) == {"name", "description", "keywords"}
    assert "SOP-CALLBACK" in found("switchboard")
    assert "SPEED-HOLD" in found("switchboard", doc_type="challenge")
    assert "SOP-CALLBACK" not in found("phone")
    # Renaming a category reaches the solutions of every challenge below it.
    client.post("/challenges/SPEED/edit", data={"name": "Velocity", "status": "active"})
    assert {"SOP-TILL", "SOP-CALLBACK"} <= found("velocity")


def test_moving_a_challenge_puts_it_last_under_its_new_parent(db, taxonomy, curator):
    changed = services.update_challenge(taxonomy["hold"], {"parent": "STAFF"}, curator)
    assert changed == ["parent"]
    hold = get(db, "SPEED-HOLD")
    assert hold.parent.code == "STAFF" and hold.position == 1
    (event,) = events(db, "challenge.update")
    assert event.details["parent"] == {"from": "SPEED", "to": "STAFF"}
    assert "SOP-CALLBACK" in found("staff interaction")
    services.update_challenge(hold, {"parent": None}, curator)
    assert get(db, "SPEED-HOLD").parent_id is None


@pytest.mark.parametrize(
    ("code", "data", "field", "message"),
    [
        (
            "SPEED",
            {"parent": "HOLD-MUSIC"},
            "parent",
            "SPEED cannot go under HOLD-MUSIC: HOLD-MUSIC is below SPEED, which would make a loop.",
        ),
        ("SPEED", {"parent": "SPEED"}, "parent", "a challenge cannot be its own parent"),
        ("SPEED", {"parent": "NOPE"}, "parent", "There is no challenge with the code “NOPE”"),
        ("SPEED", {"name": " "}, "name", "A challenge needs a name."),
        ("SPEED", {"name": "x" * 201}, "name", "keep it to 200"),
        ("SPEED", {"status": "asleep"}, "status", "“asleep” is not one of: active, retired"),
        (
            "SPEED",
            {"status": "retired"},
            "status",
            "SPEED still has active sub-challenges (SPEED-QUEUE, SPEED-HOLD)",
        ),
        ("SPEED", {"colour": "red"}, None, "Unknown challenge field: colour"),
    ],
)
def test_an_invalid_edit_is_refused_with_a_specific_message_and_writes_nothing(
    db, taxonomy, curator, code, data, field, message
):
    assert "SOP-TILL" in found("speed")
    with pytest.raises(RefusedChange, match=re.escape(message)) as error:
        services.update_challenge(get(db, code), {"name": "Quickness", **data}, curator)
    assert error.value.field == field
    assert get(db, code).name == "Speed and responsiveness"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SearchOutbox)) == 0
    assert not events(db, "challenge.update")
    assert not found("quickness")


def test_the_edit_form_shows_a_loop_error_and_keeps_the_input(db, taxonomy, client_as):
    response = client_as(Role.CX_LEAD).post(
        "/challenges/SPEED/edit",
        data={"name": "Quickness", "keywords": "fast", "parent": "HOLD-MUSIC", "status": "active"},
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "HOLD-MUSIC is below SPEED, which would make a loop" in page
    assert 'value="Quickness"' in page and "fast</textarea>" in page
    assert '<option selected value="HOLD-MUSIC">' in page
    assert get(db, "SPEED").name == "Speed and responsiveness"


def test_retiring_a_challenge_hides_it_from_search(db, taxonomy, curator):
    assert "HOLD-MUSIC" in found("dreadful", doc_type="challenge")
    services.update_challenge(taxonomy["music"], {"status": "retired"}, curator)
    assert "HOLD-MUSIC" not in found("dreadful", doc_type="challenge")
    assert "HOLD-MUSIC" in found("dreadful", doc_type="challenge", curator=True, status="retired")
    assert events(db, "challenge.update")[0].details["status"] == {
        "from": "active",
        "to": "retired",
    }
    with pytest.raises(
        RefusedChange, match="HOLD-MUSIC is retired: an active challenge under it would be hidden"
    ):
        services.update_challenge(taxonomy["queue"], {"parent": "HOLD-MUSIC"}, curator)
    services.update_challenge(get(db, "HOLD-MUSIC"), {"status": "active"}, curator)
    assert "HOLD-MUSIC" in found("dreadful", doc_type="challenge")


def test_saving_an_unchanged_challenge_writes_nothing(db, taxonomy, curator):
    data = {
        "name": "Long checkout queues",
        "keywords": "queue\nfile d'attente",
        "parent": "SPEED",
        "status": "active",
    }
    assert services.update_challenge(taxonomy["queue"], data, curator) == []
    assert not events(db, "challenge.update")


# --- Merge -------------------------------------------------------------------------------


@pytest.fixture
def merge_world(db, taxonomy):
    """Adoptions naming SPEED-QUEUE, signals on both QUEUE and GREET, a child under QUEUE."""
    units = unit_tree()
    wait = Metric(code="wait_minutes", kind=MetricKind.OPERATIONAL, higher_is_better=False)
    staff = Metric(code="staff_rating", kind=MetricKind.DRIVER)
    db.session.add_all([wait, staff])
    db.session.flush()
    queue, greet = taxonomy["queue"], taxonomy["greet"]
    db.session.add_all(
        [
            ChallengeSignal(
                challenge=queue, metric_id=wait.id, direction=SignalDirection.ABOVE, threshold=1.0
            ),
            ChallengeSignal(
                challenge=queue, metric_id=staff.id, direction=SignalDirection.BELOW, threshold=1.0
            ),
            ChallengeSignal(
                challenge=greet, metric_id=staff.id, direction=SignalDirection.BELOW, threshold=2.0
            ),
            Adoption(unit=units["S1"], solution=taxonomy["till"], challenge=queue),
            Adoption(unit=units["S2"], solution=taxonomy["both"], challenge=queue),
        ]
    )
    challenge("QUEUE-SELF", "Self-checkout jams", parent=queue)
    db.session.commit()
    return {"units": units, "wait": wait, "staff": staff}


def test_merging_challenges_moves_everything_and_search_follows(db, taxonomy, merge_world, curator):
    assert "SOP-TILL" not in found("greeted")
    assert "SPEED-QUEUE" in found("checkout queues", doc_type="challenge")
    plan = services.merge_challenges(taxonomy["queue"], taxonomy["greet"], curator)
    assert [s.code for s in plan.solutions_moved] == ["SOP-TILL"]
    assert [s.code for s in plan.solutions_shared] == ["SOP-BOTH"]
    assert plan.adoptions_moved == 2 and len(plan.signals_dropped) == 1

    queue, greet = get(db, "SPEED-QUEUE"), get(db, "STAFF-GREET")
    assert queue.status == ChallengeStatus.RETIRED and queue.merged_into_id == greet.id
    assert queue.solutions == []
    assert {s.code for s in greet.solutions} == {"SOP-TILL", "SOP-BOTH", "SOP-HELLO"}
    assert set(db.session.scalars(sa.select(Adoption.challenge_id))) == {greet.id}
    assert [child.code for child in greet.children] == ["QUEUE-SELF"]
    signals = db.session.execute(
        sa.select(
            ChallengeSignal.challenge_id, ChallengeSignal.metric_id, ChallengeSignal.threshold
        )
    ).all()
    assert sorted(signals) == sorted(
        [(greet.id, merge_world["wait"].id, 1.0), (greet.id, merge_world["staff"].id, 2.0)]
    )
    assert greet.keyword_list == ["hello", "Queue", "file d'attente"]
    (event,) = events(db, "challenge.merge")
    assert event.details["into"] == "STAFF-GREET"
    assert event.details["children_moved"] == ["QUEUE-SELF"]

    assert "SPEED-QUEUE" not in found("checkout queues", doc_type="challenge")
    assert "SPEED-QUEUE" in found(
        "checkout queues", doc_type="challenge", curator=True, status="retired"
    )
    assert "SOP-TILL" in found("greeted")  # it now addresses the target
    assert "SOP-TILL" in found("staff interaction")  # and sits in the target's category


def test_the_merge_page_previews_then_merges_and_the_old_page_points_to_the_target(
    db, taxonomy, merge_world, client_as
):
    client = client_as(Role.CX_LEAD)
    form = client.get("/challenges/SPEED-QUEUE/merge").get_data(as_text=True)
    assert 'value="STAFF-GREET"' in form
    assert 'value="QUEUE-SELF"' not in form and 'value="SPEED-QUEUE"' not in form
    preview = client.post("/challenges/SPEED-QUEUE/merge", data={"target": "STAFF-GREET"})
    assert preview.status_code == 200
    text = visible_text(preview.get_data(as_text=True))
    assert "1 solution (Open a till at three); 1 already addresses both;" in text
    assert "1 sub-challenge (Self-checkout jams)" in text
    assert "2 action-plan items that named this challenge" in text
    assert "1 signal (1 dropped: STAFF-GREET already watches the same metric)" in text
    assert "the keywords file d'attente" in text
    assert get(db, "SPEED-QUEUE").merged_into_id is None
    response = client.post(
        "/challenges/SPEED-QUEUE/merge", data={"target": "STAFF-GREET", "confirm": "Merge"}
    )
    assert response.status_code == 302 and response.location.endswith("/challenges/STAFF-GREET")
    assert get(db, "SPEED-QUEUE").merged_into_id == get(db, "STAFF-GREET").id
    old = visible_text(client.get("/challenges/SPEED-QUEUE").get_data(as_text=True))
    assert "It was merged into Customers not greeted" in old


@pytest.mark.parametrize(
    ("source", "target", "message"),
    [
        ("SPEED", "SPEED", "cannot be merged into itself"),
        ("SPEED", "HOLD-MUSIC", "HOLD-MUSIC is below SPEED: merge it the other way round"),
        ("SPEED-QUEUE", "OLD", "OLD is retired: merge into an active challenge"),
    ],
)
def test_a_merge_that_makes_no_sense_is_refused(db, taxonomy, curator, source, target, message):
    challenge("OLD", "Fax replies", status=ChallengeStatus.RETIRED)
    db.session.commit()
    assert "SOP-TILL" in found("checkout")
    with pytest.raises(RefusedChange, match=re.escape(message)):
        services.merge_challenges(get(db, source), get(db, target), curator)
    assert get(db, source).status == ChallengeStatus.ACTIVE
    assert not events(db, "challenge.merge")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SearchOutbox)) == 0
    assert "SOP-TILL" in found("checkout")


def test_the_merge_page_names_a_refused_target(db, taxonomy, client_as):
    client = client_as(Role.CX_LEAD)
    response = client.post("/challenges/SPEED/merge", data={"target": "HOLD-MUSIC"})
    assert response.status_code == 400
    assert "HOLD-MUSIC is below SPEED" in response.get_data(as_text=True)
    response = client.post("/challenges/SPEED/merge", data={"target": ""})
    assert response.status_code == 400
    assert "Choose the challenge that stays." in response.get_data(as_text=True)


def test_a_merged_challenge_cannot_be_merged_again_or_reactivated(db, taxonomy, curator):
    services.merge_challenges(taxonomy["music"], taxonomy["hold"], curator)
    with pytest.raises(RefusedChange, match="already merged into SPEED-HOLD"):
        services.merge_challenges(get(db, "HOLD-MUSIC"), get(db, "SPEED-QUEUE"), curator)
    with pytest.raises(RefusedChange, match="merged into SPEED-HOLD; it stays retired"):
        services.update_challenge(get(db, "HOLD-MUSIC"), {"status": "active"}, curator)


def test_challenges_merged_earlier_follow_the_source_to_the_target(db, taxonomy, curator):
    services.merge_challenges(taxonomy["music"], taxonomy["hold"], curator)
    services.merge_challenges(get(db, "SPEED-HOLD"), get(db, "SPEED-QUEUE"), curator)
    assert get(db, "HOLD-MUSIC").merged_into_id == get(db, "SPEED-QUEUE").id
    assert "SOP-CALLBACK" in found("checkout queues")


def test_a_failed_merge_half_way_writes_nothing(db, taxonomy, curator, monkeypatch):
    assert "SOP-TILL" not in found("greeted")

    def broken_audit(*args, **kwargs):
        raise RuntimeError("the audit table is gone")

    monkeypatch.setattr(services, "record", broken_audit)
    with pytest.raises(RuntimeError):
        services.merge_challenges(taxonomy["queue"], taxonomy["greet"], curator)
    queue = get(db, "SPEED-QUEUE")
    assert queue.status == ChallengeStatus.ACTIVE and queue.merged_into_id is None
    assert {s.code for s in queue.solutions} == {"SOP-TILL", "SOP-BOTH"}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SearchOutbox)) == 0
    assert "SOP-TILL" not in found("greeted")


# --- Who may curate ------------------------------------------------------------------------

CURATION_REQUESTS = [
    ("get", "/challenges/SPEED-QUEUE/edit"),
    ("post", "/challenges/SPEED-QUEUE/edit"),
    ("get", "/challenges/SPEED-QUEUE/merge"),
    ("post", "/challenges/SPEED-QUEUE/merge"),
]


@pytest.mark.parametrize(("method", "path"), CURATION_REQUESTS)
@pytest.mark.parametrize("role", [Role.STAFF, Role.MANAGER])
def test_staff_and_managers_may_not_curate_the_taxonomy(
    db, taxonomy, client_as, role, method, path
):
    data = {"name": "Sneaky", "status": "retired", "target": "STAFF-GREET", "confirm": "Merge"}
    response = getattr(client_as(role), method)(path, data=data if method == "post" else None)
    assert response.status_code == 403
    queue = get(db, "SPEED-QUEUE")
    assert queue.name == "Long checkout queues" and queue.status == ChallengeStatus.ACTIVE
    assert not db.session.scalars(sa.select(AuditEvent)).all()


@pytest.mark.parametrize(("method", "path"), CURATION_REQUESTS)
def test_anonymous_visitors_are_sent_to_sign_in(db, taxonomy, client, method, path):
    response = getattr(client, method)(path)
    assert response.status_code == 302 and "/login" in response.location


def test_admins_may_curate_the_taxonomy(db, taxonomy, client_as):
    client = client_as(Role.ADMIN)
    assert client.get("/challenges/SPEED-QUEUE/edit").status_code == 200
    assert client.get("/challenges/SPEED-QUEUE/merge").status_code == 200


def test_curator_actions_are_hidden_from_staff(db, taxonomy, client_as):
    page = client_as(Role.STAFF).get("/challenges/SPEED-QUEUE").get_data(as_text=True)
    assert "/challenges/SPEED-QUEUE/edit" not in page and 'id="curator-actions"' not in page
