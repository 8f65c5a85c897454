"""The form of one metric's label, direction, target and scale (shape only; rules in services)."""

from __future__ import annotations

from wtforms import BooleanField, FloatField, StringField, SubmitField
from wtforms.validators import Length, Optional

from cxactions.foundations.forms import CurationForm, FiniteNumber


class MetricForm(CurationForm):
    label = StringField("Label", validators=[Optional(), Length(max=200)])
    higher_is_better = BooleanField("Higher is better")
    target = FloatField(
        "Target",
        validators=[Optional(), FiniteNumber()],
        description="Leave empty for no target.",
    )
    scale_min = FloatField(
        "Scale from",
        validators=[Optional(), FiniteNumber()],
        description="The lowest value the metric takes; empty = no lower bound.",
    )
    scale_max = FloatField(
        "Scale to",
        validators=[Optional(), FiniteNumber()],
        description="The highest value the metric takes; empty = no upper bound.",
    )
    submit = SubmitField("Save")

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
