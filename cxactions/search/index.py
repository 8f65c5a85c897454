"""The Whoosh index of the library: it follows the database, never the other way round.

Every solution and challenge is indexed, whatever its status; searches show only approved
solutions and active challenges unless a CX lead asks for the others. Changes reach the index
through the outbox (:mod:`cxactions.search.sync`); :func:`rebuild` builds a fresh index beside
the live one and swaps it in, so readers never see a half-built index.

One process at a time writes: every writer holds an exclusive lock on a file beside the index
(``<index>.lock``), so Whoosh's own lock is never contended and no user sees a lock error.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import gc
import logging
import os
import shutil
import threading
import time
import uuid
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session
from whoosh import index as whoosh_index
from whoosh.fields import ID, KEYWORD, STORED, TEXT, Schema

from cxactions.foundations.vocabulary import ChallengeStatus, SolutionStatus
from cxactions.language import analysis
from cxactions.language.tagging import keyword_phrases
from cxactions.library.models import Solution, solution_challenges
from cxactions.search.engine import SCHEMA_VERSION, VERSION_FILE
from cxactions.search.models import SearchOutbox
from cxactions.taxonomy.models import Challenge
from cxactions.taxonomy.services import subtree_ids

log = logging.getLogger(__name__)

TITLE_BOOST = 3.0
# Libraries this big are indexed by several processes (see _writer_options).
PARALLEL_ABOVE = 2000
TEXT_FIELDS = analysis.TEXT_FIELDS


class IndexBusy(Exception):
    """Another process is writing the index and did not finish within the timeout."""


def build_schema() -> Schema:
    """Titles boosted over bodies, one pair of text fields per language; filters as IDs."""
    text_fields = {}
    for language in analysis.LANGUAGES:
        analyzer = analysis.analyzer(language)
        text_fields[f"title_{language}"] = TEXT(
            analyzer=analyzer, field_boost=TITLE_BOOST, phrase=False
        )
        text_fields[f"body_{language}"] = TEXT(analyzer=analyzer, phrase=False)
    return Schema(
        key=ID(stored=True, unique=True),  # "solution:12", "challenge:3"
        type=ID(stored=True),
        code=STORED,
        title=STORED,
        kind=ID(stored=True),
        status=ID(stored=True),
        visible=ID,  # "yes": approved solutions and active challenges
        language=ID(stored=True),
        category=KEYWORD(stored=True, commas=True),  # codes of the top-level challenges
        challenge=KEYWORD(commas=True),  # codes of the challenges a solution addresses
        spell=TEXT(analyzer=analysis.words_analyzer(), phrase=False),
        **text_fields,
    )


def document_key(doc_type: str, doc_id: int) -> str:
    return f"{doc_type}:{doc_id}"


# --- Documents from the database ------------------------------------------------------------


@dataclass(frozen=True)
class _ChallengeRow:
    id: int
    code: str
    name: str
    parent_id: int | None
    status: str
    description: str | None
    keywords: str | None
    name_fr: str | None = None
    description_fr: str | None = None

    def name_in(self, language: str) -> str:
        """The name in ``language`` ("en" or "fr"), the English one when it has no French."""
        return (self.name_fr if language == "fr" else None) or self.name

    def description_in(self, language: str) -> str | None:
        return (self.description_fr if language == "fr" else None) or self.description


class Taxonomy:
    """All challenges at once (a few hundred rows): names, categories and descendants."""

    def __init__(self, session: Session) -> None:
        table = Challenge.__table__
        self.rows = {
            row.id: _ChallengeRow(
                row.id,
                row.code,
                row.name,
                row.parent_id,
                _plain(row.status),
                row.description,
                row.keywords,
                row.name_fr,
                row.description_fr,
            )
            for row in session.execute(
                sa.select(
                    table.c.id,
                    table.c.code,
                    table.c.name,
                    table.c.parent_id,
                    table.c.status,
                    table.c.description,
                    table.c.keywords,
                    table.c.name_fr,
                    table.c.description_fr,
                )
            )
        }

    def lineage(self, challenge_id: int) -> list[_ChallengeRow]:
        """The challenge and its ancestors, up to its category."""
        rows = [self.rows[challenge_id]]
        while rows[-1].parent_id in self.rows and all(row.id != rows[-1].parent_id for row in rows):
            rows.append(self.rows[rows[-1].parent_id])
        return rows

    def root(self, challenge_id: int) -> _ChallengeRow:
        """The challenge's category: the top of its lineage."""
        return self.lineage(challenge_id)[-1]


def _plain(value) -> str:
    return getattr(value, "value", value)


