"""The form of one metric's label, direction and target (shape only; rules in services)."""

from __future__ import annotations

from wtforms import BooleanField, FloatField, StringField, SubmitField
from wtforms.validators import Length, Optional

from cxactions.library.forms import CurationForm


class MetricForm(CurationForm):
    label = StringField("Label", validators=[Optional(), Length(max=200)])
    higher_is_better = BooleanField("Higher is better")
    target = FloatField("Target", validators=[Optional()], description="Leave empty for no target.")
    submit = SubmitField("Save")
