"""Pages of the plans feature: find a solution for a unit and add it to the unit's action plan."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from cxactions.auth.models import Role
from cxactions.auth.permissions import (
    can_edit_unit_plan,
    can_view_solution,
    can_view_unit,
    require_role,
)
from cxactions.foundations.changes import RefusedChange
from cxactions.foundations.extensions import db
from cxactions.foundations.paging import page_number
from cxactions.foundations.translation import format_day, locale
from cxactions.foundations.vocabulary import AdoptionStatus, ChallengeStatus
from cxactions.impact import presenters as evidence
from cxactions.impact.services import latest_run, similar_unit_evidence
from cxactions.library.services import get_solution
from cxactions.plans import presenters, services, workflow
from cxactions.plans.forms import (
    AbandonForm,
    AdoptSolutionForm,
    ImplementForm,
    PlanItemForm,
    StatusForm,
    StepForm,
)
from cxactions.plans.models import Adoption
from cxactions.search.engine import SORTS
from cxactions.search.presenters import (
    PER_PAGE,
    QUERY_MAX,
    SORT_LABELS,
    ResultPages,
    categories,
    facet_labels,
)
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
    # For a challenge, the best evidence first; for words, the best match unless asked otherwise.
    sort = request.args.get("sort")
    if sort not in SORTS:
        sort = "impact" if challenge and not query else "relevance"
    # A top-level challenge is a category: its solutions are those of everything below it.
    options = SearchOptions(
        doc_type="solution",
        category=challenge.code if challenge and challenge.parent_id is None else None,
        challenge=challenge.code if challenge and challenge.parent_id is not None else None,
        page=min(page_number(request.args), 1000),
        per_page=PER_PAGE,
        sort=sort,
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
                "sort": request.args.get("sort") if sort == request.args.get("sort") else None,
            }.items()
            if value
        },
        "sort": sort,
        "sorts": {name: SORT_LABELS[name] for name in SORTS},
    }
    try:
        result = search(db.session, query, options, snippets=True)
    except SearchUnavailable as error:
        return render_template("plans/find.html", unavailable=str(error), **context), 503
    candidates = services.plan_candidates(db.session, unit, result.results, challenge)
    # The evidence where the decision is made: each candidate's company-wide estimate, and what
    # it did at similar units (the unit's region) when enough of them adopted it.
    solutions = [candidate.solution for candidate in candidates]
    run = latest_run(db.session)
    measured = {
        item.solution.id: item for item in evidence.order_by_evidence(db.session, run, solutions)
    }
    similar = similar_unit_evidence(db.session, unit, [solution.id for solution in solutions])
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
        measured=measured,
        similar=similar,
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


# -- a plan item's page -------------------------------------------------------------------


def _item(code: str, item_id: int, *, change: bool = False) -> tuple[Unit, Adoption]:
    """The unit and its plan item: 404 when either is unknown (or the item is another unit's),
    403 when the user may not see the unit or, for a change, may not change its plan."""
    unit = get_unit(db.session, code)
    if unit is None:
        abort(404, description=_("There is no unit with the code “%(code)s”.", code=code))
    allowed = can_edit_unit_plan if change else can_view_unit
    if not allowed(current_user, unit):
        abort(
            403,
            description=_("Only this unit's managers and the CX leads change its plan.")
            if change
            else _("This unit is outside the units you look after."),
        )
    item = workflow.get_item(db.session, unit.id, item_id)
    if item is None:
        abort(404, description=_("This unit's plan has no item %(id)d.", id=item_id))
    return unit, item


def _details_form(item: Adoption, formdata=None) -> PlanItemForm:
    form = PlanItemForm(
        formdata=formdata,
        data={
            "owner": item.owner,
            "due_on": item.due_on,
            "challenge": item.challenge.code if item.challenge else "",
            "notes": item.notes,
            "version": item.version,
        },
    )
    choices = services.adoptable_challenges(item.solution, item.challenge)
    form.challenge.choices = _challenge_choices(choices)
    return form


def _page(unit: Unit, item: Adoption, status: int = 200, **forms):
    """The item page; ``forms`` replaces the blank forms the user just filled in (kept input)."""
    version = {"version": item.version}
    today = date.today()
    context = {
        "unit": unit,
        "ancestors": ancestors(unit),
        "item": item,
        "may_change": can_edit_unit_plan(current_user, unit),
        "today": today.isoformat(),
        "earliest_effective": (item.created_at.date() - workflow.BACKDATE_WINDOW).isoformat(),
        "due": item.due_state(today),
        "history": presenters.history(item),
        "evidence": evidence.plan_item_evidence(db.session, item),
        "details_form": forms.get("details_form") or _details_form(item),
        "implement_form": forms.get("implement_form")
        or ImplementForm(
            formdata=None, data={**version, "effective_on": item.effective_on or today}
        ),
        "abandon_form": forms.get("abandon_form") or AbandonForm(formdata=None, data=version),
        "status_form": StatusForm(formdata=None, data=version),
        "step_form": forms.get("step_form") or StepForm(formdata=None),
    }
    return render_template("plans/item.html", **context), status


def _refused(unit: Unit, item: Adoption, error: RefusedChange, form_name: str, form):
    """Show the page again with the refusal, the user's input kept in ``form``."""
    db.session.refresh(item)  # what is stored now (another user's change included)
    if error.field is not None and error.field in form:
        form[error.field].errors.append(error.message)
    else:
        flash(error.message, "error")
    if "version" in form:
        # The next save is based on what the page now shows.
        form.version.data = item.version
        form.version.raw_data = [str(item.version)]
    status = 409 if isinstance(error, workflow.StaleItem) else 400
    return _page(unit, item, status, **{form_name: form})


def _back(unit: Unit, item: Adoption, message: str, anchor: str | None = None):
    flash(message, "success")
    return redirect(url_for("plans.show_item", code=unit.code, item_id=item.id, _anchor=anchor))


@bp.get("/units/<code>/plan/<int:item_id>")
@require_role(Role.STAFF)
def show_item(code: str, item_id: int):
    unit = get_unit(db.session, code)
    if unit is not None and can_view_unit(current_user, unit):
        live = workflow.folded_into(db.session, unit.id, item_id)
        if live is not None:
            # A merge folded this item into the unit's item on the surviving solution.
            flash(
                _("This plan item was folded into this one when its solution was merged."), "info"
            )
            return redirect(url_for("plans.show_item", code=unit.code, item_id=live.id))
    unit, item = _item(code, item_id)
    return _page(unit, item)


@bp.post("/units/<code>/plan/<int:item_id>")
@require_role(Role.STAFF)
def update_item(code: str, item_id: int):
    unit, item = _item(code, item_id, change=True)
    form = _details_form(item, formdata=request.form)
    if not form.validate_on_submit():
        return _page(unit, item, 400, details_form=form)
    challenge = _active_challenge(form.challenge.data) if form.challenge.data else None
    if (
        form.challenge.data
        and challenge is None
        and form.challenge.data != (item.challenge.code if item.challenge else "")
    ):
        form.challenge.errors.append(_("Choose one of the listed challenges."))
        return _page(unit, item, 400, details_form=form)
    if form.challenge.data and challenge is None:
        challenge = item.challenge  # a challenge retired since: the item keeps it
    try:
        changed = workflow.update_details(
            db.session,
            item,
            owner=form.owner.data,
            due_on=form.due_on.data,
            challenge=challenge,
            notes=form.notes.data,
            user=current_user,
            version=form.version.data,
        )
    except RefusedChange as error:
        return _refused(unit, item, error, "details_form", form)
    return _back(unit, item, _("Saved.") if changed else _("Nothing to change."), "details")


def _change(code: str, item_id: int, form_class, form_name: str, act, anchor: str | None = None):
    """One change to a plan item from one of its page's forms: ``act(item, form)`` makes it and
    returns the message to flash; a refusal shows the page again with the user's input."""
    unit, item = _item(code, item_id, change=True)
    form = form_class()
    if not form.validate_on_submit():
        return _page(unit, item, 400, **{form_name: form})
    try:
        message = act(item, form)
    except RefusedChange as error:
        return _refused(unit, item, error, form_name, form)
    return _back(unit, item, message, anchor)


@bp.post("/units/<code>/plan/<int:item_id>/start")
@require_role(Role.STAFF)
def start_item(code: str, item_id: int):
    def act(item: Adoption, form: StatusForm) -> str:
        workflow.start(db.session, item, user=current_user, version=form.version.data)
        return _("The item is in progress.")

    return _change(code, item_id, StatusForm, "status_form", act)


@bp.post("/units/<code>/plan/<int:item_id>/implement")
@require_role(Role.STAFF)
def implement_item(code: str, item_id: int):
    def act(item: Adoption, form: ImplementForm) -> str:
        was_implemented = item.status == AdoptionStatus.IMPLEMENTED
        workflow.implement(
            db.session,
            item,
            effective_on=form.effective_on.data,
            user=current_user,
            version=form.version.data,
        )
        if was_implemented:
            return _(
                "The date it took effect is changed: the impact estimates are being recomputed."
            )
        return _(
            "Implemented from %(day)s: its effect here will be measured against comparison "
            "units as survey weeks come in.",
            day=format_day(item.effective_on),
        )

    return _change(code, item_id, ImplementForm, "implement_form", act)


@bp.post("/units/<code>/plan/<int:item_id>/abandon")
@require_role(Role.STAFF)
def abandon_item(code: str, item_id: int):
    def act(item: Adoption, form: AbandonForm) -> str:
        workflow.abandon(
            db.session, item, reason=form.reason.data, user=current_user, version=form.version.data
        )
        return _("The item is abandoned.")

    return _change(code, item_id, AbandonForm, "abandon_form", act)


@bp.post("/units/<code>/plan/<int:item_id>/reopen")
@require_role(Role.STAFF)
def reopen_item(code: str, item_id: int):
    def act(item: Adoption, form: StatusForm) -> str:
        workflow.reopen(db.session, item, user=current_user, version=form.version.data)
        return _("The item is reopened: it is in progress again.")

    return _change(code, item_id, StatusForm, "status_form", act)


@bp.post("/units/<code>/plan/<int:item_id>/steps")
@require_role(Role.STAFF)
def add_step(code: str, item_id: int):
    def act(item: Adoption, form: StepForm) -> str:
        workflow.add_step(db.session, item, form.text.data, user=current_user)
        return _("Step added.")

    return _change(code, item_id, StepForm, "step_form", act, "checklist")


@bp.post("/units/<code>/plan/<int:item_id>/steps/<int:step_id>")
@require_role(Role.STAFF)
def tick_step(code: str, item_id: int, step_id: int):
    unit, item = _item(code, item_id, change=True)
    form = StatusForm()  # CSRF only
    if not form.validate_on_submit():
        abort(400)
    done = request.form.get("done") == "1"
    try:
        workflow.tick_step(db.session, item, step_id, done=done, user=current_user)
    except RefusedChange as error:
        flash(error.message, "error")
    return redirect(
        url_for("plans.show_item", code=unit.code, item_id=item.id, _anchor="checklist")
    )
