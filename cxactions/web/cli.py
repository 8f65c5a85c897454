"""``cxactions init``: create the schema and the search index (idempotent)."""

from __future__ import annotations

import os

import click
from flask import current_app
from flask.cli import with_appcontext


def initialise_instance() -> None:
    """Bring the database schema to the newest migration and make sure the index exists."""
    from flask_migrate import upgrade

    from cxactions.search.service import ensure_index

    os.makedirs(current_app.instance_path, exist_ok=True)
    upgrade()
    ensure_index()


@click.command("init")
@with_appcontext
def init_command() -> None:
    """Create the schema and the search index; safe to run again."""
    initialise_instance()
    click.echo(f"Initialised {current_app.config['SQLALCHEMY_DATABASE_URI'].split('@')[-1]}")
