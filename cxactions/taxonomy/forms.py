"""The curators' forms of the taxonomy: edit a challenge, merge one into another.

Shape only; the rules (no loops in the tree, what a merge may do) are in
:mod:`cxactions.taxonomy.services`, whose errors land on the field they name.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask_wtf import FlaskForm
from wtforms import FloatField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from cxactions.foundations.forms import CurationForm, FiniteNumber
from cxactions.foundations.vocabulary import ChallengeStatus, SignalDirection, ThresholdKind

TOP_LEVEL = SelectChoice("", "None: a top-level category")


class ChallengeForm(CurationForm):
    name = StringField(
        "Name",
        validators=[
            DataRequired(message="A challenge needs a name."),
            Length(max=200, message="Keep the name to 200 characters."),
        ],
    )
    description = TextAreaField(
        "Description",
        validators=[
            Optional(),
            Length(max=2000, message="Keep the description to 2,000 characters."),
        ],
    )
    keywords = TextAreaField("Words customers use")
    parent = SelectField("Parent", validate_choice=False)  # the service explains a bad parent
    status = SelectField(
        "Status",
        choices=[
            SelectChoice(ChallengeStatus.ACTIVE.value, "Active"),
            SelectChoice(ChallengeStatus.RETIRED.value, "Retired: hidden from the taxonomy"),
        ],
        validate_choice=False,
    )
    submit = SubmitField("Save changes")

    def set_choices(self, challenges: Iterable[tuple[str, str, bool]]) -> None:
        choices = [
            TOP_LEVEL,
            *(
                SelectChoice(code, label if active else f"{label} (retired)")
                for code, label, active in challenges
            ),
        ]
        submitted = self.parent.data or ""
        if submitted and submitted not in {choice.value for choice in choices}:
            # Shown again as submitted, so that the error below it makes sense.
            choices.append(SelectChoice(submitted, f"{submitted} (not allowed here)"))
        self.parent.choices = choices

    def content(self) -> dict:
        return {
            "name": self.name.data,
            "description": self.description.data,
            "keywords": self.keywords.data,
            "parent": self.parent.data or None,
            "status": self.status.data,
        }


class MergeChallengeForm(CurationForm):
    """Merge a challenge into the one that stays; a preview comes before the change."""

    target = SelectField(
        "Merge into",
        validators=[DataRequired(message="Choose the challenge that stays.")],
        validate_choice=False,
    )
    preview = SubmitField("Preview the merge")
    confirm = SubmitField("Merge")

    def set_choices(self, challenges: Iterable[tuple[str, str, bool]]) -> None:
        self.target.choices = [
            SelectChoice("", "Choose a challenge…"),
            *(
                SelectChoice(code, f"{label} ({code})")
                for code, label, active in challenges
                if active
            ),
        ]


class SignalForm(CurationForm):
    """Link the challenge to a metric: the direction that reveals it and the threshold."""

    metric = SelectField(
        "Metric", choices=[], validators=[DataRequired(message="Choose a metric.")]
    )
    direction = SelectField(
        "The challenge shows when the metric is",
        choices=[
            SelectChoice(SignalDirection.BELOW.value, "low (below)"),
            SelectChoice(SignalDirection.ABOVE.value, "high (above)"),
        ],
    )
    threshold_kind = SelectField(
        "Threshold measured",
        choices=[
            SelectChoice(
                ThresholdKind.PEER_SD.value, "in standard deviations from the peers' mean"
            ),
            SelectChoice(ThresholdKind.PEER_PERCENTILE.value, "as the worst share of peers (%)"),
            SelectChoice(ThresholdKind.ABSOLUTE.value, "as a value of the metric"),
        ],
    )
    threshold = FloatField(
        "Threshold",
        validators=[InputRequired(message="Give a number, e.g. 1 or 10."), FiniteNumber()],
    )
    submit = SubmitField("Save signal")


class DeleteForm(FlaskForm):
    """A button that removes something (CSRF only)."""
