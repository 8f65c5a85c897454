"""Data versions and the figures cache: how computed figures learn that the data changed.

A data version is a counter bumped inside the transaction that changes what some figures
depend on (``impact``: adoptions and outcomes behind the impact estimates; ``survey``:
responses and operational values behind the driver weights; ``imports``: any committed
import). Figures kept in memory key on :func:`data_signature`, so a change simply misses.

Every feature bumps and reads versions here, so none has to import the feature whose figures
go stale.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import String
from sqlalchemy.orm import Mapped, Session, mapped_column

from cxactions.foundations.db_types import utcnow
from cxactions.foundations.extensions import db

IMPACT_DATA = "impact"
# Bumped by every change of survey responses or operational values: the driver weights follow it.
SURVEY_DATA = "survey"
# Bumped by every committed import, whatever it loaded.
IMPORT_DATA = "imports"


class DataVersion(db.Model):
    """A counter bumped in every transaction that changes what an estimate depends on."""

    __tablename__ = "data_versions"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[int] = mapped_column(default=0)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


def bump_data_version(session: Session, name: str = IMPACT_DATA) -> None:
    """Mark every estimate stale: call inside the transaction that changed the data."""
    updated = session.execute(
        sa.update(DataVersion)
        .where(DataVersion.name == name)
        .values(version=DataVersion.version + 1, changed_at=utcnow())
    )
    if updated.rowcount == 0:
        session.add(DataVersion(name=name, version=1, changed_at=utcnow()))
        session.flush()


def current_data_version(session: Session, name: str = IMPACT_DATA) -> int:
    return session.scalar(sa.select(DataVersion.version).where(DataVersion.name == name)) or 0


def data_signature(session: Session) -> tuple:
    """What survey-derived figures depend on, cheaply: the database, its impact data version
    and its imports version. Caches of region- and company-wide figures key on it.

    Read once per transaction: a page asks for it several times (scorecard, priorities).
    """
    if hasattr(session, "registry"):  # a scoped_session: ask the session it holds
        session = session.registry()
    transaction = session.get_transaction()
    remembered = session.info.get("data_signature")
    if transaction is not None and remembered and remembered[0] is transaction:
        return remembered[1]

    rows = dict.fromkeys((IMPACT_DATA, IMPORT_DATA), (None, None))
    for name, version, changed_at in session.execute(
        sa.select(DataVersion.name, DataVersion.version, DataVersion.changed_at).where(
            DataVersion.name.in_(rows)
        )
    ):
        rows[name] = (version, changed_at)
    url = session.get_bind().url.render_as_string(hide_password=True)
    signature = (url, *rows[IMPACT_DATA], *rows[IMPORT_DATA])
    session.info["data_signature"] = (session.get_transaction(), signature)
    return signature


class FiguresCache(dict):
    """Figures kept in this process until the data changes: each key starts with
    :func:`data_signature`, so a new import or data version simply misses. Bounded: emptied
    whole when full (old signatures are never asked for again)."""

    instances: list[FiguresCache] = []

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        FiguresCache.instances.append(self)

    def remember(self, key: tuple, value):
        if len(self) >= self.limit:
            self.clear()
        self[key] = value
        return value

    def get_or_compute(self, key: tuple, compute):
        """The value kept under ``key``, else ``compute()`` kept there."""
        if key in self:
            return self[key]
        return self.remember(key, compute())


def forget_cached_figures() -> None:
    """Empty every figures cache of this process (tests, benchmarks)."""
    for cache in FiguresCache.instances:
        cache.clear()