def solution_documents(
    session: Session, taxonomy: Taxonomy, solution_ids: Iterable[int] | None = None
) -> Iterator[dict]:
    """Index documents for solutions (all of them when ``solution_ids`` is None)."""
    table = Solution.__table__
    query = sa.select(
        table.c.id,
        table.c.code,
        table.c.kind,
        table.c.title,
        table.c.summary,
        table.c.body,
        table.c.steps,
        table.c.language,
        table.c.status,
    ).order_by(table.c.id)
    mapping_query = sa.select(solution_challenges.c.solution_id, solution_challenges.c.challenge_id)
    if solution_ids is not None:
        wanted = sorted(set(solution_ids))
        if not wanted:
            return
        chunks = [wanted[start : start + 500] for start in range(0, len(wanted), 500)]
    else:
        chunks = [None]
    for chunk in chunks:
        rows_query, pairs_query = query, mapping_query
        if chunk is not None:
            rows_query = query.where(table.c.id.in_(chunk))
            pairs_query = mapping_query.where(solution_challenges.c.solution_id.in_(chunk))
        challenges: dict[int, list[int]] = {}
        for solution_id, challenge_id in session.execute(pairs_query):
            if challenge_id in taxonomy.rows:
                challenges.setdefault(solution_id, []).append(challenge_id)
        for row in session.execute(rows_query):
            yield _solution_document(
                row, [taxonomy.rows[i] for i in challenges.get(row.id, [])], taxonomy
            )


def _solution_document(row, challenges: list[_ChallengeRow], taxonomy: Taxonomy) -> dict:
    language = (row.language or "en").lower()
    language = language if language in analysis.LANGUAGES else "en"
    roots = {root.code: root for root in (taxonomy.root(challenge.id) for challenge in challenges)}
    own_text = "\n".join(filter(None, [row.summary, row.body, row.steps]))
    # The challenges a solution addresses, and their categories, are searchable in both
    # languages: the taxonomy is shared by documents of every language, each by its own names.
    context = {
        other: "\n".join(
            [challenge.name_in(other) for challenge in challenges]
            + [root.name_in(other) for root in roots.values()]
        )
        for other in analysis.LANGUAGES
    }
    status = _plain(row.status)
    document = {
        "key": document_key("solution", row.id),
        "type": "solution",
        "code": row.code,
        "title": row.title,
        "kind": _plain(row.kind),
        "status": status,
        "visible": "yes" if status == SolutionStatus.APPROVED.value else "no",
        "language": language,
        "category": ",".join(sorted(roots)),
        # Filtering by a challenge finds the solutions of the challenges below it too.
        "challenge": ",".join(
            sorted({row.code for challenge in challenges for row in taxonomy.lineage(challenge.id)})
        ),
        "spell": "\n".join([row.title, own_text, *context.values()]),
    }
    for other in analysis.LANGUAGES:
        title_field, body_field = TEXT_FIELDS[other]
        if other == language:
            document[title_field] = row.title
            document[body_field] = own_text + "\n" + context[other]
        else:
            document[body_field] = context[other]
    return document


def challenge_documents(
    taxonomy: Taxonomy, challenge_ids: Iterable[int] | None = None
) -> Iterator[dict]:
    """Index documents for challenges (all of them when ``challenge_ids`` is None)."""
    ids = taxonomy.rows.keys() if challenge_ids is None else challenge_ids
    for challenge_id in sorted(set(ids)):
        row = taxonomy.rows.get(challenge_id)
        if row is None:
            continue
        root = taxonomy.root(row.id)
        keywords = ", ".join(keyword_phrases(row.keywords))

        def body(language: str, row=row, root=root, keywords=keywords) -> str:
            parts = [row.description_in(language), keywords]
            parts.append(root.name_in(language) if root.id != row.id else None)
            return "\n".join(filter(None, parts))

        document = {
            "key": document_key("challenge", row.id),
            "type": "challenge",
            "code": row.code,
            "title": row.name,
            "kind": "challenge",
            "status": row.status,
            "visible": "yes" if row.status == ChallengeStatus.ACTIVE.value else "no",
            "language": "",
            "category": root.code,
            "challenge": ",".join(sorted(item.code for item in taxonomy.lineage(row.id))),
            "spell": "\n".join(filter(None, [row.name, row.name_fr, body("en"), body("fr")])),
        }
        # Challenges carry keywords in both languages and a name and description in each: each
        # analyser indexes the text of its own language.
        for language in analysis.LANGUAGES:
            title_field, body_field = TEXT_FIELDS[language]
            document[title_field] = row.name_in(language)
            document[body_field] = body(language)
        yield document


# --- The index on disk ----------------------------------------------------------------------


@contextlib.contextmanager
def writing_lock(path: str, timeout: float) -> Iterator[None]:
    """Exclusive right to write the index at ``path``, across threads and processes.

    Raises :class:`IndexBusy` when another writer holds it for longer than ``timeout`` seconds.
    The lock is released by the operating system if its holder dies.
    """
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    handle = open(path + ".lock", "a+b")  # noqa: SIM115  (closed below, after unlocking)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as error:
                if error.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() >= deadline:
                    raise IndexBusy(
                        f"the search index at {path} is being written by another process"
                    ) from None
                time.sleep(0.01)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    finally:
        handle.close()


