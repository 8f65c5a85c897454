"""The curators' forms of the library: a solution's content, its review, and merging duplicates.

The forms check the shape of the input; the rules (unique codes, allowed status changes, what a
merge may do) live in :mod:`cxactions.library.services`, whose errors are shown on the field
they name with :meth:`CurationForm.show_error`.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import gettext as _
from flask_babel import lazy_gettext
from wtforms import SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from cxactions.foundations.forms import CurationForm, MultiCheckboxField
from cxactions.foundations.vocabulary import LABELS, Level, SolutionKind, SolutionStatus
from cxactions.library.services import CONTENT_FIELDS, LANGUAGE_NAMES, language_name
from cxactions.taxonomy.forms import challenge_choice

NOT_STATED = SelectChoice("", lazy_gettext("Not stated"))
# The vocabulary's words (marked in foundations.vocabulary), translated when the form is shown.
LEVELS = [
    NOT_STATED,
    *(SelectChoice(level.value, lazy_gettext(LABELS[level.value])) for level in Level),
]
KINDS = [SelectChoice(kind.value, lazy_gettext(LABELS[kind.value])) for kind in SolutionKind]


class SolutionTextForm(CurationForm):
    """What anyone writing a solution fills in: the curators' form and the staff's proposal."""

    title = StringField(
        lazy_gettext("Title"),
        validators=[
            DataRequired(message=lazy_gettext("A solution needs a title.")),
            Length(max=200, message=lazy_gettext("Keep the title to 200 characters.")),
        ],
    )
    kind = SelectField(
        lazy_gettext("Kind"),
        choices=KINDS,
        validate_choice=False,  # the service names the wrong value
    )
    language = SelectField(lazy_gettext("Language"), validate_choice=False)
    summary = TextAreaField(
        lazy_gettext("Summary"),
        validators=[
            Optional(),
            Length(max=1000, message=lazy_gettext("Keep the summary to 1,000 characters.")),
        ],
    )
    body = TextAreaField(lazy_gettext("How it works"))
    steps = TextAreaField(lazy_gettext("Steps"))
    challenges = MultiCheckboxField(lazy_gettext("Challenges it addresses"), validate_choice=False)

    def language_choices(self) -> list[SelectChoice]:
        """The content languages, and the one the form holds if it is another."""
        codes = list(LANGUAGE_NAMES)
        current = (self.language.data or "").strip().lower()
        if current and current not in codes:
            codes.append(current)
        return [SelectChoice(code, language_name(code)) for code in codes]

    def content(self) -> dict:
        """The submitted values, as the services take them."""
        return {name: self[name].data for name in self.CONTENT_FIELDS}


class SolutionForm(SolutionTextForm):
    """A solution's content and the challenges it addresses (editing an existing one)."""

    effort = SelectField(
        lazy_gettext("Effort"),
        choices=LEVELS,
        validate_choice=False,
    )
    cost = SelectField(
        lazy_gettext("Cost"),
        choices=LEVELS,
        validate_choice=False,
    )
    owner = StringField(
        lazy_gettext("Owner"),
        validators=[
            Optional(),
            Length(max=200, message=lazy_gettext("Keep the owner to 200 characters.")),
        ],
    )
    submit = SubmitField(lazy_gettext("Save changes"))

    CONTENT_FIELDS = CONTENT_FIELDS

    def set_choices(
        self, challenges: Iterable[tuple[str, str, bool, str]], *, mapped: Iterable[str] = ()
    ) -> None:
        """Active challenges, plus retired ones the solution is already mapped to."""
        keep = set(mapped)
        self.challenges.choices = [
            challenge_choice(code, label if active else _("%(name)s (retired)", name=label), lang)
            for code, label, active, lang in challenges
            if active or code in keep
        ]
        self.language.choices = self.language_choices()


class NewSolutionForm(SolutionForm):
    """A new solution: its content plus its code and first status."""

    code = StringField(
        lazy_gettext("Code"),
        validators=[
            Optional(),
            Length(max=64, message=lazy_gettext("Keep the code to 64 characters.")),
        ],
    )
    status = SelectField(
        lazy_gettext("Status"),
        choices=[
            SelectChoice(
                SolutionStatus.APPROVED.value, lazy_gettext("Approved: in the library now")
            ),
            SelectChoice(SolutionStatus.DRAFT.value, lazy_gettext("Draft: only curators see it")),
            SelectChoice(
                SolutionStatus.PENDING.value, lazy_gettext("Pending: waits in the moderation queue")
            ),
        ],
        default=SolutionStatus.APPROVED.value,
        validate_choice=False,
    )
    submit = SubmitField(lazy_gettext("Add to the library"))

    def content(self) -> dict:
        return {**super().content(), "code": self.code.data, "status": self.status.data}


class StatusForm(CurationForm):
    """Approve, reject, retire or reinstate: the button pressed carries the new status."""

    status = StringField(
        lazy_gettext("New status"),
        validators=[DataRequired(message=lazy_gettext("Choose an action."))],
    )
    note = TextAreaField(
        lazy_gettext("Note"),
        validators=[
            Optional(),
            Length(max=2000, message=lazy_gettext("Keep the note to 2,000 characters.")),
        ],
    )


class MergeSolutionForm(CurationForm):
    """Merge a duplicate into the solution that stays; a preview comes before the change."""

    survivor = StringField(
        lazy_gettext("Code of the solution to keep"),
        validators=[
            DataRequired(
                message=lazy_gettext("Enter the code of the solution that stays in the library.")
            ),
            Length(max=64, message=lazy_gettext("Codes are at most 64 characters long.")),
        ],
    )
    note = TextAreaField(
        lazy_gettext("Note"),
        validators=[
            Optional(),
            Length(max=2000, message=lazy_gettext("Keep the note to 2,000 characters.")),
        ],
    )
    preview = SubmitField(lazy_gettext("Preview the merge"))
    confirm = SubmitField(lazy_gettext("Merge"))
