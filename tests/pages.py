"""Helpers for tests that read pages and count queries (shared by every feature's tests)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from html import unescape

import sqlalchemy as sa


def visible_text(html: str) -> str:
    """The page as a reader sees it: tags dropped, entities decoded, white space squashed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def table(html: str, table_id: str) -> str:
    """The markup of one table, found by its id."""
    start = html.index(f'id="{table_id}"')
    return html[start : html.index("</table>", start)]


@contextmanager
def counting_queries(db) -> Iterator[list[str]]:
    """The SQL statements run inside the block: ``with counting_queries(db) as statements``."""
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
