"""Pages of the audit trail: the events, filtered and paged, and the same events as CSV."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request
from sqlalchemy.orm import Session

from cxactions.audit import presenters, services
from cxactions.auth.models import Role
from cxactions.auth.permissions import require_role
from cxactions.foundations.csv_export import csv_chunks
from cxactions.foundations.extensions import db
from cxactions.foundations.paging import page_number

bp = Blueprint("audit", __name__)


def _render(asked: services.FilterRequest, page: services.EventPage | None):
    """The trail page; with errors in the filters, no events and HTTP 400."""
    return (
        render_template(
            "audit/events.html",
            asked=asked,
            filters=asked.filters,
            page=page,
            entity_types=services.entity_types(db.session),
            describe=presenters.event_lines,
            object_label=presenters.object_label,
            object_url=presenters.object_url,
        ),
        400 if asked.errors else 200,
    )


@bp.get("/audit")
@require_role(Role.CX_LEAD)
def list_events():
    """Who changed what and when, newest first, filtered by who, object and dates."""
    asked = services.read_filters(request.args)
    if asked.errors:
        return _render(asked, None)
    page = services.find_events(db.session, asked.filters, page_number(request.args))
    return _render(asked, page)


@bp.get("/audit.csv")
@require_role(Role.CX_LEAD)
def export_events():
    """Every event matching the filters as CSV, streamed: the rows are read in batches by a
    session of the response's own, as the plan roll-up's download does."""
    asked = services.read_filters(request.args)
    if asked.errors:
        return _render(asked, None)
    filters = asked.filters
    engine = db.engine

    def pieces():
        with Session(engine) as session:
            yield from csv_chunks(services.EXPORT_COLUMNS, services.export_rows(session, filters))

    return Response(
        pieces(),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=audit-trail.csv"},
    )
