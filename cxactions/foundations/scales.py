"""Numbers people type: finite, sensibly sized, and on their metric's scale.

Pure on purpose (no Flask, no SQLAlchemy): the CSV parsing, the import services, the forms and
the services of the metrics and signals pages all apply the same rules.

- A number must be finite and at most ``MAX_MAGNITUDE`` in size: ``nan``, ``inf`` and ``1e308``
  are refused (two values of ``1e308`` already add up to infinity in a weekly sum).
- Every metric has a scale ``(scale_min, scale_max)``, inclusive, either side ``None`` when open.
  Survey scores (the outcome ``overall`` and the driver columns) are created on 0–10;
  operational inputs are created unbounded.
"""

from __future__ import annotations

import math

from babel.numbers import get_decimal_symbol

from cxactions.foundations.translation import _, locale

# Beyond this, sums and sums of squares over millions of values stop being exact enough to
# mean anything and get close to overflowing: no score, duration or percentage comes near it.
MAX_MAGNITUDE = 1e15
SURVEY_SCALE = (0.0, 10.0)
OPEN_SCALE: tuple[float | None, float | None] = (None, None)
SURVEY_KINDS = ("outcome", "driver")


def _as_float(value: object) -> float | None:
    """``value`` as a float (ints, floats, Decimals; inf for an int too large), else None."""
    if isinstance(value, bool | str | bytes) or value is None:
        return None
    try:
        return float(value)
    except OverflowError:  # an int beyond any float
        return math.inf
    except (TypeError, ValueError):
        return None


def is_finite_number(value: object) -> bool:
    """True for a number that is finite and at most ``MAX_MAGNITUDE`` in size."""
    number = _as_float(value)
    return number is not None and math.isfinite(number) and abs(number) <= MAX_MAGNITUDE


def format_short(value: float) -> str:
    """A number as people type it, in the reader's language: 10, 1.5 (1,5 in French), 1e+15.

    Python's ``:g`` (no trailing zeros, exponent for the very large or small) with the
    language's decimal sign: the bounds and thresholds of messages are shown as they were given.
    """
    return f"{value:g}".replace(".", get_decimal_symbol(locale()))


def number_problem(value: object) -> str | None:
    """Why ``value`` is not a usable number (a phrase), or None."""
    number = _as_float(value)
    if number is None:
        return _("not a number")
    if math.isnan(number):
        return _("not a number (NaN)")
    if math.isinf(number):
        return _("not a finite number")
    if abs(number) > MAX_MAGNITUDE:
        return _(
            "too large: numbers must lie between -%(max)s and %(max)s",
            max=format_short(MAX_MAGNITUDE),
        )
    return None


def default_scale(kind: str) -> tuple[float | None, float | None]:
    """The scale a new metric of ``kind`` (a MetricKind value) is created with."""
    return SURVEY_SCALE if str(getattr(kind, "value", kind)) in SURVEY_KINDS else OPEN_SCALE


def describe_scale(low: float | None, high: float | None) -> str:
    """``0–10``, ``at least 0``, ``at most 100`` or ``any number`` (in the reader's language)."""
    if low is not None and high is not None:
        return f"{format_short(low)}–{format_short(high)}"
    if low is not None:
        return _("at least %(low)s", low=format_short(low))
    if high is not None:
        return _("at most %(high)s", high=format_short(high))
    return _("any number")


def on_scale(value: float, low: float | None, high: float | None) -> bool:
    return (low is None or value >= low) and (high is None or value <= high)


def scale_problem(low: float | None, high: float | None) -> tuple[str, str] | None:
    """``(which, why)`` when ``low``–``high`` is not a usable scale (``which``: min or max)."""
    if low is not None and not is_finite_number(low):
        return "min", _(
            "the scale's min must be a finite number (%(problem)s)", problem=number_problem(low)
        )
    if high is not None and not is_finite_number(high):
        return "max", _(
            "the scale's max must be a finite number (%(problem)s)", problem=number_problem(high)
        )
    if low is not None and high is not None and not low < high:
        return "max", _(
            "the scale's min (%(low)s) must be less than its max (%(high)s)",
            low=format_short(low),
            high=format_short(high),
        )
    return None


def contains(
    outer: tuple[float | None, float | None], inner: tuple[float | None, float | None]
) -> bool:
    """True when every value on the scale ``inner`` is on the scale ``outer``."""
    (outer_low, outer_high), (inner_low, inner_high) = outer, inner
    low_ok = outer_low is None or (inner_low is not None and inner_low >= outer_low)
    high_ok = outer_high is None or (inner_high is not None and inner_high <= outer_high)
    return low_ok and high_ok
