"""Curating the metrics: their labels, which way is better, their targets and their scales.

The scale rules are shared with the targets import (``imports/loaders/targets.py``): a scale is finite
with min < max, the target lies on it, and a scale never shrinks past stored data or the
absolute threshold of a signal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from babel.numbers import format_decimal
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy.orm import Session

from cxactions.audit.services import record
from cxactions.foundations.changes import RefusedChange, change_transaction
from cxactions.foundations.scales import (
    contains,
    describe_scale,
    number_problem,
    on_scale,
    scale_problem,
)
from cxactions.foundations.translation import format_number, locale
from cxactions.foundations.vocabulary import MetricKind, ThresholdKind, label_of
from cxactions.surveys.models import Metric, OperationValue, Response
from cxactions.taxonomy.models import Challenge, ChallengeSignal

Scale = tuple[float | None, float | None]
# Form field of each side of the scale (and of the scale's own problems).
SCALE_FIELDS = {"min": "scale_min", "max": "scale_max"}


def _figure(value: float) -> str:
    """A stored value or threshold as people write it in their language (7, 7.5 / 7,5)."""
    return format_decimal(value, format="#,##0.######", locale=locale())


def all_metrics(session: Session) -> list[Metric]:
    """Every metric: the outcome first, then drivers, then operational inputs, by code."""
    order = sa.case({"outcome": 0, "driver": 1}, value=Metric.kind, else_=2)
    return list(session.scalars(sa.select(Metric).order_by(order, Metric.code)))


@dataclass(frozen=True)
class StoredRange:
    """The stored values of a metric: how many lie outside a scale, and their extremes."""

    outside: int
    lowest: float | None
    highest: float | None


def _stored_values(metric_id: int, kind: MetricKind | str, code: str):
    """``(value column, from clause filter)`` for a metric's stored values."""
    kind = MetricKind(getattr(kind, "value", kind))
    if kind == MetricKind.OUTCOME:
        return Response.overall, Response.overall.is_not(None)
    if kind == MetricKind.DRIVER:
        value = Response.scores[code].as_float()
        return value, value.is_not(None)
    return OperationValue.value, OperationValue.metric_id == metric_id


def stored_range(
    session: Session, metric_id: int, kind: MetricKind | str, code: str, scale: Scale
) -> StoredRange:
    """How many stored values (responses or operational values) lie off ``scale``."""
    value, present = _stored_values(metric_id, kind, code)
    low, high = scale
    off = []
    if low is not None:
        off.append(value < low)
    if high is not None:
        off.append(value > high)
    outside = sa.func.count(sa.case((sa.or_(*off), 1))) if off else sa.literal(0)
    row = session.execute(
        sa.select(outside, sa.func.min(value), sa.func.max(value)).where(present)
    ).one()
    return StoredRange(int(row[0] or 0), row[1], row[2])


def signals_off_scale(session: Session, metric_id: int, scale: Scale) -> list[str]:
    """The absolute signal thresholds of a metric that lie off ``scale`` (``C-X above 8``)."""

    rows = session.execute(
        sa.select(Challenge.code, ChallengeSignal.direction, ChallengeSignal.threshold)
        .join(Challenge, Challenge.id == ChallengeSignal.challenge_id)
        .where(
            ChallengeSignal.metric_id == metric_id,
            ChallengeSignal.threshold_kind == ThresholdKind.ABSOLUTE,
        )
        .order_by(Challenge.code)
    ).all()
    return [
        f"{code} {label_of(direction).lower()} {_figure(threshold)}"
        for code, direction, threshold in rows
        if not on_scale(threshold, *scale)
    ]


