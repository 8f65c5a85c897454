"""Pages of the plans feature: find a solution for a unit and add it to the unit's action plan."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from cxactions.auth.models import Role
from cxactions.auth.permissions import can_edit_unit_plan, can_view_solution, require_role
from cxactions.foundations.changes import RefusedChange
from cxactions.foundations.extensions import db
from cxactions.foundations.paging import page_number
from cxactions.foundations.translation import locale
from cxactions.foundations.vocabulary import ChallengeStatus
from cxactions.library.services import get_solution
from cxactions.plans import services
from cxactions.plans.forms import AdoptSolutionForm
from cxactions.search.presenters import PER_PAGE, QUERY_MAX, ResultPages, categories, facet_labels
from cxactions.search.service import SearchOptions, SearchUnavailable, search
from cxactions.taxonomy.models import Challenge
from cxactions.taxonomy.services import get_challenge
from cxactions.units.models import Unit
from cxactions.units.services import ancestors, get_unit

bp = Blueprint("plans", __name__)


def _plan_unit(code: str) -> Unit:
    """The unit whose plan the user is changing: 404 when unknown, 403 when not theirs."""
    unit = get_unit(db.session, code)
    if unit is None:
        abort(404, description=_("There is no unit with the code “%(code)s”.", code=code))
    if not can_edit_unit_plan(current_user, unit):
        abort(403, description=_("Only this unit's managers and the CX leads change its plan."))
    return unit


def _active_challenge(code: str | None) -> Challenge | None:
    """The challenge the user is working on; unknown or retired codes are ignored."""
    challenge = get_challenge(db.session, code) if code else None
    return challenge if challenge and challenge.status == ChallengeStatus.ACTIVE else None


def _challenge_choices(challenges: list[Challenge]) -> list[tuple]:
    """The options of the challenge select: each name in the reader's language, marked with its
    own language when it is not the page's."""
    choices: list[tuple] = [("", _("No particular challenge"))]
    for item in challenges:
        if item.shown_name_lang == locale():
            choices.append((item.code, item.shown_name))
        else:
            choices.append((item.code, item.shown_name, {"lang": item.shown_name_lang}))
    return choices


@bp.get("/units/<code>/plan/find")
@require_role(Role.STAFF)
def find_solution(code: str):
    unit = _plan_unit(code)
    query = request.args.get("q", "").strip()[:QUERY_MAX]
    challenge = _active_challenge(request.args.get("challenge"))
    # A top-level challenge is a category: its solutions are those of everything below it.
    options = SearchOptions(
        doc_type="solution",
        category=challenge.code if challenge and challenge.parent_id is None else None,
        challenge=challenge.code if challenge and challenge.parent_id is not None else None,
        page=min(page_number(request.args), 1000),
        per_page=PER_PAGE,
    )
    labels = facet_labels(categories(db.session))
    context = {
        "unit": unit,
        "ancestors": ancestors(unit),
        "query": query,
        "challenge": challenge,
        "kind_labels": labels["kind"],
        "category_names": labels["category"],
        "today": date.today().isoformat(),
        # The search as link arguments, for pagination.
        "search_args": {
            name: value
            for name, value in {
                "code": unit.code,
                "q": query,
                "challenge": challenge.code if challenge else None,
            }.items()
            if value
        },
    }
    try:
        result = search(db.session, query, options, snippets=True)
    except SearchUnavailable as error:
        return render_template("plans/find.html", unavailable=str(error), **context), 503
    candidates = services.plan_candidates(db.session, unit, result.results, challenge)
    forms = {}
    for candidate in candidates:
        form = AdoptSolutionForm(
            formdata=None,
            id_suffix=candidate.solution.code,
            data={
                "solution": candidate.solution.code,
                "q": query,
                "challenge": challenge.code if challenge else "",
                "owner": current_user.name or "",
                "due_on": date.today() + services.FOCUS_WINDOW,
            },
        )
        form.challenge.choices = _challenge_choices(candidate.challenges)
        forms[candidate.solution.code] = form
    return render_template(
        "plans/find.html",
        result=result,
        pages=ResultPages.of(result),
        candidates=candidates,
        forms=forms,
        **context,
    )


@bp.post("/units/<code>/plan")
@require_role(Role.STAFF)
def adopt_solution(code: str):
    unit = _plan_unit(code)
    unit_page = url_for("units.show_unit", code=unit.code, _anchor="plan-heading")
    form = AdoptSolutionForm()
    solution_code = (form.solution.data or "").strip()
    solution = get_solution(db.session, solution_code) if solution_code else None
    if solution is None or not can_view_solution(current_user, solution):
        # A draft the user may not see is as absent as a code that does not exist.
        message = (
            _("There is no solution with the code “%(code)s”.", code=solution_code)
            if solution_code
            else _("Choose a solution to add to the plan.")
        )
        flash(message, "error")
        return redirect(unit_page)
    challenge = None
    if form.validate_on_submit():
        challenge_code = form.challenge.data or ""
        challenge = _active_challenge(challenge_code) if challenge_code else None
        if challenge_code and challenge is None:
            form.challenge.errors.append(_("Choose one of the listed challenges."))
        else:
            try:
                services.adopt_solution(
                    db.session,
                    unit,
                    solution,
                    challenge=challenge,
                    owner=form.owner.data,
                    due_on=form.due_on.data,
                    user=current_user,
                )
            except RefusedChange as error:
                if error.field is None or error.field not in form:
                    flash(error.message, "error")
                    return redirect(unit_page)
                form[error.field].errors.append(error.message)
            else:
                flash(
                    _(
                        "“%(solution)s” is in the action plan of %(unit)s.",
                        solution=solution.title,
                        unit=unit.name,
                    ),
                    "success",
                )
                return redirect(unit_page)
    # Invalid input: the same form again, with its messages and what the user typed.
    chosen = challenge or _active_challenge(form.challenge.data)
    form.challenge.choices = _challenge_choices(services.adoptable_challenges(solution, chosen))
    return (
        render_template(
            "plans/adopt.html",
            unit=unit,
            ancestors=ancestors(unit),
            solution=solution,
            form=form,
            today=date.today().isoformat(),
        ),
        400,
    )
