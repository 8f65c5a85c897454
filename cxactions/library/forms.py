"""The curators' forms of the library: a solution's content, its review, and merging duplicates.

The forms check the shape of the input; the rules (unique codes, allowed status changes, what a
merge may do) live in :mod:`cxactions.library.services`, whose errors are shown on the field
they name with :meth:`CurationForm.show_error`.
"""

from __future__ import annotations

from collections.abc import Iterable

from wtforms import SelectField, SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from cxactions.foundations.forms import CurationForm
from cxactions.foundations.vocabulary import Level, SolutionKind, SolutionStatus
from cxactions.library.services import CONTENT_FIELDS, LANGUAGE_NAMES

NOT_STATED = SelectChoice("", "Not stated")
LEVELS = [NOT_STATED, *(SelectChoice(level.value, level.value.capitalize()) for level in Level)]


class MultiCheckboxField(SelectMultipleField):
    """Several choices as a list of checkboxes (easier than a multiple select)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class SolutionForm(CurationForm):
    """A solution's content and the challenges it addresses (editing an existing one)."""

    title = StringField(
        "Title",
        validators=[
            DataRequired(message="A solution needs a title."),
            Length(max=200, message="Keep the title to 200 characters."),
        ],
    )
    kind = SelectField(
        "Kind",
        choices=[SelectChoice(kind.value, kind.label) for kind in SolutionKind],
        validate_choice=False,  # the service names the wrong value
    )
    language = SelectField("Language", validate_choice=False)
    summary = TextAreaField(
        "Summary",
        validators=[Optional(), Length(max=1000, message="Keep the summary to 1,000 characters.")],
    )
    body = TextAreaField("How it works")
    steps = TextAreaField("Steps")
    effort = SelectField(
        "Effort",
        choices=LEVELS,
        validate_choice=False,
    )
    cost = SelectField(
        "Cost",
        choices=LEVELS,
        validate_choice=False,
    )
    owner = StringField(
        "Owner",
        validators=[Optional(), Length(max=200, message="Keep the owner to 200 characters.")],
    )
    challenges = MultiCheckboxField("Challenges it addresses", validate_choice=False)
    submit = SubmitField("Save changes")

    CONTENT_FIELDS = CONTENT_FIELDS

    def set_choices(
        self, challenges: Iterable[tuple[str, str, bool]], *, mapped: Iterable[str] = ()
    ) -> None:
        """Active challenges, plus retired ones the solution is already mapped to."""
        keep = set(mapped)
        self.challenges.choices = [
            SelectChoice(code, label if active else f"{label} (retired)")
            for code, label, active in challenges
            if active or code in keep
        ]
        languages = dict(LANGUAGE_NAMES)
        current = (self.language.data or "").strip().lower()
        if current and current not in languages:
            languages[current] = current.upper()
        self.language.choices = [SelectChoice(code, name) for code, name in languages.items()]

    def content(self) -> dict:
        """The submitted values, as the library services take them."""
        return {name: self[name].data for name in self.CONTENT_FIELDS}


class NewSolutionForm(SolutionForm):
    """A new solution: its content plus its code and first status."""

    code = StringField(
        "Code",
        validators=[Optional(), Length(max=64, message="Keep the code to 64 characters.")],
    )
    status = SelectField(
        "Status",
        choices=[
            SelectChoice(SolutionStatus.APPROVED.value, "Approved: in the library now"),
            SelectChoice(SolutionStatus.DRAFT.value, "Draft: only curators see it"),
            SelectChoice(SolutionStatus.PENDING.value, "Pending: waits in the moderation queue"),
        ],
        default=SolutionStatus.APPROVED.value,
        validate_choice=False,
    )
    submit = SubmitField("Add to the library")

    def content(self) -> dict:
        return {**super().content(), "code": self.code.data, "status": self.status.data}


class StatusForm(CurationForm):
    """Approve, reject, retire or reinstate: the button pressed carries the new status."""

    status = StringField("New status", validators=[DataRequired(message="Choose an action.")])
    note = TextAreaField(
        "Note",
        validators=[Optional(), Length(max=2000, message="Keep the note to 2,000 characters.")],
    )


class MergeSolutionForm(CurationForm):
    """Merge a duplicate into the solution that stays; a preview comes before the change."""

    survivor = StringField(
        "Code of the solution to keep",
        validators=[
            DataRequired(message="Enter the code of the solution that stays in the library."),
            Length(max=64, message="Codes are at most 64 characters long."),
        ],
    )
    note = TextAreaField(
        "Note",
        validators=[Optional(), Length(max=2000, message="Keep the note to 2,000 characters.")],
    )
    preview = SubmitField("Preview the merge")
    confirm = SubmitField("Merge")
