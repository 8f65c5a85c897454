"""Curating the metrics: their labels, which way is better, and their targets."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cxactions.audit.services import record
from cxactions.library.services import CurationError, curation_transaction
from cxactions.surveys.models import Metric


def all_metrics(session: Session) -> list[Metric]:
    """Every metric: the outcome first, then drivers, then operational inputs, by code."""
    order = sa.case({"outcome": 0, "driver": 1}, value=Metric.kind, else_=2)
    return list(session.scalars(sa.select(Metric).order_by(order, Metric.code)))


def update_metric(
    session: Session, metric: Metric, changes: Mapping[str, Any], user: Any = None
) -> bool:
    """Apply ``label``, ``target`` (None clears it) and ``higher_is_better``; committed and
    audited. Returns whether anything changed; CurationError (nothing written) on bad input."""
    label = (changes.get("label") or "").strip() or None
    if label is not None and len(label) > 200:
        raise CurationError("Keep the label to 200 characters.", "label")
    target = changes.get("target")
    if target is not None and not isinstance(target, int | float):
        raise CurationError("A target is a number.", "target")
    wanted = {
        "label": label,
        "target": None if target is None else float(target),
        "higher_is_better": bool(changes.get("higher_is_better", metric.higher_is_better)),
    }
    before = {name: getattr(metric, name) for name in wanted}
    if before == wanted:
        return False
    with curation_transaction(session, True):
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
