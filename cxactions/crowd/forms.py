"""The crowd's forms: a proposal, a comment, a "we tried it" report, a report of a comment, and
the CX leads' review and moderation. Shapes only; the rules live in ``crowd.services``."""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    RadioField,
    SelectField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from cxactions.crowd.services import BODY_MAX, COMMENT_MAX, REASON_MAX, report_units
from cxactions.foundations.forms import CurationForm
from cxactions.foundations.vocabulary import LABELS, TriedOutcome
from cxactions.library.forms import SolutionTextForm
from cxactions.taxonomy.forms import challenge_choice


class ProposalForm(SolutionTextForm):
    """A new solution (or an improvement) proposed by anyone signed in."""

    body = TextAreaField(
        lazy_gettext("How it works"),
        validators=[
            Optional(),
            Length(max=BODY_MAX, message=lazy_gettext("Keep the text to 20,000 characters.")),
        ],
    )
    anonymous = BooleanField(lazy_gettext("Hide my name from colleagues (CX leads still see it)"))
    # The words whose similar solutions were last shown: sending different words shows them again.
    checked = HiddenField()
    check = SubmitField(lazy_gettext("Look for similar solutions"))
    send = SubmitField(lazy_gettext("Send the proposal"))

    CONTENT_FIELDS = ("title", "kind", "language", "summary", "body", "steps", "challenges")

    def set_choices(self, challenges: Iterable[tuple[str, str, bool, str]]) -> None:
        self.challenges.choices = [
            challenge_choice(code, label, lang)
            for code, label, active, lang in challenges
            if active
        ]
        self.language.choices = [
            SelectChoice("", _("Guess it from my words")),
            *self.language_choices(),
        ]

    def draft_words(self) -> str:
        """What the similar-solutions check searches for: the title and the summary."""
        return " ".join(
            part.strip() for part in (self.title.data or "", self.summary.data or "") if part
        )


def proposal_content(solution) -> dict:
    """A solution's content as the proposal form's values (editing or improving it)."""
    return {
        "title": solution.title,
        "kind": solution.kind.value,
        "language": solution.language,
        "summary": solution.summary,
        "body": solution.body,
        "steps": solution.steps,
        "challenges": [challenge.code for challenge in solution.challenges],
        "anonymous": solution.anonymous,
    }


class CommentForm(CurationForm):
    body = TextAreaField(
        lazy_gettext("Comment"),
        validators=[
            DataRequired(message=lazy_gettext("Write something first.")),
            Length(max=COMMENT_MAX, message=lazy_gettext("Keep the comment to 5,000 characters.")),
        ],
    )
    submit = SubmitField(lazy_gettext("Post the comment"))


OUTCOMES = [
    SelectChoice(outcome.value, lazy_gettext(LABELS[outcome.value])) for outcome in TriedOutcome
]


class TriedForm(CurationForm):
    """ "We tried it": how it went, where, when, and what happened."""

    outcome = RadioField(
        lazy_gettext("How did it go?"),
        id="tried-outcome",
        choices=OUTCOMES,
        validators=[InputRequired(message=lazy_gettext("Say how it went."))],
        validate_choice=False,
    )
    unit = SelectField(lazy_gettext("Where"), id="tried-unit", validate_choice=False)
    tried_on = DateField(
        lazy_gettext("Since when"),
        id="tried-on",
        validators=[InputRequired(message=lazy_gettext("Give the date you tried it."))],
    )
    body = TextAreaField(
        lazy_gettext("What happened (optional)"),
        id="tried-body",  # the comment form beside it has its own "body"
        validators=[
            Optional(),
            Length(max=COMMENT_MAX, message=lazy_gettext("Keep the note to 5,000 characters.")),
        ],
    )
    submit = SubmitField(lazy_gettext("Share what happened"))

    def set_units(self, units) -> None:
        self.unit.choices = [
            SelectChoice(unit.code, f"{unit.name} ({unit.code})") for unit in units
        ]


class ReasonForm(CurationForm):
    """A reason: for reporting a comment, rejecting a proposal, hiding a comment."""

    reason = TextAreaField(
        lazy_gettext("Reason"),
        validators=[
            Optional(),
            Length(max=REASON_MAX, message=lazy_gettext("Keep the reason to 1,000 characters.")),
        ],
    )


class ActionForm(FlaskForm):
    """A button that changes something (vote, follow, mark as read): only the CSRF token."""


def tried_form_for(session, user, **kwargs) -> TriedForm:
    """The "we tried it" form, offering the units the user works at (every unit for CX leads)."""
    form = TriedForm(**kwargs)
    form.set_units(report_units(session, user))
    return form
