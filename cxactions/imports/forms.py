"""The upload form of the import page."""

from __future__ import annotations

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, SelectField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired

KIND_LABELS = {
    "units": lazy_gettext("Units (units.csv): the organisation tree"),
    "challenges": lazy_gettext("Challenges (challenges.csv): the taxonomy"),
    "solutions": lazy_gettext("Solutions (solutions.csv): the library"),
    "responses": lazy_gettext("Survey responses (responses.csv)"),
    "operations": lazy_gettext("Operational inputs (operations.csv)"),
    "adoptions": lazy_gettext("Adoptions (adoptions.csv): action plans"),
    "signals": lazy_gettext(
        "Challenge signals (signals.csv): the metrics that reveal each challenge"
    ),
    "targets": lazy_gettext("Metric targets (targets.csv)"),
}


class ImportForm(FlaskForm):
    kind = SelectField(
        lazy_gettext("What the file holds"),
        choices=[SelectChoice(kind, label) for kind, label in KIND_LABELS.items()],
        validators=[DataRequired(message=lazy_gettext("Choose what the file holds."))],
    )
    file = FileField(
        lazy_gettext("CSV file"),
        validators=[
            FileRequired(message=lazy_gettext("Choose a CSV file to import.")),
            FileAllowed(
                ["csv", "txt"],
                message=lazy_gettext("Choose a .csv file (save the sheet as CSV UTF-8)."),
            ),
        ],
    )
    dry_run = BooleanField(lazy_gettext("Dry run: check every row, write nothing"))
    submit = SubmitField(lazy_gettext("Import"))
