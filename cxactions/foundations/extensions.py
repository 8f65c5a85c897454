"""Flask extensions, created unbound and attached in ``create_app``."""

from __future__ import annotations

import sqlite3

from flask_login import LoginManager
from flask_mail import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.pagination import Pagination, SelectPagination
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session

from cxactions.foundations.paging import MAX_PAGE

# Stable constraint names so Alembic migrations diff cleanly on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)


def paginate(session: Session, query, page: int, per_page: int) -> Pagination:
    """One page of the rows ``query`` selects, for the ``page_nav`` macro: the page number is
    bounded (1 to ``MAX_PAGE``) and a page past the end is empty, never an error."""
    return SelectPagination(
        select=query,
        session=session,
        page=min(max(page, 1), MAX_PAGE),
        per_page=per_page,
        max_per_page=None,
        error_out=False,
    )


migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
mail = Mail()


@event.listens_for(Engine, "connect")
def _configure_sqlite(dbapi_connection, connection_record) -> None:
    """SQLite: enforce foreign keys, let readers work during writes, wait on locks."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute("PRAGMA busy_timeout = 30000")
    cursor.close()