def scale_change_problems(
    session: Session,
    metric_id: int | None,
    code: str,
    kind: MetricKind | str,
    old: Scale,
    new: Scale,
) -> list[tuple[str, str]]:
    """``(side, why)`` for each reason the scale of a metric may not become ``new``.

    A scale that only widens is always fine (stored data lie on the old one); otherwise stored
    values and absolute signal thresholds must lie on the new one. ``side`` is ``min`` or
    ``max`` (the side that shrank).
    """
    if metric_id is None or contains(new, old):
        return []
    side = "min" if not contains((new[0], None), (old[0], None)) else "max"
    problems = []
    stored = stored_range(session, metric_id, kind, code, new)
    if stored.outside:
        problems.append(
            (
                side,
                ngettext(
                    "%(count)s stored value of %(metric)s lies outside %(scale)s (stored values "
                    "range from %(lowest)s to %(highest)s): choose a scale that holds them, or "
                    "correct the data first",
                    "%(count)s stored values of %(metric)s lie outside %(scale)s (stored values "
                    "range from %(lowest)s to %(highest)s): choose a scale that holds them, or "
                    "correct the data first",
                    stored.outside,
                    count=format_number(stored.outside),
                    metric=code,
                    scale=describe_scale(*new),
                    lowest=_figure(stored.lowest),
                    highest=_figure(stored.highest),
                ),
            )
        )
    thresholds = signals_off_scale(session, metric_id, new)
    if thresholds:
        problems.append(
            (
                side,
                ngettext(
                    "the absolute threshold of %(num)d signal of %(metric)s lies outside "
                    "%(scale)s (%(thresholds)s): change it first",
                    "the absolute threshold of %(num)d signals of %(metric)s lies outside "
                    "%(scale)s (%(thresholds)s): change them first",
                    len(thresholds),
                    metric=code,
                    scale=describe_scale(*new),
                    thresholds=", ".join(thresholds[:5]),
                ),
            )
        )
    return problems


def update_metric(
    session: Session, metric: Metric, changes: Mapping[str, Any], user: Any = None
) -> bool:
    """Apply ``label``, ``target`` (None clears it), ``higher_is_better`` and, when given,
    ``scale_min`` / ``scale_max`` (None opens that side); committed and audited. Returns whether
    anything changed; RefusedChange (nothing written) on bad input.

    Numbers must be finite; the scale needs min < max, the target must lie on it, and a scale
    that shrinks must still hold every stored value and absolute signal threshold.
    """
    label = (changes.get("label") or "").strip() or None
    if label is not None and len(label) > 200:
        raise RefusedChange(_("Keep the label to 200 characters."), "label")
    numbers = {}
    for name in ("target", "scale_min", "scale_max"):
        if name not in changes and name != "target":
            numbers[name] = getattr(metric, name)
            continue
        value = changes.get(name)
        problem = None if value is None else number_problem(value)
        if problem:
            if name == "target":
                message = _("A target must be a finite number: %(problem)s.", problem=problem)
            else:
                message = _("The scale must be a finite number: %(problem)s.", problem=problem)
            raise RefusedChange(message, name)
        numbers[name] = None if value is None else float(value)
    scale = (numbers["scale_min"], numbers["scale_max"])
    problem = scale_problem(*scale)
    if problem:
        which, why = problem
        raise RefusedChange.from_phrase(why, SCALE_FIELDS[which])
    target = numbers["target"]
    if target is not None and not on_scale(target, *scale):
        raise RefusedChange(
            _(
                "The target %(target)s is outside the scale (%(scale)s).",
                target=_figure(target),
                scale=describe_scale(*scale),
            ),
            "target",
        )
    wanted = {
        "label": label,
        "target": target,
        "higher_is_better": bool(changes.get("higher_is_better", metric.higher_is_better)),
        "scale_min": scale[0],
        "scale_max": scale[1],
    }
    before = {name: getattr(metric, name) for name in wanted}
    if before == wanted:
        return False
    old = (metric.scale_min, metric.scale_max)
    for which, why in scale_change_problems(
        session, metric.id, metric.code, metric.kind, old, scale
    ):
        raise RefusedChange.from_phrase(why, SCALE_FIELDS[which])
    with change_transaction(session, True):
        for name, value in wanted.items():
            setattr(metric, name, value)
        record(
            session,
            "metric.update",
            "metric",
            metric.id,
            user=user,
            details={"code": metric.code, "before": before, "after": wanted},
        )
    return True
