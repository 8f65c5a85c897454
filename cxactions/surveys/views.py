"""The metrics page: CX leads set labels, which way is better, the targets and the scales."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from cxactions.auth.models import Role
from cxactions.auth.permissions import is_curator, require_role
from cxactions.foundations.changes import RefusedChange
from cxactions.foundations.extensions import db
from cxactions.surveys import services
from cxactions.surveys.forms import MetricForm
from cxactions.surveys.models import Metric

bp = Blueprint("surveys", __name__)


@bp.get("/metrics")
@require_role(Role.STAFF)
def list_metrics():
    """What the programme measures, with targets; curators get a form per metric."""
    metrics = services.all_metrics(db.session)
    forms = {}
    if is_curator(current_user):
        forms = {metric.code: MetricForm(obj=metric, prefix=metric.code) for metric in metrics}
    return render_template("surveys/metrics.html", metrics=metrics, forms=forms)


@bp.post("/metrics/<code>")
@require_role(Role.CX_LEAD)
def update_metric(code: str):
    metric = db.session.scalar(db.select(Metric).where(Metric.code == code))
    if metric is None:
        abort(404, description=_("There is no metric “%(code)s”.", code=code))
    form = MetricForm(prefix=code)
    if not form.validate_on_submit():
        messages = [
            _("%(field)s: %(problem)s", field=form[name].label.text, problem=message)
            for name, errors in form.errors.items()
            for message in errors
        ]
        flash(_("%(metric)s: %(problem)s", metric=metric.code, problem=" ".join(messages)), "error")
        return redirect(url_for("surveys.list_metrics") + f"#metric-{metric.code}")
    try:
        changed = services.update_metric(db.session, metric, form.changes(), user=current_user)
    except RefusedChange as error:
        flash(_("%(metric)s: %(problem)s", metric=metric.code, problem=error.message), "error")
    else:
        flash(
            _("%(metric)s: saved.", metric=metric.code)
            if changed
            else _("%(metric)s: nothing changed.", metric=metric.code),
            "success",
        )
    return redirect(url_for("surveys.list_metrics") + f"#metric-{metric.code}")
