"""The import file formats: each kind's columns (``Field``, ``FileFormat``), ``KINDS``,
``FORMATS``, and the words and code shapes the files may hold.

Pure (no Flask, no SQLAlchemy), like the rest of the file reading.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cxactions.foundations.translation import N_
from cxactions.foundations.vocabulary import (
    AdoptionStatus,
    MetricKind,
    SignalDirection,
    SolutionKind,
    SolutionStatus,
    ThresholdKind,
)

KINDS = (
    "units",
    "challenges",
    "solutions",
    "responses",
    "operations",
    "adoptions",
    "signals",
    "targets",
)


@dataclass(frozen=True)
class Field:
    """One column of an import format.

    ``kind`` is one of ``code`` (an identifier), ``text``, ``number``, ``date``, ``datetime``
    (date or date-time; ``date_name`` receives the date written in it), ``choice``,
    ``codes`` (a ``;``-separated list) and ``boolean`` (true/false, yes/no, 1/0; in French
    exports also vrai/faux, oui/non).
    """

    name: str
    kind: str = "text"
    required: bool = True  # the column must be in the header
    not_empty: bool = False  # every cell must hold a value
    max_length: int | None = None
    choices: tuple[str, ...] = ()
    default: str | None = None
    date_name: str | None = None


@dataclass(frozen=True)
class FileFormat:
    """The columns of one import kind and the columns that identify a row."""

    kind: str
    fields: tuple[Field, ...]
    key: tuple[str, ...]
    # responses.csv: every column not named below is a numeric driver score.
    extra_numeric: bool = False
    # A sentence for the upload page, where the columns alone do not say enough (marked with
    # ``N_``: the page translates it).
    note: str = ""

    def field(self, name: str) -> Field | None:
        return next((item for item in self.fields if item.name == name), None)


def _values(enum_class) -> tuple[str, ...]:
    return tuple(member.value for member in enum_class)


FORMATS: dict[str, FileFormat] = {
    "units": FileFormat(
        "units",
        (
            Field("unit_id", "code", not_empty=True, max_length=64),
            Field("name", "text", not_empty=True, max_length=200),
            Field("parent_id", "code", required=False, max_length=64),
            Field("kind", "code", required=False, max_length=40),  # a free label: store, region
        ),
        key=("unit_id",),
    ),
    "challenges": FileFormat(
        "challenges",
        (
            Field("challenge_id", "code", not_empty=True, max_length=64),
            Field("name", "text", not_empty=True, max_length=200),
            Field("parent_id", "code", required=False, max_length=64),
            Field("description", "text", required=False),
            # The French name and description, shown to readers of the French interface.
            Field("name_fr", "text", required=False, max_length=200),
            Field("description_fr", "text", required=False),
            Field("keywords", "codes", required=False, max_length=200),
        ),
        key=("challenge_id",),
    ),
    "solutions": FileFormat(
        "solutions",
        (
            Field("solution_id", "code", not_empty=True, max_length=64),
            Field("title", "text", not_empty=True, max_length=200),
            Field("kind", "choice", not_empty=True, choices=_values(SolutionKind)),
            Field("description", "text", required=False),
            Field("challenge_ids", "codes", required=False, max_length=64),
            Field(
                "status",
                "choice",
                required=False,
                choices=_values(SolutionStatus),
                default=SolutionStatus.APPROVED.value,
            ),
        ),
        key=("solution_id",),
    ),
    "responses": FileFormat(
        "responses",
        (
            Field("response_id", "code", not_empty=True, max_length=100),
            Field("unit_id", "code", not_empty=True, max_length=64),
            Field("responded_at", "datetime", not_empty=True, date_name="responded_on"),
            Field("overall", "number", not_empty=True),
            Field("comment", "text", required=False),
        ),
        key=("response_id",),
        extra_numeric=True,
        note=N_(
            "overall and every driver score must lie on its metric's scale: 0–10 unless a CX "
            "lead set another on the metrics page or in targets.csv (min, max)."
        ),
    ),
    "operations": FileFormat(
        "operations",
        (
            Field("unit_id", "code", not_empty=True, max_length=64),
            Field("date", "date", not_empty=True),
            Field("metric", "code", not_empty=True, max_length=64),
            Field("value", "number", not_empty=True),
        ),
        key=("unit_id", "date", "metric"),
        note=N_(
            "A new metric is created unbounded; a value must lie on its metric's scale when a "
            "CX lead set one (metrics page, or targets.csv min and max)."
        ),
    ),
    "adoptions": FileFormat(
        "adoptions",
        (
            Field("unit_id", "code", not_empty=True, max_length=64),
            Field("solution_id", "code", not_empty=True, max_length=64),
            Field("adopted_on", "date", required=False),
            Field("challenge_id", "code", required=False, max_length=64),
            Field(
                "status",
                "choice",
                required=False,
                choices=_values(AdoptionStatus),
                default=AdoptionStatus.IMPLEMENTED.value,
            ),
        ),
        key=("unit_id", "solution_id"),
    ),
    "signals": FileFormat(
        "signals",
        (
            Field("challenge_id", "code", not_empty=True, max_length=64),
            Field("metric", "code", not_empty=True, max_length=64),
            Field("direction", "choice", not_empty=True, choices=_values(SignalDirection)),
            # A threshold means nothing without its kind: an absent column is peer_sd too.
            Field(
                "threshold_kind",
                "choice",
                required=False,
                choices=_values(ThresholdKind),
                default=ThresholdKind.PEER_SD.value,
            ),
            Field("threshold", "number", not_empty=True),
        ),
        key=("challenge_id", "metric", "direction"),
        note=N_(
            "The challenge shows at a unit when the metric is below (or above) the threshold: "
            "a fixed value (absolute), a number of peer standard deviations from the peers' "
            "mean (peer_sd, more than 0), or the worst percentage of peer units "
            "(peer_percentile, between 0 and 100). The metric must already exist: survey "
            "driver columns of responses.csv, metrics of operations.csv, or overall."
        ),
    ),
    "targets": FileFormat(
        "targets",
        (
            Field("metric", "code", not_empty=True, max_length=64),
            # Required, except on a row that sets the scale (min or max) only.
            Field("target", "number"),
            Field("label", "text", required=False, max_length=200),
            Field("higher_is_better", "boolean", required=False),
            Field("min", "number", required=False),
            Field("max", "number", required=False),
            Field("kind", "choice", required=False, choices=_values(MetricKind)),
        ),
        key=("metric",),
        note=N_(
            "Sets the target (and optionally the label, direction and scale) of metrics that "
            "already exist: survey driver columns of responses.csv, metrics of operations.csv, "
            "or overall. An empty label, higher_is_better, min or max leaves the stored value "
            "as it is; the target may be empty on a row that sets min or max. min and max are "
            "the metric's scale: imported values outside it are refused (survey scores start on "
            "0–10, operational inputs unbounded). kind (driver or operational) declares a metric "
            "that does not exist yet, so that its scale is set before its data comes; overall "
            "can always be named. higher_is_better: true/false, yes/no or 1/0."
        ),
    ),
}

TRUE_WORDS = frozenset({"true", "yes", "1", "vrai", "oui"})
FALSE_WORDS = frozenset({"false", "no", "0", "faux", "non"})

METRIC_CODE = re.compile(r"[a-z][a-z0-9_]{0,63}")
