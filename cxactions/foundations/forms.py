"""What every curation form shares: refused changes shown beside their field, finite numbers,
a list of checkboxes.

``FiniteNumber`` is the validator every number field of the curation forms uses: WTForms'
FloatField and DecimalField accept 'nan', 'inf' and '1e308'.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from cxactions.foundations.changes import RefusedChange
from cxactions.foundations.scales import number_problem


class CurationForm(FlaskForm):
    """A form whose service errors land on the field they name, or above the form."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.general_errors: list[str] = []

    def show_error(self, error: RefusedChange) -> None:
        field = self._fields.get(error.field or "")
        if field is not None and field.type not in ("SubmitField", "CSRFTokenField"):
            field.errors = [*field.errors, error.message]
        else:
            self.general_errors.append(error.message)


class MultiCheckboxField(SelectMultipleField):
    """Several choices as a list of checkboxes (easier than a multiple select)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class FiniteNumber:
    """Refuses NaN, infinities and numbers too large to compute with (see ``cxactions.foundations.scales``)."""

    def __init__(self, message: str | None = None) -> None:
        self.message = message

    def __call__(self, form, field) -> None:
        if field.data is None:
            return
        problem = number_problem(field.data)
        if problem:
            raise ValidationError(
                self.message or _("Give a finite number (%(problem)s).", problem=problem)
            )
