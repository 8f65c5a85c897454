"""Who may do what: every access rule of the product, in one place.

Views call ``require_role`` or the named checks; templates use the same checks through
``can`` (registered as a template global), so a button is never shown for a forbidden action.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort, has_request_context, request
from flask_login import current_user

from cxactions.auth.models import Role, User
from cxactions.foundations.extensions import db
from cxactions.foundations.vocabulary import is_curator
from cxactions.library.models import Solution, SolutionStatus
from cxactions.units.models import Unit
from cxactions.units.services import unit_ids_in_scope


def require_role(role: Role) -> Callable:
    """Decorator: signed in (else redirect to login) and at least ``role`` (else 403)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                from cxactions.foundations.extensions import login_manager

                return login_manager.unauthorized()
            if not current_user.has_role(role):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def is_signed_in(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def can_import(user: Any) -> bool:
    return is_curator(user)


def can_manage_users(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.has_role(Role.ADMIN)


def can_see_retired(user: Any) -> bool:
    """Retired challenges and solutions stay out of sight, except for curators who ask."""
    return is_curator(user)


def can_view_solution(user: Any, solution: Solution) -> bool:
    """Approved solutions, and proposals waiting for review (colleagues vote and comment on
    them), are for everyone signed in; drafts, rejected and retired ones for their author and
    curators."""
    if not is_signed_in(user):
        return False
    if solution.status in (SolutionStatus.APPROVED, SolutionStatus.PENDING):
        return True
    if is_curator(user):
        return True
    return solution.author_id == user.id


def can_edit_proposal(user: Any, solution: Solution) -> bool:
    """Authors edit their own proposals while they wait for review (curators review them)."""
    return (
        is_signed_in(user)
        and solution.author_id == user.id
        and solution.status == SolutionStatus.PENDING
        and solution.merged_into_id is None
    )


def can_edit_unit_plan(user: Any, unit: Unit) -> bool:
    """Managers act on the units they are scoped to (and their subtree); curators on any."""
    if is_curator(user):
        return True
    if not getattr(user, "is_authenticated", False) or user.role != Role.MANAGER:
        return False
    return unit.id in _scope_ids(user)


def can_view_unit(user: Any, unit: Unit) -> bool:
    """Staff and managers see the units they are attached to (and their subtrees); CX leads and
    admins see every unit."""
    if not is_signed_in(user):
        return False
    if is_curator(user):
        return True
    return unit.id in _scope_ids(user)


def viewable_unit_ids(user: User) -> set[int] | None:
    """The units whose pages a user may open; ``None`` means every unit."""
    if is_curator(user):
        return None
    return set(_scope_ids(user))


def managed_unit_ids(user: User) -> set[int] | None:
    """The units a user's view is scoped to; ``None`` means every unit."""
    if user.role == Role.MANAGER:
        return set(_scope_ids(user))
    return None


def _scope_ids(user: User) -> frozenset[int]:
    """A manager's units and their subtrees, computed once per request (pages ask many times)."""
    if not has_request_context():
        return frozenset(unit_ids_in_scope(db.session, user))
    # Kept in the WSGI environ, not ``g``: ``g`` outlives a request when an app context is
    # already pushed (tests, CLI), and a manager's scope may change between requests.
    cache = request.environ.setdefault("cxactions.unit_scope", {})
    if user.id not in cache:
        cache[user.id] = frozenset(unit_ids_in_scope(db.session, user))
    return cache[user.id]


CHECKS: dict[str, Callable[..., bool]] = {
    "curate": is_curator,
    "import": can_import,
    "manage_users": can_manage_users,
    "see_retired": can_see_retired,
    "view_solution": can_view_solution,
    "edit_proposal": can_edit_proposal,
    "view_unit": can_view_unit,
    "edit_unit_plan": can_edit_unit_plan,
}


def can(action: str, *objects: Any) -> bool:
    """Template helper: ``{% if can('curate') %}`` asks the same rule as the view."""
    return CHECKS[action](current_user, *objects)


class Access(enum.StrEnum):
    """Who may use a route (every method of it), from the most open to the most closed."""

    PUBLIC = "public"  # anyone, signed in or not
    SIGNED_IN = "signed_in"  # every role, staff upwards
    UNIT_VIEWERS = "unit_viewers"  # signed in; a manager only for the units they look after
    UNIT_PLANNERS = "unit_planners"  # the unit's managers and CX leads (not staff)
    MANAGERS = "managers"  # managers (their own units only), CX leads and admins
    AUTHORS = "authors"  # signed in, and the author of the proposal or comment only
    CX_LEAD = "cx_lead"  # CX leads and admins
    ADMIN = "admin"


# Every route of the application and who may use it. The views enforce these rules (with
# ``require_role`` and the named checks above); tests/test_route_access.py calls every route
# with every method as every kind of user and compares the answers with this table, and fails
# when a route is missing from it.
ROUTE_ACCESS: dict[str, Access] = {
    "static": Access.PUBLIC,
    "web.home": Access.PUBLIC,
    "web.health": Access.PUBLIC,
    "auth.login": Access.PUBLIC,
    "auth.logout": Access.SIGNED_IN,
    "auth.change_own_password": Access.SIGNED_IN,
    "auth.set_language": Access.PUBLIC,
    "taxonomy.list_challenges": Access.SIGNED_IN,
    "taxonomy.show_challenge": Access.SIGNED_IN,
    "taxonomy.create_challenge": Access.CX_LEAD,
    "taxonomy.edit_challenge": Access.CX_LEAD,
    "taxonomy.map_solutions": Access.CX_LEAD,
    "taxonomy.merge_challenge": Access.CX_LEAD,
    "taxonomy.edit_signals": Access.CX_LEAD,
    "taxonomy.delete_signal": Access.CX_LEAD,
    "library.list_solutions": Access.SIGNED_IN,
    "library.show_solution": Access.SIGNED_IN,
    "library.create_solution": Access.CX_LEAD,
    "library.edit_solution": Access.CX_LEAD,
    "library.change_solution_status": Access.CX_LEAD,
    "library.merge_solution": Access.CX_LEAD,
    "units.list_units": Access.SIGNED_IN,
    "units.show_company": Access.SIGNED_IN,
    "units.show_unit": Access.UNIT_VIEWERS,
    "units.show_adoption": Access.UNIT_VIEWERS,
    "plans.find_solution": Access.UNIT_PLANNERS,
    "plans.adopt_solution": Access.UNIT_PLANNERS,
    "plans.show_item": Access.UNIT_VIEWERS,
    "plans.update_item": Access.UNIT_PLANNERS,
    "plans.start_item": Access.UNIT_PLANNERS,
    "plans.implement_item": Access.UNIT_PLANNERS,
    "plans.abandon_item": Access.UNIT_PLANNERS,
    "plans.reopen_item": Access.UNIT_PLANNERS,
    "plans.add_step": Access.UNIT_PLANNERS,
    "plans.tick_step": Access.UNIT_PLANNERS,
    "plans_rollup.show_plans": Access.MANAGERS,
    "plans_rollup.export_plans": Access.MANAGERS,
    "plans_rollup.show_unit_plans": Access.UNIT_PLANNERS,
    "plans_rollup.export_unit_plans": Access.UNIT_PLANNERS,
    "search.search_library": Access.SIGNED_IN,
    "search.search_json": Access.SIGNED_IN,
    "surveys.list_metrics": Access.SIGNED_IN,
    "surveys.update_metric": Access.CX_LEAD,
    "impact.show_leaderboard": Access.SIGNED_IN,
    "impact.export_leaderboard": Access.SIGNED_IN,
    "impact.show_solution_impact": Access.SIGNED_IN,
    "impact.show_methods": Access.SIGNED_IN,
    "impact.show_gaps": Access.SIGNED_IN,
    "impact.show_flagged": Access.CX_LEAD,
    "drivers.show_drivers": Access.SIGNED_IN,
    "imports.upload": Access.CX_LEAD,
    "crowd.propose": Access.SIGNED_IN,
    "crowd.edit_proposal": Access.AUTHORS,
    "crowd.list_proposals": Access.SIGNED_IN,
    "crowd.my_submissions": Access.SIGNED_IN,
    "crowd.vote": Access.SIGNED_IN,
    "crowd.follow": Access.SIGNED_IN,
    "crowd.add_comment": Access.SIGNED_IN,
    "crowd.add_tried": Access.SIGNED_IN,
    "crowd.edit_comment": Access.AUTHORS,
    "crowd.delete_comment": Access.AUTHORS,
    "crowd.report_comment": Access.SIGNED_IN,
    "crowd.list_notifications": Access.SIGNED_IN,
    "crowd.read_notifications": Access.SIGNED_IN,
    "crowd.email_notifications": Access.SIGNED_IN,
    "crowd.show_desk": Access.CX_LEAD,
    "crowd.approve": Access.CX_LEAD,
    "crowd.reject": Access.CX_LEAD,
    "crowd.edit_and_approve": Access.CX_LEAD,
    "crowd.moderate_comment": Access.CX_LEAD,
    "audit.list_events": Access.CX_LEAD,
    "audit.export_events": Access.CX_LEAD,
    "users.list_users": Access.ADMIN,
    "users.create_user": Access.ADMIN,
    "users.edit_user": Access.ADMIN,
    "users.reset_password": Access.ADMIN,
}
