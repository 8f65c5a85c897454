"""Pages of the impact feature: the leaderboard, one solution's impact, the methods and the
library's gaps. They read cached estimates; a stale cache is recomputed in the background."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from cxactions.auth.models import Role
from cxactions.auth.permissions import (
    can_view_solution,
    is_curator,
    managed_unit_ids,
    require_role,
)
from cxactions.foundations.csv_export import csv_text
from cxactions.foundations.extensions import db
from cxactions.foundations.vocabulary import SolutionKind
from cxactions.impact import presenters as pages
from cxactions.impact.background import current_freshness
from cxactions.impact.services import Freshness, ImpactSettings, latest_attempt
from cxactions.library.services import get_solution

bp = Blueprint("impact", __name__)


def _leaderboard() -> pages.Leaderboard:
    filters = pages.LeaderboardFilters.from_args(request.args)
    return pages.leaderboard(
        db.session,
        current_freshness(db.session),
        filters,
        include_unapproved=is_curator(current_user),
    )


@bp.get("/impact")
@require_role(Role.STAFF)
def show_leaderboard():
    board = _leaderboard()
    return render_template(
        "impact/leaderboard.html",
        board=board,
        kinds=list(SolutionKind),
        sorts=pages.SORTS,
        failed=_failed_attempt(board.freshness),
    )


@bp.get("/impact/flagged")
@require_role(Role.CX_LEAD)
def show_flagged():
    """Implemented solutions the evidence finds harmful or useless, and where they run."""
    return render_template(
        "impact/flagged.html",
        flagged=pages.flagged_adoptions(db.session),
        freshness=current_freshness(db.session),
        negligible=pages.NEGLIGIBLE_EFFECT,
    )


@bp.get("/impact.csv")
@require_role(Role.STAFF)
def export_leaderboard():
    board = _leaderboard()
    return Response(
        csv_text(pages.CSV_COLUMNS, pages.leaderboard_csv_rows(board)),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=impact-ranking.csv"},
    )


@bp.get("/impact/solutions/<code>")
@require_role(Role.STAFF)
def show_solution_impact(code: str):
    solution = get_solution(db.session, code)
    # As in the library: a solution the user may not see does not exist for them.
    if solution is None or not can_view_solution(current_user, solution):
        abort(404, description=_("There is no solution with the code “%(code)s”.", code=code))
    impact = pages.solution_impact(
        db.session, solution, current_freshness(db.session), managed_unit_ids(current_user)
    )
    return render_template("impact/solution.html", impact=impact)


@bp.get("/impact/methods")
@require_role(Role.STAFF)
def show_methods():
    fresh = current_freshness(db.session)
    settings = pages.method_settings(ImpactSettings.from_config(current_app.config), fresh.run)
    return render_template("impact/methods.html", freshness=fresh, settings=settings)


@bp.get("/impact/gaps")
@require_role(Role.STAFF)
def show_gaps():
    gaps = pages.library_gaps(db.session, current_freshness(db.session))
    return render_template("impact/gaps.html", gaps=gaps)


def _failed_attempt(fresh: Freshness):
    """The newest run when it failed after the estimates shown: curators should hear of it."""
    if not is_curator(current_user):
        return None
    attempt = latest_attempt(db.session)
    if attempt is None or attempt.status != "failed":
        return None
    return attempt
