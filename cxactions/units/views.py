"""Pages of the units feature: the organisation tree and one unit's scorecard and plan."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user

from cxactions.auth.models import Role
from cxactions.auth.permissions import can_view_unit, managed_unit_ids, require_role
from cxactions.units import services

bp = Blueprint("units", __name__)


@bp.get("/units")
@require_role(Role.STAFF)
def list_units():
    scope = managed_unit_ids(current_user)
    tree = services.unit_tree(scope)
    return render_template("units/units.html", tree=tree, scoped=scope is not None)


@bp.get("/units/<code>")
@require_role(Role.STAFF)
def show_unit(code: str):
    unit = services.get_unit(code)
    if unit is None:
        abort(404, description=f"There is no unit with the code “{code}”.")
    if not can_view_unit(current_user, unit):
        abort(403, description="This unit is outside the units you look after.")
    chain = services.ancestors(unit)
    return render_template(
        "units/unit.html",
        unit=unit,
        ancestors=chain,
        children=services.child_rows(unit),
        scorecard=services.unit_scorecard(unit, chain),
        adoptions=services.unit_adoptions(unit),
    )