@contextlib.contextmanager
def closing_leaked_files() -> Iterator[dict]:
    """Whoosh leaves a file open when it fails to read a corrupt index: close it quietly.

    The caller sets ``state["failed"] = True`` after catching the failure.
    """
    state = {"failed": False}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        yield state
        if state["failed"]:
            gc.collect()  # ~0.1 s, hence only after a failure


def is_current(path: str) -> bool:
    """True when ``path`` holds a readable index of this version of the schema."""
    if not os.path.exists(os.path.join(path, VERSION_FILE)):
        return False  # missing: nothing was opened, nothing leaked
    with closing_leaked_files() as state:
        current = _is_current(path)
        state["failed"] = not current
    return current


def _is_current(path: str) -> bool:
    try:
        with open(os.path.join(path, VERSION_FILE), encoding="ascii") as marker:
            if marker.read().strip() != SCHEMA_VERSION:
                return False
        ix = whoosh_index.open_dir(path)
        try:
            with ix.searcher() as searcher:
                searcher.doc_count()
        finally:
            ix.close()
        return True
    except Exception:  # missing, unreadable or truncated: all mean "rebuild"
        return False


def rebuild_locked(session: Session, path: str) -> int:
    """Build a fresh index from the database and swap it in; the caller holds the lock.

    Outbox rows present when the build starts are settled by it and deleted. Returns the
    number of documents indexed.
    """
    clear_stale_builds(path)
    last_row = session.scalar(sa.select(sa.func.max(SearchOutbox.id)))
    staging = f"{path}.building-{uuid.uuid4().hex[:8]}"
    os.makedirs(staging)
    try:
        ix = whoosh_index.create_in(staging, build_schema())
        writer = ix.writer(**_writer_options(session))
        count = 0
        taxonomy = Taxonomy(session)
        for document in challenge_documents(taxonomy):
            writer.add_document(**document)
            count += 1
        for document in solution_documents(session, taxonomy):
            writer.add_document(**document)
            count += 1
        writer.commit()
        ix.close()
        with open(os.path.join(staging, VERSION_FILE), "w", encoding="ascii") as marker:
            marker.write(SCHEMA_VERSION)
        _swap_in(staging, path)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if last_row is not None:
        session.execute(sa.delete(SearchOutbox).where(SearchOutbox.id <= last_row))
    session.commit()
    return count


def _writer_options(session: Session) -> dict:
    """Index a big library on every core (Whoosh's multiprocessing writer, one segment per
    process) when forking is safe: only from a single-threaded process, such as the CLI."""
    options = {"limitmb": 256}
    cores = min(os.cpu_count() or 1, 4)
    if cores > 1 and threading.active_count() == 1:
        documents = session.scalar(sa.select(sa.func.count()).select_from(Solution))
        if documents >= PARALLEL_ABOVE:
            options.update(procs=cores, multisegment=True, limitmb=128)
    return options


def _swap_in(staging: str, path: str) -> None:
    """Replace the index at ``path`` by ``staging``; open readers keep their old files."""
    trash = None
    if os.path.lexists(path):
        trash = f"{path}.old-{uuid.uuid4().hex[:8]}"
        os.rename(path, trash)
    os.rename(staging, path)
    if trash:
        _remove(trash)


def _remove(path: str) -> None:
    """Remove a folder, or a file that stood where the index should be."""
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)


def apply_changes(
    session: Session, path: str, solution_ids: set[int], challenge_ids: set[int]
) -> int:
    """Re-read these documents from the database into the index; the caller holds the lock.

    A document that no longer exists is deleted from the index. Returns the documents written.
    """
    taxonomy = Taxonomy(session)
    if challenge_ids:
        # Solutions carry their challenges' names and categories.
        affected = subtree_ids(session, *challenge_ids)
        solution_ids = solution_ids | set(
            session.scalars(
                sa.select(solution_challenges.c.solution_id).where(
                    solution_challenges.c.challenge_id.in_(sorted(affected))
                )
            )
        )
    ix = whoosh_index.open_dir(path)
    try:
        writer = ix.writer()
        try:
            for solution_id in solution_ids:
                writer.delete_by_term("key", document_key("solution", solution_id))
            for challenge_id in challenge_ids:
                writer.delete_by_term("key", document_key("challenge", challenge_id))
            written = 0
            for document in challenge_documents(taxonomy, challenge_ids):
                writer.add_document(**document)
                written += 1
            for document in solution_documents(session, taxonomy, solution_ids):
                writer.add_document(**document)
                written += 1
        except BaseException:
            writer.cancel()
            raise
        writer.commit()
    finally:
        ix.close()
    return written


def clear_stale_builds(path: str) -> None:
    """Remove folders left by builds or swaps that a dead process did not finish.

    Only a holder of :func:`writing_lock` may call this: it would remove a build under way.
    """
    folder, name = os.path.split(os.path.abspath(path))
    if not os.path.isdir(folder):
        return
    for entry in os.listdir(folder):
        if entry.startswith(f"{name}.building-") or entry.startswith(f"{name}.old-"):
            _remove(os.path.join(folder, entry))
