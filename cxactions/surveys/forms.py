"""The form of one metric's label, direction, target and scale (shape only; rules in services)."""

from __future__ import annotations

from flask_babel import lazy_gettext
from wtforms import BooleanField, FloatField, StringField, SubmitField
from wtforms.validators import Length, Optional

from cxactions.foundations.forms import CurationForm, FiniteNumber


class MetricForm(CurationForm):
    label = StringField(lazy_gettext("Label"), validators=[Optional(), Length(max=200)])
    higher_is_better = BooleanField(lazy_gettext("Higher is better"))
    target = FloatField(
        lazy_gettext("Target"),
        validators=[Optional(), FiniteNumber()],
        description=lazy_gettext("Leave empty for no target."),
    )
    scale_min = FloatField(
        lazy_gettext("Scale from"),
        validators=[Optional(), FiniteNumber()],
        description=lazy_gettext("The lowest value the metric takes; empty = no lower bound."),
    )
    scale_max = FloatField(
        lazy_gettext("Scale to"),
        validators=[Optional(), FiniteNumber()],
        description=lazy_gettext("The highest value the metric takes; empty = no upper bound."),
    )
    submit = SubmitField(lazy_gettext("Save"))

    def changes(self) -> dict:
        """The submitted values; a scale field absent from the request keeps the stored side."""
        changes = {
            "label": self.label.data,
            "target": self.target.data,
            "higher_is_better": self.higher_is_better.data,
        }
        for field in (self.scale_min, self.scale_max):
            if field.raw_data:  # [] when the request did not hold the field at all
                changes[field.short_name] = field.data
        return changes
