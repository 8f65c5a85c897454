"""The instance folder, the database schema and the search index, brought up to date."""

from __future__ import annotations

import os

from flask import current_app
from flask_migrate import upgrade
from sqlalchemy.orm import Session

from cxactions.search.service import ensure_index


def initialise_instance(session: Session) -> None:
    """Bring the database schema to the newest migration and make sure the index exists."""
    os.makedirs(current_app.instance_path, exist_ok=True)
    upgrade()
    ensure_index(session)
