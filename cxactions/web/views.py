"""The home page."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from cxactions.auth.models import Role
from cxactions.foundations.extensions import db
from cxactions.web import services

bp = Blueprint("web", __name__)


@bp.get("/")
def home():
    if not current_user.is_authenticated:
        return render_template("web/home.html", overview=None, my_units=[])
    my_units = current_user.units if current_user.role in (Role.STAFF, Role.MANAGER) else []
    return render_template(
        "web/home.html", overview=services.home_overview(db.session), my_units=my_units
    )


@bp.get("/healthz")
def health():
    return {"status": "ok"}
