"""The audit trail: recording changes inside the caller's transaction, and reading them back
(filtered, newest first, a page at a time or every row for the CSV)."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from cxactions.audit.models import AuditEvent
from cxactions.auth.models import User
from cxactions.foundations.csv_export import EXPORT_BATCH, safe_text
from cxactions.foundations.paging import MAX_PAGE, Pages, id_from
from cxactions.foundations.translation import _

PER_PAGE = 50


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


# --- Reading the trail --------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilters:
    """Which events the trail shows; nothing set means every event.

    ``who`` is a user's id or part of the recorded actor (an email, ``cli``, ``demo``); the
    dates are inclusive days in UTC, the time the events are stored in.
    """

    who: str = ""
    entity_type: str = ""
    entity_id: str = ""
    date_from: date | None = None
    date_to: date | None = None

    def as_args(self) -> dict[str, str]:
        """The filters as query-string arguments (for page links and the CSV link)."""
        args = {
            "who": self.who,
            "type": self.entity_type,
            "object": self.entity_id,
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
        }
        return {name: value for name, value in args.items() if value}

    @property
    def active(self) -> bool:
        return bool(self.as_args())


@dataclass(frozen=True)
class FilterRequest:
    """The filters read from a query string, with what was typed (shown back in the form) and
    a message per argument that could not be read (``from``, ``to``)."""

    filters: AuditFilters
    typed: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)


def read_filters(args: Mapping[str, str]) -> FilterRequest:
    """The trail's filters from query-string ``args`` (``who``, ``type``, ``object``, ``from``,
    ``to``); a date that is not an ISO date, or a range that ends before it starts, is an error
    named by its argument, never an exception."""
    typed = {
        "who": (args.get("who") or "").strip()[:254],
        "type": (args.get("type") or "").strip()[:40],
        "object": (args.get("object") or "").strip()[:100],
        "from": (args.get("from") or "").strip()[:40],
        "to": (args.get("to") or "").strip()[:40],
    }
    errors: dict[str, str] = {}
    days: dict[str, date | None] = {}
    for name in ("from", "to"):
        days[name] = None
        if typed[name]:
            try:
                days[name] = date.fromisoformat(typed[name])
            except ValueError:
                errors[name] = _(
                    "“%(value)s” is not a date: write it as year-month-day, e.g. %(example)s.",
                    value=typed[name],
                    example="2026-05-04",
                )
    if days["from"] and days["to"] and days["from"] > days["to"]:
        errors["to"] = _("The end date is before the start date.")
    filters = AuditFilters(
        who=typed["who"],
        entity_type=typed["type"],
        entity_id=typed["object"],
        date_from=days["from"],
        date_to=days["to"],
    )
    return FilterRequest(filters, typed, errors)


def _conditions(filters: AuditFilters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.who:
        who = func.lower(AuditEvent.actor).contains(filters.who.lower(), autoescape=True)
        user_id = id_from(filters.who)
        if user_id is not None:
            who = or_(AuditEvent.user_id == user_id, who)
        conditions.append(who)
    if filters.entity_type:
        conditions.append(AuditEvent.entity_type == filters.entity_type)
    if filters.entity_id:
        conditions.append(AuditEvent.entity_id == filters.entity_id)
    if filters.date_from is not None:
        conditions.append(AuditEvent.at >= datetime.combine(filters.date_from, time.min))
    if filters.date_to is not None and filters.date_to < date.max:
        next_day = filters.date_to + timedelta(days=1)
        conditions.append(AuditEvent.at < datetime.combine(next_day, time.min))
    return conditions


NEWEST_FIRST = (AuditEvent.at.desc(), AuditEvent.id.desc())


@dataclass(frozen=True)
class EventPage(Pages):
    """One page of the trail, with the interface of the ``page_nav`` macro."""

    items: list[AuditEvent] = field(default_factory=list)
    total: int = 0
    per_page: int = PER_PAGE

    @property
    def reachable(self) -> int:
        """How many events the pages reach (the newest ones)."""
        return MAX_PAGE * self.per_page

    @property
    def capped(self) -> bool:
        """More events match than the pages reach: narrower filters show the rest."""
        return self.total > self.reachable


def find_events(
    session: Session, filters: AuditFilters, page: int = 1, per_page: int = PER_PAGE
) -> EventPage:
    """The events matching ``filters``, newest first: page ``page`` (at most ``MAX_PAGE``; past
    the end, the last page) of ``per_page``."""
    conditions = _conditions(filters)
    total = session.scalar(select(func.count()).select_from(AuditEvent).where(*conditions)) or 0
    pages = min(max(1, math.ceil(total / per_page)), MAX_PAGE)
    page = min(max(page, 1), pages)
    items = session.scalars(
        select(AuditEvent)
        .where(*conditions)
        .order_by(*NEWEST_FIRST)
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return EventPage(page, pages, list(items), total, per_page)


def entity_types(session: Session) -> list[str]:
    """The kinds of object the trail holds events about, for the filter."""
    return list(
        session.scalars(select(AuditEvent.entity_type).distinct().order_by(AuditEvent.entity_type))
    )


EXPORT_COLUMNS = ("at", "actor", "user_email", "action", "entity_type", "entity_id", "details")


def export_rows(session: Session, filters: AuditFilters) -> Iterator[list[Any]]:
    """Every event matching ``filters`` as a row of ``EXPORT_COLUMNS``, newest first, read
    ``EXPORT_BATCH`` rows at a time. ``user_email`` is the user's email now (empty for the
    command line and the system); ``details`` is the recorded JSON."""
    query = (
        select(
            AuditEvent.at,
            AuditEvent.actor,
            User.email,
            AuditEvent.action,
            AuditEvent.entity_type,
            AuditEvent.entity_id,
            AuditEvent.details,
        )
        .outerjoin(User, User.id == AuditEvent.user_id)
        .where(*_conditions(filters))
        .order_by(*NEWEST_FIRST)
    )
    result = session.execute(query, execution_options={"yield_per": EXPORT_BATCH})
    for at, actor, email, action, entity_type, entity_id, details in result:
        yield [
            at.replace(microsecond=0).isoformat() + "Z",
            safe_text(actor),
            safe_text(email),
            safe_text(action),
            safe_text(entity_type),
            safe_text(entity_id),
            "" if details is None else safe_text(json.dumps(details, ensure_ascii=False)),
        ]
