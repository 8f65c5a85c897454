"""Pages of the plan roll-ups: the company's (or a manager's units'), a unit's subtree, and the
CSV of every plan item in scope."""

from __future__ import annotations

from collections.abc import Sequence

from flask import (
    Blueprint,
    Response,
    abort,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import Session

from cxactions.auth.models import Role
from cxactions.auth.permissions import can_edit_unit_plan, managed_unit_ids, require_role
from cxactions.foundations.csv_export import csv_chunks
from cxactions.foundations.extensions import db
from cxactions.foundations.paging import page_number
from cxactions.plans import rollup
from cxactions.plans.models import DUE_SOON_DAYS
from cxactions.priorities import services as priority_services
from cxactions.units.models import Unit
from cxactions.units.services import ancestors, get_unit

bp = Blueprint("plans_rollup", __name__)

UNITS_PER_PAGE = 50
GAPS_PER_PAGE = 50
SOLUTIONS_PER_PAGE = 25


def _own_units() -> list[Unit] | None:
    """Whose plans the user rolls up: ``None`` (the company) for CX leads and admins; a
    manager's units, leaving out those below another of their units."""
    scope = managed_unit_ids(current_user)
    if scope is None:
        return None
    return [unit for unit in current_user.units if unit.parent_id not in scope]


def _rollup_unit(code: str) -> Unit:
    """The unit whose subtree is rolled up: 404 when unknown, 403 when not the user's."""
    unit = get_unit(db.session, code)
    if unit is None:
        abort(404, description=_("There is no unit with the code “%(code)s”.", code=code))
    if not can_edit_unit_plan(current_user, unit):
        abort(
            403,
            description=_(
                "Only this unit's managers and the CX leads see the roll-up of its plans."
            ),
        )
    return unit


# The page's lists, each paged on its own: their page parameters.
PAGE_PARAMS = ("units_page", "idle_page", "gaps_page", "solutions_page")


def _page_url(param: str, number: int, anchor: str) -> str:
    """This page with one list at page ``number``, the other lists where they are (only the
    page parameters are carried over: nothing else from the query string reaches ``url_for``)."""
    pages = {name: page_number(request.args, name) for name in PAGE_PARAMS}
    pages = {name: value for name, value in pages.items() if value > 1}
    pages[param] = number
    return url_for(request.endpoint, **(request.view_args or {}), **pages, _anchor=anchor)


def _render(summary: rollup.PlanRollup, unit: Unit | None, csv_url: str):
    args = request.args
    return render_template(
        "plans/rollup.html",
        rollup=summary,
        unit=unit,
        ancestors=ancestors(unit) if unit is not None else [],
        csv_url=csv_url,
        page_url=_page_url,
        due_soon_days=DUE_SOON_DAYS,
        challenge_weeks=priority_services.CHALLENGE_WEEKS,
        rows=rollup.ListPage.of(summary.rows, page_number(args, "units_page"), UNITS_PER_PAGE),
        idle=rollup.ListPage.of(summary.idle, page_number(args, "idle_page"), GAPS_PER_PAGE),
        unaddressed=rollup.ListPage.of(
            summary.unaddressed, page_number(args, "gaps_page"), GAPS_PER_PAGE
        ),
        unaddressed_counts=rollup.unaddressed_counts(summary),
        solutions=rollup.ListPage.of(
            summary.solutions, page_number(args, "solutions_page"), SOLUTIONS_PER_PAGE
        ),
    )


@bp.get("/plans")
@require_role(Role.MANAGER)
def show_plans():
    """The company's roll-up for CX leads and admins; a manager's own units' for a manager."""
    units = _own_units()
    if units is not None and len(units) == 1:
        return redirect(url_for(".show_unit_plans", code=units[0].code))
    roots = None if units is None else [unit.id for unit in units]
    summary = rollup.plan_rollup(
        db.session, roots, challenges=priority_services.active_challenges_by_unit
    )
    return _render(summary, None, url_for(".export_plans"))


@bp.get("/units/<code>/plans")
@require_role(Role.MANAGER)
def show_unit_plans(code: str):
    unit = _rollup_unit(code)
    summary = rollup.plan_rollup(
        db.session, [unit.id], challenges=priority_services.active_challenges_by_unit
    )
    return _render(summary, unit, url_for(".export_unit_plans", code=unit.code))


def _csv_response(roots: Sequence[int] | None, filename: str) -> Response:
    """Every plan item of the scope, streamed: the rows are read in batches by a session of the
    response's own, so the download neither sits in memory whole nor needs the request's
    context once the view has returned (a download stopped half-way just closes it)."""
    engine = db.engine

    def pieces():
        with Session(engine) as session:
            yield from csv_chunks(rollup.EXPORT_COLUMNS, rollup.export_rows(session, roots))

    return Response(
        pieces(),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={filename}"},
    )


@bp.get("/plans.csv")
@require_role(Role.MANAGER)
def export_plans():
    """Every plan item the user rolls up (the company; a manager's units) as CSV."""
    units = _own_units()
    roots = None if units is None else [unit.id for unit in units]
    return _csv_response(roots, "plan-items.csv")


@bp.get("/units/<code>/plans.csv")
@require_role(Role.MANAGER)
def export_unit_plans(code: str):
    unit = _rollup_unit(code)
    return _csv_response([unit.id], f"plan-items-{_file_safe(unit.code)}.csv")


def _file_safe(code: str) -> str:
    """A unit code as part of a file name in a header: letters, digits, ``-`` and ``_`` only."""
    return "".join(char if char.isascii() and (char.isalnum() or char in "-_") else "_"
                   for char in code)  # fmt: skip
