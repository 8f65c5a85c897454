"""CX leads link challenges to signals in the browser; the priorities use them."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from cxactions.audit.models import AuditEvent
from cxactions.auth.models import Role
from cxactions.foundations.vocabulary import MetricKind
from cxactions.surveys.models import Metric
from cxactions.taxonomy.models import ChallengeSignal
from tests.factories import challenge


@pytest.fixture
def queue(db):
    item = challenge("SPEED-QUEUE", "Long checkout queues")
    db.session.add_all(
        [
            Metric(code="overall", kind=MetricKind.OUTCOME),
            Metric(code="wait_minutes", label="Wait (minutes)", kind=MetricKind.OPERATIONAL),
            Metric(code="staff_rating", kind=MetricKind.DRIVER),
        ]
    )
    db.session.commit()
    return item


def signals(db) -> list[tuple]:
    return [
        (row.metric.code, row.direction.value, row.threshold_kind.value, row.threshold)
        for row in db.session.scalars(sa.select(ChallengeSignal).order_by(ChallengeSignal.id))
    ]


def test_a_lead_adds_then_updates_a_signal(queue, db, client_as):
    client = client_as(Role.CX_LEAD)
    page = client.get("/challenges/SPEED-QUEUE/signals").get_data(as_text=True)
    assert "No signal yet" in page and "Wait (minutes)" in page
    assert "overall" not in page.split("<select", 1)[1].split("</select>")[0]  # not the outcome
    form = {"metric": "wait_minutes", "direction": "above", "threshold_kind": "absolute"}
    response = client.post("/challenges/SPEED-QUEUE/signals", data={**form, "threshold": "8"})
    assert response.status_code == 302
    client.post(
        "/challenges/SPEED-QUEUE/signals", data={**form, "threshold": "9,5".replace(",", ".")}
    )
    assert signals(db) == [("wait_minutes", "above", "absolute", 9.5)]  # updated, not doubled
    page = client.get("/challenges/SPEED-QUEUE/signals").get_data(as_text=True)
    assert "above 9.5" in page
    actions = db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["signal.add", "signal.update"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"threshold_kind": "peer_sd", "threshold": "0"}, "must be greater than 0"),
        ({"threshold_kind": "peer_percentile", "threshold": "100"}, "between 0 and 100"),
        ({"threshold_kind": "peer_sd", "threshold": ""}, "Give a number"),
    ],
)
def test_a_threshold_that_makes_no_sense_is_refused_and_nothing_is_written(
    queue, db, client_as, data, message
):
    response = client_as(Role.CX_LEAD).post(
        "/challenges/SPEED-QUEUE/signals",
        data={"metric": "staff_rating", "direction": "below", **data},
    )
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert signals(db) == []


def test_a_lead_removes_a_signal(queue, db, client_as):
    client = client_as(Role.CX_LEAD)
    data = {"metric": "staff_rating", "direction": "below", "threshold_kind": "peer_sd"}
    client.post("/challenges/SPEED-QUEUE/signals", data={**data, "threshold": "1"})
    (signal_id,) = db.session.scalars(sa.select(ChallengeSignal.id)).all()
    response = client.post(f"/challenges/SPEED-QUEUE/signals/{signal_id}/delete")
    assert response.status_code == 302 and signals(db) == []


@pytest.mark.parametrize("role", [Role.STAFF, Role.MANAGER])
def test_only_curators_edit_signals(queue, client_as, role):
    client = client_as(role)
    assert client.get("/challenges/SPEED-QUEUE/signals").status_code == 403
    data = {"metric": "staff_rating", "direction": "below", "threshold_kind": "peer_sd"}
    assert (
        client.post("/challenges/SPEED-QUEUE/signals", data={**data, "threshold": "1"}).status_code
        == 403
    )
