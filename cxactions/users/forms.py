"""The admins' forms for users: invite someone, edit them, reset their password.

Shape only; the rules (one account per e-mail, units for staff and managers only, an admin keeps
their own role, the last admin stays) are in :mod:`cxactions.users.services`, whose errors land
on the field they name.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from cxactions.auth.models import Role
from cxactions.foundations.forms import CurationForm


class _UserFields(CurationForm):
    name = StringField(
        _l("Name"),
        validators=[Optional(), Length(max=200, message=_l("Keep the name to 200 characters."))],
    )
    # Checked by the service, which says what is wrong with an unknown role.
    role = SelectField(
        _l("Role"),
        validators=[InputRequired(message=_l("Choose a role from the list."))],
        validate_choice=False,
    )
    units = StringField(
        _l("Units"),
        validators=[
            Optional(),
            Length(max=20_000, message=_l("Too many units: attach a district or a region.")),
        ],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Built per request: the labels are in the reader's language.
        self.role.choices = [SelectChoice(role.value, role.label) for role in Role]

    def content(self) -> dict[str, Any]:
        return {"name": self.name.data, "role": self.role.data, "units": self.units.data}


class NewUserForm(_UserFields):
    email = EmailField(
        _l("Email"),
        validators=[
            DataRequired(message=_l("Give the person's e-mail address.")),
            Length(max=254, message=_l("An e-mail address has at most 254 characters.")),
        ],
    )
    password = PasswordField(
        _l("Temporary password"),
        validators=[Optional()],  # the service says what is wrong with its length
    )
    submit = SubmitField(_l("Create the user"))

    def content(self) -> dict[str, Any]:
        return {**super().content(), "email": self.email.data, "password": self.password.data}


class EditUserForm(_UserFields):
    active = BooleanField(_l("Active: may sign in"))
    submit = SubmitField(_l("Save changes"))

    def content(self) -> dict[str, Any]:
        return {**super().content(), "active": self.active.data}


class ResetPasswordForm(CurationForm):
    password = PasswordField(
        _l("New temporary password"),
        validators=[Optional()],  # the service says what is wrong with its length
    )
    submit = SubmitField(_l("Reset the password"))
