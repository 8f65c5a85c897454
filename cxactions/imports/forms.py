"""The upload form of the import page."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, SelectField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired

KIND_LABELS = {
    "units": "Units (units.csv): the organisation tree",
    "challenges": "Challenges (challenges.csv): the taxonomy",
    "solutions": "Solutions (solutions.csv): the library",
    "responses": "Survey responses (responses.csv)",
    "operations": "Operational inputs (operations.csv)",
    "adoptions": "Adoptions (adoptions.csv): action plans",
    "signals": "Challenge signals (signals.csv): the metrics that reveal each challenge",
    "targets": "Metric targets (targets.csv)",
}


class ImportForm(FlaskForm):
    kind = SelectField(
        "What the file holds",
        choices=[SelectChoice(kind, label) for kind, label in KIND_LABELS.items()],
        validators=[DataRequired(message="Choose what the file holds.")],
    )
    file = FileField(
        "CSV file",
        validators=[
            FileRequired(message="Choose a CSV file to import."),
            FileAllowed(
                ["csv", "txt"], message="Choose a .csv file (save the sheet as CSV UTF-8)."
            ),
        ],
    )
    dry_run = BooleanField("Dry run: check every row, write nothing")
    submit = SubmitField("Import")
