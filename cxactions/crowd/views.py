"""Pages of the crowd feature: propose a solution, the proposals board, my submissions, votes,
follows, comments and "we tried it" reports, notifications, and the CX leads' moderation desk."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from cxactions.auth.models import Role
from cxactions.auth.permissions import (
    can_edit_proposal,
    can_view_solution,
    is_curator,
    require_role,
)
from cxactions.crowd import services
from cxactions.crowd.digest import set_email_notifications
from cxactions.crowd.forms import (
    ActionForm,
    CommentForm,
    ProposalForm,
    ReasonForm,
    proposal_content,
    tried_form_for,
)
from cxactions.crowd.models import Comment
from cxactions.foundations.changes import RefusedChange
from cxactions.foundations.extensions import db, paginate
from cxactions.foundations.paging import LARGEST_ID, page_number
from cxactions.foundations.vocabulary import SolutionStatus
from cxactions.language.tagging import guess_language
from cxactions.library import services as library
from cxactions.library.models import Solution
from cxactions.taxonomy.services import challenge_options

bp = Blueprint("crowd", __name__)

PER_PAGE = 20
DESK_PER_PAGE = 10  # each proposal on the desk searches for its likely duplicates


@bp.app_context_processor
def crowd_counts() -> dict:
    """The header's counts: unread notifications, and what awaits a CX lead's decision."""

    def unread() -> int:
        if not current_user.is_authenticated:
            return 0
        return services.unread_count(db.session, current_user)

    def awaiting() -> int:
        if not is_curator(current_user):
            return 0
        pending, reported = services.desk_counts(db.session)
        return pending + reported

    def crowd_credits(solution_ids) -> dict:
        if not current_user.is_authenticated:
            return {}
        return services.credits(db.session, current_user, solution_ids)

    return {
        "unread_notifications": unread,
        "awaiting_decision": awaiting,
        "crowd_credits": crowd_credits,
    }


def _paginate(query, page: int, per_page: int):
    return paginate(db.session, query, page, per_page)


def _me():
    return current_user._get_current_object()


def _solution_or_404(code: str) -> Solution:
    solution = library.get_solution(db.session, code)
    if solution is None or not can_view_solution(current_user, solution):
        abort(404, description=_("There is no solution with the code “%(code)s”.", code=code))
    return solution


def _back_to(solution: Solution, anchor: str = ""):
    return redirect(url_for("library.show_solution", code=solution.code) + anchor)


# --- Propose ---------------------------------------------------------------------------------


def _proposal_form(start: dict | None = None) -> ProposalForm:
    """The proposal form: on GET filled with ``start``, on POST with what was sent."""
    form = ProposalForm(data=start) if request.method == "GET" else ProposalForm()
    form.set_choices(challenge_options(db.session))
    return form


def _new_proposal_start(improves: Solution | None) -> dict | None:
    """What a new proposal starts from: the solution it improves, or the challenge it came from."""
    if improves is not None:
        return {**proposal_content(improves), "anonymous": False}
    chosen = request.args.get("challenge")
    return {"challenges": [chosen]} if chosen else None


def _language_of(form: ProposalForm) -> None:
    """Guess the language from the words when the author left it unset."""
    if not (form.language.data or "").strip():
        text = " ".join(filter(None, [form.title.data, form.summary.data, form.body.data]))
        form.language.data = guess_language(text) or "en"


@bp.route("/proposals/new", methods=["GET", "POST"])
@require_role(Role.STAFF)
def propose():
    improves = None
    code = request.args.get("improves")
    if code:
        improves = library.get_solution(db.session, code)
        if improves is None or improves.status != SolutionStatus.APPROVED:
            abort(404, description=_("There is no solution with the code “%(code)s”.", code=code))
    form = _proposal_form(_new_proposal_start(improves))
    similar: list[Solution] = []
    status = 200
    if request.method == "POST":
        _language_of(form)
        words = form.draft_words()
        exclude = [improves.id] if improves else []
        similar = services.similar_solutions(db.session, words, exclude=exclude)
        first_look = form.checked.data != words
        form.checked.data = words
        if form.check.data:
            pass  # "look for similar solutions": shown below, nothing checked or written
        elif not form.validate_on_submit():
            status = 400  # the messages, beside any similar solutions
        elif first_look and similar:
            # Look before sending: the similar solutions are shown, nothing is written yet.
            if form.send.data:
                flash(
                    _("Look at these similar solutions first: if one fits, vote for it or "
                      "propose an improvement; otherwise send your proposal again."),
                    "info",
                )  # fmt: skip
        else:
            try:
                solution = services.submit_proposal(
                    db.session,
                    form.content(),
                    _me(),
                    anonymous=form.anonymous.data,
                    improves=improves,
                )
            except RefusedChange as error:
                form.show_error(error)
                status = 400
            else:
                flash(
                    _("Thank you: “%(title)s” waits for a CX lead's review. You will be "
                      "notified of the decision.", title=solution.title),
                    "success",
                )  # fmt: skip
                return redirect(url_for("library.show_solution", code=solution.code))
    return (
        render_template(
            "crowd/propose.html", form=form, similar=similar, improves=improves, editing=None
        ),
        status,
    )


@bp.route("/proposals/<code>/edit", methods=["GET", "POST"])
@require_role(Role.STAFF)
def edit_proposal(code: str):
    solution = _solution_or_404(code)
    if not can_edit_proposal(current_user, solution):
        abort(403)
    form = _proposal_form(proposal_content(solution))
    status = 200
    if request.method == "POST":
        _language_of(form)
        if form.validate_on_submit():
            try:
                changed = services.edit_proposal(
                    solution, form.content(), _me(), anonymous=form.anonymous.data
                )
            except RefusedChange as error:
                form.show_error(error)
                status = 400
            else:
                flash(_("Saved.") if changed else _("Nothing changed."), "success")
                return _back_to(solution)
        else:
            status = 400
    return (
        render_template(
            "crowd/propose.html",
            form=form,
            similar=[],
            improves=solution.improves,
            editing=solution,
        ),
        status,
    )


# --- The board and my submissions ------------------------------------------------------------


@bp.get("/proposals")
@require_role(Role.STAFF)
def list_proposals():
    sort = "newest" if request.args.get("sort") == "newest" else "votes"
    pages = _paginate(services.proposals_query(sort), page_number(request.args), PER_PAGE)
    ids = [solution.id for solution in pages.items]
    return render_template(
        "crowd/proposals.html",
        pages=pages,
        sort=sort,
        votes=services.vote_counts(db.session, ids),
        attributions={
            solution.id: services.attribution(current_user, solution) for solution in pages.items
        },
    )


@bp.get("/proposals/mine")
@require_role(Role.STAFF)
def my_submissions():
    pages = _paginate(
        services.my_submissions_query(current_user), page_number(request.args), PER_PAGE
    )
    ids = [solution.id for solution in pages.items]
    return render_template(
        "crowd/mine.html",
        pages=pages,
        votes=services.vote_counts(db.session, ids),
        reuse=services.reuse_counts(db.session, ids),
        label=services.submission_label,
    )


# --- Votes, follows, comments, "we tried it" -------------------------------------------------


def _checked(form=None):
    """The posted form (just its CSRF token by default), or 400 when it expired or is invalid."""
    form = form if form is not None else ActionForm()
    if not form.validate_on_submit():
        abort(400, description=_("The form expired: reload the page and try again."))
    return form


@bp.post("/solutions/<code>/vote")
@require_role(Role.STAFF)
def vote(code: str):
    solution = _solution_or_404(code)
    _checked()
    on = request.form.get("vote") != "off"
    try:
        services.set_vote(solution, _me(), on)
    except RefusedChange as error:
        flash(error.message, "error")
    else:
        flash(_("Your vote is counted.") if on else _("Your vote is withdrawn."), "success")
    return _back_to(solution, "#crowd")


@bp.post("/solutions/<code>/follow")
@require_role(Role.STAFF)
def follow(code: str):
    solution = _solution_or_404(code)
    _checked()
    on = request.form.get("follow") != "off"
    services.set_follow(solution, _me(), on)
    flash(
        _("You follow this solution: comments and measurements will reach you.")
        if on
        else _("You no longer follow this solution."),
        "success",
    )
    return _back_to(solution, "#crowd")


@bp.post("/solutions/<code>/comments")
@require_role(Role.STAFF)
def add_comment(code: str):
    solution = _solution_or_404(code)
    form = CommentForm()
    if form.validate_on_submit():
        try:
            comment = services.add_comment(solution, _me(), form.body.data)
        except RefusedChange as error:
            form.show_error(error)
        else:
            flash(_("Your comment is posted."), "success")
            return _back_to(solution, f"#comment-{comment.id}")
    return render_template("crowd/retry.html", solution=solution, form=form, kind="comment"), 400


@bp.post("/solutions/<code>/tried")
@require_role(Role.STAFF)
def add_tried(code: str):
    solution = _solution_or_404(code)
    form = tried_form_for(db.session, current_user)
    if form.validate_on_submit():
        try:
            report = services.add_tried_report(
                solution,
                _me(),
                outcome=form.outcome.data,
                unit_code=form.unit.data,
                tried_on=form.tried_on.data,
                body=form.body.data,
            )
        except RefusedChange as error:
            form.show_error(error)
        else:
            flash(_("Thank you: what you tried is shared beside the measured effect."), "success")
            return _back_to(solution, f"#comment-{report.id}")
    return render_template("crowd/retry.html", solution=solution, form=form, kind="tried"), 400


def _comment_or_404(comment_id: int) -> Comment:
    if not 0 < comment_id <= LARGEST_ID:
        abort(404, description=_("There is no such comment."))
    comment = db.session.scalar(
        select(Comment)
        .where(Comment.id == comment_id)
        .options(selectinload(Comment.solution), selectinload(Comment.user))
    )
    if comment is None or not can_view_solution(current_user, comment.solution):
        abort(404, description=_("There is no such comment."))
    return comment


@bp.route("/comments/<int:comment_id>/edit", methods=["GET", "POST"])
@require_role(Role.STAFF)
def edit_comment(comment_id: int):
    comment = _comment_or_404(comment_id)
    if not services.can_change_comment(current_user, comment):
        abort(403)
    form = CommentForm(data={"body": comment.body} if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            changed = services.edit_comment(comment, _me(), form.body.data)
        except RefusedChange as error:
            form.show_error(error)
        else:
            flash(_("Saved.") if changed else _("Nothing changed."), "success")
            return _back_to(comment.solution, f"#comment-{comment.id}")
    return (
        render_template("crowd/edit_comment.html", form=form, comment=comment),
        400 if request.method == "POST" else 200,
    )


@bp.post("/comments/<int:comment_id>/delete")
@require_role(Role.STAFF)
def delete_comment(comment_id: int):
    comment = _comment_or_404(comment_id)
    if not services.can_change_comment(current_user, comment):
        abort(403)
    _checked()
    services.delete_comment(comment, _me())
    flash(_("Your comment is deleted."), "success")
    return _back_to(comment.solution, "#comments")


@bp.post("/comments/<int:comment_id>/report")
@require_role(Role.STAFF)
def report_comment(comment_id: int):
    comment = _comment_or_404(comment_id)
    form = _checked(ReasonForm())
    try:
        services.report_comment(comment, _me(), form.reason.data)
    except RefusedChange as error:
        flash(error.message, "error")
    else:
        flash(_("Thank you: a CX lead will look at this comment."), "success")
    return _back_to(comment.solution, f"#comment-{comment.id}")


# --- Notifications ---------------------------------------------------------------------------


@bp.get("/notifications")
@require_role(Role.STAFF)
def list_notifications():
    unread_only = request.args.get("show") == "unread"
    pages = _paginate(
        services.notifications_query(current_user, unread_only=unread_only),
        page_number(request.args),
        PER_PAGE,
    )
    return render_template(
        "crowd/notifications.html",
        pages=pages,
        unread_only=unread_only,
        form=ActionForm(),
    )


@bp.post("/notifications/read")
@require_role(Role.STAFF)
def read_notifications():
    _checked()
    ids = request.form.getlist("id")
    wanted = None if request.form.get("all") else [value for value in ids if value.isdigit()]
    changed = services.mark_read(db.session, _me(), wanted)
    if changed:
        flash(_("Marked as read."), "success")
    target = request.form.get("next")
    if target and target.startswith("/") and not target.startswith("//"):
        return redirect(target)
    return redirect(url_for("crowd.list_notifications"))


@bp.post("/notifications/email")
@require_role(Role.STAFF)
def email_notifications():
    _checked()
    on = request.form.get("email") == "on"
    set_email_notifications(db.session, _me(), on)
    flash(
        _("Your new notifications will also come by e-mail, with the daily digest.")
        if on
        else _("Your notifications stay in the app: no more e-mails."),
        "success",
    )
    return redirect(url_for("crowd.list_notifications"))


# --- The moderation desk ---------------------------------------------------------------------


@bp.get("/desk")
@require_role(Role.CX_LEAD)
def show_desk():
    pages = _paginate(services.desk_submissions_query(), page_number(request.args), DESK_PER_PAGE)
    ids = [solution.id for solution in pages.items]
    duplicates = {
        solution.id: services.similar_solutions(
            db.session,
            " ".join(filter(None, [solution.title, solution.summary])),
            exclude=[solution.id],
            limit=3,
        )
        for solution in pages.items
    }
    reports = _paginate(services.desk_reports_query(), page_number(request.args, "rpage"), PER_PAGE)
    return render_template(
        "crowd/desk.html",
        pages=pages,
        duplicates=duplicates,
        votes=services.vote_counts(db.session, ids),
        reports=reports,
        report_lists=services.open_reports(db.session, [c.id for c in reports.items]),
        form=ReasonForm(formdata=None),
    )


def _pending_or_404(code: str) -> Solution:
    solution = library.get_solution(db.session, code)
    if solution is None:
        abort(404, description=_("There is no solution with the code “%(code)s”.", code=code))
    return solution


@bp.post("/desk/<code>/approve")
@require_role(Role.CX_LEAD)
def approve(code: str):
    solution = _pending_or_404(code)
    form = _checked(ReasonForm())
    try:
        result = services.review(solution, SolutionStatus.APPROVED, _me(), form.reason.data)
    except RefusedChange as error:
        flash(error.message, "error")
        return redirect(url_for("crowd.show_desk"))
    if result.id != solution.id:
        flash(
            _("The improvement is applied to %(code)s.", code=result.code),
            "success",
        )
    else:
        flash(
            _("%(code)s is approved: it is in the library and in search.", code=solution.code),
            "success",
        )
    return redirect(url_for("crowd.show_desk"))


@bp.post("/desk/<code>/reject")
@require_role(Role.CX_LEAD)
def reject(code: str):
    solution = _pending_or_404(code)
    form = _checked(ReasonForm())
    try:
        services.review(solution, SolutionStatus.REJECTED, _me(), form.reason.data)
    except RefusedChange as error:
        flash(error.message, "error")
    else:
        flash(
            _("%(code)s is rejected; its author reads your reason.", code=solution.code), "success"
        )
    return redirect(url_for("crowd.show_desk"))


@bp.route("/desk/<code>/review", methods=["GET", "POST"])
@require_role(Role.CX_LEAD)
def edit_and_approve(code: str):
    """Edit a proposal, then approve it in the same step."""
    solution = _pending_or_404(code)
    form = _proposal_form(proposal_content(solution))
    if form.validate_on_submit():
        try:
            result = services.review(
                solution, SolutionStatus.APPROVED, _me(), None, edits=form.content()
            )
        except RefusedChange as error:
            form.show_error(error)
        else:
            flash(
                _("%(code)s is approved: it is in the library and in search.", code=result.code),
                "success",
            )
            return redirect(url_for("crowd.show_desk"))
    return (
        render_template("crowd/review.html", form=form, solution=solution),
        400 if request.method == "POST" else 200,
    )


@bp.post("/comments/<int:comment_id>/moderate")
@require_role(Role.CX_LEAD)
def moderate_comment(comment_id: int):
    comment = _comment_or_404(comment_id)
    form = _checked(ReasonForm())
    action = request.form.get("action")
    try:
        if action == "hide":
            services.moderate_comment(comment, _me(), hide=True, reason=form.reason.data)
            flash(_("The comment is hidden."), "success")
        elif action == "restore":
            services.moderate_comment(comment, _me(), hide=False)
            flash(_("The comment is shown again."), "success")
        elif action == "keep":
            services.keep_comment(comment, _me())
            flash(_("The comment stays; its reports are closed."), "success")
        else:
            abort(400, description=_("Choose hide, restore or keep."))
    except RefusedChange as error:
        flash(error.message, "error")
    target = request.form.get("next")
    if target and target.startswith("/") and not target.startswith("//"):
        return redirect(target)
    return redirect(url_for("crowd.show_desk"))
