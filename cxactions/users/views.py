"""Pages of the users feature, for admins only: the list, inviting someone, editing a user and
resetting their password."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from cxactions.auth.models import Role, User
from cxactions.auth.permissions import require_role
from cxactions.auth.services import MIN_PASSWORD_LENGTH
from cxactions.foundations.changes import RefusedChange
from cxactions.foundations.extensions import db
from cxactions.foundations.paging import page_number
from cxactions.users import services
from cxactions.users.forms import EditUserForm, NewUserForm, ResetPasswordForm

bp = Blueprint("users", __name__)

# The user page holds two forms: the reset form's fields are named apart (``reset-password``).
RESET_PREFIX = "reset"


@bp.get("/users")
@require_role(Role.ADMIN)
def list_users():
    filters = services.UserFilters.from_args(request.args)
    page = services.list_users(db.session, filters, page=page_number(request.args))
    return render_template("users/users.html", page=page, filters=filters, roles=list(Role))


@bp.route("/users/new", methods=["GET", "POST"])
@require_role(Role.ADMIN)
def create_user():
    form = NewUserForm()
    if form.validate_on_submit():
        try:
            user, temporary = services.create_user(
                db.session, form.content(), current_user._get_current_object()
            )
        except RefusedChange as error:
            form.show_error(error)
        else:
            message = _(
                "%(name)s can now sign in with the temporary password; they will choose their "
                "own at the first sign-in.",
                name=user.display_name,
            )
            return _after_password_set(user, temporary, message)
    return (
        render_template("users/new_user.html", form=form, min_password_length=MIN_PASSWORD_LENGTH),
        400 if request.method == "POST" else 200,
    )


def _user_or_404(user_id: int) -> User:
    user = services.get_user(db.session, user_id)
    if user is None:
        abort(404, description=_("There is no such user."))
    return user


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@require_role(Role.ADMIN)
def edit_user(user_id: int):
    user = _user_or_404(user_id)
    form = _edit_form(user)
    if form.validate_on_submit():
        try:
            update = services.update_user(
                db.session, user, form.content(), current_user._get_current_object()
            )
        except RefusedChange as error:
            form.show_error(error)
        else:
            if update.deactivated:
                flash(
                    ngettext(
                        "%(name)s is deactivated and can no longer sign in; %(num)d session "
                        "was ended.",
                        "%(name)s is deactivated and can no longer sign in; %(num)d sessions "
                        "were ended.",
                        update.sessions_ended,
                        name=user.display_name,
                    ),
                    "success",
                )
            elif update.fields:
                flash(_("Saved."), "success")
            else:
                flash(_("Nothing changed."), "info")
            return redirect(url_for("users.edit_user", user_id=user.id))
    return _user_page(
        user, form, ResetPasswordForm(formdata=None, prefix=RESET_PREFIX), request.method == "POST"
    )


@bp.post("/users/<int:user_id>/password")
@require_role(Role.ADMIN)
def reset_password(user_id: int):
    user = _user_or_404(user_id)
    form = ResetPasswordForm(prefix=RESET_PREFIX)
    if form.validate_on_submit():
        try:
            temporary, ended = services.reset_password(
                db.session, user, current_user._get_current_object(), form.password.data
            )
        except RefusedChange as error:
            form.show_error(error)
        else:
            message = ngettext(
                "The password of %(name)s is reset and %(num)d session was ended; they will "
                "choose their own at the next sign-in.",
                "The password of %(name)s is reset and %(num)d sessions were ended; they will "
                "choose their own at the next sign-in.",
                ended,
                name=user.display_name,
            )
            return _after_password_set(user, temporary, message)
    return _user_page(user, _edit_form(user, formdata=None), form, invalid=True)


def _edit_form(user: User, **kwargs) -> EditUserForm:
    """The edit form, filled with the user as they are (the request's input wins on a POST)."""
    return EditUserForm(
        data={
            "name": user.name,
            "role": user.role.value,
            "units": services.unit_codes_text(user),
            "active": user.active,
        },
        **kwargs,
    )


def _user_page(user: User, form: EditUserForm, reset_form: ResetPasswordForm, invalid: bool):
    return (
        render_template(
            "users/user.html",
            user=user,
            form=form,
            reset_form=reset_form,
            is_self=user.id == current_user.id,
            min_password_length=MIN_PASSWORD_LENGTH,
        ),
        400 if invalid else 200,
    )


def _after_password_set(user: User, temporary: services.TemporaryPassword, message: str):
    """A typed password: back to the user's page. A generated one: shown on this answer only,
    never stored, never cached; nobody can see it again once the admin leaves the page."""
    if not temporary.generated:
        flash(message, "success")
        return redirect(url_for("users.edit_user", user_id=user.id))
    response = make_response(
        render_template(
            "users/temporary_password.html", user=user, password=temporary.password, message=message
        )
    )
    response.headers["Cache-Control"] = "no-store"
    return response
