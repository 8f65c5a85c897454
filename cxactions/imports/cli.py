"""``cxactions import KIND FILE``: load a CSV file, all or nothing."""

from __future__ import annotations

import getpass
import os
import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from cxactions.foundations.extensions import db
from cxactions.imports.formats import KINDS
from cxactions.imports.services import run_import

# Below this size an import takes a moment: no bar unless someone watches a terminal.
PROGRESS_MIN_BYTES = 4 * 1024 * 1024


def _cli_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name in some containers
        return "cli"


@click.command("import")
@click.argument("kind", type=click.Choice(KINDS))
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True))
@click.option("--dry-run", is_flag=True, help="Validate everything (keys too); write nothing.")
@click.option(
    "--skip-invalid",
    is_flag=True,
    help="Import the valid rows and report the invalid ones (default: all or nothing).",
)
@with_appcontext
def import_command(kind: str, file: str, dry_run: bool, skip_invalid: bool) -> None:
    """Load FILE (CSV) as KIND: units, challenges, solutions, responses, operations, adoptions,
    signals or targets.

    All or nothing: when any row is invalid nothing is written and every bad row is reported
    as FILE:LINE: column: reason. Re-importing rows with the same keys updates them.
    """
    size = os.path.getsize(file)
    show_bar = sys.stderr.isatty() or size > PROGRESS_MIN_BYTES
    options = {
        "dry_run": dry_run,
        "skip_invalid": skip_invalid,
        "actor": _cli_actor(),
        "chunk_rows": current_app.config.get("IMPORT_CHUNK_ROWS", 50_000),
        "filename": file,
    }
    if show_bar:
        with click.progressbar(
            length=size, label=f"Importing {os.path.basename(file)}", file=sys.stderr
        ) as bar:
            done = 0

            def progress(bytes_read: int) -> None:
                nonlocal done
                bar.update(max(0, bytes_read - done))
                done = max(done, bytes_read)

            result = run_import(db.session, kind, file, progress=progress, **options)
    else:
        result = run_import(db.session, kind, file, **options)

    for notice in result.notices:
        click.echo(f"{file}: note: {notice}", err=True)
    for line in result.error_lines():
        click.echo(line, err=True)
    if not result.ok:
        raise click.ClickException(result.summary())
    click.echo(result.summary())
