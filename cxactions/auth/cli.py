"""``cxactions user add EMAIL --role ROLE [--unit UNIT_ID ...]``."""

from __future__ import annotations

import os
import sys

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from cxactions.auth.models import Role, User
from cxactions.auth.services import UserError, normalise_email, upsert_user
from cxactions.foundations.extensions import db


@click.group("user")
def user_group() -> None:
    """Manage the people who sign in."""


@user_group.command("add")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice([role.value for role in Role]))
@click.option(
    "--unit",
    "units",
    multiple=True,
    metavar="UNIT_ID",
    help="Scope a manager (repeatable; replaces).",
)
@click.option("--name", help="Display name.")
@with_appcontext
def add_user_command(email: str, role: str, units: tuple[str, ...], name: str | None) -> None:
    """Create or update a user. The password comes from CXACTIONS_PASSWORD or a prompt."""

    password = os.environ.get("CXACTIONS_PASSWORD") or None
    try:
        exists = db.session.scalar(
            select(User.id).where(func.lower(User.email) == normalise_email(email))
        )
    except UserError as error:
        raise click.ClickException(str(error)) from error
    if password is None and exists is None:
        if not sys.stdin.isatty():
            raise click.ClickException(
                "no password: set CXACTIONS_PASSWORD (no terminal to prompt on)"
            )
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user, created = upsert_user(
            db.session,
            email,
            Role(role),
            password=password,
            unit_codes=list(units) or None,
            name=name,
        )
        db.session.commit()
    except UserError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    scope = f" for units {', '.join(unit.code for unit in user.units)}" if user.units else ""
    click.echo(f"{'Created' if created else 'Updated'} {user.email} ({user.role.value}){scope}")
