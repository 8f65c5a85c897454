"""The curators' forms of the taxonomy: create or edit a challenge, merge one into another,
map solutions to one.

Shape only; the rules (no loops in the tree, what a merge may do) are in
:mod:`cxactions.taxonomy.services`, whose errors land on the field they name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import FloatField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from cxactions.foundations.forms import CurationForm, FiniteNumber, MultiCheckboxField
from cxactions.foundations.i18n import current_language
from cxactions.foundations.vocabulary import ChallengeStatus, SignalDirection, ThresholdKind

TOP_LEVEL = SelectChoice("", lazy_gettext("None: a top-level category"))


def challenge_choice(code: str, label: str, lang: str) -> SelectChoice:
    """A challenge among the choices; ``lang`` when its name is not in the page's language."""
    render_kw = {"lang": lang} if lang != current_language() else {}
    return SelectChoice(code, label, render_kw=render_kw)


class ChallengeForm(CurationForm):
    name = StringField(
        lazy_gettext("Name"),
        validators=[
            DataRequired(message=lazy_gettext("A challenge needs a name.")),
            Length(max=200, message=lazy_gettext("Keep the name to 200 characters.")),
        ],
    )
    description = TextAreaField(
        lazy_gettext("Description"),
        validators=[
            Optional(),
            Length(max=2000, message=lazy_gettext("Keep the description to 2,000 characters.")),
        ],
    )
    name_fr = StringField(
        lazy_gettext("French name"),
        validators=[
            Optional(),
            Length(max=200, message=lazy_gettext("Keep the French name to 200 characters.")),
        ],
    )
    description_fr = TextAreaField(
        lazy_gettext("French description"),
        validators=[
            Optional(),
            Length(
                max=2000, message=lazy_gettext("Keep the French description to 2,000 characters.")
            ),
        ],
    )
    keywords = TextAreaField(lazy_gettext("Words customers use"))
    parent = SelectField(
        lazy_gettext("Parent"), validate_choice=False
    )  # the service explains a bad parent
    status = SelectField(
        lazy_gettext("Status"),
        choices=[
            SelectChoice(ChallengeStatus.ACTIVE.value, lazy_gettext("Active")),
            SelectChoice(
                ChallengeStatus.RETIRED.value, lazy_gettext("Retired: hidden from the taxonomy")
            ),
        ],
        validate_choice=False,
    )
    submit = SubmitField(lazy_gettext("Save changes"))

    def set_choices(self, challenges: Iterable[tuple[str, str, bool, str]]) -> None:
        choices = [
            TOP_LEVEL,
            *(
                challenge_choice(
                    code, label if active else _("%(name)s (retired)", name=label), lang
                )
                for code, label, active, lang in challenges
            ),
        ]
        submitted = self.parent.data or ""
        if submitted and submitted not in {choice.value for choice in choices}:
            # Shown again as submitted, so that the error below it makes sense.
            choices.append(
                SelectChoice(submitted, _("%(code)s (not allowed here)", code=submitted))
            )
        self.parent.choices = choices

    def content(self) -> dict:
        content = {
            "name": self.name.data,
            "description": self.description.data,
            "name_fr": self.name_fr.data,
            "description_fr": self.description_fr.data,
            "keywords": self.keywords.data,
            "parent": self.parent.data or None,
        }
        if self.status is not None:  # a new challenge has no status field
            content["status"] = self.status.data
        return content


class NewChallengeForm(ChallengeForm):
    """A new challenge, or a category when it has no parent: its content plus its code."""

    code = StringField(
        lazy_gettext("Code"),
        validators=[
            Optional(),
            Length(max=64, message=lazy_gettext("Keep the code to 64 characters.")),
        ],
    )
    status = None  # a new challenge starts active
    submit = SubmitField(lazy_gettext("Create"))

    def content(self) -> dict:
        return {**super().content(), "code": self.code.data}


class MapSolutionsForm(CurationForm):
    """The solutions mapped to a challenge: tick those to unmap, give the codes of those to add."""

    remove = MultiCheckboxField(lazy_gettext("Unmap"), validate_choice=False)
    add = StringField(
        lazy_gettext("Add solutions"),
        validators=[
            Optional(),
            Length(max=2000, message=lazy_gettext("Keep the list to 2,000 characters.")),
        ],
    )
    submit = SubmitField(lazy_gettext("Save the mapping"))

    def added_codes(self) -> list[str]:
        """The codes typed in the add field, separated by commas, semicolons or spaces."""
        return [code for code in re.split(r"[\s,;]+", self.add.data or "") if code]


class MergeChallengeForm(CurationForm):
    """Merge a challenge into the one that stays; a preview comes before the change."""

    target = SelectField(
        lazy_gettext("Merge into"),
        validators=[DataRequired(message=lazy_gettext("Choose the challenge that stays."))],
        validate_choice=False,
    )
    preview = SubmitField(lazy_gettext("Preview the merge"))
    confirm = SubmitField(lazy_gettext("Merge"))

    def set_choices(self, challenges: Iterable[tuple[str, str, bool, str]]) -> None:
        self.target.choices = [
            SelectChoice("", _("Choose a challenge…")),
            *(
                challenge_choice(code, _("%(name)s (%(code)s)", name=label, code=code), lang)
                for code, label, active, lang in challenges
                if active
            ),
        ]


class SignalForm(CurationForm):
    """Link the challenge to a metric: the direction that reveals it and the threshold."""

    metric = SelectField(
        lazy_gettext("Metric"),
        choices=[],
        validators=[DataRequired(message=lazy_gettext("Choose a metric."))],
    )
    direction = SelectField(
        lazy_gettext("The challenge shows when the metric is"),
        choices=[
            SelectChoice(SignalDirection.BELOW.value, lazy_gettext("low (below)")),
            SelectChoice(SignalDirection.ABOVE.value, lazy_gettext("high (above)")),
        ],
    )
    threshold_kind = SelectField(
        lazy_gettext("Threshold measured"),
        choices=[
            SelectChoice(
                ThresholdKind.PEER_SD.value,
                lazy_gettext("in standard deviations from the peers' mean"),
            ),
            SelectChoice(
                ThresholdKind.PEER_PERCENTILE.value, lazy_gettext("as the worst share of peers (%)")
            ),
            SelectChoice(ThresholdKind.ABSOLUTE.value, lazy_gettext("as a value of the metric")),
        ],
    )
    threshold = FloatField(
        lazy_gettext("Threshold"),
        validators=[
            InputRequired(message=lazy_gettext("Give a number, e.g. 1 or 10.")),
            FiniteNumber(),
        ],
    )
    submit = SubmitField(lazy_gettext("Save signal"))


class DeleteForm(FlaskForm):
    """A button that removes something (CSRF only)."""
