"""Pages of the taxonomy feature: the challenge tree and one challenge."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_login import current_user

from cxactions.analytics import pages as impact_pages
from cxactions.analytics.background import current_freshness
from cxactions.auth.models import Role
from cxactions.auth.permissions import can_see_retired, require_role
from cxactions.extensions import db
from cxactions.taxonomy import services

bp = Blueprint("taxonomy", __name__)


def _include_retired() -> bool:
    return request.args.get("show") == "retired" and can_see_retired(current_user)


@bp.get("/challenges")
@require_role(Role.STAFF)
def list_challenges():
    include_retired = _include_retired()
    tree = services.challenge_tree(include_retired=include_retired)
    return render_template("taxonomy/challenges.html", tree=tree, include_retired=include_retired)


@bp.get("/challenges/<code>")
@require_role(Role.STAFF)
def show_challenge(code: str):
    challenge = services.get_challenge(code)
    if challenge is None:
        abort(404, description=f"There is no challenge with the code “{code}”.")
    page = services.challenge_page(challenge, include_retired=_include_retired())
    fresh = current_freshness()
    evidence = impact_pages.order_by_evidence(db.session, fresh.run, page.solutions)
    return render_template("taxonomy/challenge.html", page=page, evidence=evidence, freshness=fresh)
