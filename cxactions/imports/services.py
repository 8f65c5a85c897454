"""Running an import: one transaction, everything or nothing.

``run_import`` streams the file through ``reader.ImportFile``, hands each chunk to the kind's
loader (``loaders.LOADERS``), which checks every reference against the database inside the
import's own transaction and writes the rows (``bulk.py``); it then records an ``ImportRun`` and
an audit event, and commits only when every row was valid (or, with ``skip_invalid``, writes the
valid ones). The CLI and the upload page both call it; ``recent_runs`` lists the latest imports.
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cxactions.audit.services import record
from cxactions.drivers.services import survey_data_changed
from cxactions.foundations.db_types import utcnow
from cxactions.foundations.translation import _, format_number, format_score, ngettext
from cxactions.foundations.versions import IMPORT_DATA, bump_data_version
from cxactions.imports.formats import KINDS
from cxactions.imports.loaders import LOADERS
from cxactions.imports.models import ImportRun
from cxactions.imports.reader import ImportFile
from cxactions.imports.results import ErrorLog, ParseError
from cxactions.search.sync import enqueue as enqueue_search

MAX_SHOWN_ERRORS = 50
# SQLite page cache for the import's connection (KiB, negative per SQLite's convention):
# index pages of a million-row table stay in memory while the chunks stream in.
SQLITE_IMPORT_CACHE_KIB = 128 * 1024
# Imports that change what impact estimates are computed from (units: the comparison regions).
IMPACT_KINDS = ("units", "responses", "adoptions")
SURVEY_KINDS = ("responses", "operations")  # what the driver analysis reads


@dataclass
class ImportResult:
    """What an import did (or, for a dry run or a failure, would have done)."""

    kind: str
    filename: str
    dry_run: bool = False
    skip_invalid: bool = False
    rows_read: int = 0
    rows_valid: int = 0
    rows_inserted: int = 0
    rows_updated: int = 0
    rows_unchanged: int = 0
    errors: list[ParseError] = field(default_factory=list)
    error_count: int = 0
    notices: list[str] = field(default_factory=list)
    failure: str | None = None  # one-line reason when nothing was written
    run_id: int | None = None
    seconds: float = 0.0
    counted: bool = True  # False when a dry run cannot tell inserts from updates

    @property
    def ok(self) -> bool:
        return self.failure is None

    @property
    def rows_skipped(self) -> int:
        return self.rows_read - self.rows_valid if self.skip_invalid and self.ok else 0

    def error_lines(self, limit: int = MAX_SHOWN_ERRORS) -> list[str]:
        """``FILE:LINE: column: reason`` for the first errors, then how many more there are."""
        lines = []
        for error in self.errors[:limit]:
            where = f"{self.filename}:{error.line}: "
            lines.append(where + (f"{error.column}: " if error.column else "") + error.message)
        hidden = self.error_count - len(lines)
        if hidden > 0:
            lines.append(
                ngettext(
                    "… and %(count)s more error",
                    "… and %(count)s more errors",
                    hidden,
                    count=format_number(hidden),
                )
            )
        return lines

    def summary(self) -> str:
        """One line for the terminal or a flash message (in the reader's language on a page)."""
        if not self.ok:
            return _("%(file)s: %(reason)s", file=self.filename, reason=self.failure)
        read = ngettext(
            "%(count)s row read",
            "%(count)s rows read",
            self.rows_read,
            count=format_number(self.rows_read),
        )
        if self.dry_run:
            if not self.counted:
                return _(
                    "%(file)s: dry run, %(read)s, all valid; nothing was written",
                    file=self.filename,
                    read=read,
                )
            return _(
                "%(file)s: dry run, %(read)s, all valid: %(inserted)s would be inserted, "
                "%(updated)s updated, %(unchanged)s unchanged; nothing was written",
                file=self.filename,
                read=read,
                inserted=format_number(self.rows_inserted),
                updated=format_number(self.rows_updated),
                unchanged=format_number(self.rows_unchanged),
            )
        counts = {
            "file": self.filename,
            "read": read,
            "inserted": format_number(self.rows_inserted),
            "updated": format_number(self.rows_updated),
            "unchanged": format_number(self.rows_unchanged),
            "seconds": format_score(self.seconds, 1),
        }
        if self.rows_skipped:
            return _(
                "%(file)s: %(read)s: %(inserted)s inserted, %(updated)s updated, %(unchanged)s "
                "unchanged, %(skipped)s invalid skipped (%(seconds)s s)",
                skipped=format_number(self.rows_skipped),
                **counts,
            )
        return _(
            "%(file)s: %(read)s: %(inserted)s inserted, %(updated)s updated, %(unchanged)s "
            "unchanged (%(seconds)s s)",
            **counts,
        )


def recent_runs(session: Session, limit: int = 20) -> list[ImportRun]:
    """The latest imports, newest first."""
    return list(
        session.scalars(
            sa.select(ImportRun)
            .order_by(ImportRun.started_at.desc(), ImportRun.id.desc())
            .limit(limit)
        )
    )


class ImportAborted(Exception):
    """Raised inside the transaction to roll it back with a one-line reason."""


def run_import(
    session: Session,
    kind: str,
    path: str | os.PathLike,
    *,
    dry_run: bool = False,
    skip_invalid: bool = False,
    actor: str = "system",
    user: Any = None,
    progress: Callable[[int], None] | None = None,
    chunk_rows: int = 50_000,
    filename: str | None = None,
) -> ImportResult:
    """Import ``path`` as ``kind``; returns what happened. Commits on success only.

    ``progress(bytes_read)`` follows the file; ``filename`` names the file in error lines
    (the upload page passes the name the user chose rather than the temporary path).
    """
    if kind not in KINDS:  # a programming error: the CLI and the form offer only KINDS
        raise ValueError(f"unknown import kind {kind!r}; expected one of {', '.join(KINDS)}")
    clock = time.perf_counter()
    started_at = utcnow()
    result = ImportResult(
        kind, filename or os.path.basename(path), dry_run=dry_run, skip_invalid=skip_invalid
    )
    errors = ErrorLog(MAX_SHOWN_ERRORS)
    source = ImportFile.open(path, kind, chunk_rows=chunk_rows)
    result.notices.extend(source.notices)
    if source.errors:
        errors.extend(source.errors)
        return _finish_failed(result, errors, clock, _("the file cannot be read"))

    loader = LOADERS[kind](session, source, writing=not dry_run, user_id=getattr(user, "id", None))
    try:
        with _import_transaction(session, writing=not dry_run):
            loader.prepare(errors)
            for chunk in source.chunks(progress):
                errors.extend(chunk.errors)
                if not len(chunk.rows):  # a chunk of bad rows only
                    continue
                rows = loader.check(chunk.rows, errors)
                result.rows_valid += len(rows)
                if errors and not skip_invalid:
                    loader.writing = False  # keep validating, to report every bad row
                if len(rows):
                    loader.take(rows)
            result.rows_read = source.rows_read
            result.rows_valid -= loader.finish(errors, skip_invalid)
            if errors and not skip_invalid:
                raise ImportAborted(_invalid_reason(errors, result))
            if result.rows_valid == 0 and not dry_run:
                raise ImportAborted(_("no valid rows: nothing was written"))
            result.rows_inserted = loader.inserted
            result.rows_updated = loader.updated
            result.rows_unchanged = result.rows_valid - loader.inserted - loader.updated
            result.counted = loader.counted
            if dry_run:
                raise _DryRunDone
            result.seconds = time.perf_counter() - clock
            result.run_id = _record_run(session, result, started_at, actor, user, errors)
            if loader.inserted + loader.updated:
                bump_data_version(session, IMPORT_DATA)  # figures cached in memory key on it
            if kind in IMPACT_KINDS and loader.inserted + loader.updated:
                bump_data_version(session)  # the cached impact estimates are stale now
            if kind in SURVEY_KINDS and loader.inserted + loader.updated:
                # The driver weights follow the survey data in the same transaction: no page
                # waits for the company-wide analysis after an import.
                survey_data_changed(session)
            if loader.search_type and loader.touched:
                # The index follows once this transaction commits (see search/sync.py).
                ids = loader.codes(loader.model.__table__)
                enqueue_search(session, loader.search_type, [ids[code] for code in loader.touched])
    except _DryRunDone:
        pass
    except ImportAborted as abort:
        return _finish_failed(result, errors, clock, str(abort))
    except (sa.exc.SQLAlchemyError, session.get_bind().dialect.dbapi.Error) as error:
        # DBAPI errors come straight from the bulk path, which bypasses SQLAlchemy.
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        return _finish_failed(
            result, errors, clock, _("the database refused the rows: %(reason)s", reason=reason)
        )
    result.errors = errors.first
    result.error_count = errors.count
    result.seconds = time.perf_counter() - clock
    return result


class _DryRunDone(Exception):
    """Leaves the transaction of a dry run, which always rolls back."""


def _invalid_reason(errors: ErrorLog, result: ImportResult) -> str:
    rows = result.rows_read - result.rows_valid
    count = format_number(errors.count)
    if rows > 0:
        return ngettext(
            "%(count)s error in %(rows)s of %(read)s rows: nothing was written",
            "%(count)s errors in %(rows)s of %(read)s rows: nothing was written",
            errors.count,
            count=count,
            rows=format_number(rows),
            read=format_number(result.rows_read),
        )
    return ngettext(
        "%(count)s error: nothing was written",
        "%(count)s errors: nothing was written",
        errors.count,
        count=count,
    )


def _finish_failed(
    result: ImportResult, errors: ErrorLog, clock: float, reason: str
) -> ImportResult:
    result.failure = reason
    result.errors = errors.first
    result.error_count = errors.count
    result.rows_inserted = result.rows_updated = result.rows_unchanged = 0
    result.seconds = time.perf_counter() - clock
    return result


def _record_run(
    session: Session,
    result: ImportResult,
    started_at,
    actor: str,
    user: Any,
    errors: ErrorLog,
) -> int:
    """The ImportRun row and its audit event, in the import's own transaction."""
    summary = {
        "rows_unchanged": result.rows_unchanged,
        "rows_skipped": result.rows_skipped,
        "errors": errors.count,
        "notices": result.notices,
        "seconds": round(result.seconds, 2),
    }
    run = ImportRun(
        kind=result.kind,
        filename=result.filename[:300],
        started_at=started_at,
        finished_at=utcnow(),
        user_id=getattr(user, "id", None),
        actor=actor,
        rows_read=result.rows_read,
        rows_inserted=result.rows_inserted,
        rows_updated=result.rows_updated,
        summary=summary,
    )
    session.add(run)
    session.flush()
    record(
        session,
        f"import.{result.kind}",
        "import_run",
        run.id,
        user=user,
        actor=actor,
        details={
            "file": result.filename,
            "rows_read": result.rows_read,
            "rows_inserted": result.rows_inserted,
            "rows_updated": result.rows_updated,
            **summary,
        },
    )
    return run.id


@contextmanager
def _import_transaction(session: Session, *, writing: bool) -> Iterator[None]:
    """One transaction for the whole import: commit on success, roll back on any exception.

    On SQLite the driver opens a transaction only at the first write, so reads (the foreign
    key checks) would otherwise see a different database than the writes: BEGIN explicitly,
    IMMEDIATE when writing so that no other writer slips in between. The cyclic garbage
    collector is paused meanwhile: the chunks allocate millions of small acyclic objects and
    would trigger full collections over and over.
    """
    connection = session.connection()
    driver = connection.connection.driver_connection
    sqlite = connection.dialect.name == "sqlite"
    previous_cache = None
    if sqlite and not driver.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")
    if sqlite and writing:
        previous_cache = connection.exec_driver_sql("PRAGMA cache_size").scalar()
        connection.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_IMPORT_CACHE_KIB}")

    def restore_cache() -> None:
        if previous_cache is not None:
            connection.exec_driver_sql(f"PRAGMA cache_size = {int(previous_cache)}")

    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    except BaseException:
        restore_cache()
        session.rollback()
        raise
    else:
        restore_cache()
        session.commit()
    finally:
        if collecting:
            gc.enable()
