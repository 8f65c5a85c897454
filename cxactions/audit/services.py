"""Recording changes in the audit trail, inside the caller's transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from cxactions.audit.models import AuditEvent


def record(
    session: Session,
    action: str,
    entity_type: str,
    entity_id: object = None,
    *,
    user: Any = None,
    actor: str | None = None,
    details: dict | None = None,
) -> AuditEvent:
    """Add an audit event to ``session``; it commits (or rolls back) with the change it describes."""
    event = AuditEvent(
        user_id=getattr(user, "id", None),
        actor=actor or getattr(user, "email", None) or "system",
        action=action,
        entity_type=entity_type,
        entity_id=None if entity_id is None else str(entity_id),
        details=details,
    )
    session.add(event)
    return event
