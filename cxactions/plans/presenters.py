"""What a plan item's page shows of its history: each change as who, when, what, before → after,
in the reader's language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from cxactions.foundations.translation import N_, _, format_day
from cxactions.foundations.vocabulary import label_of
from cxactions.plans.models import Adoption, AdoptionEvent

# What each kind of change is called in the history.
ACTIONS = {
    "create": N_("Added to the plan"),
    "readopt": N_("Adopted again"),
    "start": N_("Started"),
    "implement": N_("Marked implemented"),
    "abandon": N_("Abandoned"),
    "reopen": N_("Reopened"),
    "edit": N_("Details changed"),
    "tick": N_("Step ticked"),
    "untick": N_("Step unticked"),
    "add_step": N_("Step added"),
    "merge": N_("Merged"),
    "import": N_("Changed by an import"),
}
FIELDS = {
    "status": N_("Status"),
    "owner": N_("Owner"),
    "due_on": N_("Due date"),
    "effective_on": N_("Took effect on"),
    "challenge": N_("Challenge"),
    "notes": N_("Notes"),
    "status_reason": N_("Reason"),
    "step": N_("Step"),
    "unit": N_("Unit"),
    "solution": N_("Solution"),
}


@dataclass(frozen=True)
class Change:
    field: str
    before: str | None
    after: str | None


@dataclass(frozen=True)
class HistoryRow:
    at: datetime
    who: str
    action: str
    changes: list[Change]
    note: str | None


def _value(field: str, value: object) -> str | None:
    if value is None or value == "" or isinstance(value, dict | list):
        return None
    if field == "status":
        return label_of(value)
    if field in ("due_on", "effective_on") and isinstance(value, str):
        try:
            return format_day(date.fromisoformat(value))
        except ValueError:
            return value
    return str(value)


def _who(event: AdoptionEvent) -> str:
    if event.user is not None:
        return event.user.display_name
    return event.actor or _("the system")


def history(item: Adoption) -> list[HistoryRow]:
    """The item's changes, newest first."""
    rows = []
    for event in sorted(item.events, key=lambda e: (e.at, e.id or 0), reverse=True):
        changes = [
            Change(
                _(FIELDS[field]) if field in FIELDS else field,
                _value(field, pair[0]) if isinstance(pair, list | tuple) else None,
                _value(field, pair[1]) if isinstance(pair, list | tuple) else _value(field, pair),
            )
            for field, pair in (event.changes or {}).items()
        ]
        action = _(ACTIONS[event.action]) if event.action in ACTIONS else event.action
        rows.append(HistoryRow(event.at, _who(event), action, changes, event.note))
    return rows
