"""Keeping the index in step with the database: the outbox and the process that drains it.

Any flush that creates, edits or deletes a solution or a challenge also writes outbox rows, in
the same transaction: a rollback leaves none. After a successful commit the committing process
drains the outbox into the index. A process that dies between its commit and the index write
leaves its rows behind; the next drain (any commit, any search, ``cxactions reindex``) applies
them. Draining reads documents from the database as they are *now*, so applying a row twice,
or late, is harmless.
"""

from __future__ import annotations

import logging
import time

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session, attributes

from cxactions.foundations.db_types import utcnow
from cxactions.library.models import Solution, solution_challenges
from cxactions.search import index
from cxactions.search.models import SearchOutbox
from cxactions.taxonomy.models import Challenge

log = logging.getLogger(__name__)

PENDING = "search_outbox_pending"  # session.info: (type, id) pairs this flush must record
WRITTEN = "search_outbox_written"  # session.info: this transaction wrote outbox rows
BATCH = 5000
# Above this many documents in one import, a full rebuild is faster than updates one by one.
REBUILD_ABOVE = 2000


def enqueue(session: Session, doc_type: str, ids) -> None:
    """Record index work for rows written without the ORM (bulk imports)."""
    rows = [{"doc_type": doc_type, "doc_id": int(doc_id), "created_at": utcnow()} for doc_id in ids]
    if len(rows) > REBUILD_ABOVE:
        rows = [{"doc_type": "all", "doc_id": None, "created_at": utcnow()}]
    if rows:
        session.execute(sa.insert(SearchOutbox), rows)
        session.info[WRITTEN] = True


def enqueue_everything(session: Session) -> None:
    """Ask for a full rebuild once this transaction commits."""
    session.execute(
        sa.insert(SearchOutbox), [{"doc_type": "all", "doc_id": None, "created_at": utcnow()}]
    )
    session.info[WRITTEN] = True


# --- Session events -------------------------------------------------------------------------


def _before_flush(session: Session, flush_context, instances) -> None:
    # A deleted challenge loses its mapping rows in the flush: note its solutions first.
    pending: set[tuple[str, int]] = session.info.setdefault(PENDING, set())
    for obj in session.deleted:
        if isinstance(obj, Challenge) and obj.id is not None:
            solution_ids = session.execute(
                sa.select(solution_challenges.c.solution_id).where(
                    solution_challenges.c.challenge_id == obj.id
                )
            ).scalars()
            pending.update(("solution", solution_id) for solution_id in solution_ids)


def _after_flush(session: Session, flush_context) -> None:
    pending: set[tuple[str, int]] = session.info.pop(PENDING, set())
    for obj in session.new | session.deleted:
        _note(obj, pending)
    for obj in session.dirty:
        if isinstance(obj, Solution | Challenge) and session.is_modified(obj):
            _note(obj, pending)
            if isinstance(obj, Challenge):
                # Solutions added to or removed from the challenge's side of the mapping.
                history = attributes.get_history(obj, "solutions")
                for solution in (*history.added, *history.deleted):
                    if solution.id is not None:
                        pending.add(("solution", solution.id))
    if not pending:
        return
    session.connection().execute(
        sa.insert(SearchOutbox),
        [
            {"doc_type": doc_type, "doc_id": doc_id, "created_at": utcnow()}
            for doc_type, doc_id in sorted(pending)
        ],
    )
    session.info[WRITTEN] = True


def _note(obj, pending: set[tuple[str, int]]) -> None:
    if isinstance(obj, Solution) and obj.id is not None:
        pending.add(("solution", obj.id))
    elif isinstance(obj, Challenge) and obj.id is not None:
        pending.add(("challenge", obj.id))


def _after_commit(session: Session) -> None:
    if not session.info.pop(WRITTEN, False):
        return
    try:
        if not has_app_context() or current_app.config.get("SEARCH_SYNC") == "off":
            return
        path = current_app.config["SEARCH_INDEX_PATH"]
        timeout = float(current_app.config.get("SEARCH_LOCK_TIMEOUT", 10.0))
        drain(session.get_bind(), path, timeout=timeout)
    except Exception:  # the database has the change; the outbox keeps it for the next drain
        log.exception("the search index could not follow a commit; the outbox keeps the change")


def _after_rollback(session: Session, previous_transaction) -> None:
    if previous_transaction.nested:
        return  # a savepoint: the outer transaction's outbox rows still stand
    session.info.pop(WRITTEN, None)
    session.info.pop(PENDING, None)


def install() -> None:
    """Listen to every session (once per process)."""
    if event.contains(Session, "after_flush", _after_flush):
        return
    event.listen(Session, "before_flush", _before_flush)
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "after_commit", _after_commit)
    event.listen(Session, "after_soft_rollback", _after_rollback)


# --- Draining -------------------------------------------------------------------------------


def drain(bind, path: str, *, timeout: float = 10.0) -> int:
    """Apply every outbox row to the index; returns the number of rows settled.

    Raises :class:`index.IndexBusy` when another process holds the index for longer than
    ``timeout`` (that process drains the outbox before it lets go).
    """
    settled = 0
    with index.writing_lock(path, timeout), Session(bind=bind) as session:
        if not index.is_current(path):
            log.warning(
                "search index at %s is missing, unreadable or outdated: rebuilding it", path
            )
            index.rebuild_locked(session, path)
        while True:
            rows = session.execute(
                sa.select(SearchOutbox.id, SearchOutbox.doc_type, SearchOutbox.doc_id)
                .order_by(SearchOutbox.id)
                .limit(BATCH)
            ).all()
            session.commit()  # a fresh snapshot for the documents read next
            if not rows:
                return settled
            if any(row.doc_type == "all" for row in rows):
                index.rebuild_locked(session, path)  # settles every row up to now
                settled += len(rows)
                continue
            solutions = {row.doc_id for row in rows if row.doc_type == "solution"}
            challenges = {row.doc_id for row in rows if row.doc_type == "challenge"}
            index.apply_changes(session, path, solutions, challenges)
            ids = [row.id for row in rows]
            for start in range(0, len(ids), 500):
                session.execute(
                    sa.delete(SearchOutbox).where(SearchOutbox.id.in_(ids[start : start + 500]))
                )
            session.commit()
            settled += len(rows)


def rebuild(bind, path: str, *, timeout: float = 60.0) -> int:
    """Rebuild the index from scratch, then apply what arrived meanwhile; returns documents."""
    with index.writing_lock(path, timeout), Session(bind=bind) as session:
        count = index.rebuild_locked(session, path)
    drain(bind, path, timeout=timeout)
    return count


def pending_count(bind) -> int:
    with Session(bind=bind) as session:
        return int(session.scalar(sa.select(sa.func.count()).select_from(SearchOutbox)) or 0)


class OutboxWatch:
    """Lets searches notice, at most once per ``interval`` seconds, work a writer left behind."""

    def __init__(self, interval: float = 1.0) -> None:
        self.interval = interval
        self.checked_at = 0.0

    def due(self) -> bool:
        now = time.monotonic()
        if now - self.checked_at < self.interval:
            return False
        self.checked_at = now
        return True
