"""The search outbox: index work recorded in the same transaction as the change it follows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from cxactions.foundations.db_types import utcnow
from cxactions.foundations.extensions import db


class SearchOutbox(db.Model):
    """A document the index must re-read from the database (``doc_type`` "all": everything).

    Rows are written by the transaction that changed the document, so a rolled-back change
    leaves none, and a process that dies after its commit leaves its rows for the next one.
    They are deleted once the index holds the change.
    """

    __tablename__ = "search_outbox"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    doc_type: Mapped[str] = mapped_column(String(16))
    doc_id: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
