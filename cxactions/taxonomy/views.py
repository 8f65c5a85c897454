"""Pages of the taxonomy feature: the challenge tree, one challenge, and the curators' changes."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from cxactions.auth.models import Role
from cxactions.auth.permissions import can_see_retired, require_role
from cxactions.foundations.changes import RefusedChange
from cxactions.foundations.extensions import db
from cxactions.foundations.scales import format_short
from cxactions.foundations.translation import NO_VALUE
from cxactions.foundations.vocabulary import ChallengeStatus
from cxactions.impact import presenters as impact_pages
from cxactions.impact.background import current_freshness
from cxactions.taxonomy import services
from cxactions.taxonomy.forms import (
    ChallengeForm,
    DeleteForm,
    MapSolutionsForm,
    MergeChallengeForm,
    NewChallengeForm,
    SignalForm,
)

bp = Blueprint("taxonomy", __name__)


def _include_retired() -> bool:
    return request.args.get("show") == "retired" and can_see_retired(current_user)


@bp.get("/challenges")
@require_role(Role.STAFF)
def list_challenges():
    include_retired = _include_retired()
    tree = services.challenge_tree(db.session, include_retired=include_retired)
    return render_template("taxonomy/challenges.html", tree=tree, include_retired=include_retired)


@bp.route("/challenges/new", methods=["GET", "POST"])
@require_role(Role.CX_LEAD)
def create_challenge():
    """A new challenge under ``?parent=CODE`` (preselected), or a new top-level category."""
    wanted_parent = (request.args.get("parent") or "").strip()
    parent = services.get_challenge(db.session, wanted_parent) if wanted_parent else None
    form = NewChallengeForm(
        data={"parent": parent.code if parent and parent.status == ChallengeStatus.ACTIVE else ""}
    )
    # Only active challenges may take a new one under them (the service says why).
    form.set_choices(option for option in services.challenge_options(db.session) if option[2])
    if form.validate_on_submit():
        try:
            challenge = services.create_challenge(
                db.session, form.content(), current_user._get_current_object()
            )
        except RefusedChange as error:
            form.show_error(error)
        else:
            flash(
                _("“%(title)s” was added as %(code)s.", title=challenge.name, code=challenge.code),
                "success",
            )
            return redirect(url_for("taxonomy.show_challenge", code=challenge.code))
    return (
        render_template("taxonomy/challenge_form.html", form=form, challenge=None),
        400 if request.method == "POST" else 200,
    )


@bp.get("/challenges/<code>")
@require_role(Role.STAFF)
def show_challenge(code: str):
    challenge = services.get_challenge(db.session, code)
    if challenge is None:
        abort(404, description=_("There is no challenge with the code “%(code)s”.", code=code))
    page = services.challenge_page(db.session, challenge, include_retired=_include_retired())
    fresh = current_freshness(db.session)
    evidence = impact_pages.order_by_evidence(db.session, fresh.run, page.solutions)
    return render_template("taxonomy/challenge.html", page=page, evidence=evidence, freshness=fresh)


def _challenge_or_404(code: str):
    challenge = services.get_challenge(db.session, code)
    if challenge is None:
        abort(404, description=_("There is no challenge with the code “%(code)s”.", code=code))
    return challenge


@bp.route("/challenges/<code>/signals", methods=["GET", "POST"])
@require_role(Role.CX_LEAD)
def edit_signals(code: str):
    """The metrics whose value at a unit reveals this challenge: list, add or update."""
    challenge = _challenge_or_404(code)
    form = SignalForm()
    metrics = services.signal_metrics(db.session)
    form.metric.choices = [
        SelectChoice(metric.code, metric.label or metric.code) for metric in metrics
    ]
    if form.validate_on_submit():
        try:
            services.add_signal(
                db.session,
                challenge,
                form.metric.data,
                form.direction.data,
                form.threshold_kind.data,
                form.threshold.data,
                user=current_user,
            )
        except RefusedChange as error:
            form.show_error(error)
        else:
            flash(_("Signal saved."), "success")
            return redirect(url_for("taxonomy.edit_signals", code=challenge.code))
    return (
        render_template(
            "taxonomy/signals.html",
            challenge=challenge,
            form=form,
            has_metrics=bool(metrics),
            short_number=format_short,  # thresholds as they were typed: 1.5 (1,5 in French)
        ),
        400 if request.method == "POST" else 200,
    )


@bp.post("/challenges/<code>/signals/<int:signal_id>/delete")
@require_role(Role.CX_LEAD)
def delete_signal(code: str, signal_id: int):
    challenge = _challenge_or_404(code)
    if not DeleteForm().validate_on_submit():
        abort(400, description=_("The form expired: reload the page and try again."))
    try:
        services.remove_signal(db.session, challenge, signal_id, user=current_user)
    except RefusedChange as error:
        flash(error.message, "error")
    else:
        flash(_("Signal removed."), "success")
    return redirect(url_for("taxonomy.edit_signals", code=challenge.code))


@bp.route("/challenges/<code>/edit", methods=["GET", "POST"])
@require_role(Role.CX_LEAD)
def edit_challenge(code: str):
    challenge = _challenge_or_404(code)
    form = ChallengeForm(
        data={
            "name": challenge.name,
            "description": challenge.description,
            "name_fr": challenge.name_fr,
            "description_fr": challenge.description_fr,
            "keywords": challenge.keywords,
            "parent": challenge.parent.code if challenge.parent else "",
            "status": challenge.status.value,
        }
    )
    # A challenge cannot go under itself or anything below it.
    form.set_choices(services.challenge_options(db.session, exclude={challenge.id}))
    if form.validate_on_submit():
        try:
            changed = services.update_challenge(
                challenge, form.content(), current_user._get_current_object()
            )
        except RefusedChange as error:
            form.show_error(error)
        else:
            if changed:
                flash(_("Saved."), "success")
            else:
                flash(_("Nothing changed."), "info")
            return redirect(url_for("taxonomy.show_challenge", code=challenge.code))
    return (
        render_template("taxonomy/challenge_form.html", form=form, challenge=challenge),
        400 if request.method == "POST" else 200,
    )


@bp.route("/challenges/<code>/solutions", methods=["GET", "POST"])
@require_role(Role.CX_LEAD)
def map_solutions(code: str):
    """The solutions mapped to a challenge: unmap some, map approved ones, in one save."""
    challenge = _challenge_or_404(code)
    form = MapSolutionsForm()
    mapped = list(challenge.solutions)
    form.remove.choices = [SelectChoice(solution.code, solution.title) for solution in mapped]
    if form.validate_on_submit():
        try:
            added, removed = services.map_solutions(
                challenge,
                form.added_codes(),
                form.remove.data or (),
                current_user._get_current_object(),
            )
        except RefusedChange as error:
            form.show_error(error)
        else:
            if added or removed:
                flash(
                    _(
                        "Mapping saved. Added: %(added)s. Removed: %(removed)s.",
                        added=", ".join(added) or NO_VALUE,
                        removed=", ".join(removed) or NO_VALUE,
                    ),
                    "success",
                )
            else:
                flash(_("Nothing changed."), "info")
            return redirect(url_for("taxonomy.map_solutions", code=challenge.code))
    return (
        render_template(
            "taxonomy/map_solutions.html",
            form=form,
            challenge=challenge,
            mapped={solution.code: solution for solution in mapped},
            suggestions=(
                services.mappable_solutions(db.session, challenge)
                if challenge.status == ChallengeStatus.ACTIVE
                else []
            ),
            suggestions_max=services.SUGGESTIONS_MAX,
        ),
        400 if request.method == "POST" else 200,
    )


@bp.route("/challenges/<code>/merge", methods=["GET", "POST"])
@require_role(Role.CX_LEAD)
def merge_challenge(code: str):
    source = _challenge_or_404(code)
    form = MergeChallengeForm()
    form.set_choices(services.challenge_options(db.session, exclude={source.id}))
    plan = None
    if form.validate_on_submit():
        target = services.get_challenge(db.session, form.target.data)
        try:
            if target is None:
                raise RefusedChange(
                    _("There is no challenge with the code “%(code)s”.", code=form.target.data),
                    "target",
                )
            plan = services.plan_challenge_merge(source, target)
            if form.confirm.data:
                services.merge_challenges(source, target, current_user._get_current_object())
                flash(
                    _(
                        "%(code)s was merged into %(into)s and retired.",
                        code=source.code,
                        into=target.code,
                    ),
                    "success",
                )
                return redirect(url_for("taxonomy.show_challenge", code=target.code))
        except RefusedChange as error:
            plan = None
            form.show_error(error)
    invalid = request.method == "POST" and plan is None
    return (
        render_template("taxonomy/merge.html", form=form, source=source, plan=plan),
        400 if invalid else 200,
    )
