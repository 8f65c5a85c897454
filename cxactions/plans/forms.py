"""The "Add to plan" form of the plan's "find a solution" step."""

from __future__ import annotations

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import HiddenInput

from cxactions.plans.models import NOTES_MAX, OWNER_MAX, REASON_MAX, STEP_MAX


def owner_field() -> StringField:
    """Who owns a plan item: required, at most OWNER_MAX characters (WTForms fills %(max)d)."""
    return StringField(
        lazy_gettext("Owner"),
        validators=[
            DataRequired(message=lazy_gettext("Say who owns this action.")),
            Length(max=OWNER_MAX, message=lazy_gettext("The owner is at most %(max)d characters.")),
        ],
    )


def due_field() -> DateField:
    return DateField(
        lazy_gettext("Due date"),
        validators=[InputRequired(message=lazy_gettext("Choose the date it is due."))],
        invalid_value_message=lazy_gettext("Give the due date as a date, e.g. 2025-06-30."),
    )


def challenge_field() -> SelectField:
    """Filled per item by the view; any challenge code is checked by the view, not here."""
    return SelectField(lazy_gettext("For the challenge"), choices=[], validate_choice=False)


class AdoptSolutionForm(FlaskForm):
    """One solution into one unit's plan. ``id_suffix`` keeps element ids unique when a page
    shows one form per solution (labels must point at their own input)."""

    solution = HiddenField(
        validators=[DataRequired(message=lazy_gettext("Choose a solution to add."))]
    )
    # Where the user was searching, to come back to it.
    q = HiddenField()
    owner = owner_field()
    due_on = due_field()
    challenge = challenge_field()
    submit = SubmitField(lazy_gettext("Add to plan"))

    def __init__(self, *args, id_suffix: str | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if id_suffix:
            for item in self:
                item.id = f"{item.id}-{id_suffix}"
                item.label.field_id = item.id


class _Versioned(FlaskForm):
    """A change to one plan item, based on the version of it the user saw."""

    version = IntegerField(widget=HiddenInput(), validators=[Optional()])


class PlanItemForm(_Versioned):
    """The item's owner, due date, challenge and notes."""

    owner = owner_field()
    due_on = due_field()
    challenge = challenge_field()
    notes = TextAreaField(
        lazy_gettext("Notes"),
        validators=[
            Length(max=NOTES_MAX, message=lazy_gettext("The notes are at most %(max)d characters."))
        ],
    )
    submit = SubmitField(lazy_gettext("Save changes"))


class ImplementForm(_Versioned):
    effective_on = DateField(
        lazy_gettext("Took effect on"),
        validators=[InputRequired(message=lazy_gettext("Give the date the solution took effect."))],
        invalid_value_message=lazy_gettext("Give the date as a date, e.g. 2025-06-30."),
    )
    submit = SubmitField(lazy_gettext("Mark implemented"))


class AbandonForm(_Versioned):
    reason = TextAreaField(
        lazy_gettext("Why is it abandoned?"),
        validators=[
            DataRequired(message=lazy_gettext("Say why the item is abandoned.")),
            Length(
                max=REASON_MAX, message=lazy_gettext("The reason is at most %(max)d characters.")
            ),
        ],
    )
    submit = SubmitField(lazy_gettext("Abandon"))


class StatusForm(_Versioned):
    """Start or reopen: nothing to fill in but the version."""

    submit = SubmitField()


class StepForm(FlaskForm):
    text = StringField(
        lazy_gettext("New step"),
        validators=[
            DataRequired(message=lazy_gettext("Write the step to add.")),
            Length(max=STEP_MAX, message=lazy_gettext("A step is at most %(max)d characters.")),
        ],
    )
    submit = SubmitField(lazy_gettext("Add the step"))
