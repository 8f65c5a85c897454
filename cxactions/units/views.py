"""Pages of the units feature: the organisation tree and one unit's scorecard and plan."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, current_app, render_template
from flask_babel import gettext as _
from flask_login import current_user

from cxactions.auth.models import Role
from cxactions.auth.permissions import can_view_unit, require_role, viewable_unit_ids
from cxactions.foundations.extensions import db
from cxactions.impact import presenters as impact_pages
from cxactions.impact.background import current_freshness
from cxactions.impact.services import ImpactSettings
from cxactions.library.services import get_solution
from cxactions.priorities.services import unit_priorities
from cxactions.units import services

bp = Blueprint("units", __name__)


@bp.get("/units")
@require_role(Role.STAFF)
def list_units():
    scope = viewable_unit_ids(current_user)
    tree = services.unit_tree(db.session, scope)
    return render_template("units/units.html", tree=tree, scoped=scope is not None)


@bp.get("/company")
@require_role(Role.STAFF)
def show_company():
    """The company's scorecard: every unit rolled up."""
    return render_template("units/company.html", scorecard=services.company_scorecard(db.session))


@bp.get("/units/<code>")
@require_role(Role.STAFF)
def show_unit(code: str):
    unit = services.get_unit(db.session, code)
    if unit is None:
        abort(404, description=_("There is no unit with the code “%(code)s”.", code=code))
    if not can_view_unit(current_user, unit):
        abort(403, description=_("This unit is outside the units you look after."))
    chain = services.ancestors(unit)
    return render_template(
        "units/unit.html",
        unit=unit,
        ancestors=chain,
        children=services.child_rows(db.session, unit),
        scorecard=services.unit_scorecard(db.session, unit, chain),
        priorities=unit_priorities(db.session, unit),
        adoptions=services.unit_adoptions(db.session, unit),
        today=date.today(),
    )


@bp.get("/units/<code>/adoptions/<solution_code>")
@require_role(Role.STAFF)
def show_adoption(code: str, solution_code: str):
    """ "Did it work here?": one unit's scores against its expected ones around one adoption."""
    unit = services.get_unit(db.session, code)
    if unit is None:
        abort(404, description=_("There is no unit with the code “%(code)s”.", code=code))
    if not can_view_unit(current_user, unit):
        abort(403, description=_("This unit is outside the units you look after."))
    solution = get_solution(db.session, solution_code)
    adoption = impact_pages.unit_adoption(db.session, unit, solution) if solution else None
    if adoption is None:
        abort(
            404,
            description=_(
                "%(unit)s has no plan item for “%(solution)s”.",
                unit=unit.name,
                solution=solution_code,
            ),
        )
    story = impact_pages.adoption_story(
        db.session,
        adoption,
        current_freshness(db.session),
        ImpactSettings.from_config(current_app.config),
    )
    return render_template("units/adoption.html", story=story, ancestors=services.ancestors(unit))
