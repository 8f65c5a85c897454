"""The drivers page: what drives overall satisfaction, company-wide or in one region."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from cxactions.auth.models import Role
from cxactions.auth.permissions import require_role
from cxactions.drivers import services
from cxactions.foundations.extensions import db

bp = Blueprint("drivers", __name__)


@bp.get("/drivers")
@require_role(Role.STAFF)
def show_drivers():
    """What drives ``overall``: importance of each driver and input against its performance."""
    regions = services.region_options(db.session)
    region = request.args.get("region") or None
    if region not in {option.code for option in regions}:
        region = None
    try:
        report = services.driver_importance(db.session, region_code=region)
        problem = None
    except ValueError as error:
        report, problem = None, str(error)
    return render_template(
        "drivers/drivers.html",
        report=report,
        problem=problem,
        regions=regions,
        region=region,
        chart=services.importance_chart(report) if report is not None else None,
    )
