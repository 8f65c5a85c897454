"""``cxactions init``: create the schema and the search index (idempotent)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from cxactions.foundations.extensions import db
from cxactions.web.instance import initialise_instance


@click.command("init")
@with_appcontext
def init_command() -> None:
    """Create the schema and the search index; safe to run again."""
    initialise_instance(db.session)
    click.echo(f"Initialised {current_app.config['SQLALCHEMY_DATABASE_URI'].split('@')[-1]}")
