"""The "Add to plan" form of the plan's "find a solution" step."""

from __future__ import annotations

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length

from cxactions.plans.services import OWNER_MAX


class AdoptSolutionForm(FlaskForm):
    """One solution into one unit's plan. ``id_suffix`` keeps element ids unique when a page
    shows one form per solution (labels must point at their own input)."""

    solution = HiddenField(
        validators=[DataRequired(message=lazy_gettext("Choose a solution to add."))]
    )
    # Where the user was searching, to come back to it.
    q = HiddenField()
    owner = StringField(
        lazy_gettext("Owner"),
        validators=[
            DataRequired(message=lazy_gettext("Say who owns this action.")),
            # WTForms fills in %(max)d.
            Length(max=OWNER_MAX, message=lazy_gettext("The owner is at most %(max)d characters.")),
        ],
    )
    due_on = DateField(
        lazy_gettext("Due date"),
        validators=[InputRequired(message=lazy_gettext("Choose the date it is due."))],
        invalid_value_message=lazy_gettext("Give the due date as a date, e.g. 2025-06-30."),
    )
    # Filled per solution by the view; any challenge code is checked by the view, not here.
    challenge = SelectField(lazy_gettext("For the challenge"), choices=[], validate_choice=False)
    submit = SubmitField(lazy_gettext("Add to plan"))

    def __init__(self, *args, id_suffix: str | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if id_suffix:
            for item in self:
                item.id = f"{item.id}-{id_suffix}"
                item.label.field_id = item.id
