"""The Whoosh index of the library: built from the database, never the other way round.

This is the first, plain version: approved solutions and active challenges, title boosted over
body. Issue 5 (search) replaces the analysers and adds the outbox, typos and facets.
"""

from __future__ import annotations

import logging
import os
import shutil

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from whoosh import index as whoosh_index
from whoosh.analysis import LanguageAnalyzer, StemmingAnalyzer
from whoosh.fields import ID, KEYWORD, STORED, TEXT, Schema

from cxactions.extensions import db
from cxactions.library.models import Solution, SolutionStatus
from cxactions.taxonomy.models import Challenge, ChallengeStatus

log = logging.getLogger(__name__)


def build_schema() -> Schema:
    english = StemmingAnalyzer()
    french = LanguageAnalyzer("fr")
    return Schema(
        doc_id=ID(stored=True, unique=True),
        type=ID(stored=True),
        db_id=STORED,
        title=TEXT(stored=True, analyzer=english, field_boost=3.0),
        title_fr=TEXT(analyzer=french, field_boost=3.0),
        body=TEXT(analyzer=english),
        body_fr=TEXT(analyzer=french),
        kind=ID(stored=True),
        categories=KEYWORD(commas=True, lowercase=True, scorable=True),
        language=ID(stored=True),
    )


def index_path() -> str:
    return current_app.config["SEARCH_INDEX_PATH"]


def ensure_index() -> None:
    """Open the index, creating it from the database when it is missing or unreadable."""
    path = index_path()
    if whoosh_index.exists_in(path):
        try:
            whoosh_index.open_dir(path).close()
            return
        except Exception:  # a corrupt index is rebuilt, never surfaced to a user
            log.warning("search index at %s is unreadable; rebuilding it", path)
    rebuild_index()


def _documents():
    solutions = db.session.scalars(
        select(Solution)
        .where(Solution.status == SolutionStatus.APPROVED)
        .options(selectinload(Solution.challenges))
    )
    for solution in solutions:
        text = "\n".join(filter(None, [solution.summary, solution.body, solution.steps]))
        categories = ",".join(challenge.name for challenge in solution.challenges)
        yield {
            "doc_id": f"solution:{solution.id}",
            "type": "solution",
            "db_id": solution.id,
            "title": solution.title,
            "title_fr": solution.title,
            "body": text + "\n" + categories,
            "body_fr": text + "\n" + categories,
            "kind": solution.kind.value,
            "categories": categories,
            "language": solution.language,
        }
    challenges = db.session.scalars(
        select(Challenge).where(Challenge.status == ChallengeStatus.ACTIVE)
    )
    for challenge in challenges:
        text = "\n".join(filter(None, [challenge.description, challenge.keywords]))
        yield {
            "doc_id": f"challenge:{challenge.id}",
            "type": "challenge",
            "db_id": challenge.id,
            "title": challenge.name,
            "title_fr": challenge.name,
            "body": text,
            "body_fr": text,
            "kind": "challenge",
            "categories": "",
            "language": "",
        }


def rebuild_index() -> int:
    """Rebuild the index from scratch in a fresh folder, then swap it in; returns the count."""
    path = index_path()
    staging = path + ".new"
    shutil.rmtree(staging, ignore_errors=True)
    os.makedirs(staging)
    ix = whoosh_index.create_in(staging, build_schema())
    writer = ix.writer()
    count = 0
    for document in _documents():
        writer.add_document(**document)
        count += 1
    writer.commit()
    ix.close()
    shutil.rmtree(path, ignore_errors=True)
    os.replace(staging, path)
    return count
