"""The metrics page: everyone sees the targets; CX leads change labels, direction and targets."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from cxactions.audit.models import AuditEvent
from cxactions.auth.models import Role
from cxactions.foundations.vocabulary import MetricKind
from cxactions.surveys.models import Metric


@pytest.fixture
def metrics(db):
    db.session.add_all(
        [
            Metric(code="overall", kind=MetricKind.OUTCOME, target=8.0),
            Metric(code="wait_minutes", kind=MetricKind.OPERATIONAL),
        ]
    )
    db.session.commit()


def metric(db, code: str) -> Metric:
    db.session.expire_all()
    return db.session.scalar(sa.select(Metric).where(Metric.code == code))


def test_staff_see_the_targets_without_forms(metrics, client_as):
    page = client_as(Role.STAFF).get("/metrics").get_data(as_text=True)
    assert "Metrics and targets" in page and "wait_minutes" in page and "8.0" in page
    assert 'action="/metrics/' not in page


def test_a_lead_sets_a_target_label_and_direction(metrics, db, client_as):
    response = client_as(Role.CX_LEAD).post(
        "/metrics/wait_minutes",
        data={"wait_minutes-label": "Wait (minutes)", "wait_minutes-target": "5"},
    )
    assert response.status_code == 302
    saved = metric(db, "wait_minutes")
    assert (saved.label, saved.target, saved.higher_is_better) == ("Wait (minutes)", 5.0, False)
    event = db.session.scalar(sa.select(AuditEvent).order_by(AuditEvent.id.desc()))
    assert event.action == "metric.update" and event.details["after"]["target"] == 5.0


def test_an_empty_target_clears_it_and_a_bad_one_changes_nothing(metrics, db, client_as):
    client = client_as(Role.CX_LEAD)
    client.post("/metrics/overall", data={"overall-target": "abc", "overall-higher_is_better": "y"})
    assert metric(db, "overall").target == 8.0
    client.post("/metrics/overall", data={"overall-target": "", "overall-higher_is_better": "y"})
    assert metric(db, "overall").target is None


@pytest.mark.parametrize("role", [Role.STAFF, Role.MANAGER])
def test_only_curators_change_metrics(metrics, client_as, role):
    response = client_as(role).post("/metrics/overall", data={"overall-target": "9"})
    assert response.status_code == 403
