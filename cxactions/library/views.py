"""Pages of the library feature: the solution list and one solution."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_login import current_user

from cxactions.auth.models import Role
from cxactions.auth.permissions import can_view_solution, is_curator, require_role
from cxactions.library import services
from cxactions.vocabulary import SolutionKind, SolutionStatus

bp = Blueprint("library", __name__)


@bp.get("/solutions")
@require_role(Role.STAFF)
def list_solutions():
    filters = services.SolutionFilters.from_args(
        request.args, may_see_unapproved=is_curator(current_user)
    )
    page = services.list_solutions(filters, page=request.args.get("page", 1, type=int))
    return render_template(
        "library/solutions.html",
        page=page,
        filters=filters,
        kinds=list(SolutionKind),
        statuses=list(SolutionStatus),
        languages=services.available_languages(),
    )


@bp.get("/solutions/<code>")
@require_role(Role.STAFF)
def show_solution(code: str):
    solution = services.get_solution(code)
    # A solution the user may not see does not exist for them: 404, not 403, so that drafts
    # and rejected proposals do not leak through their codes.
    if solution is None or not can_view_solution(current_user, solution):
        abort(404, description=f"There is no solution with the code “{code}”.")
    return render_template("library/solution.html", solution=solution)
