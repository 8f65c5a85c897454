"""Keeping the cached impact estimates fresh without making anyone wait.

A page that reads estimates and finds them stale calls ``ensure_fresh``: it claims a run (a
"running" row, committed, so other requests and processes see it) and starts one daemon thread
that recomputes the estimates in its own application context. The request never waits for it
and never computes an estimate itself. ``IMPACT_BACKGROUND_REFRESH = False`` turns this off
(tests); ``cxactions refresh-impact`` still works.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable

from flask import Flask, current_app
from sqlalchemy.orm import Session

from cxactions.foundations.extensions import db
from cxactions.impact.services import (
    Freshness,
    ImpactSettings,
    claim_refresh,
    freshness,
    latest_attempt,
    refresh_impact,
)

TRIGGER = "page"
# Two requests of one process may find the estimates stale at the same moment: only one claims.
_claim_lock = threading.Lock()


def should_refresh(session: Session, fresh: Freshness) -> bool:
    """Stale, nothing under way, some data to estimate from, and not already failed on it."""
    if not fresh.stale or fresh.running or fresh.data_version == 0:
        return False
    attempt = latest_attempt(session)
    # A run that failed on this very data would fail again: wait for new data or the CLI.
    return not (
        attempt is not None
        and attempt.status == "failed"
        and attempt.data_version >= fresh.data_version
    )


def ensure_fresh(
    app: Flask, session: Session, fresh: Freshness | None = None
) -> tuple[Freshness, bool]:
    """The estimates' freshness, after starting one background refresh if they are stale.

    Returns the freshness to show (``running`` once a refresh was started) and whether this
    call started one.
    """
    fresh = fresh or freshness(session)
    if not app.config.get("IMPACT_BACKGROUND_REFRESH", True):
        return fresh, False
    if not should_refresh(session, fresh):
        return fresh, False
    settings = ImpactSettings.from_config(app.config)
    with _claim_lock:
        run_id = claim_refresh(session, settings, TRIGGER)
    if run_id is None:  # someone else claimed it in between: it is under way
        return dataclasses.replace(fresh, running=True), False
    start_thread(app, settings, run_id)
    return dataclasses.replace(fresh, running=True), True


def current_freshness(session: Session) -> Freshness:
    """For a page about to show estimates: their freshness, after starting one background
    refresh when they are stale."""

    fresh, _ = ensure_fresh(current_app._get_current_object(), session)
    return fresh


def refresh_in_app_context(app: Flask, settings: ImpactSettings, run_id: int) -> None:
    """The thread's work: compute and store the claimed run in a fresh application context."""

    with app.app_context():
        try:
            refresh_impact(db.session, settings, trigger=TRIGGER, run_id=run_id)
        except Exception:  # recorded on the run by refresh_impact; logged here for operators
            app.logger.exception("background impact refresh (run %s) failed", run_id)
        finally:
            db.session.remove()


def _start_daemon(app: Flask, settings: ImpactSettings, run_id: int) -> None:
    thread = threading.Thread(
        target=refresh_in_app_context,
        args=(app, settings, run_id),
        name=f"impact-refresh-{run_id}",
        daemon=True,
    )
    thread.start()


# Replaced in tests to run the work synchronously or to record the starts.
start_thread: Callable[[Flask, ImpactSettings, int], None] = _start_daemon
