"""One search service for the search page, the plan's "find a solution" step, the JSON endpoint
and ``cxactions search``: the engine, with the index kept ready and the database's extras
(measured impact for sorting, text for snippets).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from cxactions.foundations.extensions import db
from cxactions.foundations.translation import in_reader_language
from cxactions.impact.models import ImpactEstimate
from cxactions.impact.services import latest_run
from cxactions.language.tagging import keyword_phrases
from cxactions.library.models import Solution
from cxactions.search import engine, index, sync
from cxactions.search.engine import SearchOptions, SearchResult, SearchUnavailable
from cxactions.search.models import SearchOutbox
from cxactions.taxonomy.models import Challenge

log = logging.getLogger(__name__)

__all__ = ["SearchOptions", "SearchResult", "SearchUnavailable", "search", "rebuild_index"]

_watch = sync.OutboxWatch()
_watch_lock = threading.Lock()


def index_path() -> str:
    return current_app.config["SEARCH_INDEX_PATH"]


def search(
    session: Session,
    query: str,
    options: SearchOptions | None = None,
    *,
    kind: str | None = None,
    limit: int = 10,
    facets: bool = False,
    snippets: bool = False,
) -> SearchResult:
    """Search what the user may see; ``facets`` and ``snippets`` add the page's extras.

    Raises :class:`SearchUnavailable` only when the index can neither be read nor rebuilt.
    """
    options = options if options is not None else SearchOptions(kind=kind, per_page=limit)
    path = index_path()
    ensure_index(session)
    impact_order = _impact_order(session) if options.sort == "impact" else None
    result = failure = None
    with index.closing_leaked_files() as state:
        try:
            result = engine.run_search(
                path, query, options, impact_order=impact_order, with_facets=facets
            )
        except Exception as error:  # a corrupt index is rebuilt, never shown to a user
            failure = f"{error.__class__.__name__}: {error}"
            state["failed"] = True
    if result is None:
        log.warning("search index at %s could not be read (%s): rebuilding it", path, failure)
        engine.forget_open_indexes()
        _rebuild_or_fail(path, force=True)
        result = engine.run_search(
            path, query, options, impact_order=impact_order, with_facets=facets
        )
    if snippets:
        add_snippets(session, result)
    return result


def ensure_index(session: Session) -> None:
    """Create the index when it is missing; apply changes a writer left in the outbox."""
    path = index_path()
    if not os.path.exists(os.path.join(path, index.VERSION_FILE)):
        _rebuild_or_fail(path)
        return
    with _watch_lock:
        _watch.interval = float(current_app.config.get("SEARCH_OUTBOX_CHECK_SECONDS", 1.0))
        due = _watch.due()
    if due and session.scalar(sa.select(SearchOutbox.id).limit(1)) is not None:
        # A writer holding the index drains the outbox itself before it lets go.
        with contextlib.suppress(index.IndexBusy):
            sync.drain(db.engine, path, timeout=0)


def _rebuild_or_fail(path: str, *, force: bool = False) -> None:
    try:
        if force:
            sync.rebuild(db.engine, path, timeout=_timeout())
        else:
            sync.drain(db.engine, path, timeout=_timeout())  # rebuilds what is not current
    except Exception as error:
        log.exception("search index at %s could not be rebuilt", path)
        raise SearchUnavailable(
            _(
                "search is unavailable while its index is rebuilt; try again in a minute "
                "(%(error)s)",
                error=error.__class__.__name__,
            )
        ) from error


def _timeout() -> float:
    return float(current_app.config.get("SEARCH_LOCK_TIMEOUT", 10.0)) * 6


def rebuild_index() -> int:
    """Rebuild the index from the database (``cxactions reindex``); returns the documents."""
    engine.forget_open_indexes()
    return sync.rebuild(db.engine, index_path(), timeout=_timeout())


def _impact_order(session: Session):
    """Sort key per solution id: ranked by rank, then early readings, then never adopted."""
    run = latest_run(session)
    if run is None:
        return lambda solution_id: (2, 0)
    rows = session.execute(
        sa.select(ImpactEstimate.solution_id, ImpactEstimate.rank, ImpactEstimate.n_units).where(
            ImpactEstimate.run_id == run.id
        )
    ).all()
    keys = {
        row.solution_id: (0, row.rank) if row.rank is not None else (1, -row.n_units)
        for row in rows
    }
    return lambda solution_id: keys.get(solution_id, (2, 0))


def add_snippets(session: Session, result: SearchResult) -> None:
    """Highlighted snippets for the page's hits, from the database's text; challenges also get
    their name and description in the reader's language (the index holds the English ones)."""
    solution_ids = [hit.db_id for hit in result.results if hit.type == "solution"]
    challenge_ids = [hit.db_id for hit in result.results if hit.type == "challenge"]
    texts: dict[tuple[str, int], str] = {}
    challenges: dict[int, sa.Row] = {}
    if solution_ids:
        for row in session.execute(
            sa.select(Solution.id, Solution.summary, Solution.body, Solution.steps).where(
                Solution.id.in_(solution_ids)
            )
        ):
            texts["solution", row.id] = "\n\n".join(
                filter(None, [row.summary, row.body, row.steps])
            )
    if challenge_ids:
        for row in session.execute(
            sa.select(
                Challenge.id,
                Challenge.name,
                Challenge.name_fr,
                Challenge.description,
                Challenge.description_fr,
                Challenge.keywords,
            ).where(Challenge.id.in_(challenge_ids))
        ):
            challenges[row.id] = row
    terms = result.plan.terms if result.plan else {}
    for hit in result.results:
        text = texts.get((hit.type, hit.db_id), "")
        language = hit.language if hit.language in terms else "en"
        row = challenges.get(hit.db_id) if hit.type == "challenge" else None
        if row is not None:
            hit.shown_title, hit.shown_title_lang = in_reader_language(row.name, row.name_fr)
            description, written_in = in_reader_language(row.description, row.description_fr)
            language = written_in if description else "en"
            keywords = ", ".join(keyword_phrases(row.keywords))
            text = "\n\n".join(filter(None, [description, keywords]))
            hit.snippet_lang = written_in if description else None
        snippet = engine.make_snippet(text, terms.get(language, set()), language)
        if row is not None and "<mark" not in snippet:
            # Challenges' keywords are in both languages: try the other language's terms.
            other = "fr" if language == "en" else "en"
            if terms.get(other):
                snippet = engine.make_snippet(text, terms[other], other)
        hit.snippet = snippet or None
