"""Pages of the library feature: the solution list, one solution, and the curators' changes."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from cxactions.auth.models import Role
from cxactions.auth.permissions import can_view_solution, is_curator, require_role
from cxactions.crowd import services as crowd
from cxactions.crowd.forms import ActionForm, CommentForm, ReasonForm, tried_form_for
from cxactions.foundations.changes import RefusedChange
from cxactions.foundations.extensions import db
from cxactions.foundations.paging import page_number
from cxactions.foundations.translation import N_
from cxactions.foundations.vocabulary import SolutionKind, SolutionStatus
from cxactions.impact import presenters as impact_pages
from cxactions.impact.background import current_freshness
from cxactions.library import services
from cxactions.library.forms import MergeSolutionForm, NewSolutionForm, SolutionForm, StatusForm
from cxactions.library.models import Solution
from cxactions.taxonomy.services import challenge_options

bp = Blueprint("library", __name__)

# What a status change did, said once it is done (translated when flashed).
STATUS_DONE = {
    SolutionStatus.APPROVED: N_("%(code)s is approved: it is in the library and in search."),
    SolutionStatus.REJECTED: N_("%(code)s is rejected."),
    SolutionStatus.RETIRED: N_(
        "%(code)s is retired: it no longer appears in the library or in search."
    ),
    SolutionStatus.PENDING: N_("%(code)s is sent back to the moderation queue."),
    SolutionStatus.DRAFT: N_("%(code)s is back to draft."),
}


@bp.get("/solutions")
@require_role(Role.STAFF)
def list_solutions():
    filters = services.SolutionFilters.from_args(
        request.args, may_see_unapproved=is_curator(current_user)
    )
    page = services.list_solutions(db.session, filters, page=page_number(request.args))
    return render_template(
        "library/solutions.html",
        page=page,
        filters=filters,
        kinds=list(SolutionKind),
        statuses=list(SolutionStatus),
        languages=services.available_languages(db.session),
    )


@bp.get("/solutions/<code>")
@require_role(Role.STAFF)
def show_solution(code: str):
    solution = services.get_solution(db.session, code)
    if (
        solution is not None
        and solution.merged_into_id is not None
        and not is_curator(current_user)
    ):
        # An old code keeps working: it leads to the solution it was merged into.
        survivor = services.resolve_merged(solution)
        if can_view_solution(current_user, survivor):
            flash(
                _(
                    "“%(title)s” (%(code)s) was merged into this solution.",
                    title=solution.title,
                    code=solution.code,
                ),
                "info",
            )
            return redirect(url_for("library.show_solution", code=survivor.code))
    # A solution the user may not see does not exist for them: 404, not 403, so that drafts
    # and rejected proposals do not leak through their codes.
    if solution is None or not can_view_solution(current_user, solution):
        abort(404, description=_("There is no solution with the code “%(code)s”.", code=code))
    return _render_solution(solution)


def _render_solution(solution: Solution, status_form: StatusForm | None = None, status=200):
    """The solution page: the solution, the crowd's votes, comments and "we tried it" reports
    beside its measured effect, and the curators' review form (kept as typed after an error)."""
    fresh = current_freshness(db.session)
    (evidence,) = impact_pages.order_by_evidence(db.session, fresh.run, [solution])
    return (
        render_template(
            "library/solution.html",
            solution=solution,
            status_form=status_form or StatusForm(formdata=None),
            next_statuses=services.allowed_statuses(solution),
            crowd=crowd.crowd_view(
                db.session, solution, current_user, page_number(request.args, "comments")
            ),
            evidence=evidence,
            freshness=fresh,
            action_form=ActionForm(formdata=None),
            comment_form=CommentForm(formdata=None),
            tried_form=tried_form_for(
                db.session, current_user, formdata=None, data={"tried_on": date.today()}
            ),
            report_form=ReasonForm(formdata=None),
        ),
        status,
    )


def _solution_or_404(code: str) -> Solution:
    solution = services.solution_by_code(db.session, code)
    if solution is None:
        abort(404, description=_("There is no solution with the code “%(code)s”.", code=code))
    return solution


