"""What the audit trail page shows of an event: its details as lines of before → after or
name: value, and the page of the object it is about."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from flask import url_for

from cxactions.audit.models import AuditEvent
from cxactions.foundations.translation import N_, NO_VALUE, _
from cxactions.foundations.vocabulary import label_of

# The two halves of a change as events record them: {"from": a, "to": b}, {"before": ...}.
PAIRS = (("from", "to"), ("before", "after"))
PARTNERS = dict(PAIRS)
# Words for the keys events record most; any other key is shown humanised ("rows_moved" →
# "Rows moved").
FIELDS = {
    "code": N_("Code"),
    "title": N_("Title"),
    "name": N_("Name"),
    "name_fr": N_("French name"),
    "status": N_("Status"),
    "note": N_("Note"),
    "notes": N_("Notes"),
    "status_reason": N_("Reason"),
    "fields": N_("Fields changed"),
    "into": N_("Merged into"),
    "from": N_("From"),
    "parent": N_("Parent"),
    "kind": N_("Kind"),
    "summary": N_("Summary"),
    "steps": N_("Steps"),
    "language": N_("Language"),
    "category": N_("Category"),
    "effort": N_("Effort"),
    "cost": N_("Cost"),
    "keywords": N_("Keywords"),
    "source": N_("Source"),
    "label": N_("Label"),
    "target": N_("Target"),
    "higher_is_better": N_("Higher is better"),
    "scale_min": N_("Scale minimum"),
    "scale_max": N_("Scale maximum"),
    "metric": N_("Metric"),
    "direction": N_("Direction"),
    "threshold_kind": N_("Threshold kind"),
    "threshold": N_("Threshold"),
    "challenge": N_("Challenge"),
    "challenges": N_("Challenges"),
    "solution": N_("Solution"),
    "unit": N_("Unit"),
    "units": N_("Units"),
    "owner": N_("Owner"),
    "due_on": N_("Due date"),
    "email": N_("Email"),
    "role": N_("Role"),
    "password_changed": N_("Password changed"),
    "sessions_ended": N_("Sessions ended"),
    "file": N_("File"),
    "rows_read": N_("Rows read"),
    "rows_inserted": N_("Rows inserted"),
    "rows_updated": N_("Rows updated"),
    "errors": N_("Errors"),
}
# A value longer than this is cut on the page (the CSV has it whole).
LONGEST = 300


@dataclass(frozen=True)
class DetailLine:
    """One line of an event's details: ``name`` (empty for the event's own before → after)
    went from ``before`` to ``after`` when ``changed``, else it is ``value``."""

    name: str
    value: str = ""
    before: str = ""
    after: str = ""
    changed: bool = False


def _text(value: object) -> str:
    """A recorded value as plain text (the template escapes it)."""
    if value is None or value == "" or value == []:
        text = NO_VALUE
    elif isinstance(value, bool):
        text = _("yes") if value else _("no")
    elif isinstance(value, list | tuple):
        text = ", ".join(_text(item) for item in value)
    elif isinstance(value, Mapping):
        text = json.dumps(value, ensure_ascii=False, default=str)
    else:
        text = str(value)
    return text if len(text) <= LONGEST else text[: LONGEST - 1] + "…"


def _change(name: str, before: object, after: object) -> DetailLine:
    return DetailLine(_name(name), before=_text(before), after=_text(after), changed=True)


def _fact(name: str, value: object) -> DetailLine:
    return DetailLine(_name(name), value=_text(value))


def _name(key: str) -> str:
    if not key:
        return ""
    return _(FIELDS[key]) if key in FIELDS else label_of(key)


def _pair(value: object, *, lists: bool) -> tuple[object, object] | None:
    """``value`` as (before, after) when it is a recorded change: ``{"from": a, "to": b}``,
    ``{"before": a, "after": b}``, or (when ``lists``) ``[a, b]``."""
    if isinstance(value, Mapping) and len(value) == 2:
        for old, new in PAIRS:
            if old in value and new in value:
                return value[old], value[new]
    if lists and isinstance(value, list | tuple) and len(value) == 2:
        return value[0], value[1]
    return None


def _compared(name: str, before: object, after: object) -> list[DetailLine]:
    """The lines of a before and an after: field by field when both are objects (the fields
    that differ), else one change."""
    if not (isinstance(before, Mapping) and isinstance(after, Mapping)):
        return [_change(name, before, after)]
    keys = [*before, *(key for key in after if key not in before)]
    return [
        _change(key, before.get(key), after.get(key))
        for key in keys
        if before.get(key) != after.get(key)
    ]


def describe_details(details: object) -> list[DetailLine]:
    """An event's details as lines, in their recorded order: ``from``/``to`` and
    ``before``/``after`` (whole objects compared field by field) as changes, ``changes`` as
    one change per field (``[before, after]``), a field recorded as ``{"from", "to"}`` as its
    change, anything else as name: value."""
    if details is None or details == {}:
        return []
    if not isinstance(details, Mapping):
        return [_fact("", details)]
    lines: list[DetailLine] = []
    used: set[str] = set()
    for key, value in details.items():
        if key in used:
            continue
        partner = PARTNERS.get(key)
        if partner is not None and partner in details:
            used.add(partner)
            lines.extend(_compared("", value, details[partner]))
        elif key == "changes" and isinstance(value, Mapping):
            for name, change in value.items():
                pair = _pair(change, lists=True)
                lines.append(_change(name, *pair) if pair else _fact(name, change))
        elif (pair := _pair(value, lists=False)) is not None:
            lines.append(_change(key, *pair))
        else:
            lines.append(_fact(key, value))
    return lines


def event_lines(event: AuditEvent) -> list[DetailLine]:
    """The lines of an event's details, but its code, which names the object beside them."""
    details = event.details
    if _recorded(event, "code"):
        details = {key: value for key, value in details.items() if key != "code"}
    return describe_details(details)


def object_label(event: AuditEvent) -> str:
    """How the page names the object: its code when the event recorded one, else its id."""
    code = _recorded(event, "code")
    if code:
        return code
    return f"#{event.entity_id}" if event.entity_id else ""


def object_url(event: AuditEvent) -> str | None:
    """The page of the object an event is about, when it has one and the event says which."""
    code = _recorded(event, "code")
    if event.entity_type == "solution" and code:
        return url_for("library.show_solution", code=code)
    if event.entity_type == "challenge" and code:
        return url_for("taxonomy.show_challenge", code=code)
    if event.entity_type == "unit" and code:
        return url_for("units.show_unit", code=code)
    unit = _recorded(event, "unit")
    item = event.entity_id or ""
    if event.entity_type == "adoption" and unit and item.isascii() and item.isdigit():
        return url_for("plans.show_item", code=unit, item_id=int(item))
    return None


def _recorded(event: AuditEvent, key: str) -> str | None:
    """A text the event's details hold under ``key``, if any."""
    details = event.details
    value = details.get(key) if isinstance(details, Mapping) else None
    return value if isinstance(value, str) and value else None
