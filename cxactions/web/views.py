"""The home page."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, render_template
from flask_login import current_user

from cxactions.auth.models import Role
from cxactions.auth.permissions import viewable_unit_ids
from cxactions.foundations.extensions import db
from cxactions.plans import services as plan_services
from cxactions.web import services

bp = Blueprint("web", __name__)


@bp.get("/")
def home():
    if not current_user.is_authenticated:
        return render_template("web/home.html", overview=None, my_units=[])
    my_units = current_user.units if current_user.role in (Role.STAFF, Role.MANAGER) else []
    # A manager's plans: what is overdue or due this week in the units they look after.
    plans = (
        plan_services.attention(db.session, viewable_unit_ids(current_user) or (), date.today())
        if current_user.role == Role.MANAGER
        else None
    )
    return render_template(
        "web/home.html",
        overview=services.home_overview(db.session),
        my_units=my_units,
        plans=plans,
    )


@bp.get("/healthz")
def health():
    return {"status": "ok"}