@bp.route("/solutions/new", methods=["GET", "POST"])
@require_role(Role.CX_LEAD)
def create_solution():
    form = NewSolutionForm()
    form.set_choices(challenge_options(db.session))
    if form.validate_on_submit():
        try:
            solution = services.create_solution(
                db.session, form.content(), current_user._get_current_object()
            )
        except RefusedChange as error:
            form.show_error(error)
        else:
            flash(
                _(
                    "“%(title)s” was added as %(code)s.",
                    title=solution.title,
                    code=solution.code,
                ),
                "success",
            )
            return redirect(url_for("library.show_solution", code=solution.code))
    return (
        render_template("library/solution_form.html", form=form, solution=None),
        400 if request.method == "POST" else 200,
    )


@bp.route("/solutions/<code>/edit", methods=["GET", "POST"])
@require_role(Role.CX_LEAD)
def edit_solution(code: str):
    solution = _solution_or_404(code)
    mapped = [challenge.code for challenge in solution.challenges]
    form = SolutionForm(
        data={
            "title": solution.title,
            "kind": solution.kind.value,
            "language": solution.language,
            "summary": solution.summary,
            "body": solution.body,
            "steps": solution.steps,
            "effort": solution.effort.value if solution.effort else "",
            "cost": solution.cost.value if solution.cost else "",
            "owner": solution.owner,
            "challenges": mapped,
        }
    )
    form.set_choices(challenge_options(db.session), mapped=mapped)
    if form.validate_on_submit():
        try:
            changed = services.update_solution(
                solution, form.content(), current_user._get_current_object()
            )
        except RefusedChange as error:
            form.show_error(error)
        else:
            if changed:
                flash(_("Saved."), "success")
            else:
                flash(_("Nothing changed."), "info")
            return redirect(url_for("library.show_solution", code=solution.code))
    return (
        render_template("library/solution_form.html", form=form, solution=solution),
        400 if request.method == "POST" else 200,
    )


@bp.post("/solutions/<code>/status")
@require_role(Role.CX_LEAD)
def change_solution_status(code: str):
    solution = _solution_or_404(code)
    form = StatusForm()
    if form.validate_on_submit():
        try:
            crowd.review(
                solution, form.status.data, current_user._get_current_object(), form.note.data
            )
        except RefusedChange as error:
            form.show_error(error)
        else:
            flash(_(STATUS_DONE[solution.status], code=solution.code), "success")
            return redirect(url_for("library.show_solution", code=solution.code))
    return _render_solution(services.get_solution(db.session, code), form, 400)


@bp.route("/solutions/<code>/merge", methods=["GET", "POST"])
@require_role(Role.CX_LEAD)
def merge_solution(code: str):
    duplicate = _solution_or_404(code)
    form = MergeSolutionForm()
    if request.method == "GET" and request.args.get("survivor"):
        form.survivor.data = request.args["survivor"].strip()[:64]  # from the desk's duplicates
    plan = None
    if form.validate_on_submit():
        survivor_code = form.survivor.data.strip()
        survivor = services.solution_by_code(db.session, survivor_code)
        try:
            if survivor is None:
                raise RefusedChange(
                    _("There is no solution with the code “%(code)s”.", code=survivor_code),
                    "survivor",
                )
            plan = services.plan_solution_merge(duplicate, survivor)
            if form.confirm.data:
                crowd.merge(duplicate, survivor, current_user._get_current_object(), form.note.data)
                flash(
                    _(
                        "%(code)s was merged into %(into)s and retired.",
                        code=duplicate.code,
                        into=survivor.code,
                    ),
                    "success",
                )
                return redirect(url_for("library.show_solution", code=survivor.code))
        except RefusedChange as error:
            plan = None
            form.show_error(error)
    invalid = request.method == "POST" and plan is None
    return (
        render_template(
            "library/merge.html",
            form=form,
            duplicate=duplicate,
            plan=plan,
            candidates=services.merge_candidates(db.session, duplicate),
        ),
        400 if invalid else 200,
    )
